r"""One multi-task training loop for every (model, weighting) pair.

:func:`fit` runs the lecture's loop: each step samples a mini-batch of tasks and
a mini-batch of examples per task, computes the per-task losses
:math:`\mathcal{L}_i` ``(T,)``, lets the weighting method turn them into a
gradient, and takes an optimiser step. Per-task losses are logged every step,
a progress bar shows them, and the run can be checkpointed and resumed with the
same result as an uninterrupted run.

Under ``torchrun`` (see :mod:`mtml_lib.distributed`) the same call trains data-parallel: each
process draws its own batch (give each its own ``generator``, e.g. seed + rank), so one step sees
``world_size x batch_size`` examples of every task, and every process takes the step one process
would take on those batches combined. Loss weightings train the model through
``DistributedDataParallel``; gradient combinations (PCGrad, MGDA, CAGrad) average the per-task
gradients over the processes before combining them (:mod:`mtml_lib.weighting.base`). The progress
bar, evaluation and checkpoints are rank 0's; the logged losses are every process's.

Example:
    >>> from mtml_lib.tasks import multilabel
    >>> from mtml_lib.data.multitask import MultiTaskDataset
    >>> from mtml_lib.models.conditioning import get_conditioned_model
    >>> data = MultiTaskDataset.sample(multilabel(), 200, generator=0)
    >>> model = get_conditioned_model("multihead", in_features=64, out_features=2, num_tasks=4, hidden=(32,))
    >>> history = fit(model, data, "equal", steps=20, device="cpu", generator=0, progress=False)
    >>> tuple(history.losses.shape)
    (20, 4)
"""

from __future__ import annotations

import os
import pathlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from . import distributed
from ._validation import check_choice, check_float, check_int
from .data.multitask import MultiTaskDataset
from .device import get_device, rng_state, set_rng_state
from .seeding import make_generator
from .weighting import GradientCombination, Weighting, get_weighting


def meta_train(*args, **kwargs):
    """Meta-train a black-box learner: see :func:`mtml_lib.meta_training.meta_train` (same function)."""
    from .meta_training import meta_train as _meta_train

    return _meta_train(*args, **kwargs)

__all__ = ["History", "fit", "check_fit_arguments", "evaluate", "task_losses", "meta_train"]


@dataclass
class History:
    """What a :func:`fit` run recorded.

    Attributes:
        task_names: one name per task.
        losses: ``(steps, T)`` training loss of each task at each step (0 where a
            task was not in that step's batch, see ``sampled``).
        sampled: ``(steps, T)`` bool, which tasks each step trained on.
        weights: ``(steps, T)`` the weights the method applied (NaN when it reports none).
        eval_steps: the steps after which the model was evaluated.
        eval_metrics: one list of per-task metrics per evaluation.
        metric_names: the metric of each task (``accuracy`` or ``mse``).
        seconds: wall time spent in training steps (volatile: do not compare it).
    """

    task_names: list[str]
    losses: torch.Tensor
    sampled: torch.Tensor
    weights: torch.Tensor
    eval_steps: list[int] = field(default_factory=list)
    eval_metrics: list[list[float]] = field(default_factory=list)
    metric_names: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return self.losses.shape[0]

    @property
    def final_metrics(self) -> list[float]:
        """The per-task metrics of the last evaluation."""
        if not self.eval_metrics:
            raise ValueError("this run was not evaluated: pass `eval_data` to fit().")
        return self.eval_metrics[-1]

    def to_dict(self) -> dict:
        return asdict(self)


def task_losses(model: nn.Module, data: MultiTaskDataset, batch) -> torch.Tensor:
    """The per-task losses ``(T,)`` of ``model`` on a :class:`MultiTaskBatch` (0 for absent tasks).

    Rows are laid out task after task, so each task's predictions are a slice.
    A model's output serves every task; task i reads its first
    ``tasks[i].out_features`` columns.
    """
    prediction = model(batch.x, batch.task_id)  # (B, out_features)
    losses = prediction.new_zeros(data.num_tasks)
    per_task = prediction.shape[0] // max(1, batch.tasks.numel())
    for j, i in enumerate(batch.tasks.tolist()):
        task = data.tasks[i]
        rows = prediction[j * per_task: (j + 1) * per_task, : task.out_features]
        losses[i] = task.loss(rows, batch.ys[i])
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, data: MultiTaskDataset, *, batch_size: int = 2048) -> list[float]:
    """Each task's metric (accuracy, or mean squared error) on all of its examples in ``data``."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    metrics = []
    for i, (task, x, y) in enumerate(zip(data.tasks, data.xs, data.ys)):
        outputs = []
        for start in range(0, x.shape[0], batch_size):
            chunk = x[start: start + batch_size].to(device)
            task_id = torch.full((chunk.shape[0],), i, dtype=torch.long, device=device)
            outputs.append(model(chunk, task_id)[:, : task.out_features])
        metrics.append(task.metric(torch.cat(outputs), y.to(device)))
    model.train(was_training)
    return metrics


def _shared_parameters(model: nn.Module) -> list[nn.Parameter]:
    shared = getattr(model, "shared_parameters", None)
    return list(shared()) if callable(shared) else list(model.parameters())


def _save(path: pathlib.Path, state: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a half-written checkpoint


def check_fit_arguments(model: nn.Module, data: MultiTaskDataset, weighting: str | Weighting, *, steps: int, lr: float,
                        batch_size: int, tasks_per_step: int | None, task_sampling: str, checkpoint_every: int,
                        eval_every: int | None, prefix: str = ""):
    """:func:`fit`'s checks of its arguments (``prefix`` goes before each name in the messages).

    Returns:
        ``(steps, lr, batch_size, tasks_per_step, checkpoint_every, eval_every, weighting)``, normalised
        (a method name becomes the method).
    """
    steps = check_int(f"{prefix}steps", steps, minimum=1)
    lr = check_float(f"{prefix}lr", lr, minimum=0.0, strict_minimum=True)
    batch_size = check_int(f"{prefix}batch_size", batch_size, minimum=1)
    check_choice(f"{prefix}task_sampling", task_sampling, ("uniform", "proportional"))
    checkpoint_every = check_int(f"{prefix}checkpoint_every", checkpoint_every, minimum=1)
    if not isinstance(data, MultiTaskDataset):
        raise TypeError(f"`data` must be a MultiTaskDataset; got {type(data).__name__}.")
    if eval_every is not None:
        eval_every = check_int(f"{prefix}eval_every", eval_every, minimum=1)
    if isinstance(weighting, str):
        weighting = get_weighting(weighting, num_tasks=data.num_tasks)
    if not isinstance(weighting, Weighting):
        raise TypeError(f"`weighting` must be a method name or a Weighting; got {type(weighting).__name__}.")
    if weighting.num_tasks != data.num_tasks:
        raise ValueError(f"`weighting` must be built for {data.num_tasks} tasks; got num_tasks={weighting.num_tasks}.")
    if tasks_per_step is not None:
        tasks_per_step = check_int(f"{prefix}tasks_per_step", tasks_per_step, minimum=1, maximum=data.num_tasks)
        if weighting.requires_all_tasks and tasks_per_step < data.num_tasks:
            raise ValueError(
                f"`{prefix}tasks_per_step` must be None or {data.num_tasks} with {type(weighting).__name__}, which "
                f"needs every task's loss at every step; got {tasks_per_step}."
            )
    weighting.check_shared_parameters(_shared_parameters(model))
    return steps, lr, batch_size, tasks_per_step, checkpoint_every, eval_every, weighting


def fit(
    model: nn.Module,
    data: MultiTaskDataset,
    weighting: str | Weighting = "equal",
    *,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 32,
    tasks_per_step: int | None = None,
    task_sampling: str = "uniform",
    device: str | torch.device = "auto",
    generator: int | torch.Generator | None = None,
    eval_data: MultiTaskDataset | None = None,
    eval_every: int | None = None,
    weight_decay: float = 0.0,
    progress: bool = True,
    description: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    callback: Callable[[int, nn.Module, torch.Tensor], None] | None = None,
) -> History:
    """Train ``model`` on every task of ``data`` with one weighting method.

    Args:
        model: maps ``(x, task_id)`` to ``(B, out_features)`` (e.g. any model of
            :mod:`mtml_lib.models.conditioning`); moved to ``device``.
        data: the training sets :math:`\\mathcal{D}_i` (moved to ``device``).
        weighting: a method name from :data:`mtml_lib.weighting.WEIGHTING` or an instance.
        steps: total number of optimiser steps (a resumed run continues up to it).
        lr: Adam's learning rate (also used for a method's own parameters).
        batch_size: examples per task per step.
        tasks_per_step: how many tasks each step trains on (None: all).
        task_sampling: how those tasks are chosen: ``"uniform"`` or
            ``"proportional"`` to the size of their dataset.
        device: ``"auto"`` or a device name (see :func:`mtml_lib.device.get_device`).
        generator: seed or CPU generator for every random choice of the loop (under torchrun,
            a different one in each process, e.g. seed + rank).
        eval_data: held-out data evaluated every ``eval_every`` steps and at the end.
        eval_every: evaluation period in steps (None: only at the end).
        weight_decay: Adam's L2 penalty.
        progress: show a tqdm progress bar with the current per-task losses.
        description: the progress bar's label.
        checkpoint: a file to save to every ``checkpoint_every`` steps and at the
            end; if it exists, training resumes from it. Under torchrun it holds every
            process's random streams: resumed with as many processes it continues exactly;
            with more, the new ones start their own streams; with fewer, the extra ones end.
        callback: called as ``callback(step, model, losses)`` after every step (on every
            process under torchrun, with that process's losses).

    Returns:
        A :class:`History`.

    Raises:
        ValueError: bad sizes, a method that needs every task's loss combined
            with ``tasks_per_step`` smaller than the number of tasks, a method that cannot
            work on the model's shared parameters, or (under torchrun) the same
            ``generator`` stream in two processes.
    """
    steps, lr, batch_size, tasks_per_step, checkpoint_every, eval_every, weighting = check_fit_arguments(
        model, data, weighting, steps=steps, lr=lr, batch_size=batch_size, tasks_per_step=tasks_per_step,
        task_sampling=task_sampling, checkpoint_every=checkpoint_every, eval_every=eval_every)
    shared = _shared_parameters(model)
    ctx = distributed.current()
    generator = make_generator(generator)
    if ctx.active:
        streams = distributed.all_gather_objects(bytes(generator.get_state().numpy()))
        if len(set(streams)) < len(streams):
            raise ValueError(f"`generator` must differ between the {ctx.world_size} processes (e.g. seed + rank), or "
                             f"every process trains on the same examples; got the same stream on several ranks.")
        weighting.load_state_dict(distributed.broadcast_object(weighting.state_dict()))  # e.g. unseeded generators

    device = get_device(device)
    model.to(device)
    model.train()
    if data.device != device:
        data = data.to(device)
    weighting.to(device)
    weighting.attach(data.tasks)
    forward, task_specific = model, []
    if ctx.active and isinstance(weighting, GradientCombination):
        # DistributedDataParallel averages the one gradient of a backward pass; these methods need each
        # task's, which the method averages itself. The rest (task-specific parameters) is averaged here.
        distributed.broadcast_module(model)
        shared_ids = {id(p) for p in shared}
        task_specific = [p for p in model.parameters() if id(p) not in shared_ids]
    elif ctx.active:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=tasks_per_step is not None and tasks_per_step < data.num_tasks)
    optimizer = torch.optim.Adam([*model.parameters(), *weighting.parameters()], lr=lr, weight_decay=weight_decay)

    T = data.num_tasks
    losses_log, weights_log, sampled_log = [], [], []
    history = History(task_names=data.task_names, losses=torch.zeros(0, T), sampled=torch.zeros(0, T, dtype=torch.bool),
                      weights=torch.zeros(0, T), metric_names=[t.loss.metric_name for t in data.tasks])
    start = 0
    path = pathlib.Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        weighting.load_state_dict(state["weighting"])
        # Each process continues its own streams; a process the saved run did not have starts afresh.
        # (A checkpoint of the single-process format before torchrun support holds one stream.)
        generators = state.get("generators", [state.get("generator")])
        rngs = state.get("rngs", [{"cpu": state.get("torch_rng")}])
        if ctx.rank < len(generators):
            generator.set_state(generators[ctx.rank].cpu())
            set_rng_state(device, rngs[ctx.rank])
        history = History(**state["history"])
        start = state["step"]

    def snapshot(step: int) -> None:
        _flush()
        streams = distributed.all_gather_objects((generator.get_state(), rng_state(device)))
        if ctx.is_main:
            _save(path, {"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "weighting": weighting.state_dict(), "generators": [g for g, _ in streams],
                         "rngs": [r for _, r in streams], "world_size": ctx.world_size, "history": history.to_dict()})

    def _flush() -> None:
        # Per-step logs stay on the device until here: no host sync (or collective) inside the loop.
        if losses_log:
            # A task's logged loss is its mean over the processes that drew it this step.
            counts = distributed.sum_over_ranks(torch.stack(sampled_log).float())  # (n, T)
            totals = distributed.sum_over_ranks(torch.stack(losses_log).float())
            history.losses = torch.cat([history.losses, (totals / counts.clamp_min(1)).cpu()])
            history.weights = torch.cat([history.weights, torch.stack(weights_log).float().cpu()])
            history.sampled = torch.cat([history.sampled, (counts > 0).cpu()])
            losses_log.clear(), weights_log.clear(), sampled_log.clear()

    from tqdm.auto import tqdm  # imported here: `import mtml_lib` needs only torch, numpy, matplotlib

    bar = tqdm(total=steps, initial=start, desc=description or type(weighting).__name__,
               disable=not (progress and ctx.is_main), leave=True)
    refresh = max(1, steps // 50)
    began = time.perf_counter()
    nan_weights = torch.full((T,), float("nan"), device=device)
    for step in range(start, steps):
        batch = data.batch(batch_size, generator=generator, tasks_per_step=tasks_per_step, task_sampling=task_sampling)
        losses = task_losses(forward, data, batch)
        optimizer.zero_grad(set_to_none=True)
        weights = weighting.combine(losses, shared)
        distributed.average_gradients(task_specific)  # empty unless a gradient combination runs under torchrun
        optimizer.step()
        mask = torch.zeros(T, dtype=torch.bool, device=device)
        mask[batch.tasks.to(device)] = True
        losses_log.append(losses.detach())
        weights_log.append(nan_weights if weights is None else weights.detach().to(device, torch.float32))
        sampled_log.append(mask)
        if callback is not None:
            callback(step, model, losses.detach())
        done = step + 1
        if done % refresh == 0 or done == steps:
            bar.set_postfix({name[:10]: f"{v:.3g}" for name, v in zip(data.task_names, losses.detach().tolist())},
                            refresh=False)
            bar.update(done - bar.n)
        if ctx.is_main and eval_data is not None and ((eval_every and done % eval_every == 0) or done == steps):
            history.eval_steps.append(done)
            history.eval_metrics.append(evaluate(model, eval_data))
        if path is not None and (done % checkpoint_every == 0 or done == steps):
            history.seconds += time.perf_counter() - began
            began = time.perf_counter()
            snapshot(done)
    bar.close()
    _flush()
    history.seconds += time.perf_counter() - began
    return history
