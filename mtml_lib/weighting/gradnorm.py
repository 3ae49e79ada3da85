r"""GradNorm: balance the tasks' gradient norms on the last shared layer.

Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization for
Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018.
https://arxiv.org/abs/1711.02257

With learnable weights :math:`w_i` and :math:`W` the last shared layer:

* :math:`G_i = \lVert \nabla_W\, w_i \mathcal{L}_i \rVert`, :math:`\bar G = \mathrm{mean}_j G_j`;
* :math:`r_i = \tilde L_i / \mathrm{mean}_j \tilde L_j` with :math:`\tilde L_i =
\mathcal{L}_i(t)/\mathcal{L}_i(0)`
  (a task that has learned less has a larger :math:`r_i`);
* :math:`L_{grad} = \sum_i |G_i - \bar G\, r_i^{\alpha}|` with the target held constant;
  only the weights follow :math:`\nabla_w L_{grad}`, and they are renormalised to
  :math:`\sum_i w_i = T` before each use.

The model itself is trained on :math:`\sum_i w_i \mathcal{L}_i`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import distributed
from .._validation import check_float
from .method import LossWeighting, _learnable

__all__ = ["GradNorm"]


class GradNorm(LossWeighting):
    """Learned loss weights that equalise the tasks' training rates.

    Args:
        num_tasks: T.
        alpha: the asymmetry :math:`\\alpha` (1.5 on NYUv2 in the paper, 0.12 on its toy);
            larger pulls slow tasks harder.

    The weights and the initial losses :math:`\\mathcal{L}_i(0)` (taken at the
    first step) are part of the method's state.
    """

    name = "gradnorm"
    requires_all_tasks = True

    def __init__(self, *, num_tasks: int, alpha: float = 1.5):
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        super().__init__(num_tasks=num_tasks)

    def reset_state(self) -> None:
        self.weights = _learnable(torch.ones(self.shape))
        self.initial_losses: torch.Tensor | None = None

    def parameters(self) -> list[torch.Tensor]:
        return [self.weights]

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        self.check_losses(losses)
        return self.weights.detach().to(losses.dtype)

    def _renormalise(self) -> None:
        with torch.no_grad():
            self.weights.clamp_(min=1e-4)
            self.weights.mul_(self.num_tasks / self.weights.sum(dim=-1, keepdim=True))

    @staticmethod
    def last_shared_layer(shared_parameters: Sequence[torch.Tensor]) -> torch.Tensor:
        """The last shared weight matrix (the layer GradNorm measures gradients on)."""
        matrices = [p for p in shared_parameters if p.ndim >= 2]
        if not matrices:
            raise ValueError(
                "GradNorm needs a shared weight matrix (a parameter of 2 or more dimensions) to "
                "measure the tasks' gradients on: `shared_parameters` holds none (independent "
                "networks share nothing; the stacked experts of mmoe and moe keep their weights "
                "in one flat vector)."
            )
        return matrices[-1]

    def check_shared_parameters(self, shared_parameters):
        self.last_shared_layer(list(shared_parameters))

    def combine(self, losses, shared_parameters, task_parameters=None):
        losses = self.check_losses(losses)
        self._renormalise()
        # every process's losses (these alone without torchrun)
        observed = distributed.mean_over_ranks(losses.detach())
        if self.initial_losses is None:
            self.initial_losses = observed.clone()
        layer = self.last_shared_layer(list(shared_parameters))
        # ||grad_W L_i|| on every process's batch, (..., T): a replica's W is its slice of the
        # stacked layer, and replicas share nothing, so the summed loss gives each its own gradient.
        grads = [
            torch.autograd.grad(losses[..., i].sum(), layer, retain_graph=True)[0]
            for i in range(self.num_tasks)
        ]
        rows = torch.stack([g.reshape(*self.shape[:-1], -1) for g in grads], dim=-2)  # (..., T, P)
        norms = distributed.mean_over_ranks(rows).norm(dim=-1)
        gradient_norms = self.weights * norms  # G_i = ||grad_W w_i L_i|| = w_i ||grad_W L_i||
        ratio = observed / self.initial_losses.to(losses.device)
        relative = ratio / ratio.mean(dim=-1, keepdim=True)
        target = (gradient_norms.mean(dim=-1, keepdim=True) * relative**self.alpha).detach()
        balance_loss = (gradient_norms - target).abs().sum()
        self.weights.grad = torch.autograd.grad(balance_loss, self.weights)[0]
        weights = self.weights.detach().clone()
        (weights * losses).sum().backward()
        return weights

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "initial_losses": self.initial_losses}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.initial_losses = state["initial_losses"]
