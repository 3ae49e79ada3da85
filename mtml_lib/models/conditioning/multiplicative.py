r"""Multiplicative conditioning: per-task gates, and FiLM's per-task scale and shift.

References:
    Perez et al., "FiLM: Visual Reasoning with a General Conditioning Layer", AAAI 2018.

Example:
    >>> import torch
    >>> model = FiLM(in_features=3, out_features=2, num_tasks=4, hidden=(8,))
    >>> model(torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])).shape
    torch.Size([5, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..backbones import normalize_hidden
from .conditioned import DEFAULT_HIDDEN, ConditionedModel

__all__ = ["Multiplicative", "FiLM"]


class Multiplicative(ConditionedModel):
    r"""Gate every hidden activation elementwise by a per-task vector:
    :math:`h_l = \sigma(W_l h_{l-1} + b_l) \odot a_{l,t}` (gates start at 1).

    With one-hot :math:`z_t` the gates are free per-task vectors; gates that are 0/1
    masks over disjoint units turn the model into independent networks (up to the
    shared output bias), so this choice spans the range from sharing to independence.
    """

    task_specific_prefixes = ("gates",)

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = (in_features, *normalize_hidden(hidden))
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.gates = nn.ParameterList(nn.Parameter(torch.ones(num_tasks, w)) for w in widths[1:])
        self.output = nn.Linear(widths[-1], out_features)

    def _forward(self, x, task_id):
        h = x
        for layer, gate in zip(self.layers, self.gates):
            h = torch.relu(layer(h)) * gate[task_id]  # (B, width) * (B, width)
        return self.output(h)


class FiLM(ConditionedModel):
    r"""Feature-wise linear modulation of every hidden layer:
    :math:`h_l = \sigma(\gamma_{l,t} \odot (W_l h_{l-1} + b_l) + \beta_{l,t})`
    (:math:`\gamma = 1, \beta = 0` at the start, i.e. a shared network).
    """

    task_specific_prefixes = ("gammas", "betas")

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = (in_features, *normalize_hidden(hidden))
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.gammas = nn.ParameterList(nn.Parameter(torch.ones(num_tasks, w)) for w in widths[1:])
        self.betas = nn.ParameterList(nn.Parameter(torch.zeros(num_tasks, w)) for w in widths[1:])
        self.output = nn.Linear(widths[-1], out_features)

    def _forward(self, x, task_id):
        h = x
        for layer, gamma, beta in zip(self.layers, self.gammas, self.betas):
            h = torch.relu(gamma[task_id] * layer(h) + beta[task_id])
        return self.output(h)
