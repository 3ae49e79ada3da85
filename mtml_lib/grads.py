"""Generic autograd helpers: each task's gradient, in one batched backward pass.

Used by the gradient-combination methods (:mod:`mtml_lib.weighting`) and by the
diagnostics (:mod:`mtml_lib.metrics`); neither owns them.

Example:
    >>> import torch
    >>> theta = torch.ones(2, requires_grad=True)
    >>> losses = torch.stack([2 * theta[0], 3 * theta[1]])
    >>> per_task_gradients(losses, [theta])
    tensor([[2., 0.],
            [0., 3.]])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch

__all__ = ["per_task_gradients", "per_task_gradients_looped"]


def per_task_gradients(losses: torch.Tensor, parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each task's gradient on ``parameters``, flattened: ``(T, P)``.

    ``losses`` ``(T,)`` keeps its graph. All T rows come from one batched backward pass
    (``is_grads_batched``: the backward of ``losses`` against the T rows of the identity);
    where the graph holds an operation without a batching rule, one backward per task instead
    (:func:`per_task_gradients_looped`, the same numbers). A task whose loss does not depend on
    some parameter gets zeros there; a loss without a graph gets a zero row.
    """
    parameters = list(parameters)
    if losses.requires_grad and losses.shape[0] > 1:
        identity = torch.eye(losses.shape[0], dtype=losses.dtype, device=losses.device)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a slow fallback inside vmap: take the loop
                grads = torch.autograd.grad(
                    losses,
                    parameters,
                    grad_outputs=identity,
                    retain_graph=True,
                    allow_unused=True,
                    is_grads_batched=True,
                )
        except (RuntimeError, UserWarning):
            return per_task_gradients_looped(losses, parameters)
        return _flat(grads, parameters, rows=losses.shape[0])
    return per_task_gradients_looped(losses, parameters)


def per_task_gradients_looped(
    losses: torch.Tensor, parameters: Sequence[torch.Tensor]
) -> torch.Tensor:
    """:func:`per_task_gradients` with one backward pass per task (``retain_graph=True``)."""
    parameters = list(parameters)
    rows = []
    for loss in losses:
        if not loss.requires_grad:
            rows.append(torch.cat([p.new_zeros(p.numel()) for p in parameters]))
            continue
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
        rows.append(_flat(grads, parameters, rows=None))
    return torch.stack(rows)  # (T, P)


def _flat(grads, parameters, *, rows: int | None) -> torch.Tensor:
    """Gradients (None where unused) as one flat vector, or ``(rows, P)`` when batched."""
    lead = () if rows is None else (rows,)
    return torch.cat(
        [
            (p.new_zeros(*lead, *p.shape) if g is None else g).reshape(*lead, -1)
            for g, p in zip(grads, parameters, strict=True)
        ],
        dim=-1,
    )
