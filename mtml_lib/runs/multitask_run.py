"""Headless multi-task runs from a config file: ``mtml train CONFIG`` with ``[tasks]``, ``[model]``
and
``[weighting]`` (also under ``torchrun``).

Every key is optional except the model's name (defaults below)::

    [tasks]
    family = "mmoe"          # a key of FAMILIES: mmoe, related_sinusoids, loss_scale,
                             # digits_classification, digits_multilabel, digits_mixed
    correlation = 0.5        # any other key goes to the family's function (here mmoe_correlated,
                             # which requires it); a matrix is an array of arrays
    n_train = 20000          # training examples per task (one number, or one per task)
    n_test = 2000            # held-out examples per task

    [model]
    name = "mmoe"            # a key of mtml_lib.models.conditioning.CONDITIONING
    hidden = [16]            # any other key goes to the model's constructor
    num_experts = 8

    [weighting]
    name = "pcgrad"          # a key of mtml_lib.weighting.WEIGHTING (default "equal")
                             # any other key is the method's hyperparameter (e.g. alpha = 1.5)

    [train]
    steps = 1500
    lr = 3e-3
    optimizer = "adam"       # "adam", "adamw" or "sgd" (mtml_lib.training.optim)
    schedule = "constant"    # or "cosine"; warmup_steps = 0 before it
    batch_size = 128         # examples per task, per process and step
    tasks_per_step = 2       # tasks per step and process (default: all)
    task_sampling = "uniform"
    weight_decay = 0.0
    seed = 0                 # data and initial weights; process r draws batches from seed + r
    device = "auto"
    eval_every = 500         # 0: evaluate at the end only
    checkpoint_dir = "runs/mmoe-pcgrad"
    checkpoint_every = 500

The run calls the notebooks' functions: the task family,
:func:`~mtml_lib.data.multitask_data.sample_train_test`,
:func:`~mtml_lib.models.conditioning.get_conditioning`,
:func:`~mtml_lib.weighting.get_weighting` and :func:`~mtml_lib.training.fit`. Synthetic families
draw
the training set from ``seed`` and the held-out set from ``seed + 100``; the digits families use the
disjoint train and test images. Under torchrun
every process holds the same data and draws its own batches; one step sees
``world_size x batch_size`` examples of each drawn task.
"""

from __future__ import annotations

import inspect
import pathlib
from dataclasses import dataclass, field
from typing import Any

import torch

from .._validation import check_choice, check_int
from ..data.digits import mixed_losses, multilabel, multitask_classification
from ..data.multitask_data import sample_train_test
from ..data.sinusoids import related_sinusoids
from ..data.synthetic import loss_scale_toy, mmoe_correlated
from ..models.conditioning import CONDITIONING, get_conditioning
from ..seeding import seeded
from ..training import FitConfig, check_fit
from ..weighting import WEIGHTING, get_weighting
from .config_file import (
    TRAIN_OPTIONS,
    ConfigError,
    check_common_keys,
    check_sections,
    in_section,
    train_options,
)

__all__ = [
    "MultiTaskConfig",
    "FAMILIES",
    "SECTIONS",
    "family_options",
    "parse_multitask_config",
    "build_tasks",
    "build_data",
    "build_model",
    "build_weighting",
]

SECTIONS = {
    "tasks": None,  # family, n_train, n_test plus the family's own options
    "model": None,  # name plus the model's own options
    "weighting": None,  # name plus the method's hyperparameters
    "train": {
        *TRAIN_OPTIONS,
        "batch_size",
        "tasks_per_step",
        "task_sampling",
        "seed",
        "eval_every",
        "checkpoint_dir",
    },
}


#: family name -> the function that makes its tasks; a config's ``[tasks]`` keys are its
#: keyword arguments (the digits families get ``split`` from the run: "train" and "test" read
#: disjoint images)
FAMILIES = {
    "mmoe": mmoe_correlated,
    "related_sinusoids": related_sinusoids,
    "loss_scale": loss_scale_toy,
    "digits_classification": multitask_classification,
    "digits_multilabel": multilabel,
    "digits_mixed": mixed_losses,
}


def family_options(family: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a family's function takes from a config (all but ``split``)."""
    return {
        name: p
        for name, p in inspect.signature(FAMILIES[family]).parameters.items()
        if name != "split"
    }


@dataclass
class MultiTaskConfig:
    model: str
    model_options: dict[str, Any] = field(default_factory=dict)
    family: str = "mmoe"
    family_options: dict[str, Any] = field(default_factory=dict)
    n_train: int | list[int] = 1000
    n_test: int | list[int] = 1000
    weighting: str = "equal"
    weighting_options: dict[str, Any] = field(default_factory=dict)
    steps: int = 1000
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "constant"
    warmup_steps: int = 0
    batch_size: int = 64
    tasks_per_step: int | None = None
    task_sampling: str = "uniform"
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 0
    checkpoint_dir: str = "runs/run"
    checkpoint_every: int = 500
    source: str = ""


def _tuples(options: dict) -> dict:
    """TOML arrays as the tuples the constructors document (``hidden = [16, 16]``)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def parse_multitask_config(
    raw: dict, *, base: pathlib.Path | None = None, source: str = ""
) -> MultiTaskConfig:
    """Check a multi-task config given as nested dicts; raise
    :class:`~mtml_lib.runs.config_file.ConfigError`.
    """
    check_sections(raw, SECTIONS)
    tasks, model = dict(raw.get("tasks", {})), dict(raw.get("model", {}))
    weighting, train = dict(raw.get("weighting", {})), raw.get("train", {})
    if "name" not in model:
        raise ConfigError(
            '[model] name is required: one of the conditioning choices, e.g. "multihead".'
        )
    values: dict[str, Any] = {
        "model": model.pop("name"),
        "model_options": _tuples(model),
        "weighting": weighting.pop("name", "equal"),
        "weighting_options": _tuples(weighting),
        "source": source,
    }
    for key in ("family", "n_train", "n_test"):
        if key in tasks:
            values[key] = tasks.pop(key)
    values["family_options"] = _tuples(tasks)
    values.update(train)
    config = MultiTaskConfig(**values)
    try:
        check_common_keys(config, base)
        _check(config)
    except (ValueError, TypeError) as error:
        raise ConfigError(str(error)) from None
    return config


def train_config(
    config: MultiTaskConfig, checkpoint: pathlib.Path | None = None, **changes
) -> FitConfig:
    """The run's :class:`~mtml_lib.training.FitConfig` (checked by its constructor)."""
    options = train_options(config, checkpoint)
    options["batch_size"] = config.batch_size
    options["tasks_per_step"] = config.tasks_per_step
    options["task_sampling"] = config.task_sampling
    return FitConfig(**{**options, **changes})


def _check(config: MultiTaskConfig) -> None:
    check_choice("[tasks] family", config.family, tuple(FAMILIES))
    check_choice("[model] name", config.model, tuple(CONDITIONING))
    check_choice("[weighting] name", config.weighting, tuple(WEIGHTING))
    config.eval_every = check_int("[train] eval_every", config.eval_every, minimum=0)
    accepted = family_options(config.family)
    unknown = sorted(set(config.family_options) - set(accepted))
    if unknown:
        raise TypeError(
            f"`[tasks]` options {unknown} do not fit the family {config.family!r} "
            f"(it takes {sorted(accepted) + ['n_test', 'n_train']})."
        )
    for name, parameter in accepted.items():
        if parameter.default is inspect.Parameter.empty and name not in config.family_options:
            raise ValueError(
                f"`[tasks] {name}` is required for the family {config.family!r}; got none."
            )
    train, test = build_data(config)  # every size and option checked by the functions themselves
    model = _built(
        "[model]",
        config.model,
        config.model_options,
        lambda: build_model(config, train),
        CONDITIONING[config.model],
    )
    weighting = _built(
        "[weighting]",
        config.weighting,
        config.weighting_options,
        lambda: build_weighting(config, train),
        WEIGHTING[config.weighting],
    )
    try:
        check_fit(model, train, weighting, train_config(config), test)
    except (ValueError, TypeError) as error:
        raise in_section("train", error) from None


def _built(section: str, name: str, options: dict, build, constructor):
    try:
        return build()
    except TypeError as error:  # an option the constructor does not take
        accepted = sorted(
            p
            for p in inspect.signature(constructor).parameters
            if p not in ("in_features", "out_features", "num_tasks", "args", "kwargs")
        )
        raise TypeError(
            f"`{section}` options {sorted(options)} do not fit {name!r} (it takes {accepted}): "
            f"{error}"
        ) from None


def build_tasks(config: MultiTaskConfig, split: str) -> list:
    """The tasks of ``split`` ("train" or "test"; the digits families read disjoint images)."""
    options = dict(config.family_options)
    if "split" in inspect.signature(FAMILIES[config.family]).parameters:
        options["split"] = split
    if isinstance(options.get("correlation"), tuple):  # mmoe's (T, T) matrix of cosines
        try:
            options["correlation"] = torch.tensor(options["correlation"], dtype=torch.double)
        except (TypeError, ValueError):
            raise ValueError(
                f"`[tasks] correlation` must be a number or a (T, T) array of arrays of numbers; "
                f"got {list(options['correlation'])!r}."
            ) from None
    try:
        return FAMILIES[config.family](**options)
    except ValueError as error:
        raise ValueError(f"[tasks] of family {config.family!r}: {error}") from None


def build_data(config: MultiTaskConfig, device: str | torch.device = "cpu"):
    """``(train, test)`` :class:`~mtml_lib.data.multitask_data.MultiTaskDataset`
    (the same on every process).
    """
    try:
        return sample_train_test(
            build_tasks(config, "train"),
            config.n_train,
            config.n_test,
            seed=config.seed,
            test_tasks=build_tasks(config, "test"),
            device=device,
        )
    except ValueError as error:
        raise in_section("tasks", error) from None


def build_model(config: MultiTaskConfig, data) -> torch.nn.Module:
    """The model for ``data``'s tasks, initialised from
    ``config.seed`` (the same weights on every process).
    """
    with seeded(config.seed):
        return get_conditioning(
            config.model,
            in_features=data.in_features,
            out_features=data.out_features,
            num_tasks=data.num_tasks,
            **config.model_options,
        )


def build_weighting(config: MultiTaskConfig, data):
    return get_weighting(config.weighting, num_tasks=data.num_tasks, **config.weighting_options)
