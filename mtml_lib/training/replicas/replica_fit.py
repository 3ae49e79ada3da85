r"""Seed-batched training: R replicas of one architecture trained as one batched model.

A claim about a model needs many seeds; training them one after another costs R times one run.
Here R independent replicas (several seeds, and several settings of the same architecture, such
as the task correlations of an experiment) are stacked into one model with ``torch.func``:
``stack_module_state`` gives every parameter a leading replica axis, and ``functional_call``
under ``vmap`` runs all replicas in one forward pass. The replicas share no parameter, so one
backward pass through the sum of their losses gives each replica exactly its own gradient, and
Adam (elementwise) takes for each replica the step it would take alone.

Each replica has its own initial weights (its seed), its own batches and, with a stateful
weighting method, its own state (:meth:`~mtml_lib.weighting.method.Weighting.batch_replicas`).
Methods that combine per-task gradients (PCGrad, MGDA, CAGrad) solve one problem per replica;
they do not batch, and :func:`fit_replicas` trains their replicas one after another with
:func:`~mtml_lib.training.multitask_loop.fit` (same result structure, R times the cost).

Example:
    >>> from mtml_lib.data.sinusoids import related_sinusoids
    >>> from mtml_lib.data.multitask_data import MultiTaskDataset
    >>> from mtml_lib.models.conditioning import get_conditioning
    >>> data = [MultiTaskDataset.sample(related_sinusoids(2, relatedness=r), 50, generator=0)
    ...         for r in (1.0, -1.0)]
    >>> def model():
    ...     return get_conditioning("shared", in_features=1, out_features=1, num_tasks=2, hidden=8)
    >>> history = fit_replicas(model, data, seeds=range(3), steps=5, device="cpu", progress=False)
    >>> tuple(history.losses.shape), history.settings
    ((5, 6, 2), [0, 0, 0, 1, 1, 1])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import vmap

from ... import distributed
from ..._validation import check_int
from ...data.multitask_data import MultiTaskDataset
from ...device import get_device
from ...seeding import make_generator, seeded
from ...weighting import get_weighting
from ..config import FitConfig, make_config
from ..core import History, Loop
from ..multitask_loop import fit
from ..optim import apply_schedule, make_optimizer
from .replica_data import ReplicaData
from .stacked_model import StackedReplicas

__all__ = ["ReplicaHistory", "fit_replicas", "evaluate_replicas"]


@dataclass(kw_only=True)
class ReplicaHistory(History):
    """What :func:`fit_replicas` recorded, with a replica axis.

    Replica ``r`` trained on dataset ``settings[r]`` from seed ``seeds[r]``; replicas are laid out
    setting after setting, all seeds of a setting together.

    Attributes:
        task_names, metric_names: as in :class:`~mtml_lib.training.multitask_loop.FitHistory`.
        losses: ``(steps, R, T)`` each replica's training loss of each task at each step.
        weights: ``(steps, R, T)`` the weights the method applied to each replica.
        eval_metrics: one ``(R, T)`` nested list per evaluation.
        models: each replica's trained model, as a module on its own (in evaluation mode).
    """

    task_names: list[str]
    metric_names: list[str]
    settings: list[int]
    seeds: list[int]
    losses: torch.Tensor
    weights: torch.Tensor
    models: list[nn.Module] = field(default_factory=list, repr=False)

    @property
    def final_metrics(self) -> torch.Tensor:
        """The last evaluation's metrics, ``(R, T)``."""
        if not self.eval_metrics:
            raise ValueError("this run was not evaluated: pass `eval_data` to fit_replicas().")
        return torch.tensor(self.eval_metrics[-1], dtype=torch.float64)

    def by_setting(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` with a replica axis first, ``(R, ...)``, as ``(settings, seeds, ...)`` (for
        replicas laid out as a grid, every seed on every setting)."""
        num_settings = max(self.settings) + 1
        return values.reshape(num_settings, len(self.seeds) // num_settings, *values.shape[1:])


def _task_losses(prediction: torch.Tensor, data: ReplicaData, batch) -> torch.Tensor:
    """Each replica's loss on each task, ``(R, T)``, from ``prediction (R, T*B, out)``."""
    losses = [
        vmap(data.tasks[i].loss)(rows, batch.ys[i])  # (R,)
        for i, rows in batch.task_outputs(prediction)
    ]
    return torch.stack(losses, dim=1)


@torch.no_grad()
def evaluate_replicas(
    model: StackedReplicas, data: ReplicaData, settings: torch.Tensor, *, batch_size: int = 1024
) -> list[list[float]]:
    """Each replica's metric on each task, on all of its setting's examples: ``(R, T)`` lists."""
    was_training = model.training
    model.eval()
    device = model.stacked[0].device
    metrics = [[0.0] * len(data.tasks) for _ in range(model.replicas)]
    for i, task in enumerate(data.tasks):
        x, y = data.xs[i].to(device)[settings], data.ys[i].to(device)[settings]  # (R, n, ...)
        outputs = []
        for start in range(0, x.shape[1], batch_size):
            chunk = x[:, start : start + batch_size]
            task_id = torch.full((chunk.shape[1],), i, dtype=torch.long, device=device)
            outputs.append(model(chunk, task_id)[..., : task.out_features])
        prediction = torch.cat(outputs, dim=1)
        for r in range(model.replicas):
            metrics[r][i] = task.metric(prediction[r], y[r])
    model.train(was_training)
    return metrics


def fit_replicas(
    make_model: Callable[[], nn.Module],
    data: MultiTaskDataset | Sequence[MultiTaskDataset],
    weighting: str = "equal",
    config: FitConfig | None = None,
    *,
    seeds: Sequence[int],
    settings: Sequence[int] | None = None,
    eval_data: MultiTaskDataset | Sequence[MultiTaskDataset] | None = None,
    weighting_options: dict | None = None,
    generator: int | torch.Generator | None = 0,
    **options,
) -> ReplicaHistory:
    """Train one replica per (dataset, seed) pair, all at once, with the method ``weighting``.

    Args:
        make_model: builds the architecture (called once per seed, inside ``seeded(seed)``, so the
            seed sets the replica's initial weights).
        data: one :class:`~mtml_lib.data.multitask_data.MultiTaskDataset`, or K of them (settings
            of one task family, e.g. K correlations); every seed trains on every setting.
        weighting: a method name; its state is kept per replica.
        config: a :class:`~mtml_lib.training.config.FitConfig`, or ``**options`` (``steps``, ``lr``,
            ``batch_size``, ...); ``tasks_per_step`` and ``keep_best`` are not for replicas.
        seeds: the seeds; R = K x len(seeds) replicas (every seed on every setting), or, with
            ``settings``, one replica per seed.
        settings: the dataset of each seed's replica (e.g. ``range(K)`` with K seeds: every seed
            trains on its own draw of the data).
        eval_data: held-out data, one per setting, evaluated every ``eval_every`` steps and at
            the end.
        weighting_options: the method's hyperparameters.
        generator: the stream of every replica's batches.

    Returns:
        A :class:`ReplicaHistory`.

    Raises:
        ValueError: options replicas cannot take, datasets of different shapes, or a run under
            torchrun.
    """
    config = make_config(FitConfig, config, **options)
    datasets, evals, settings, seeds = _plan(data, eval_data, seeds, settings, config)
    method = get_weighting(weighting, num_tasks=datasets[0].num_tasks, **(weighting_options or {}))
    if not method.batches_replicas:  # one problem per replica's gradients: one run per replica
        return _fit_one_by_one(
            make_model, datasets, weighting, config, settings, seeds, evals, weighting_options
        )
    return _fit_batched(make_model, datasets, evals, method, config, settings, seeds, generator)


def _plan(data, eval_data, seeds, settings, config: FitConfig):
    """The datasets, held-out sets, and each replica's (setting, seed), checked."""
    datasets = [data] if isinstance(data, MultiTaskDataset) else list(data)
    evals = (
        None
        if eval_data is None
        else [eval_data]
        if isinstance(eval_data, MultiTaskDataset)
        else list(eval_data)
    )
    seeds = [check_int(f"seeds[{j}]", s, minimum=0) for j, s in enumerate(seeds)]
    if not seeds:
        raise ValueError("`seeds` must hold at least one seed; got none.")
    _check_replica_options(config, datasets, evals)
    settings, seeds = _replica_grid(datasets, seeds, settings)
    return datasets, evals, settings, seeds


class _Step:
    """One step of every replica: its own batch, its per-task losses, the method's weights."""

    def __init__(
        self,
        model: StackedReplicas,
        train: ReplicaData,
        method,
        config: FitConfig,
        settings: torch.Tensor,
        generator: torch.Generator,
    ):
        self.model, self.train, self.method, self.config = model, train, method, config
        self.settings, self.generator = settings, generator
        self.shared, self.task = model.shared_parameters(), model.task_specific_parameters()
        method.check_shared_parameters(self.shared)
        parameters = [*model.parameters(), *method.parameters()]
        self.optimizer = make_optimizer(
            parameters, config.optimizer, lr=config.lr, weight_decay=config.weight_decay
        )

    def __call__(self, i: int) -> dict[str, torch.Tensor]:
        batch = self.train.batch(self.config.batch_size, self.settings, self.generator)
        losses = _task_losses(self.model(batch.x, batch.task_id), self.train, batch)  # (R, T)
        self.optimizer.zero_grad(set_to_none=True)
        weights = self.method.combine(losses, self.shared, self.task)
        apply_schedule(self.optimizer, self.config, i)
        self.optimizer.step()
        return {"losses": losses.detach(), "weights": weights.detach().float()}


def _fit_batched(make_model, datasets, evals, method, config, settings, seeds, generator):
    device = get_device(config.device)
    model = StackedReplicas([_build(make_model, s) for s in seeds]).to(device).train()
    train = ReplicaData([d.to(device) for d in datasets])
    held_out = None if evals is None else ReplicaData([d.to(device) for d in evals])
    method.batch_replicas(model.replicas).to(device)
    method.attach(train.tasks)
    generator = make_generator(generator)
    index = torch.tensor(settings, device=device)
    step = _Step(model, train, method, config, index, generator)
    history = _empty_history(datasets[0], settings, seeds)

    def evaluate():
        return evaluate_replicas(model, held_out, index), 0.0

    description = config.description or f"{method.name} x{model.replicas}"
    loop = Loop(
        config.replace(description=description),
        model=model,
        optimizer=step.optimizer,
        history=history,
        streams=[generator],
        stateful={"weighting": method},
        evaluate=evaluate if held_out is not None else None,
        device=device,
    )
    loop.run(step, start=loop.resume())
    history.models = model.eval().unstack()
    return history


def _replica_grid(datasets: list, seeds: list[int], settings) -> tuple[list[int], list[int]]:
    """Each replica's (setting, seed): every seed on every setting, or the given pairs."""
    if settings is None:
        return [k for k in range(len(datasets)) for _ in seeds], seeds * len(datasets)
    settings = [
        check_int(f"settings[{j}]", k, minimum=0, maximum=len(datasets) - 1)
        for j, k in enumerate(settings)
    ]
    if len(settings) != len(seeds):
        raise ValueError(
            f"`settings` must name one dataset per seed ({len(seeds)}); got {len(settings)}."
        )
    return settings, seeds


def _build(make_model: Callable[[], nn.Module], seed: int) -> nn.Module:
    with seeded(seed):
        return make_model()


def _check_replica_options(config: FitConfig, datasets: list, evals: list | None) -> None:
    if distributed.current().active:
        raise ValueError(
            "fit_replicas trains in one process; under torchrun use fit (data-parallel)."
        )
    if config.tasks_per_step is not None:
        raise ValueError(
            f"`tasks_per_step` must be None for replicas (every step trains every "
            f"task); got {config.tasks_per_step}."
        )
    if config.keep_best:
        raise ValueError(
            "`keep_best` must be False for replicas (each replica would have its own best)."
        )
    if evals is not None and len(evals) != len(datasets):
        raise ValueError(
            f"`eval_data` must hold one dataset per setting ({len(datasets)}); got {len(evals)}."
        )


def _empty_history(data: MultiTaskDataset, settings: list[int], seeds: list[int]) -> ReplicaHistory:
    R, T = len(settings), data.num_tasks
    return ReplicaHistory(
        task_names=data.task_names,
        metric_names=[t.loss.metric_name for t in data.tasks],
        settings=settings,
        seeds=seeds,
        losses=torch.zeros(0, R, T),
        weights=torch.zeros(0, R, T),
    )


def _fit_one_by_one(
    make_model, datasets, weighting, config, settings, seeds, evals, weighting_options
) -> ReplicaHistory:
    """The replicas of a method that cannot batch them, trained with :func:`fit` one after another
    (each replica draws its batches from its own seed)."""
    runs, models = [], []
    for k, seed in zip(settings, seeds, strict=True):
        options = weighting_options or {}
        method = get_weighting(weighting, num_tasks=datasets[k].num_tasks, **options)
        evaluate_on = None if evals is None else evals[k]
        model = _build(make_model, seed)
        models.append(model)
        runs.append(
            fit(
                model,
                datasets[k],
                method,
                config.replace(progress=False),
                generator=seed,
                eval_data=evaluate_on,
            )
        )
    history = _empty_history(datasets[0], settings, seeds)
    history.losses = torch.stack([h.losses for h in runs], dim=1)
    history.weights = torch.stack([h.weights for h in runs], dim=1)
    history.eval_steps = runs[0].eval_steps
    history.eval_metrics = [
        [h.eval_metrics[e] for h in runs] for e in range(len(runs[0].eval_steps))
    ]
    history.seconds = sum(h.seconds for h in runs)
    history.models = [m.eval() for m in models]
    return history
