r"""Random loss weighting: fresh random weights at every step.

Lin, Ye, Xu, Shi, Zhang and Kwok, "Reasonable Effectiveness of Random Weighting: A Litmus
Test for Multi-Task Learning", TMLR 2022. https://arxiv.org/abs/2111.10603

:math:`\lambda = K\,\mathrm{softmax}(\epsilon)`, :math:`\epsilon \sim \mathcal{N}(0, I)`,
drawn anew each step (scaled to sum to :math:`K`, like equal weights). A baseline
any adaptive method should beat.
"""

from __future__ import annotations

from typing import Any

import torch

from ..seeding import make_generator
from .method import LossWeighting

__all__ = ["RandomWeighting"]


class RandomWeighting(LossWeighting):
    """Random weights summing to the number of tasks.

    Args:
        num_tasks: K.
        generator: seed or CPU generator of the draws (default 0: reproducible).
    """

    name = "random"

    def __init__(self, *, num_tasks: int, generator: int | torch.Generator | None = 0):
        self.generator = make_generator(generator)
        super().__init__(num_tasks=num_tasks)

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        self.check_losses(losses)
        return self._last.to(losses.device, losses.dtype)

    def step_weights(self, losses):
        self._last = self.num_tasks * torch.softmax(
            torch.randn(self.shape, generator=self.generator), dim=-1
        )
        return self.loss_weights(losses)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
