r"""The multi-task training loop, one for every (model, weighting) pair.

:func:`fit` runs the lecture's loop: each step samples a mini-batch of tasks and a
mini-batch of examples per task, computes the per-task losses :math:`\mathcal{L}_i`
``(T,)``, lets the weighting method turn them into a gradient, and takes an optimiser step.
Per-task losses are logged every step, a progress bar shows them, and the run can be
checkpointed and resumed with the same result as an uninterrupted run (see
:mod:`mtml_lib.training.core`, which this loop shares with meta-training).

Under ``torchrun`` (see :mod:`mtml_lib.distributed`) the same call trains data-parallel: each
process draws its own batch (give each its own ``generator``, e.g. seed + rank), so one step sees
``world_size x batch_size`` examples of every task, and every process takes the step one process
would take on those batches combined. Loss weightings train the model through
``DistributedDataParallel``; gradient combinations (PCGrad, MGDA, CAGrad) average the per-task
gradients over the processes before combining them (:mod:`mtml_lib.weighting.method`). The progress
bar, evaluation and checkpoints are rank 0's; the logged losses are every process's.

Example:
    >>> from mtml_lib.data.digits import multilabel
    >>> from mtml_lib.data.multitask_data import MultiTaskDataset
    >>> from mtml_lib.models.conditioning import get_conditioning
    >>> data = MultiTaskDataset.sample(multilabel(), 200, generator=0)
    >>> model = get_conditioning("multihead", in_features=64, out_features=2, num_tasks=4,
    ...                          hidden=(32,))
    >>> history = fit(model, data, "equal", steps=20, device="cpu", generator=0, progress=False)
    >>> tuple(history.losses.shape)
    (20, 4)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .. import distributed
from .._validation import check_int
from ..data.multitask_data import MultiTaskBatch, MultiTaskDataset
from ..device import get_device
from ..seeding import make_generator
from ..weighting import GradientCombination, Weighting, get_weighting, parameter_groups
from .config import FitConfig, make_config
from .core import History, Loop, check_streams_differ
from .optim import apply_schedule, make_optimizer

__all__ = ["FitConfig", "FitHistory", "fit", "check_fit", "evaluate_tasks", "task_losses"]


@dataclass(kw_only=True)
class FitHistory(History):
    """What a :func:`fit` run recorded (besides :class:`~mtml_lib.training.core.History`'s fields).

    Attributes:
        task_names: one name per task.
        losses: ``(steps, T)`` training loss of each task at each step (0 where a task was not
            in that step's batch, see ``sampled``).
        sampled: ``(steps, T)`` bool, which tasks each step trained on.
        weights: ``(steps, T)`` the weights the method applied (NaN when it reports none).
        metric_names: the metric of each task (``accuracy``, ``auc`` or ``mse``); each entry of
            ``eval_metrics`` is the list of the tasks' metrics.
    """

    task_names: list[str]
    losses: torch.Tensor
    sampled: torch.Tensor
    weights: torch.Tensor
    metric_names: list[str]

    @classmethod
    def empty(cls, data: MultiTaskDataset) -> FitHistory:
        """A history of no steps yet for the tasks of ``data``."""
        T = data.num_tasks
        return cls(
            task_names=data.task_names,
            losses=torch.zeros(0, T),
            weights=torch.zeros(0, T),
            sampled=torch.zeros(0, T, dtype=torch.bool),
            metric_names=[t.loss.metric_name for t in data.tasks],
        )

    @property
    def final_metrics(self) -> list[float]:
        """The per-task metrics of the last evaluation."""
        if not self.eval_metrics:
            raise ValueError("this run was not evaluated: pass `eval_data` to fit().")
        return self.eval_metrics[-1]


def task_losses(model: nn.Module, data: MultiTaskDataset, batch: MultiTaskBatch) -> torch.Tensor:
    """The per-task losses ``(T,)`` of ``model`` on a :class:`MultiTaskBatch` (0 for absent tasks);
    each task's predictions are its block of the output (:meth:`MultiTaskBatch.task_outputs`)."""
    prediction = model(batch.x, batch.task_id)  # (B, out_features)
    losses = prediction.new_zeros(data.num_tasks)
    for i, rows in batch.task_outputs(prediction):
        losses[i] = data.tasks[i].loss(rows, batch.ys[i])
    return losses


@torch.no_grad()
def evaluate_tasks(
    model: nn.Module, data: MultiTaskDataset, *, batch_size: int = 2048
) -> list[float]:
    """Each task's metric (accuracy, AUC or mean squared
    error) on all of its examples in ``data``.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    metrics = []
    for i, (task, x, y) in enumerate(zip(data.tasks, data.xs, data.ys, strict=True)):
        outputs = []
        for start in range(0, x.shape[0], batch_size):
            chunk = x[start : start + batch_size].to(device)
            task_id = torch.full((chunk.shape[0],), i, dtype=torch.long, device=device)
            outputs.append(model(chunk, task_id)[:, : task.out_features])
        metrics.append(task.metric(torch.cat(outputs), y.to(device)))
    model.train(was_training)
    return metrics


def check_fit(
    model: nn.Module,
    data: MultiTaskDataset,
    weighting: str | Weighting,
    config: FitConfig,
    eval_data: MultiTaskDataset | None = None,
) -> Weighting:
    """:func:`fit`'s checks that need the data and the model; returns the weighting method
    (a name becomes the method)."""
    if not isinstance(data, MultiTaskDataset):
        raise TypeError(f"`data` must be a MultiTaskDataset; got {type(data).__name__}.")
    if isinstance(weighting, str):
        weighting = get_weighting(weighting, num_tasks=data.num_tasks)
    if not isinstance(weighting, Weighting):
        raise TypeError(
            f"`weighting` must be a method name or a Weighting; got {type(weighting).__name__}."
        )
    if weighting.num_tasks != data.num_tasks:
        raise ValueError(
            f"`weighting` must be built for {data.num_tasks} tasks; got "
            f"num_tasks={weighting.num_tasks}."
        )
    if config.tasks_per_step is not None:
        check_int("tasks_per_step", config.tasks_per_step, minimum=1, maximum=data.num_tasks)
        if weighting.requires_all_tasks and config.tasks_per_step < data.num_tasks:
            raise ValueError(
                f"`tasks_per_step` must be None or {data.num_tasks} with "
                f"{type(weighting).__name__}, which "
                f"needs every task's loss at every step; got {config.tasks_per_step}."
            )
    if config.keep_best and eval_data is not None and len(set(_metric_signs(eval_data))) > 1:
        raise ValueError(
            f"`keep_best` needs the tasks' metrics to agree on which way is better; got "
            f"{[t.loss.metric_name for t in eval_data.tasks]}."
        )
    weighting.check_shared_parameters(parameter_groups(model)[0])
    return weighting


def _metric_signs(data: MultiTaskDataset) -> list[float]:
    return [1.0 if t.loss.higher_is_better else -1.0 for t in data.tasks]


def _parallel(model: nn.Module, weighting: Weighting, task: list, config: FitConfig, data, device):
    """``(forward, task_specific)``: what computes the losses, and the parameters whose gradients
    the loop averages itself. Without torchrun: the model, and none."""
    if not distributed.current().active:
        return model, []
    if isinstance(weighting, GradientCombination):
        # DistributedDataParallel averages the one gradient of a backward pass; these methods need
        # each task's, which the method averages itself. The rest (task-specific) is averaged here.
        distributed.broadcast_module(model)
        return model, task
    from torch.nn.parallel import DistributedDataParallel

    partial = config.tasks_per_step is not None and config.tasks_per_step < data.num_tasks
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=partial), []


def _reduce_task_logs(stacked: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A task's logged loss is its mean over the processes that drew it that step."""
    counts = distributed.sum_over_ranks(stacked["sampled"].float())  # (n, T)
    totals = distributed.sum_over_ranks(stacked["losses"].float())
    return {
        "losses": totals / counts.clamp_min(1),
        "weights": stacked["weights"].float(),
        "sampled": counts > 0,
    }


class _Step:
    """One step of :func:`fit`: sample tasks and examples, per-task losses, let the weighting
    method combine them into a gradient, take the optimiser step; return the step's logs."""

    def __init__(self, model, data, weighting, config: FitConfig, generator, device, callback):
        self.model, self.data, self.weighting, self.config = model, data, weighting, config
        self.generator, self.callback = generator, callback
        self.shared, self.task = parameter_groups(model)
        self.forward, self.task_specific = _parallel(
            model, weighting, self.task, config, data, device
        )
        parameters = [*model.parameters(), *weighting.parameters()]
        self.optimizer = make_optimizer(
            parameters, config.optimizer, lr=config.lr, weight_decay=config.weight_decay
        )
        self.no_weights = torch.full((data.num_tasks,), float("nan"), device=device)

    def __call__(self, i: int) -> dict[str, torch.Tensor]:
        config = self.config
        batch = self.data.batch(
            config.batch_size,
            generator=self.generator,
            tasks_per_step=config.tasks_per_step,
            task_sampling=config.task_sampling,
        )
        losses = task_losses(self.forward, self.data, batch)
        self.optimizer.zero_grad(set_to_none=True)
        weights = self.weighting.combine(losses, self.shared, self.task)
        # only gradient combinations under torchrun
        distributed.average_gradients(self.task_specific)
        apply_schedule(self.optimizer, config, i)
        self.optimizer.step()
        sampled = torch.zeros_like(self.no_weights, dtype=torch.bool)
        sampled[batch.tasks.to(sampled.device)] = True
        if self.callback is not None:
            self.callback(i, self.model, losses.detach())
        weights = self.no_weights if weights is None else weights.detach().to(self.no_weights)
        return {"losses": losses.detach(), "sampled": sampled, "weights": weights}

    def postfix(self, logs: dict[str, list[torch.Tensor]]) -> dict[str, str]:
        latest = logs["losses"][-1].tolist()
        return {name[:10]: f"{v:.3g}" for name, v in zip(self.data.task_names, latest, strict=True)}


def _evaluator(model: nn.Module, eval_data: MultiTaskDataset | None):
    """``evaluate() -> (each task's metric, a score where higher is better)``, or None."""
    if eval_data is None:
        return None
    signs = _metric_signs(eval_data)

    def evaluate():
        metrics = evaluate_tasks(model, eval_data)
        return metrics, sum(s * m for s, m in zip(signs, metrics, strict=True)) / len(metrics)

    return evaluate


def fit(
    model: nn.Module,
    data: MultiTaskDataset,
    weighting: str | Weighting = "equal",
    config: FitConfig | None = None,
    *,
    generator: int | torch.Generator | None = None,
    eval_data: MultiTaskDataset | None = None,
    callback: Callable[[int, nn.Module, torch.Tensor], None] | None = None,
    **options,
) -> FitHistory:
    """Train ``model`` on every task of ``data`` with one weighting method.

    Args:
        model: maps ``(x, task_id)`` to ``(B, out_features)`` (e.g. any model of
            :mod:`mtml_lib.models.conditioning`); moved to the device.
        data: the training sets :math:`\\mathcal{D}_i` (moved to the device).
        weighting: a method name from :data:`mtml_lib.weighting.WEIGHTING` or an instance.
        config: a :class:`~mtml_lib.training.config.FitConfig`; ``**options`` (its fields:
            ``steps``, ``lr``, ``batch_size``, ``eval_every``, ``checkpoint``, ...) build one or
            change it.
        generator: seed or CPU generator for every random choice of the loop (under torchrun,
            a different one in each process, e.g. seed + rank).
        eval_data: held-out data evaluated every ``eval_every`` steps and at the end.
        callback: called as ``callback(step, model, losses)`` after every step (on every
            process under torchrun, with that process's losses).

    Returns:
        A :class:`FitHistory`.

    Raises:
        ValueError, TypeError: a bad option (named); a method that needs every task's loss with
            ``tasks_per_step`` smaller than the number of tasks; a method that cannot work on the
            model's shared parameters; under torchrun, one ``generator`` stream in two processes.
    """
    config = make_config(FitConfig, config, **options)
    weighting = check_fit(model, data, weighting, config, eval_data)
    generator = make_generator(generator)
    check_streams_differ(generator, name="`generator`")
    if distributed.current().active:  # e.g. an unseeded method's generator: rank 0's everywhere
        weighting.load_state_dict(distributed.broadcast_object(weighting.state_dict()))
    device = get_device(config.device)
    model.to(device).train()
    data = data.to(device) if data.device != device else data
    weighting.to(device)
    weighting.attach(data.tasks)
    step = _Step(model, data, weighting, config, generator, device, callback)
    history = FitHistory.empty(data)
    loop = Loop(
        config.replace(description=config.description or type(weighting).__name__),
        model=model,
        optimizer=step.optimizer,
        history=history,
        streams=[generator],
        stateful={"weighting": weighting},
        evaluate=_evaluator(model, eval_data),
        reduce=_reduce_task_logs,
        device=device,
    )
    loop.run(step, start=loop.resume(), postfix=step.postfix)
    return history
