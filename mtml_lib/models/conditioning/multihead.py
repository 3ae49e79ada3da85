r"""Multi-head conditioning: a shared trunk and one output head per task.

Example:
    >>> import torch
    >>> model = MultiHead(in_features=3, out_features=2, num_tasks=4, hidden=(8,))
    >>> model(torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])).shape
    torch.Size([5, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

from ..backbones import MLP, normalize_hidden
from ..batched import StackedMLP, TaskGrouping
from .conditioned import DEFAULT_HIDDEN, ConditionedModel

__all__ = ["MultiHead"]


class MultiHead(ConditionedModel):
    r"""A shared trunk and one output head per task: :math:`y = g_{\phi_t}(f_\theta(x))`.

    Args:
        hidden: widths of the shared trunk (its last layer is the shared representation).
        head_hidden: widths of each task's head (``()``: a linear head). With a
            one-layer trunk and small heads this is the "shared-bottom" model of the
            MMoE paper (a shared layer, then a tower per task).
    """

    task_specific_prefixes = ("heads",)

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
        head_hidden: int | Sequence[int] = (),
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = normalize_hidden(hidden)
        self.trunk = MLP(
            in_features=in_features,
            hidden=widths[:-1],
            out_features=widths[-1],
            final_activation=True,
        )
        self.heads = StackedMLP(
            num_tasks=num_tasks,
            in_features=widths[-1],
            hidden=head_hidden,
            out_features=out_features,
        )

    def _forward(self, x, task_id):
        return self.heads(self.trunk(x), TaskGrouping(task_id, self.num_tasks))
