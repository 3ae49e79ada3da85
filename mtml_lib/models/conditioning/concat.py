r"""Concatenation and additive conditioning, and the proof that they are one function class.

:math:`W [x; z] = W_x x + W_z z`: concatenating the task descriptor :math:`z_t` to the
input (:class:`Concat`) computes the same functions as adding :math:`W_z z_t` to the first
pre-activation (:class:`Additive`); with a one-hot :math:`z_t` that term is a learned bias
per task. :func:`concat_to_additive` and :func:`additive_to_concat` convert one model's
weights into the other's.

Example:
    >>> import torch
    >>> concat = Concat(in_features=3, out_features=2, num_tasks=4, hidden=(8,))
    >>> additive = concat_to_additive(concat)
    >>> x, task_id = torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])
    >>> torch.allclose(concat(x, task_id), additive(x, task_id), atol=1e-6)
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..._validation import check_int
from ..backbones import MLP, normalize_hidden
from .conditioned import DEFAULT_HIDDEN, ConditionedModel

__all__ = ["Concat", "Additive", "concat_to_additive", "additive_to_concat"]


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

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
        embedding_dim: int | None = None,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.z = _TaskDescriptor(num_tasks, embedding_dim)
        self.net = MLP(
            in_features=in_features + self.z.dim, hidden=hidden, out_features=out_features
        )

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

    def __init__(
        self,
        *,
        in_features: int,
        out_features: int,
        num_tasks: int,
        hidden: int | Sequence[int] = DEFAULT_HIDDEN,
        embedding_dim: int | None = None,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        widths = normalize_hidden(hidden)
        self.input_layer = nn.Linear(in_features, widths[0])
        if embedding_dim is None:
            self.task_bias = nn.Parameter(torch.zeros(num_tasks, widths[0]))
            self.task_embedding = self.task_projection = None
        else:
            self.task_bias = None
            self.task_embedding = nn.Embedding(
                num_tasks, check_int("embedding_dim", embedding_dim, minimum=1)
            )
            self.task_projection = nn.Linear(embedding_dim, widths[0], bias=False)
        self.rest = MLP(in_features=widths[0], hidden=widths[1:], out_features=out_features)

    def task_term(self, task_id: torch.Tensor) -> torch.Tensor:
        r""":math:`W_z z_t` for each row, shape ``(B, hidden[0])``."""
        if self.task_bias is not None:
            return self.task_bias[task_id]
        return self.task_projection(self.task_embedding(task_id))

    def _forward(self, x, task_id):
        return self.rest(torch.relu(self.input_layer(x) + self.task_term(task_id).to(x.dtype)))


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
    out = Additive(
        in_features=model.in_features,
        out_features=model.out_features,
        num_tasks=model.num_tasks,
        hidden=hidden,
        embedding_dim=embedding_dim,
    ).to(first.weight.device, first.weight.dtype)
    # (h, in), (h, dim z)
    w_x, w_z = (
        first.weight[:, : model.in_features],
        first.weight[:, model.in_features :],
    )
    with torch.no_grad():
        out.input_layer.weight.copy_(w_x)
        out.input_layer.bias.copy_(first.bias)
        if embedding_dim is None:
            out.task_bias.copy_(w_z.T)  # W_z e_t is column t of W_z
        else:
            out.task_embedding.weight.copy_(model.z.embedding.weight)
            out.task_projection.weight.copy_(w_z)
        # after the first Linear and ReLU
        for src, dst in zip(list(model.net.net)[2:], list(out.rest.net)):
            dst.load_state_dict(src.state_dict())
    return out


def additive_to_concat(model: Additive) -> Concat:
    r"""The :class:`Concat` model computing exactly the same
    function as ``model`` (the inverse map).
    """
    if not isinstance(model, Additive):
        raise TypeError(f"`model` must be an Additive model; got {type(model).__name__}.")
    hidden = [model.input_layer.out_features] + [
        m.out_features for m in model.rest.net if isinstance(m, nn.Linear)
    ][:-1]
    embedding_dim = None if model.task_bias is not None else model.task_embedding.embedding_dim
    out = Concat(
        in_features=model.in_features,
        out_features=model.out_features,
        num_tasks=model.num_tasks,
        hidden=hidden,
        embedding_dim=embedding_dim,
    ).to(model.input_layer.weight.device, model.input_layer.weight.dtype)
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
