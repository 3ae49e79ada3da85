"""What every ``mtml train`` config shares: reading the file, checking sections and keys.

A config is a small TOML file whose sections say what kind of run it is (see
:mod:`mtml_lib.runs`). Every mistake raises :class:`ConfigError`, whose message names
the key (as ``[section] key``), the constraint and the value.

Example:
    >>> check_sections({"train": {"stepz": 3}}, {"train": {"steps"}})
    Traceback (most recent call last):
    ...
    mtml_lib.runs.config_file.ConfigError: unknown key(s) ['stepz'] in [train]; expected some of
    ['steps'].
"""

from __future__ import annotations

import os
import pathlib
import tomllib

from .._validation import check_int

__all__ = ["ConfigError", "read_toml", "check_sections", "check_common_keys", "in_section"]


class ConfigError(ValueError):
    """A config that cannot run; the message names the key, the constraint and the value."""


def read_toml(path: str | os.PathLike) -> dict:
    """The TOML file at ``path`` as nested dicts."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def check_sections(raw: dict, sections: dict) -> None:
    """Every section of ``raw`` is known and a table,
    and holds only known keys (``None``: any key).
    """
    for section in raw:
        if section not in sections:
            raise ConfigError(f"unknown section [{section}]; expected some of {sorted(sections)}.")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"[{section}] must be a table of keys; got {raw[section]!r}.")
        allowed = sections[section]
        unknown = sorted(set(raw[section]) - allowed) if allowed is not None else []
        if unknown:
            raise ConfigError(
                f"unknown key(s) {unknown} in [{section}]; expected some of {sorted(allowed)}."
            )


def check_common_keys(config, base: pathlib.Path | None) -> None:
    """The ``[train]`` keys of every run: ``seed``, and ``checkpoint_dir`` (a relative folder is
    made
    relative to the config file)."""
    if not isinstance(config.checkpoint_dir, str) or not config.checkpoint_dir:
        raise ValueError(
            f"`[train] checkpoint_dir` must be a folder name; got {config.checkpoint_dir!r}."
        )
    if base is not None and not os.path.isabs(config.checkpoint_dir):
        config.checkpoint_dir = str((base / config.checkpoint_dir).resolve())
    config.seed = check_int("[train] seed", config.seed, minimum=0)


# The [train] keys every run passes to its loop's config as they are (the optimiser, its schedule
# and the checkpoints); mtml_lib.training.TrainConfig documents them.
TRAIN_OPTIONS = (
    "steps",
    "lr",
    "optimizer",
    "schedule",
    "warmup_steps",
    "weight_decay",
    "device",
    "checkpoint_every",
)


def train_options(config, checkpoint) -> dict:
    """The options of :class:`~mtml_lib.training.TrainConfig` a run's config sets."""
    options = {name: getattr(config, name) for name in TRAIN_OPTIONS}
    return {**options, "eval_every": config.eval_every or None, "checkpoint": checkpoint}


def in_section(section: str, error: Exception) -> ConfigError:
    """A library error about ``name`` (a training option) as
    a config error about ``[section] name``.
    """
    message = str(error)
    if message.startswith("`"):
        message = f"`[{section}] " + message[1:]
    return ConfigError(message)
