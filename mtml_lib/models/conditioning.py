r"""How a model is conditioned on the task: every choice of :math:`f_\theta(y \mid x, z_i)`, one registry.

The task descriptor :math:`z_i` is the task index (one-hot, or a learned
embedding). Choosing how :math:`z_i` enters the network is choosing what the
tasks share:

============== =========================================================== ===========================
name           equation (h: hidden activation, t = task of the row)         what is task-specific
============== =========================================================== ===========================
independent    :math:`y = f_{\theta_t}(x)`, T separate networks              everything
shared         :math:`y = f_\theta(x)`, :math:`z` ignored                    nothing
concat         :math:`h_1 = \sigma(W [x; z_t] + b)`                          the z-columns of W (*)
additive       :math:`h_1 = \sigma(W_x x + b + W_z z_t)`                     :math:`W_z z_t` (a per-task bias)
multihead      :math:`y = g_{\phi_t}(f_\theta(x))`                           the heads :math:`g_{\phi_t}`
multiplicative :math:`h_l = \sigma(W_l h_{l-1} + b_l) \odot a_{l,t}`         the gates :math:`a_{l,t}`
film           :math:`h_l = \sigma(\gamma_{l,t} \odot (W_l h_{l-1} + b_l) + \beta_{l,t})` :math:`\gamma, \beta`
mmoe           :math:`y = g_t(\sum_e \mathrm{softmax}(W^g_t x)_e\, f_e(x))`  gates and towers
moe            as mmoe with one gate shared by all tasks                     towers
============== =========================================================== ===========================

(*) the z-columns sit inside the first layer's weight matrix, so
:meth:`ConditionedModel.shared_parameters` counts that whole matrix as shared;
each column still only ever receives gradient from its own task.

Concatenation and addition are the same function class:
:math:`W[x; z] = W_x x + W_z z`; :func:`concat_to_additive` and
:func:`additive_to_concat` convert one's weights into the other's.

Every model maps ``x (B, in_features)`` and ``task_id (B,)`` (a LongTensor;
tasks may be mixed within a batch) to ``(B, out_features)``, and says which of
its parameters are shared (:meth:`ConditionedModel.shared_parameters`) and which
belong to single tasks (:meth:`ConditionedModel.task_specific_parameters`).

Example:
    >>> import torch
    >>> model = get_conditioned_model("multihead", in_features=64, out_features=2, num_tasks=4, hidden=(32,))
    >>> model(torch.randn(6, 64), torch.tensor([0, 1, 2, 3, 0, 1])).shape
    torch.Size([6, 2])
    >>> count_parameters(model, which="task_specific")
    264

References:
    Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts", KDD 2018. Perez et al., "FiLM: Visual Reasoning with a
    General Conditioning Layer", AAAI 2018.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_float, check_int, check_tensor, lookup
from .backbones import MLP, normalize_hidden
from .batched import StackedLinear, StackedMLP, TaskGrouping

__all__ = [
    "ConditionedModel",
    "Independent",
    "Shared",
    "Concat",
    "Additive",
    "MultiHead",
    "Multiplicative",
    "FiLM",
    "MixtureOfExperts",
    "CONDITIONING",
    "get_conditioned_model",
    "count_parameters",
    "concat_to_additive",
    "additive_to_concat",
]

DEFAULT_HIDDEN = (64, 64)


class ConditionedModel(nn.Module):
    """Base class: argument checks, and the shared / task-specific parameter split.

    Subclasses implement ``_forward(x, task_id)`` and list the names (prefixes) of
    their task-specific parameters in ``task_specific_prefixes``.
    """

    task_specific_prefixes: tuple[str, ...] = ()

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int):
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        self.num_tasks = check_int("num_tasks", num_tasks, minimum=1)

    def forward(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        """``x (B, in_features)``, ``task_id (B,)`` long -> ``(B, out_features)``."""
        self.check_inputs(x, task_id)
        return self._forward(x, task_id)

    def _forward(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def check_inputs(self, x: torch.Tensor, task_id: torch.Tensor) -> None:
        check_tensor("x", x, shape=(None, self.in_features))
        if not x.is_floating_point():
            raise TypeError(f"`x.dtype` must be a floating point type; got {x.dtype}.")
        check_tensor("task_id", task_id, shape=(x.shape[0],), dtype=(torch.long, torch.int32, torch.int64))
        if task_id.device != x.device:
            raise ValueError(f"`task_id` must be on the device of `x` ({x.device}); got {task_id.device}.")
        if task_id.numel() and bool(((task_id < 0) | (task_id >= self.num_tasks)).any()):
            bad = task_id[(task_id < 0) | (task_id >= self.num_tasks)][0].item()
            raise ValueError(f"`task_id` must hold task indices in [0, {self.num_tasks}); got {bad}.")

    def _is_task_specific(self, name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in self.task_specific_prefixes)

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task uses (the ones gradient-combination methods act on)."""
        return [p for n, p in self.named_parameters() if not self._is_task_specific(n)]

    def task_specific_parameters(self) -> list[nn.Parameter]:
        """Parameters (or stacked slices of them) that each belong to one task."""
        return [p for n, p in self.named_parameters() if self._is_task_specific(n)]


class Independent(ConditionedModel):
    r"""T separate networks, no shared parameter: :math:`y = f_{\theta_t}(x)`.

    Run as one batched kernel (:class:`~mtml_lib.models.batched.StackedMLP`), not
    a Python loop over T modules. The loss of task a gives exactly zero gradient
    to the parameters of task b.
    """

    task_specific_prefixes = ("nets",)

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.nets = StackedMLP(num_tasks=num_tasks, in_features=in_features, hidden=hidden, out_features=out_features)

    def _forward(self, x, task_id):
        return self.nets(x, TaskGrouping(task_id, self.num_tasks))

    def task_network(self, task: int) -> nn.Sequential:
        """A standalone ``nn.Sequential`` copy of task ``task``'s network."""
        return self.nets.task_network(check_int("task", task, minimum=0, maximum=self.num_tasks - 1))


class Shared(ConditionedModel):
    r"""One network for every task; :math:`z_i` is ignored: :math:`y = f_\theta(x)`.

    The "no conditioning" baseline: it can only fit what the tasks have in common.
    """

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.net = MLP(in_features=in_features, hidden=hidden, out_features=out_features)

    def _forward(self, x, task_id):
        return self.net(x)


class _TaskDescriptor(nn.Module):
    """:math:`z_t`: a one-hot vector (``embedding_dim=None``) or a learned embedding."""

    def __init__(self, num_tasks: int, embedding_dim: int | None):
        super().__init__()
        self.num_tasks = num_tasks
        if embedding_dim is None:
            self.embedding = None
            self.dim = num_tasks
        else:
            self.dim = check_int("embedding_dim", embedding_dim, minimum=1)
            self.embedding = nn.Embedding(num_tasks, self.dim)

    def forward(self, task_id: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        if self.embedding is None:
            return F.one_hot(task_id, self.num_tasks).to(dtype)  # (B, T)
        return self.embedding(task_id).to(dtype)  # (B, d)


class Concat(ConditionedModel):
    r"""Concatenate the task descriptor to the input: :math:`h_1 = \sigma(W [x; z_t] + b)`.

    Args:
        embedding_dim: ``None`` for a one-hot :math:`z_t`, or the size of a learned embedding.
    """

    task_specific_prefixes = ("z.embedding",)

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN, embedding_dim: int | None = None):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.z = _TaskDescriptor(num_tasks, embedding_dim)
        self.net = MLP(in_features=in_features + self.z.dim, hidden=hidden, out_features=out_features)

    def _forward(self, x, task_id):
        return self.net(torch.cat([x, self.z(task_id, x.dtype)], dim=1))  # (B, in + dim z)


class Additive(ConditionedModel):
    r"""Add a function of the task descriptor to the first hidden pre-activation:
    :math:`h_1 = \sigma(W_x x + b + W_z z_t)`.

    With a one-hot :math:`z_t`, :math:`W_z z_t` is a learned bias per task
    (``task_bias``, shape ``(T, hidden[0])``); with a learned embedding it is
    ``task_projection(task_embedding(t))``.
    """

    task_specific_prefixes = ("task_bias", "task_embedding")

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN, embedding_dim: int | None = None):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = normalize_hidden(hidden)
        self.input_layer = nn.Linear(in_features, widths[0])
        if embedding_dim is None:
            self.task_bias = nn.Parameter(torch.zeros(num_tasks, widths[0]))
            self.task_embedding = self.task_projection = None
        else:
            self.task_bias = None
            self.task_embedding = nn.Embedding(num_tasks, check_int("embedding_dim", embedding_dim, minimum=1))
            self.task_projection = nn.Linear(embedding_dim, widths[0], bias=False)
        self.rest = MLP(in_features=widths[0], hidden=widths[1:], out_features=out_features)

    def task_term(self, task_id: torch.Tensor) -> torch.Tensor:
        r""":math:`W_z z_t` for each row, shape ``(B, hidden[0])``."""
        if self.task_bias is not None:
            return self.task_bias[task_id]
        return self.task_projection(self.task_embedding(task_id))

    def _forward(self, x, task_id):
        return self.rest(torch.relu(self.input_layer(x) + self.task_term(task_id).to(x.dtype)))


class MultiHead(ConditionedModel):
    r"""A shared trunk and one output head per task: :math:`y = g_{\phi_t}(f_\theta(x))`.

    Args:
        hidden: widths of the shared trunk (its last layer is the shared representation).
        head_hidden: widths of each task's head (``()``: a linear head). With a
            one-layer trunk and small heads this is the "shared-bottom" model of the
            MMoE paper (a shared layer, then a tower per task).
    """

    task_specific_prefixes = ("heads",)

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN, head_hidden: int | Sequence[int] = ()):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = normalize_hidden(hidden)
        self.trunk = MLP(in_features=in_features, hidden=widths[:-1], out_features=widths[-1], final_activation=True)
        self.heads = StackedMLP(num_tasks=num_tasks, in_features=widths[-1], hidden=head_hidden,
                                out_features=out_features)

    def _forward(self, x, task_id):
        return self.heads(self.trunk(x), TaskGrouping(task_id, self.num_tasks))


class Multiplicative(ConditionedModel):
    r"""Gate every hidden activation elementwise by a per-task vector:
    :math:`h_l = \sigma(W_l h_{l-1} + b_l) \odot a_{l,t}` (gates start at 1).

    With one-hot :math:`z_t` the gates are free per-task vectors; gates that are 0/1
    masks over disjoint units turn the model into independent networks (up to the
    shared output bias), so this choice spans the range from sharing to independence.
    """

    task_specific_prefixes = ("gates",)

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN):
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

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = DEFAULT_HIDDEN):
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

    def __init__(self, *, in_features: int, out_features: int, num_tasks: int,
                 hidden: int | Sequence[int] = (16,), num_experts: int = 8,
                 tower_hidden: int | Sequence[int] = (8,), multi_gate: bool = True, gate_dropout: float = 0.0):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        expert_widths = normalize_hidden(hidden)
        self.num_experts = check_int("num_experts", num_experts, minimum=1)
        self.gate_dropout = check_float("gate_dropout", gate_dropout, minimum=0.0, maximum=0.99)
        self.multi_gate = bool(multi_gate)
        # Experts are a stack of E networks applied to every row.
        self.experts = StackedMLP(num_tasks=num_experts, in_features=in_features, hidden=expert_widths[:-1],
                                  out_features=expert_widths[-1], final_activation=True)
        if self.multi_gate:
            self.gates = StackedLinear(num_tasks=num_tasks, in_features=in_features, out_features=num_experts)
        else:
            self.gates = nn.Linear(in_features, num_experts)
        self.towers = StackedMLP(num_tasks=num_tasks, in_features=expert_widths[-1], hidden=tower_hidden,
                                 out_features=out_features)
        self.task_specific_prefixes = ("gates", "towers") if self.multi_gate else ("towers",)

    def gate_weights(self, x: torch.Tensor, task_id: torch.Tensor, grouping: TaskGrouping | None = None) -> torch.Tensor:
        """The softmax gate of each row's task, ``(B, num_experts)``, without dropout."""
        if self.multi_gate:
            grouping = grouping or TaskGrouping(task_id, self.num_tasks)
            logits = grouping.unpad(self.gates(grouping.pad(x)))
        else:
            logits = self.gates(x)
        return torch.softmax(logits, dim=-1)  # (B, E)

    def _forward(self, x, task_id):
        grouping = TaskGrouping(task_id, self.num_tasks)
        expert_out = self.experts.forward_padded(x.unsqueeze(0).expand(self.num_experts, -1, -1))  # (E, B, H)
        gate = self.gate_weights(x, task_id, grouping)  # (B, E)
        if self.training and self.gate_dropout > 0:
            keep = (torch.rand_like(gate) >= self.gate_dropout).to(gate.dtype)
            kept = gate * keep
            total = kept.sum(dim=-1, keepdim=True)
            gate = torch.where(total > 0, kept / total.clamp_min(1e-12), gate)
        mixed = torch.einsum("be,ebh->bh", gate, expert_out)  # (B, H)
        return self.towers(mixed, grouping)


# Partials rather than wrapper functions: they keep the class's signature (which config errors list).
_moe = functools.partial(MixtureOfExperts, multi_gate=False)
_mmoe = functools.partial(MixtureOfExperts, multi_gate=True)


#: name -> constructor; see the module docstring for the equations.
CONDITIONING = {
    "independent": Independent,
    "shared": Shared,
    "concat": Concat,
    "additive": Additive,
    "multihead": MultiHead,
    "multiplicative": Multiplicative,
    "film": FiLM,
    "mmoe": _mmoe,
    "moe": _moe,
}


def get_conditioned_model(name: str, *, in_features: int, out_features: int, num_tasks: int, **kwargs) -> ConditionedModel:
    """Build the conditioning choice ``name`` (a key of :data:`CONDITIONING`).

    Args:
        name: ``independent``, ``shared``, ``concat``, ``additive``, ``multihead``,
            ``multiplicative``, ``film``, ``mmoe`` or ``moe``.
        in_features, out_features, num_tasks: sizes.
        **kwargs: the choice's own options (``hidden``, ``embedding_dim``, ``num_experts``, ...).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid ones) or bad sizes.
    """
    constructor = lookup(CONDITIONING, name, family="conditioning choice")
    return constructor(in_features=in_features, out_features=out_features, num_tasks=num_tasks, **kwargs)


def count_parameters(model: nn.Module, *, which: str = "all") -> int:
    """Number of scalar parameters: ``which`` is ``"all"``, ``"shared"`` or ``"task_specific"``."""
    check_choice("which", which, ("all", "shared", "task_specific"))
    if which == "all":
        params = list(model.parameters())
    elif not isinstance(model, ConditionedModel):
        raise TypeError(f"`model` must be a ConditionedModel to count {which!r} parameters; got {type(model).__name__}.")
    else:
        params = model.shared_parameters() if which == "shared" else model.task_specific_parameters()
    return sum(p.numel() for p in params)


def concat_to_additive(model: Concat) -> Additive:
    r"""The :class:`Additive` model computing exactly the same function as ``model``.

    :math:`W [x; z] = W_x x + W_z z`: the x-columns of the first layer become the
    input layer, and the z-columns (applied to the descriptor) become the task term.
    """
    if not isinstance(model, Concat):
        raise TypeError(f"`model` must be a Concat model; got {type(model).__name__}.")
    first = model.net.net[0]
    hidden = [m.out_features for m in model.net.net if isinstance(m, nn.Linear)][:-1]
    embedding_dim = None if model.z.embedding is None else model.z.dim
    out = Additive(in_features=model.in_features, out_features=model.out_features, num_tasks=model.num_tasks,
                   hidden=hidden, embedding_dim=embedding_dim).to(first.weight.device, first.weight.dtype)
    w_x, w_z = first.weight[:, : model.in_features], first.weight[:, model.in_features :]  # (h, in), (h, dim z)
    with torch.no_grad():
        out.input_layer.weight.copy_(w_x)
        out.input_layer.bias.copy_(first.bias)
        if embedding_dim is None:
            out.task_bias.copy_(w_z.T)  # W_z e_t is column t of W_z
        else:
            out.task_embedding.weight.copy_(model.z.embedding.weight)
            out.task_projection.weight.copy_(w_z)
        for src, dst in zip(list(model.net.net)[2:], list(out.rest.net)):  # after the first Linear and ReLU
            dst.load_state_dict(src.state_dict())
    return out


def additive_to_concat(model: Additive) -> Concat:
    r"""The :class:`Concat` model computing exactly the same function as ``model`` (the inverse map)."""
    if not isinstance(model, Additive):
        raise TypeError(f"`model` must be an Additive model; got {type(model).__name__}.")
    hidden = [model.input_layer.out_features] + [m.out_features for m in model.rest.net if isinstance(m, nn.Linear)][:-1]
    embedding_dim = None if model.task_bias is not None else model.task_embedding.embedding_dim
    out = Concat(in_features=model.in_features, out_features=model.out_features, num_tasks=model.num_tasks,
                 hidden=hidden, embedding_dim=embedding_dim).to(model.input_layer.weight.device,
                                                                model.input_layer.weight.dtype)
    first = out.net.net[0]
    with torch.no_grad():
        w_z = model.task_bias.T if embedding_dim is None else model.task_projection.weight
        first.weight.copy_(torch.cat([model.input_layer.weight, w_z], dim=1))
        first.bias.copy_(model.input_layer.bias)
        if embedding_dim is not None:
            out.z.embedding.weight.copy_(model.task_embedding.weight)
        for src, dst in zip(list(model.rest.net), list(out.net.net)[2:]):
            dst.load_state_dict(src.state_dict())
    return out
