"""Generic autograd helpers: each task's gradient, and the parameters a loss depends on.

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

from collections.abc import Sequence

import torch

__all__ = ["per_task_gradients", "graph_parameters"]


def per_task_gradients(losses: torch.Tensor, parameters: Sequence[torch.Tensor]) -> torch.Tensor:
    """Each task's gradient on ``parameters``, flattened: ``(T, P)``.

    ``losses`` ``(T,)`` keeps its graph (every row is differentiated with
    ``retain_graph=True``). A task whose loss does not depend on some parameter gets
    zeros there; a loss without a graph gets a zero row.
    """
    parameters = list(parameters)
    rows = []
    for loss in losses:
        if not loss.requires_grad:
            rows.append(torch.cat([p.new_zeros(p.numel()) for p in parameters]))
            continue
        grads = torch.autograd.grad(loss, parameters, retain_graph=True, allow_unused=True)
        rows.append(
            torch.cat(
                [
                    (torch.zeros_like(p) if g is None else g).reshape(-1)
                    for g, p in zip(grads, parameters, strict=True)
                ]
            )
        )
    return torch.stack(rows)  # (T, P)


def graph_parameters(output: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors that require grad and that ``output`` depends on (its parameters)."""
    seen, leaves, stack = set(), [], [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        variable = getattr(node, "variable", None)  # AccumulateGrad nodes hold their leaf
        if variable is not None:
            leaves.append(variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return leaves
