r"""Worst-case (min-max) objective: :math:`\min_\theta \max_i \mathcal{L}_i(\theta)`.

Instead of the average task, protect the worst one. Three ways to optimise it:

* ``"softmax"`` (default): minimise the smooth maximum
  :math:`\tau \log \sum_i e^{\mathcal{L}_i / \tau}`, whose gradient weighs task
  :math:`i` by :math:`\mathrm{softmax}(\mathcal{L} / \tau)_i`; the temperature
  :math:`\tau` moves it from the average (:math:`\tau \to \infty`) to the maximum
  (:math:`\tau \to 0`), and the weights follow the *current* losses;
* ``"exponentiated"``: keep a distribution :math:`q` over tasks, move it
  towards the tasks with the largest losses by exponentiated-gradient ascent,
  :math:`q_i \leftarrow q_i e^{\eta \mathcal{L}_i} / Z`, and train on
  :math:`\sum_i K q_i \mathcal{L}_i` (as group DRO does over groups: Sagawa, Koh,
  Hashimoto and Liang, "Distributionally Robust Neural Networks", ICLR 2020,
  https://arxiv.org/abs/1911.08731); :math:`q` accumulates the whole loss history,
  so a task that is intrinsically harder than the others ends up with all the weight;
* ``"max"``: train on the current worst task only (weight K on it, 0 elsewhere).

Losses on different scales are compared as they are, so a task with a large loss scale
takes all the weight: put tasks on comparable scales first, or pass ``relative=True``,
which compares each loss with its own value at the first step (:math:`\mathcal{L}_i /
\mathcal{L}_i^{(0)}`, the progress of each task), as the minimax over tasks is meant.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import check_choice, check_float
from .method import LossWeighting

__all__ = ["WorstCaseWeighting"]


class WorstCaseWeighting(LossWeighting):
    """Weights that chase the worst task; they sum to the number of tasks.

    Args:
        num_tasks: K.
        mode: ``"softmax"``, ``"exponentiated"`` or ``"max"``.
        temperature: :math:`\\tau > 0` of the softmax.
        step_size: :math:`\\eta > 0` of the exponentiated update.
        relative: compare each loss with its value at the first step, not as it is.

    Example:
        >>> import torch
        >>> WorstCaseWeighting(num_tasks=3, mode="max").loss_weights(torch.tensor([0.2, 0.9, 0.4]))
        tensor([0., 3., 0.])
    """

    name = "worst_case"
    requires_all_tasks = True

    def __init__(
        self,
        *,
        num_tasks: int,
        mode: str = "softmax",
        temperature: float = 0.1,
        step_size: float = 0.05,
        relative: bool = False,
    ):
        self.mode = check_choice("mode", mode, ("softmax", "exponentiated", "max"))
        self.temperature = check_float("temperature", temperature, minimum=0.0, strict_minimum=True)
        self.step_size = check_float("step_size", step_size, minimum=0.0, strict_minimum=True)
        if not isinstance(relative, bool):
            raise TypeError(f"`relative` must be True or False; got {relative!r}.")
        self.relative = relative
        super().__init__(num_tasks=num_tasks)

    def reset_state(self) -> None:
        self.q = torch.full(self.shape, 1.0 / self.num_tasks)
        self.initial: torch.Tensor | None = None

    def _compared(self, losses: torch.Tensor) -> torch.Tensor:
        """The losses as the maximum compares them: as they are, or relative to the first step's."""
        losses = self.check_losses(losses).detach()
        if not self.relative:
            return losses
        if self.initial is None:
            self.initial = losses.clone().clamp_min(torch.finfo(losses.dtype).tiny)
        return losses / self.initial.to(losses.device, losses.dtype)

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        losses = self._compared(losses)
        if self.mode == "max":
            worst = torch.nn.functional.one_hot(losses.argmax(dim=-1), self.num_tasks)
            return self.num_tasks * worst.to(losses.dtype)
        if self.mode == "softmax":
            return self.num_tasks * torch.softmax(losses / self.temperature, dim=-1)
        return self.num_tasks * self.q.to(losses.device, losses.dtype)

    def step_weights(self, losses):
        if self.mode == "exponentiated":
            q = self.q.to(losses.device) * torch.exp(self.step_size * self._compared(losses))
            self.q = q / q.sum(dim=-1, keepdim=True)
        return self.loss_weights(losses)

    def state_dict(self) -> dict[str, Any]:
        return {"q": self.q, "initial": self.initial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.q, self.initial = state["q"], state.get("initial")
