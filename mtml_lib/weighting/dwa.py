r"""Dynamic Weight Average: weigh up the tasks whose loss is falling slowest.

Liu, Johns and Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019.
https://arxiv.org/abs/1803.10704

:math:`\lambda_k(t) = K \,\mathrm{softmax}_k\!\big(w_k(t-1) / T\big)`,
:math:`w_k(t-1) = \mathcal{L}_k(t-1) / \mathcal{L}_k(t-2)`, with :math:`T` a
temperature (2 in the paper) and :math:`\mathcal{L}_k(t)` the average loss of
epoch :math:`t`. The weights always sum to the number of tasks :math:`K`.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import check_float, check_int
from .method import LossWeighting

__all__ = ["DynamicWeightAverage", "dwa_weights"]


def dwa_weights(
    previous: torch.Tensor, before_previous: torch.Tensor, temperature: float
) -> torch.Tensor:
    """DWA's weights from the last two epoch-average losses (each ``(K,)``, or ``(R, K)`` for
    replicas).

    Example:
        >>> import torch
        >>> dwa_weights(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 1.0]), temperature=2.0)
        tensor([0.8756, 1.1244])
    """
    rate = previous / before_previous  # < 1: the task is still learning fast
    return previous.shape[-1] * torch.softmax(rate / temperature, dim=-1)


class DynamicWeightAverage(LossWeighting):
    """DWA with "epochs" of ``window`` training steps.

    Args:
        num_tasks: K.
        temperature: :math:`T > 0`; large makes the weights uniform.
        window: steps per epoch average (the first two epochs use weight 1).
    """

    name = "dwa"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, temperature: float = 2.0, window: int = 20):
        self.temperature = check_float("temperature", temperature, minimum=0.0, strict_minimum=True)
        self.window = check_int("window", window, minimum=1)
        super().__init__(num_tasks=num_tasks)

    def reset_state(self) -> None:
        self.weights = torch.ones(self.shape)
        self.epoch_losses: list[torch.Tensor] = []
        self._sum = torch.zeros(self.shape)
        self._count = 0

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        self.check_losses(losses)
        return self.weights.to(losses.device, losses.dtype)

    def observe(self, losses: torch.Tensor) -> None:
        """Add one step's losses to the running epoch; close the epoch every ``window`` steps."""
        self._sum = self._sum.to(losses.device) + losses.detach()
        self._count += 1
        if self._count == self.window:
            self.epoch_losses = (self.epoch_losses + [self._sum / self._count])[-2:]
            self._sum, self._count = torch.zeros_like(self._sum), 0
            if len(self.epoch_losses) == 2:
                self.weights = dwa_weights(
                    self.epoch_losses[1], self.epoch_losses[0], self.temperature
                )

    def step_weights(self, losses):
        weights = self.loss_weights(losses)  # this step's losses count from the next epoch on
        self.observe(losses)
        return weights

    def state_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "epoch_losses": self.epoch_losses,
            "sum": self._sum,
            "count": self._count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.weights, self.epoch_losses = state["weights"], list(state["epoch_losses"])
        self._sum, self._count = state["sum"], state["count"]
