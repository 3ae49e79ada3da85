"""Headless runs from a config file: ``mtml train CONFIG`` (also under ``torchrun``).

A config is a small TOML file. With a ``[learner]`` it is a meta-training run (this module); with
``[tasks]``, ``[model]`` and ``[weighting]`` a multi-task run (:mod:`mtml_lib.multitask_experiment`).
In a meta-training config every key is optional except the learner's name (defaults below)::

    [data]
    dataset = "glyphs"      # "glyphs", "omniglot" (give `path`) or "sinusoid"
    split = "alphabet"      # glyphs/omniglot: "alphabet" (unseen scripts at test time) or "class"
    # path = "/data/omniglot"

    [episodes]
    n_way = 5               # classification only
    k_shot = 1
    n_query = 2             # queries per class (classification) or per task (sinusoid)
    batch_size = 32         # episodes per process and step: one step sees batch_size x processes

    [learner]
    name = "hypernetwork"   # a key of mtml_lib.models.blackbox.BLACKBOX
    channels = [16, 32, 32] # any other key goes to the learner's constructor

    [train]
    steps = 400
    lr = 1e-3
    seed = 0                # rank r samples its episodes from seed + r
    device = "auto"
    val_every = 100         # 0: no validation (the final weights are kept)
    val_episodes = 200
    test_episodes = 600     # meta-test at the end (0: none)
    checkpoint_dir = "runs/glyphs-hypernetwork"
    checkpoint_every = 100
    autocast = true
    compile = false

The run calls the notebooks' functions (:func:`~mtml_lib.meta_training.meta_train`,
:func:`~mtml_lib.meta_training.evaluate`, the samplers and the learner registry). A config is
checked completely, datasets included, before any process group is made, so a mistake fails at
once with a message naming the key, the constraint and the value. ``checkpoint_dir`` receives
``checkpoint.pt`` (an interrupted run resumes from it when started again) and ``results.json``.
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from . import distributed
from ._validation import check_choice, check_float, check_int

__all__ = ["RunConfig", "ConfigError", "load_config", "parse_config", "check_sections", "check_common_keys", "build_learner",
           "build_sampler", "run"]

DATASETS = ("glyphs", "omniglot", "sinusoid")
SPLITS = ("alphabet", "class")
SECTIONS = {
    "data": {"dataset", "split", "path"},
    "episodes": {"n_way", "k_shot", "n_query", "batch_size"},
    "learner": None,  # name plus the learner's own options
    "train": {"steps", "lr", "seed", "device", "val_every", "val_episodes", "test_episodes", "checkpoint_dir",
              "checkpoint_every", "autocast", "compile"},
}
# Streams of the validation and test episodes, apart from the training ranks' (seed + rank).
VAL_STREAM, TEST_STREAM = 1_000_003, 2_000_003


class ConfigError(ValueError):
    """A config that cannot run; the message names the key, the constraint and the value."""


@dataclass
class RunConfig:
    learner: str
    learner_options: dict[str, Any] = field(default_factory=dict)
    dataset: str = "glyphs"
    split: str = "alphabet"
    path: str | None = None
    n_way: int = 5
    k_shot: int = 1
    n_query: int = 2
    batch_size: int = 32
    steps: int = 400
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    val_every: int = 100
    val_episodes: int = 200
    test_episodes: int = 600
    checkpoint_dir: str = "runs/run"
    checkpoint_every: int = 100
    autocast: bool = True
    compile: bool = False
    source: str = ""

    @property
    def regression(self) -> bool:
        return self.dataset == "sinusoid"


def load_config(path: str | os.PathLike):
    """Read and check a TOML config (relative paths in it are relative to the file)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ConfigError("reading a TOML config needs Python 3.11 or newer (tomllib); this is an older Python.") from None
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_config(raw, base=path.parent, source=str(path))


def _key(section: str, key: str) -> str:
    return f"[{section}] {key}"


def check_sections(raw: dict, sections: dict) -> None:
    """Every section of ``raw`` is known and a table, and holds only known keys (``None``: any key)."""
    for section in raw:
        if section not in sections:
            raise ConfigError(f"unknown section [{section}]; expected some of {sorted(sections)}.")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"[{section}] must be a table of keys; got {raw[section]!r}.")
        allowed = sections[section]
        unknown = sorted(set(raw[section]) - allowed) if allowed is not None else []
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown} in [{section}]; expected some of {sorted(allowed)}.")


def check_common_keys(config, base: pathlib.Path | None) -> None:
    """The ``[train]`` keys of every run: ``seed``, and ``checkpoint_dir`` (a relative folder is made relative
    to the config file)."""
    if not isinstance(config.checkpoint_dir, str) or not config.checkpoint_dir:
        raise ValueError(f"`[train] checkpoint_dir` must be a folder name; got {config.checkpoint_dir!r}.")
    if base is not None and not os.path.isabs(config.checkpoint_dir):
        config.checkpoint_dir = str((base / config.checkpoint_dir).resolve())
    config.seed = check_int(_key("train", "seed"), config.seed, minimum=0)


def parse_config(raw: dict, *, base: pathlib.Path | None = None, source: str = ""):
    """Check a config given as nested dicts; raise :class:`ConfigError` on the first problem.

    Returns:
        A :class:`RunConfig` (meta-training, with ``[learner]``) or a
        :class:`~mtml_lib.multitask_experiment.MultiTaskConfig` (with ``[tasks]``, ``[model]``, ``[weighting]``).
    """
    from .multitask_experiment import SECTIONS as MULTITASK, parse_multitask_config

    multitask = sorted(set(raw) & set(MULTITASK) - {"train"})
    if multitask and "learner" in raw:
        raise ConfigError(f"a config is a meta-training run ([learner]) or a multi-task run ([tasks], [model], "
                          f"[weighting]); got [learner] together with {', '.join(f'[{s}]' for s in multitask)}.")
    if multitask:
        return parse_multitask_config(raw, base=base, source=source)
    check_sections(raw, SECTIONS)
    data, episodes = raw.get("data", {}), raw.get("episodes", {})
    learner, train = dict(raw.get("learner", {})), raw.get("train", {})
    if "name" not in learner:
        raise ConfigError("[learner] name is required: one of the black-box learners, e.g. \"hypernetwork\" "
                          "(or give [tasks], [model] and [weighting] for a multi-task run).")
    values: dict[str, Any] = {"learner": learner.pop("name"), "learner_options": learner, "source": source}
    values.update(data)
    values.update(episodes)
    values.update(train)
    config = RunConfig(**values)
    try:
        _check(config, base)
    except (ValueError, TypeError) as error:
        raise ConfigError(str(error)) from None
    return config


def _check(config: RunConfig, base: pathlib.Path | None) -> None:
    from .models.blackbox import BLACKBOX

    check_choice(_key("data", "dataset"), config.dataset, DATASETS)
    check_choice(_key("data", "split"), config.split, SPLITS)
    check_choice(_key("learner", "name"), config.learner, tuple(BLACKBOX))
    regression_learner = config.learner == "cnp_regression"
    if regression_learner != config.regression:
        raise ValueError(f"`[learner] name` must be {'cnp_regression' if config.regression else 'a classifier'} "
                         f"for the {config.dataset!r} dataset; got {config.learner!r}.")
    for key, minimum in (("k_shot", 1), ("n_query", 1), ("batch_size", 1), ("steps", 1), ("val_every", 0),
                         ("val_episodes", 2), ("test_episodes", 0), ("checkpoint_every", 1)):
        section = "episodes" if key in SECTIONS["episodes"] else "train"
        setattr(config, key, check_int(_key(section, key), getattr(config, key), minimum=minimum))
    if config.test_episodes == 1:
        raise ValueError("`[train] test_episodes` must be 0 (no meta-test) or at least 2; got 1.")
    config.lr = check_float(_key("train", "lr"), config.lr, minimum=0.0, strict_minimum=True)
    for key in ("autocast", "compile"):
        if not isinstance(getattr(config, key), bool):
            raise TypeError(f"`[train] {key}` must be true or false; got {getattr(config, key)!r}.")
    check_common_keys(config, base)
    if config.dataset == "omniglot":
        if not config.path:
            raise ValueError("`[data] path` must name a folder holding Omniglot for dataset \"omniglot\"; got none.")
        path = pathlib.Path(config.path)
        if base is not None and not path.is_absolute():
            path = (base / path).resolve()
        if not path.is_dir():
            raise ValueError(f"`[data] path` must be an existing folder holding Omniglot; got {config.path!r}.")
        config.path = str(path)
    elif config.path is not None:
        raise ValueError(f"`[data] path` is only for dataset \"omniglot\"; got {config.path!r} for {config.dataset!r}.")
    if not config.regression:
        config.n_way = check_int(_key("episodes", "n_way"), config.n_way, minimum=2)
        for split in ("train", "val", "test"):  # the samplers' own checks, on each split
            try:
                build_sampler(config, split, device=torch.device("cpu"), generator=0)
            except ValueError as error:
                raise ValueError(f"[episodes] does not fit the meta-{split} split of {config.dataset!r} "
                                 f"(split by {config.split}): {error}") from None
    try:
        build_learner(config)
    except TypeError as error:  # an option the learner does not take
        accepted = sorted(inspect.signature(BLACKBOX[config.learner]).parameters)
        raise TypeError(f"`[learner]` options {sorted(config.learner_options)} do not fit {config.learner!r} "
                        f"(it takes {accepted}): {error}") from None


def splits(config: RunConfig):
    """``(meta_train, meta_val, meta_test)`` datasets of a classification config (cached per process)."""
    key = (config.dataset, config.split, config.path, config.seed)
    if key not in _SPLITS:
        if config.dataset == "glyphs":
            from .data.glyphs import load_glyphs

            dataset = load_glyphs(seed=0)
        else:
            from .data.omniglot import load_omniglot

            dataset = load_omniglot(config.path)
        _SPLITS[key] = dataset.split(by=config.split, seed=config.seed)
    return _SPLITS[key]


_SPLITS: dict = {}


def build_learner(config: RunConfig) -> torch.nn.Module:
    """The learner, initialised from ``config.seed`` (the same weights on every rank)."""
    from .models.blackbox import get_blackbox_learner

    torch.manual_seed(config.seed)
    n_way = None if config.regression else config.n_way
    return get_blackbox_learner(config.learner, n_way=n_way, **config.learner_options)


def build_sampler(config: RunConfig, split: str, *, device: torch.device, generator: int, batch_size: int | None = None):
    """Episodes of ``split`` ("train", "val" or "test") on ``device`` from the seed ``generator``."""
    from .data.episodes import EpisodeSampler, SinusoidEpisodeSampler

    batch_size = batch_size or config.batch_size
    if config.regression:
        return SinusoidEpisodeSampler(k_shot=config.k_shot, n_query=config.n_query, batch_size=batch_size,
                                      device=device, generator=generator)
    dataset = dict(zip(("train", "val", "test"), splits(config)))[split]
    return EpisodeSampler(dataset, n_way=config.n_way, k_shot=config.k_shot, n_query=config.n_query,
                          batch_size=batch_size, device=device, generator=generator)


def run(config, *, progress: bool = True) -> dict | None:
    """Meta-train (data-parallel under ``torchrun``), meta-test on rank 0, write ``results.json``; a
    multi-task config goes to :func:`~mtml_lib.multitask_experiment.run_multitask`.

    Returns the results on rank 0 (None on the other ranks).
    """
    if not isinstance(config, RunConfig):
        from .multitask_experiment import run_multitask

        return run_multitask(config, progress=progress)
    with distributed.process_group(config.device) as (ctx, device):
        from .meta_training import evaluate, meta_train

        folder = pathlib.Path(config.checkpoint_dir)
        if ctx.is_main:
            folder.mkdir(parents=True, exist_ok=True)
        learner = build_learner(config)
        sampler = build_sampler(config, "train", device=device, generator=config.seed + ctx.rank)
        validate = ctx.is_main and config.val_every > 0
        val_sampler = build_sampler(config, "val", device=device, generator=config.seed + VAL_STREAM) if validate else None
        began = time.perf_counter()
        history = meta_train(learner, sampler, steps=config.steps, lr=config.lr, device=device, seed=config.seed,
                             val_sampler=val_sampler, val_every=config.val_every or None,
                             val_episodes=config.val_episodes, use_autocast=config.autocast, compile=config.compile,
                             progress=progress, description=f"{config.learner} x{ctx.world_size}",
                             checkpoint=folder / "checkpoint.pt", checkpoint_every=config.checkpoint_every)
        wall = time.perf_counter() - began
        if not ctx.is_main:
            return None
        results: dict[str, Any] = {
            "config": asdict(config),
            "world_size": ctx.world_size,
            "device": device.type,
            "episodes_per_step": config.batch_size * ctx.world_size,
            "steps": history.steps,
            "train_seconds": round(history.seconds, 3),
            "wall_seconds": round(wall, 3),
            "final_train_loss": float(history.losses[-20:].mean()),
            "metric": history.metric_name,
            "best_step": history.best_step,
            "val": {"steps": history.val_steps, "means": history.val_metrics},
        }
        if config.test_episodes:
            test_sampler = build_sampler(config, "test", device=device, generator=config.seed + TEST_STREAM,
                                         batch_size=min(config.test_episodes, 200))
            mean, half = evaluate(learner, test_sampler, episodes=config.test_episodes, use_autocast=config.autocast)
            results["test"] = {"mean": mean, "half_width": half, "episodes": config.test_episodes}
        (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        return results
