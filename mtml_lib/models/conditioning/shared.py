r"""The two ends of the range: no sharing (:class:`Independent`) and full sharing (:class:`Shared`).

Example:
    >>> import torch
    >>> model = Independent(in_features=3, out_features=1, num_tasks=2, hidden=(4,))
    >>> model(torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])).shape
    torch.Size([5, 1])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ..._validation import check_int
from ..backbones import MLP
from ..batched import StackedMLP, TaskGrouping
from .conditioned import DEFAULT_HIDDEN, ConditionedModel

__all__ = ["Independent", "Shared"]


class Independent(ConditionedModel):
    r"""T separate networks, no shared parameter: :math:`y = f_{\theta_t}(x)`.

    Run as one batched kernel (:class:`~mtml_lib.models.batched.StackedMLP`), not
    a Python loop over T modules. The loss of task a gives exactly zero gradient
    to the parameters of task b.
    """

    task_specific_prefixes = ("nets",)

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.nets = StackedMLP(
            num_tasks=num_tasks, in_features=in_features, hidden=hidden, out_features=out_features
        )

    def _forward(self, x, task_id):
        return self.nets(x, TaskGrouping(task_id, self.num_tasks))

    def task_network(self, task: int) -> nn.Sequential:
        """A standalone ``nn.Sequential`` copy of task ``task``'s network."""
        return self.nets.task_network(
            check_int("task", task, minimum=0, maximum=self.num_tasks - 1)
        )


class Shared(ConditionedModel):
    r"""One network for every task; :math:`z_i` is ignored: :math:`y = f_\theta(x)`.

    The "no conditioning" baseline: it can only fit what the tasks have in common.
    """

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.net = MLP(in_features=in_features, hidden=hidden, out_features=out_features)

    def _forward(self, x, task_id):
        return self.net(x)
