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

Losses on different scales are compared as they are: put tasks on comparable
scales first.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import check_choice, check_float
from .base import LossWeighting

__all__ = ["WorstCaseWeighting"]


class WorstCaseWeighting(LossWeighting):
    """Weights that chase the worst task; they sum to the number of tasks.

    Args:
        num_tasks: K.
        mode: ``"exponentiated"`` or ``"max"``.
        step_size: :math:`\\eta > 0` of the exponentiated update.

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
    ):
        self.mode = check_choice("mode", mode, ("softmax", "exponentiated", "max"))
        self.temperature = check_float("temperature", temperature, minimum=0.0, strict_minimum=True)
        self.step_size = check_float("step_size", step_size, minimum=0.0, strict_minimum=True)
        super().__init__(num_tasks=num_tasks)

    def reset_state(self) -> None:
        self.q = torch.full(self.shape, 1.0 / self.num_tasks)

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        self.check_losses(losses)
        if self.mode == "max":
            worst = torch.nn.functional.one_hot(losses.argmax(dim=-1), self.num_tasks)
            return self.num_tasks * worst.to(losses.dtype)
        if self.mode == "softmax":
            return self.num_tasks * torch.softmax(losses.detach() / self.temperature, dim=-1)
        return self.num_tasks * self.q.to(losses.device, losses.dtype)

    def step_weights(self, losses):
        if self.mode == "exponentiated":
            q = self.q.to(losses.device) * torch.exp(self.step_size * self.check_losses(losses))
            self.q = q / q.sum(dim=-1, keepdim=True)
        return self.loss_weights(losses)

    def state_dict(self) -> dict[str, Any]:
        return {"q": self.q}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.q = state["q"]
