"""What both training loops share: the step loop, logging, evaluation, checkpoints.

:func:`~mtml_lib.training.multitask_loop.fit` (multi-task) and
:func:`~mtml_lib.training.meta_loop.meta_train` (meta-learning) differ only in what one step
does. Everything around the step lives here, once:

* the options of a run (:mod:`mtml_lib.training.config`);
* :class:`Loop`: runs the steps with a progress bar, keeps the per-step logs on the
  device until a flush (no host sync inside the loop; under ``torchrun`` the flush is
  where the ranks' logs are reduced), evaluates on rank 0 every ``eval_every`` steps and
  at the end, keeps the best weights when asked, and saves a checkpoint every
  ``checkpoint_every`` steps and at the end;
* a checkpoint holds the model, the optimiser, every rank's random streams and the
  history, written atomically: an interrupted run resumes with the same result as an
  uninterrupted one (with as many processes; with more, the new ranks start their own
  streams; with fewer, the extra streams end).

Example:
    >>> from torch import nn
    >>> from mtml_lib.training.config import TrainConfig
    >>> model = nn.Linear(2, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> history = History()
    >>> loop = Loop(TrainConfig(steps=3, progress=False), model=model, optimizer=optimizer,
    ...             history=history, streams=[], device=torch.device("cpu"))
    >>> loop.run(lambda i: {"losses": torch.tensor(float(i))}, start=loop.resume())
    >>> history.losses
    tensor([0., 1., 2.])
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pathlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .. import distributed
from ..device import rng_state, set_rng_state
from .config import TrainConfig

__all__ = ["History", "Loop", "save_atomic", "check_streams_differ"]


@dataclass(kw_only=True)
class History:
    """What every run records beside its own per-step logs.

    Attributes:
        eval_steps: the steps after which the model was evaluated.
        eval_metrics: what each evaluation returned (see the loop's own history).
        best_step: the step whose weights the model holds at the end (``keep_best``).
        seconds: wall time spent in training steps (volatile: do not compare it).
    """

    eval_steps: list[int] = field(default_factory=list)
    eval_metrics: list = field(default_factory=list)
    best_step: int | None = None
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return self.losses.shape[0]

    def extend(self, logs: dict[str, torch.Tensor]) -> None:
        """Append flushed per-step logs (tensors with a leading step axis, on the CPU)."""
        for name, values in logs.items():
            current = getattr(self, name, None)
            setattr(self, name, values if current is None else torch.cat([current, values]))

    def record_evaluation(self, step: int, result) -> None:
        self.eval_steps.append(step)
        self.eval_metrics.append(result)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def save_atomic(path: pathlib.Path, state: dict) -> None:
    """``torch.save`` to a temporary file, then rename: an interrupted save never leaves a
    half-written checkpoint."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def check_streams_differ(stream, *, name: str) -> None:
    """Under torchrun, refuse a data stream that is the same in two processes: every process would
    train on the same examples. ``name`` says where the stream comes from."""
    ctx = distributed.current()
    if not ctx.active:
        return
    states = distributed.all_gather_objects(_fingerprint(stream.get_state()))
    if len(set(states)) < len(states):
        raise ValueError(
            f"{name} must differ between the {ctx.world_size} processes (e.g. seed + rank), or "
            "every process trains on the same examples; got the same stream on several ranks."
        )


def _fingerprint(state) -> Any:
    """A comparable summary of a generator state (a tensor, or a dict/list of them)."""
    if isinstance(state, torch.Tensor):
        return bytes(state.cpu().numpy())
    if isinstance(state, dict):
        return tuple((k, _fingerprint(v)) for k, v in sorted(state.items()))
    if isinstance(state, (list, tuple)):
        return tuple(_fingerprint(v) for v in state)
    return state


class Loop:
    """The step loop both trainers run (see the module docstring).

    Args:
        config: the run's options.
        model: the module trained (its weights are checkpointed and, with ``keep_best``, kept).
        optimizer: its optimiser.
        history: the run's :class:`History` (the loop appends to it).
        streams: this rank's random streams (``get_state``/``set_state``), checkpointed per rank.
        shared_streams: streams only rank 0 uses (e.g. the evaluation sampler's).
        stateful: other objects with ``state_dict``/``load_state_dict`` to checkpoint
            (e.g. a weighting method).
        evaluate: ``evaluate() -> (result, score)``: the result is recorded, the score
            (higher is better) chooses the best weights.
        reduce: turns the stacked per-step logs (``{name: (n, ...)}``) into what the history
            appends, reducing over the ranks under torchrun (default: the mean over ranks).
        device: the run's device (resolved).
    """

    FORMAT = 2  # of the checkpoint file; bumped whenever its contents change

    def __init__(
        self,
        config: TrainConfig,
        *,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        history: History,
        streams: list,
        shared_streams: tuple = (),
        stateful: dict[str, Any] | None = None,
        evaluate: Callable[[], tuple[Any, float]] | None = None,
        reduce: Callable[[dict], dict] | None = None,
        device: torch.device,
    ):
        self.config, self.model, self.optimizer, self.history = config, model, optimizer, history
        self.streams, self.shared_streams = list(streams), list(shared_streams)
        self.stateful = dict(stateful or {})
        self.evaluate, self.device = evaluate, device
        self.reduce = reduce or _mean_over_ranks
        self.ctx = distributed.current()
        self.path = pathlib.Path(config.checkpoint) if config.checkpoint is not None else None
        self.best_state: dict | None = None
        self.best_score: float | None = None
        self.logs: dict[str, list[torch.Tensor]] = {}
        if config.keep_best and evaluate is None:
            raise ValueError(
                "`keep_best` needs something to evaluate on (evaluation data); got none."
            )

    # --- checkpoints ------------------------------------------------------------------------

    def resume(self) -> int:
        """Load the checkpoint if there is one; return the step to start from."""
        if self.path is None or not self.path.exists():
            return 0
        state = torch.load(self.path, map_location=self.device, weights_only=False)
        if state.get("format") != self.FORMAT:
            raise ValueError(
                f"`checkpoint` {str(self.path)!r} was written by another version of mtml_lib "
                f"(format {state.get('format', 1)}, this one reads {self.FORMAT}); delete it to "
                f"start afresh."
            )
        saved, current = state.get("optimizer_class"), type(self.optimizer).__name__
        if saved is not None and saved != current:
            raise ValueError(
                f"`checkpoint` {str(self.path)!r} was written by a run with the optimiser {saved}; "
                f"this run uses {current}: resume with the run's own `optimizer`, or delete the "
                "checkpoint to start afresh."
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for name, thing in self.stateful.items():
            thing.load_state_dict(state[name])
        # Each rank continues its own streams; a rank the saved run did not have starts afresh.
        if self.ctx.rank < len(state["streams"]):
            for stream, saved in zip(self.streams, state["streams"][self.ctx.rank], strict=True):
                stream.set_state(_to_cpu(saved))
            set_rng_state(self.device, state["rngs"][self.ctx.rank])
        for stream, saved in zip(self.shared_streams, state["shared_streams"], strict=True):
            stream.set_state(_to_cpu(saved))
        for name, value in state["history"].items():
            setattr(self.history, name, value)
        self.best_state, self.best_score = state["best_state"], state["best_score"]
        return state["step"]

    def save(self, step: int) -> None:
        self.flush()
        streams = distributed.all_gather_objects(
            ([s.get_state() for s in self.streams], rng_state(self.device))
        )
        if not self.ctx.is_main:
            return
        save_atomic(
            self.path,
            {
                "format": self.FORMAT,
                "step": step,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "optimizer_class": type(self.optimizer).__name__,
                **{name: thing.state_dict() for name, thing in self.stateful.items()},
                "streams": [s for s, _ in streams],
                "rngs": [r for _, r in streams],
                "shared_streams": [s.get_state() for s in self.shared_streams],
                "world_size": self.ctx.world_size,
                "history": self.history.to_dict(),
                "best_state": self.best_state,
                "best_score": self.best_score,
            },
        )

    # --- logs -------------------------------------------------------------------------------

    def log(self, **values: torch.Tensor) -> None:
        """Record this step's values (device tensors; nothing is read back here)."""
        for name, value in values.items():
            self.logs.setdefault(name, []).append(value)

    def flush(self) -> None:
        """Stack the logged steps, reduce them over the ranks and append them to the history."""
        if self.logs:
            stacked = {name: torch.stack(values) for name, values in self.logs.items()}
            self.history.extend({name: value.cpu() for name, value in self.reduce(stacked).items()})
        self.logs = {}

    # --- evaluation -------------------------------------------------------------------------

    def _evaluate(self, step: int) -> None:
        result, score = self.evaluate()
        self.history.record_evaluation(step, result)
        if self.config.keep_best and (self.best_score is None or score > self.best_score):
            self.best_score, self.history.best_step = score, step
            self.best_state = copy.deepcopy(self.model.state_dict())

    # --- the loop ---------------------------------------------------------------------------

    def run(
        self,
        step: Callable[[int], dict[str, torch.Tensor]],
        *,
        start: int,
        postfix: Callable[[dict[str, list[torch.Tensor]]], dict[str, str]] | None = None,
    ) -> None:
        """Call ``step(i)`` for i in ``[start, steps)``, with progress, evaluation and checkpoints.

        ``step`` takes one optimiser step and returns its logs (device tensors, by name);
        ``postfix(logs)`` turns the logs since the last flush into the progress bar's numbers
        (it may read the device: it is called only when the bar is shown).
        """
        from tqdm.auto import tqdm  # here: `import mtml_lib` needs only torch, numpy, matplotlib

        config = self.config
        show = config.progress and self.ctx.is_main
        bar = tqdm(total=config.steps, initial=start, desc=config.description, disable=not show)
        refresh = max(1, min(50, config.steps // 50))
        began = time.perf_counter()
        for i in range(start, config.steps):
            self.log(**step(i))
            done = i + 1
            last = done == config.steps
            if done % refresh == 0 or last:
                if postfix is not None and show:
                    bar.set_postfix(postfix(self.logs), refresh=False)
                bar.update(done - bar.n)
            if (
                self.evaluate is not None
                and self.ctx.is_main
                and self._due(config.eval_every, done)
            ):
                self._evaluate(done)
            if self.path is not None and self._due(config.checkpoint_every, done):
                self.history.seconds += time.perf_counter() - began
                began = time.perf_counter()
                self.save(done)
        bar.close()
        self.flush()
        self.history.seconds += time.perf_counter() - began
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)  # keep the weights that evaluated best

    def _due(self, every: int | None, done: int) -> bool:
        """Whether an action every ``every`` steps (and after the last) falls on ``done``."""
        return done == self.config.steps or bool(every and done % every == 0)


def _mean_over_ranks(stacked: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The default reduction of the logs: each one's mean over the ranks."""
    return {name: distributed.mean_over_ranks(value.float()) for name, value in stacked.items()}


def _to_cpu(state):
    """Generator states are CPU byte tensors (a checkpoint loaded with map_location may hold
    them elsewhere); a joint state is a dict of them."""
    if isinstance(state, torch.Tensor):
        return state.cpu()
    if isinstance(state, dict):
        return {k: _to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_to_cpu(v) for v in state]
    return state
