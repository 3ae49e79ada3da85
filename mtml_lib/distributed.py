"""Data-parallel training under ``torchrun``: the process group and the few collectives the loops use.

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
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .device import get_device

__all__ = ["Context", "current", "launched_by_torchrun", "setup", "cleanup", "all_gather_objects", "mean_over_ranks"]


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
            raise RuntimeError(f"LOCAL_RANK {local_rank} has no GPU: this node has {torch.cuda.device_count()}; "
                               f"start at most that many processes per node (--nproc_per_node).")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise RuntimeError(f"data-parallel training needs CUDA GPUs or the CPU; got device {device.type!r}.")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return current(), device


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_gather_objects(value) -> list:
    """Every rank's ``value``, in rank order (a list of one without a process group)."""
    ctx = current()
    if not ctx.active:
        return [value]
    gathered = [None] * ctx.world_size
    dist.all_gather_object(gathered, value)
    return gathered


def mean_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of ``tensor`` over all ranks (a copy; the tensor itself without a process group)."""
    if not current().active:
        return tensor
    total = tensor.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / dist.get_world_size()
