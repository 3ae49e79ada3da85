r"""Meta-training and meta-testing of black-box learners.

:func:`meta_train` runs the outer loop of meta-learning: sample a batch of tasks
(episodes), let the learner adapt to each :math:`\mathcal{D}^{tr}_i` and predict
:math:`\mathcal{D}^{test}_i`, and update :math:`\theta` on the query loss. The whole step
stays on the device (episodes are made there, losses are logged there and read back
only for the progress bar); bfloat16 autocast is used on GPUs that support it and
``torch.compile`` on request. Validation on meta-validation episodes keeps the best
weights, and a checkpoint lets an interrupted run resume with the same result.

Under ``torchrun`` (see :mod:`mtml_lib.distributed`) the same call trains data-parallel with
``DistributedDataParallel``: every process samples its own episodes (give each rank its own
sampler seed), gradients are averaged, so one step sees ``world_size x batch_size`` episodes;
the progress bar, validation and checkpoints are rank 0's.

:func:`evaluate` meta-tests: the mean query accuracy (or squared error) over
``episodes`` episodes and its 95% confidence interval.

Example:
    >>> import torch
    >>> from mtml_lib.data.episodes import SinusoidEpisodeSampler
    >>> from mtml_lib.models.blackbox import get_blackbox_learner
    >>> learner = get_blackbox_learner("cnp_regression", hidden=16)
    >>> sampler = SinusoidEpisodeSampler(k_shot=5, n_query=10, batch_size=8, generator=0)
    >>> history = meta_train(learner, sampler, steps=5, device="cpu", progress=False)
    >>> history.metric_name, tuple(history.losses.shape)
    ('mse', (5,))
"""

from __future__ import annotations

import copy
import os
import pathlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from . import distributed
from ._validation import check_float, check_int
from .device import autocast, get_device, rng_state, set_rng_state
from .metrics import confidence_interval

__all__ = ["MetaHistory", "meta_train", "evaluate"]


@dataclass
class MetaHistory:
    """What a :func:`meta_train` run recorded.

    Attributes:
        losses: ``(steps,)`` meta-training loss per step.
        metrics: ``(steps,)`` mean query accuracy (or squared error) of each step's episodes.
        metric_name: ``"accuracy"`` or ``"mse"``.
        val_steps, val_metrics, val_intervals: validation results (mean and 95% half-width).
        best_step: the step whose weights the learner holds at the end (when validating).
        seconds: wall time of the training steps (volatile: do not compare it).
    """

    losses: torch.Tensor
    metrics: torch.Tensor
    metric_name: str
    val_steps: list[int] = field(default_factory=list)
    val_metrics: list[float] = field(default_factory=list)
    val_intervals: list[float] = field(default_factory=list)
    best_step: int | None = None
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return self.losses.shape[0]


def _higher_is_better(learner: nn.Module) -> bool:
    return getattr(learner, "task", "classification") == "classification"


@torch.no_grad()
def evaluate(learner: nn.Module, sampler, *, episodes: int = 600, use_autocast: bool = True) -> tuple[float, float]:
    """Meta-test ``learner`` on ``episodes`` episodes of ``sampler``.

    Returns:
        ``(mean, half_width)``: mean query accuracy (classification) or mean squared error
        (regression) over the episodes, and its 95% confidence half-width.
    """
    episodes = check_int("episodes", episodes, minimum=2)
    device = next(learner.parameters()).device
    was_training = learner.training
    learner.eval()
    values, seen = [], 0
    while seen < episodes:
        episode = sampler.sample()
        if episode.support_x.device != device:
            episode = episode.to(device)
        with autocast(device, enabled=use_autocast):
            _, metric = learner.loss(episode)
        values.append(metric.float())
        seen += metric.shape[0]
    learner.train(was_training)
    return confidence_interval(torch.cat(values)[:episodes].cpu())


class _Loss(nn.Module):
    """``learner.loss`` as a forward pass, which is what DistributedDataParallel synchronises."""

    def __init__(self, learner: nn.Module):
        super().__init__()
        self.learner = learner

    def forward(self, episode):
        return self.learner.loss(episode)


def meta_train(
    learner: nn.Module,
    sampler,
    *,
    steps: int,
    lr: float = 1e-3,
    device: str | torch.device = "auto",
    seed: int | None = None,
    val_sampler=None,
    val_every: int | None = None,
    val_episodes: int = 200,
    use_autocast: bool = True,
    compile: bool = False,
    weight_decay: float = 0.0,
    progress: bool = True,
    description: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 200,
    callback: Callable[[int, nn.Module], None] | None = None,
) -> MetaHistory:
    """Meta-train ``learner`` on episodes from ``sampler`` with Adam.

    Args:
        learner: a black-box learner (anything with ``loss(episode) -> (loss, metric per episode)``).
        sampler: makes the training episodes (``sampler.sample()``); build it on ``device``
            so that episodes never leave it (episodes from elsewhere are moved, more slowly).
        steps: total optimiser steps (a resumed run continues up to it).
        lr: Adam's learning rate.
        device: ``"auto"`` or a device name.
        seed: seeds the learner's own randomness (e.g. the LSTM's query order); the
            episodes come from the sampler's generator.
        val_sampler: meta-validation episodes; evaluated every ``val_every`` steps and at
            the end, and the best weights are kept.
        val_episodes: episodes per validation.
        use_autocast: bfloat16 autocast on GPUs that support it (no effect on CPU).
        compile: run the learner through ``torch.compile``.
        weight_decay: Adam's L2 penalty.
        progress: a tqdm progress bar with the running loss and accuracy (or error).
        description: the progress bar's label.
        checkpoint: a file to save to every ``checkpoint_every`` steps and at the end; if
            it exists, training resumes from it. It holds every rank's sampler and random
            state, so a data-parallel run resumes exactly with the same number of processes;
            with more, the new ranks start their own streams; with fewer, the extra streams end.
        callback: called as ``callback(step, learner)`` after every step.

    Returns:
        A :class:`MetaHistory`.
    """
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_minimum=True)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
    val_episodes = check_int("val_episodes", val_episodes, minimum=2)
    if val_every is not None:
        val_every = check_int("val_every", val_every, minimum=1)
    if not callable(getattr(learner, "loss", None)):
        raise TypeError(f"`learner` must have a loss(episode) method (a black-box learner); got {type(learner).__name__}.")
    device = get_device(device)
    ctx = distributed.current()
    learner.to(device)
    learner.train()
    if seed is not None:
        torch.manual_seed(check_int("seed", seed, minimum=0) + ctx.rank)
    optimizer = torch.optim.Adam(learner.parameters(), lr=lr, weight_decay=weight_decay)
    step_fn = torch.compile(learner) if compile else learner
    parallel = None
    if ctx.active:  # gradients averaged over the ranks; rank 0's initial weights broadcast to all
        from torch.nn.parallel import DistributedDataParallel

        parallel = DistributedDataParallel(_Loss(learner), device_ids=[device.index] if device.type == "cuda" else None)
    progress = progress and ctx.is_main
    higher = _higher_is_better(learner)
    history = MetaHistory(losses=torch.zeros(0), metrics=torch.zeros(0), metric_name="accuracy" if higher else "mse")
    best_state, best_value, start = None, None, 0
    path = pathlib.Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = torch.load(path, map_location=device, weights_only=False)
        learner.load_state_dict(state["learner"])
        optimizer.load_state_dict(state["optimizer"])
        history = MetaHistory(**state["history"])
        # Each rank continues its own streams; a rank the saved run did not have starts afresh.
        samplers, rngs = state["samplers"], state["rngs"]
        if ctx.rank < len(samplers):
            sampler.generator.set_state(samplers[ctx.rank].cpu())
            set_rng_state(device, rngs[ctx.rank])
        if val_sampler is not None and state.get("val_sampler") is not None:
            val_sampler.generator.set_state(state["val_sampler"].cpu())
        best_state, best_value, start = state["best_state"], state["best_value"], state["step"]

    losses, metrics = [], []

    def flush() -> None:
        if losses:  # the logged loss and metric are the means over all ranks' episodes
            logged = distributed.mean_over_ranks(torch.stack([torch.stack(losses).float(), torch.stack(metrics).float()]))
            history.losses = torch.cat([history.losses, logged[0].cpu()])
            history.metrics = torch.cat([history.metrics, logged[1].cpu()])
            losses.clear(), metrics.clear()

    def save(step: int) -> None:
        flush()
        streams = distributed.all_gather_objects((sampler.generator.get_state(), rng_state(device)))
        if not ctx.is_main:
            return
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save({"step": step, "learner": learner.state_dict(), "optimizer": optimizer.state_dict(),
                    "history": asdict(history), "samplers": [s for s, _ in streams], "rngs": [r for _, r in streams],
                    "world_size": ctx.world_size,
                    "val_sampler": None if val_sampler is None else val_sampler.generator.get_state(),
                    "best_state": best_state, "best_value": best_value}, tmp)
        os.replace(tmp, path)

    from tqdm.auto import tqdm  # imported here: `import mtml_lib` needs only torch, numpy, matplotlib

    bar = tqdm(total=steps, initial=start, desc=description or type(learner).__name__, disable=not progress)
    refresh = max(1, min(50, steps // 50))
    began = time.perf_counter()
    for step in range(start, steps):
        episode = sampler.sample()
        if episode.support_x.device != device:
            episode = episode.to(device)
        with autocast(device, enabled=use_autocast):
            if parallel is not None:
                loss, metric = parallel(episode)
            else:
                loss, metric = step_fn.loss(episode) if step_fn is learner else learner.loss(episode)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
        metrics.append(metric.float().mean())
        done = step + 1
        if callback is not None:
            callback(step, learner)
        if done % refresh == 0 or done == steps:
            recent = torch.stack(metrics[-refresh:]).mean().item() if metrics else float("nan")
            bar.set_postfix({"loss": f"{loss.item():.3f}", history.metric_name: f"{recent:.3f}"}, refresh=False)
            bar.update(done - bar.n)
        if ctx.is_main and val_sampler is not None and ((val_every and done % val_every == 0) or done == steps):
            mean, half = evaluate(learner, val_sampler, episodes=val_episodes, use_autocast=use_autocast)
            history.val_steps.append(done)
            history.val_metrics.append(mean)
            history.val_intervals.append(half)
            if best_value is None or (mean > best_value if higher else mean < best_value):
                best_value, history.best_step = mean, done
                best_state = copy.deepcopy(learner.state_dict())
        if path is not None and (done % checkpoint_every == 0 or done == steps):
            history.seconds += time.perf_counter() - began
            began = time.perf_counter()
            save(done)
    bar.close()
    flush()
    history.seconds += time.perf_counter() - began
    if best_state is not None:
        learner.load_state_dict(best_state)  # keep the weights that validated best
    return history
