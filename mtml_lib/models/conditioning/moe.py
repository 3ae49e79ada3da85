r"""Mixture of experts: shared experts mixed by a softmax gate per task (MMoE) or one gate (MoE).

References:
    Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts", KDD 2018. Zhao et al., "Recommending What Video to Watch Next:
    a Multitask Ranking System", RecSys 2019 (gate dropout).

Example:
    >>> import torch
    >>> model = MixtureOfExperts(in_features=3, out_features=1, num_tasks=2, num_experts=4)
    >>> model(torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])).shape
    torch.Size([5, 1])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._validation import check_float, check_int
from ..backbones import normalize_hidden
from ..batched import StackedLinear, StackedMLP, TaskGrouping
from .conditioned import ConditionedModel

__all__ = ["MixtureOfExperts"]


class MixtureOfExperts(ConditionedModel):
    r"""Mixture of experts with one softmax gate per task (MMoE) or one shared gate (MoE).

    :math:`y_t = g_t\big(\sum_{e=1}^{E} \mathrm{softmax}(W^{g}_t x)_e \, f_e(x)\big)`:
    the experts :math:`f_e` are shared; each task has its own tower :math:`g_t`
    and (for MMoE) its own gate :math:`W^g_t`.

    Args:
        hidden: widths of each expert's hidden layers (ReLU after every layer).
        num_experts: E.
        tower_hidden: widths of each task tower's hidden layers.
        multi_gate: True for MMoE (a gate per task), False for one shared gate.
        gate_dropout: probability of dropping each expert from a gate during
            training (the remaining weights are renormalised); a remedy for gates
            that polarise onto one expert (Zhao et al., RecSys 2019).
    """

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = (16,),
        num_experts: int = 8,
        tower_hidden: int | Sequence[int] = (8,),
        multi_gate: bool = True,
        gate_dropout: float = 0.0,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        expert_widths = normalize_hidden(hidden)
        self.num_experts = check_int("num_experts", num_experts, minimum=1)
        self.gate_dropout = check_float("gate_dropout", gate_dropout, minimum=0.0, maximum=0.99)
        self.multi_gate = bool(multi_gate)
        # Experts are a stack of E networks applied to every row.
        self.experts = StackedMLP(
            num_tasks=num_experts,
            in_features=in_features,
            hidden=expert_widths[:-1],
            out_features=expert_widths[-1],
            final_activation=True,
        )
        if self.multi_gate:
            self.gates = StackedLinear(
                num_tasks=num_tasks, in_features=in_features, out_features=num_experts
            )
        else:
            self.gates = nn.Linear(in_features, num_experts)
        self.towers = StackedMLP(
            num_tasks=num_tasks,
            in_features=expert_widths[-1],
            hidden=tower_hidden,
            out_features=out_features,
        )
        self.task_specific_prefixes = ("gates", "towers") if self.multi_gate else ("towers",)

    def gate_weights(
        self, x: torch.Tensor, task_id: torch.Tensor, grouping: TaskGrouping | None = None
    ) -> torch.Tensor:
        """The softmax gate of each row's task, ``(B, num_experts)``, without dropout."""
        if self.multi_gate:
            grouping = grouping or TaskGrouping(task_id, self.num_tasks)
            logits = grouping.unpad(self.gates(grouping.pad(x)))
        else:
            logits = self.gates(x)
        return torch.softmax(logits, dim=-1)  # (B, E)

    def _forward(self, x, task_id):
        grouping = TaskGrouping(task_id, self.num_tasks)
        # (E, B, H)
        expert_out = self.experts.forward_shared(x)
        gate = self.gate_weights(x, task_id, grouping)  # (B, E)
        if self.training and self.gate_dropout > 0:
            keep = (torch.rand_like(gate) >= self.gate_dropout).to(gate.dtype)
            kept = gate * keep
            total = kept.sum(dim=-1, keepdim=True)
            gate = torch.where(total > 0, kept / total.clamp_min(1e-12), gate)
        mixed = torch.einsum("be,ebh->bh", gate, expert_out)  # (B, H)
        return self.towers(mixed, grouping)
