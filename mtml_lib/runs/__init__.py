"""Headless runs from a config file: ``mtml train CONFIG`` (also under ``torchrun``).

A config is a small TOML file. With a ``[learner]`` it is a meta-training run
(:mod:`mtml_lib.runs.meta_run`); with ``[tasks]``, ``[model]`` and ``[weighting]`` a multi-task
run (:mod:`mtml_lib.runs.multitask_run`). Either is checked completely (datasets, model and
method built) before any process joins a group, so a mistake fails at once with a message
naming the key, the constraint and the value.

Example:
    >>> raw = {"learner": {"name": "cnp_regression", "hidden": 8}, "data": {"dataset": "sinusoid"}}
    >>> parse_config(raw).learner
    'cnp_regression'
"""

from __future__ import annotations

import os
import pathlib

from .config_file import ConfigError, read_toml
from .execute import run_meta, run_multitask, summary
from .meta_run import MetaRunConfig, parse_meta_config
from .multitask_run import SECTIONS as MULTITASK_SECTIONS
from .multitask_run import MultiTaskConfig, parse_multitask_config

__all__ = [
    "ConfigError",
    "MetaRunConfig",
    "MultiTaskConfig",
    "load_config",
    "parse_config",
    "run",
    "summary",
]


def load_config(path: str | os.PathLike) -> MetaRunConfig | MultiTaskConfig:
    """Read and check a TOML config (relative paths in it are relative to the file)."""
    return parse_config(read_toml(path), base=pathlib.Path(path).parent, source=str(path))


def parse_config(
    raw: dict, *, base: pathlib.Path | None = None, source: str = ""
) -> MetaRunConfig | MultiTaskConfig:
    """Check a config given as nested dicts; raise :class:`ConfigError` on the first problem.

    Returns:
        A :class:`MetaRunConfig` (with ``[learner]``) or a :class:`MultiTaskConfig` (with
        ``[tasks]``, ``[model]``, ``[weighting]``).
    """
    multitask = sorted(set(raw) & set(MULTITASK_SECTIONS) - {"train"})
    if multitask and "learner" in raw:
        raise ConfigError(
            f"a config is a meta-training run ([learner]) or a multi-task run ([tasks], [model], "
            f"[weighting]); got [learner] together with {', '.join(f'[{s}]' for s in multitask)}."
        )
    if multitask:
        return parse_multitask_config(raw, base=base, source=source)
    return parse_meta_config(raw, base=base, source=source)


def run(config: MetaRunConfig | MultiTaskConfig, *, progress: bool = True) -> dict | None:
    """Run a checked config (data-parallel under ``torchrun``);
    the results on rank 0, None elsewhere.
    """
    if isinstance(config, MultiTaskConfig):
        return run_multitask(config, progress=progress)
    if isinstance(config, MetaRunConfig):
        return run_meta(config, progress=progress)
    raise TypeError(
        f"`config` must come from load_config or parse_config; got {type(config).__name__}."
    )
