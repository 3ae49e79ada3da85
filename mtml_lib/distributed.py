"""Data-parallel training under ``torchrun``: the process group and the few collectives the loops
use.

``torchrun --nproc_per_node=N`` starts N copies of a command with ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE`` and the rendezvous address in the environment. :func:`setup` reads them and joins
the process group (``nccl`` on GPUs, ``gloo`` on the CPU); without them everything here is a
single-process no-op, so the same code runs in a notebook and under ``torchrun``.

Example:
    >>> ctx = current()
    >>> (ctx.rank, ctx.world_size, ctx.is_main)
    (0, 1, True)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .device import get_device

__all__ = [
    "Context",
    "current",
    "launched_by_torchrun",
    "setup",
    "cleanup",
    "process_group",
    "all_gather_objects",
    "broadcast_object",
    "broadcast_module",
    "mean_over_ranks",
    "sum_over_ranks",
    "average_gradients",
]


@dataclass(frozen=True)
class Context:
    """Where this process stands: ``rank`` of ``world_size`` processes."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, validates and writes checkpoints."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def current() -> Context:
    """The process group this process belongs to (rank 0 of 1 when there is none)."""
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size())
    return Context()


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: str | torch.device = "auto") -> tuple[Context, torch.device]:
    """Join the process group ``torchrun`` prepared; return the context and this process's device.

    With GPUs each process takes ``cuda:LOCAL_RANK`` and the ``nccl`` backend; otherwise ``gloo``.
    Without ``torchrun`` (or with ``WORLD_SIZE=1``) no group is made.
    """
    device = get_device(device)
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return Context(), device
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed; run without torchrun.")
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK {local_rank} has no GPU: this node has {torch.cuda.device_count()}; "
                f"start at most that many processes per node (--nproc_per_node)."
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise RuntimeError(
            f"data-parallel training needs CUDA GPUs or the CPU; got device {device.type!r}."
        )
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return current(), device


def cleanup(*, wait_for_all: bool = True) -> None:
    """Leave the process group (nothing to do without one).

    Args:
        wait_for_all: first wait at a barrier until every rank has finished its collectives, and
            after leaving, give gloo's worker threads a moment to release the last collectives'
            tensors (see below). Pass False when leaving because of an error: the other ranks may
            never arrive.

    Why the pause: constructing a ``DistributedDataParallel`` keeps references to the group that
    ``destroy_process_group`` does not drop (pytorch/pytorch#109478), so gloo's worker threads run
    on until the interpreter exits. A worker that frees the tensors of a finished collective (e.g.
    ``all_gather_object``'s) needs the GIL; once interpreter finalisation has begun, Python ends
    such a thread and the process aborts ("terminate called without an active exception"). That
    happened in 4 of 75 two-process runs of ``mtml train``; with the pause, in none of 90.
    """
    if dist.is_available() and dist.is_initialized():
        if wait_for_all:
            dist.barrier()
        dist.destroy_process_group()
        if wait_for_all:
            time.sleep(0.05)  # releases the GIL: a worker thread waiting for it finishes now


@contextmanager
def process_group(device: str | torch.device = "auto") -> Iterator[tuple[Context, torch.device]]:
    """:func:`setup` on entry, :func:`cleanup` on exit (without the barrier when an error ends the
    block).

    Example:
        >>> with process_group("cpu") as (ctx, device):
        ...     (ctx.world_size, device.type)
        (1, 'cpu')
    """
    ctx, device = setup(device)
    try:
        yield ctx, device
    except BaseException:
        cleanup(wait_for_all=False)
        raise
    cleanup()


def all_gather_objects(value) -> list:
    """Every rank's ``value``, in rank order (a list of one without a process group)."""
    ctx = current()
    if not ctx.active:
        return [value]
    gathered = [None] * ctx.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def broadcast_object(value):
    """Rank 0's ``value`` on every rank (``value`` itself without a process group)."""
    if not current().active:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


@torch.no_grad()
def broadcast_module(module: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers into ``module`` on every rank, in place (as
    ``DistributedDataParallel`` does when it wraps a module)."""
    if current().active:
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=0)


def sum_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over all ranks (a copy; the tensor itself without a process group)."""
    if not current().active:
        return tensor
    total = tensor.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def mean_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over all ranks (a copy; the tensor itself without a process group)."""
    if not current().active:
        return tensor
    return sum_over_ranks(tensor) / dist.get_world_size()


def average_gradients(parameters) -> None:
    """Replace each parameter's ``.grad`` by its mean over the ranks, in one collective.

    Every rank must pass the same parameters in the same order. A rank where a parameter has no
    gradient counts zero for it; a parameter that has no gradient on any rank keeps ``None`` (so
    the optimiser skips it, as ``DistributedDataParallel`` leaves globally unused parameters).
    """
    parameters = list(parameters)
    if not current().active or not parameters:
        return
    reference = parameters[0]
    # (P + n,)
    flat = torch.cat(
        [
            (p.new_zeros(p.numel()) if p.grad is None else p.grad.reshape(-1)).to(reference)
            for p in parameters
        ]
        + [reference.new_tensor([float(p.grad is not None) for p in parameters])]
    )
    total = sum_over_ranks(flat)
    present = total[-len(parameters) :] > 0
    offset = 0
    for p, used in zip(parameters, present.tolist()):
        if used:
            p.grad = (
                (total[offset : offset + p.numel()] / dist.get_world_size()).view_as(p).to(p.dtype)
            )
        offset += p.numel()
