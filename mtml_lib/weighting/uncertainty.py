r"""Uncertainty weighting: learn each task's homoscedastic noise and weigh by it.

Kendall, Gal and Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for
Scene Geometry and Semantics", CVPR 2018. https://arxiv.org/abs/1705.07115

With :math:`s_i = \log \sigma_i^2` learned beside the model, the objective is
:math:`\sum_i c_i e^{-s_i} \mathcal{L}_i + \tfrac12 s_i` with :math:`c_i = \tfrac12`
for a regression loss and :math:`c_i = 1` for a classification loss. A task whose
loss stays large is inferred to be noisy, and weighted down, but the :math:`\tfrac12 s_i`
term stops every weight from collapsing to zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validation import check_choice
from .method import LossWeighting, _learnable

__all__ = ["UncertaintyWeighting"]


class UncertaintyWeighting(LossWeighting):
    """Learned log-variances ``s (T,)`` (``(R, T)`` for replicas), starting at 0: every weight
    starts at :math:`c_i`.

    Args:
        num_tasks: T.
        kinds: ``"regression"`` or ``"classification"`` for every task (one string
            for all, or one per task). ``None`` takes them from the tasks' losses
            when training starts (:meth:`attach`), and regression until then.

    Example:
        >>> import torch
        >>> method = UncertaintyWeighting(num_tasks=2, kinds=["regression", "classification"])
        >>> method.loss_weights(torch.tensor([1.0, 1.0]))
        tensor([0.5000, 1.0000])
    """

    name = "uncertainty"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, kinds: str | Sequence[str] | None = None):
        super().__init__(num_tasks=num_tasks)
        self._explicit = kinds is not None
        self.set_kinds("regression" if kinds is None else kinds)

    def reset_state(self) -> None:
        self.log_variance = _learnable(torch.zeros(self.shape))

    def set_kinds(self, kinds: str | Sequence[str]) -> None:
        kinds = [kinds] * self.num_tasks if isinstance(kinds, str) else list(kinds)
        if len(kinds) != self.num_tasks:
            raise ValueError(
                f"`kinds` must name one kind per task ({self.num_tasks}); got {len(kinds)}."
            )
        for i, kind in enumerate(kinds):
            check_choice(f"kinds[{i}]", kind, ("regression", "classification"))
        self.kinds = kinds
        self.factor = torch.tensor([0.5 if k == "regression" else 1.0 for k in kinds])

    def attach(self, tasks) -> None:
        if not self._explicit:
            self.set_kinds([t.loss.kind for t in tasks])

    def parameters(self) -> list[torch.Tensor]:
        return [self.log_variance]

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        self.check_losses(losses)
        return (
            (self.factor.to(losses.device) * torch.exp(-self.log_variance))
            .detach()
            .to(losses.dtype)
        )

    def objective(self, losses: torch.Tensor) -> torch.Tensor:
        s = self.log_variance
        return (self.factor.to(losses.device) * torch.exp(-s) * losses + 0.5 * s).sum()
