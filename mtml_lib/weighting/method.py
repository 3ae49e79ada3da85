r"""The one interface every loss-weighting or gradient method follows.

The multi-task objective is :math:`\min_\theta \sum_i w_i \mathcal{L}_i(\theta)`.
A method's :meth:`Weighting.combine` takes the per-task losses ``(T,)``, the shared parameters
and the task-specific ones (both named by the model, see
:func:`parameter_groups`), accumulates the combined gradient into
``.grad`` of every parameter (task-specific parameters get their own task's gradient), and
returns the weights it applied, so they can be logged and tested as numbers.

Two kinds of method:

* **loss weighting** (:class:`LossWeighting`): choose :math:`w` from the losses
  (and their history), then back-propagate :math:`\sum_i w_i \mathcal{L}_i`.
  Subclasses implement :meth:`LossWeighting.loss_weights`.
* **gradient combination** (:class:`GradientCombination`): compute each task's
  gradient :math:`g_i` on the shared parameters, combine them into one update
  direction (projections, min-norm points...), and write that into ``.grad``.
  Subclasses implement :meth:`GradientCombination.combine_gradients`.

**Under torchrun** (several processes, each with its own batch; see :mod:`mtml_lib.distributed`)
every method decides from *all* processes' numbers, so that every process takes the same step,
the step one process would take on the processes' batches combined: a loss weighting chooses
its weights from the losses averaged over the processes, and the model's gradient is averaged
by ``DistributedDataParallel`` (the training loop wraps the model); a gradient combination
averages the per-task gradients over the processes *before* combining them (projections and
min-norm points are not linear, so combining each process's gradients and averaging the results
would be a different, wrong step), and the training loop averages the task-specific gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .. import distributed
from .._validation import check_int, check_tensor
from ..grads import per_task_gradients

__all__ = ["Weighting", "LossWeighting", "GradientCombination", "parameter_groups"]


class Weighting:
    """Base class of all methods.

    Args:
        num_tasks: T, the number of losses ``combine`` will receive.

    Attributes:
        requires_all_tasks: True when the method needs every task's loss at every
            step (the training loop then refuses to sample a subset of tasks).
        batches_replicas: True when the method can serve R independent replicas of a model at
            once (:meth:`batch_replicas`): losses ``(R, T)``, one state per replica.
        shape: the shape of the losses ``combine`` takes: ``(T,)``, or ``(R, T)`` for replicas.
    """

    name = "weighting"
    requires_all_tasks = False
    batches_replicas = False

    def __init__(self, *, num_tasks: int):
        self.num_tasks = check_int("num_tasks", num_tasks, minimum=1)
        self.shape: tuple[int, ...] = (self.num_tasks,)
        self.reset_state()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_tasks={self.num_tasks})"

    def reset_state(self) -> None:
        """(Re)create the method's state for losses of :attr:`shape`; none by default."""

    def batch_replicas(self, replicas: int) -> Weighting:
        """Serve ``replicas`` independent replicas at once: ``combine`` then takes losses ``(R, T)``
        and keeps one state per replica (a replica's weights depend on its own losses only).
        Returns the method; its state starts afresh.

        Raises:
            ValueError: the method cannot (see :attr:`batches_replicas`).
        """
        if not self.batches_replicas:
            raise ValueError(
                f"`weighting` {type(self).__name__} cannot serve replicas in one batch (it solves "
                "one problem per replica's gradients); train the replicas one by one."
            )
        self.shape = (check_int("replicas", replicas, minimum=1), self.num_tasks)
        self.reset_state()
        return self

    def parameters(self) -> list[torch.Tensor]:
        """Learnable parameters of the method itself (optimised
        beside the model's); none by default.
        """
        return []

    def to(self, device: torch.device) -> Weighting:
        """Move the method's learnable parameters to ``device``
        in place (their identity is kept).
        """
        for p in self.parameters():
            p.data = p.data.to(device)
        return self

    def attach(self, tasks) -> None:
        """Called by the training loop with the tasks, before the first step; a hook for
        methods whose form depends on the tasks (e.g. regression or classification losses)."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume the method (checkpointing)."""
        return {"parameters": [p.detach().clone() for p in self.parameters()]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            for p, saved in zip(self.parameters(), state.get("parameters", [])):
                p.copy_(saved)

    def check_losses(self, losses: torch.Tensor) -> torch.Tensor:
        check_tensor("losses", losses, shape=self.shape)
        return losses

    def check_shared_parameters(self, shared_parameters: Sequence[torch.nn.Parameter]) -> None:
        """Raise a ``ValueError`` if the method cannot work on these shared parameters (the training
        loop asks before its first step); every method can by default."""

    def combine(
        self,
        losses: torch.Tensor,
        shared_parameters: Sequence[torch.nn.Parameter],
        task_parameters: Sequence[torch.nn.Parameter] | None = None,
    ) -> torch.Tensor | None:
        """Accumulate the combined gradient into ``.grad``; return the ``(T,)`` weights applied.

        ``task_parameters`` are the parameters that each belong to one task; a loss weighting
        back-propagates one scalar and reaches them without being told, a gradient combination
        must be told (it writes their gradients itself)."""
        raise NotImplementedError


def _learnable(values: torch.Tensor) -> torch.Tensor:
    """A leaf tensor the training loop's optimiser updates (a method's own parameters)."""
    return values.clone().requires_grad_(True)


class LossWeighting(Weighting):
    """A method that only chooses the weights :math:`w` of :math:`\\sum_i w_i \\mathcal{L}_i`."""

    batches_replicas = True

    def loss_weights(self, losses: torch.Tensor) -> torch.Tensor:
        """The weights (detached numbers, the shape of ``losses``: ``(T,)`` or ``(R, T)``)."""
        raise NotImplementedError

    def step_weights(self, losses: torch.Tensor) -> torch.Tensor:
        """This step's weights for the (detached) losses; a method with a state (a loss history,
        a random stream) updates it here, once per step. By default :meth:`loss_weights`."""
        return self.loss_weights(losses)

    def objective(self, losses: torch.Tensor) -> torch.Tensor:
        """The scalar to back-propagate; by default :math:`\\sum_i w_i \\mathcal{L}_i`."""
        return (self.loss_weights(losses.detach()) * losses).sum()

    def combine(self, losses, shared_parameters=(), task_parameters=None):
        losses = self.check_losses(losses)
        # every process's losses (these alone without torchrun)
        observed = distributed.mean_over_ranks(losses.detach())
        weights = self.step_weights(observed)
        if type(self).objective is LossWeighting.objective:
            # the default objective, with the weights of every process's losses
            (weights * losses).sum().backward()
        else:
            # the method's own objective (e.g. uncertainty weighting's)
            self.objective(losses).backward()
        # the method's own parameters (the model's: DDP)
        distributed.average_gradients(self.parameters())
        return weights


class GradientCombination(Weighting):
    """A method that combines the per-task gradients :math:`g_i` of the shared parameters.

    Task-specific parameters get the plain gradient of their task's loss (this process's own
    under torchrun: the training loop averages those).
    """

    def check_shared_parameters(self, shared_parameters):
        if not list(shared_parameters):
            raise ValueError(
                f"`shared_parameters` must not be empty: {type(self).__name__} combines gradients "
                "on them (independent networks share nothing)."
            )

    def combine_gradients(
        self, grads: torch.Tensor, losses: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``grads (T, P)`` -> (combined direction ``(P,)``, effective weights ``(T,)`` or None)."""
        raise NotImplementedError

    def combine(self, losses, shared_parameters, task_parameters=None):
        losses = self.check_losses(losses)
        shared = list(shared_parameters)
        self.check_shared_parameters(shared)
        if task_parameters is None:
            raise TypeError(
                f"`task_parameters` must be given to {type(self).__name__}.combine: it writes the "
                "gradients of the task-specific parameters itself (pass the model's "
                "task_specific_parameters(), or [] when every parameter is shared)."
            )
        # (T, P), every process's batch
        grads = distributed.mean_over_ranks(per_task_gradients(losses, shared))
        combined, weights = self.combine_gradients(
            grads, distributed.mean_over_ranks(losses.detach())
        )
        offset = 0
        for p in shared:
            g = combined[offset : offset + p.numel()].view_as(p)
            p.grad = g.clone() if p.grad is None else p.grad + g
            offset += p.numel()
        # Task-specific parameters: the plain gradient of their own task's loss (a head that no
        # sampled task used gets none).
        task = [p for p in task_parameters if p.requires_grad]
        if task and losses.requires_grad:
            torch.autograd.backward(losses.sum(), inputs=task)
        return weights


def parameter_groups(
    model: torch.nn.Module,
) -> tuple[list[torch.nn.Parameter], list[torch.nn.Parameter]]:
    """``(shared, task_specific)``: the one way the workbook names the parameters a weighting
    method treats apart (passed to :meth:`Weighting.combine`).

    The model is asked: ``shared_parameters()`` (every conditioned model of
    :mod:`mtml_lib.models.conditioning`, the stacked replicas, a student's model) and
    ``task_specific_parameters()`` when it has one, the two lists then holding each of its
    parameters once; without the second, every parameter not shared is task-specific. A model
    that says neither shares all of its parameters.
    """
    if not callable(getattr(model, "shared_parameters", None)):
        return list(model.parameters()), []
    shared = list(model.shared_parameters())
    if not callable(getattr(model, "task_specific_parameters", None)):
        ids = {id(p) for p in shared}
        return shared, [p for p in model.parameters() if id(p) not in ids]
    task = list(model.task_specific_parameters())
    counts: dict[int, int] = {}
    for p in (*shared, *task):
        counts[id(p)] = counts.get(id(p), 0) + 1
    wrong = {n: counts.get(id(p), 0) for n, p in model.named_parameters()}
    wrong = {n: times for n, times in wrong.items() if times != 1}
    if wrong:
        raise ValueError(
            f"`model` {type(model).__name__} must name each parameter once, as shared or as "
            f"task-specific; got (parameter: times named) {dict(list(wrong.items())[:5])}."
        )
    return shared, task
