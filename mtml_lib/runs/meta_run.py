"""Meta-training runs from a config file: ``mtml train CONFIG`` with a ``[learner]`` (also under
``torchrun``).

Every key is optional except the learner's name (defaults below)::

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
    optimizer = "adam"      # "adam", "adamw" or "sgd" (mtml_lib.training.optim)
    schedule = "constant"   # or "cosine"; warmup_steps = 0 before it
    weight_decay = 0.0
    seed = 0                # initial weights; rank r samples its episodes from seed + r
    device = "auto"
    eval_every = 100        # meta-validation period (0: none, and the final weights are kept)
    eval_episodes = 200
    test_episodes = 600     # meta-test at the end (0: none)
    checkpoint_dir = "runs/glyphs-hypernetwork"
    checkpoint_every = 100
    autocast = true
    compile = false

The run calls the notebooks' functions (:func:`~mtml_lib.training.meta_train`,
:func:`~mtml_lib.training.meta_test`, the samplers and the learner registry). A config is
checked completely, datasets included, before any process group is made, so a mistake fails at
once with a message naming the key, the constraint and the value. ``checkpoint_dir`` receives
``checkpoint.pt`` (an interrupted run resumes from it when started again) and ``results.json``.
"""

from __future__ import annotations

import inspect
import pathlib
from dataclasses import dataclass, field
from typing import Any

import torch

from .._validation import check_choice, check_int
from ..data.episodes import EpisodeSampler
from ..data.glyphs import load_glyphs
from ..data.omniglot import load_omniglot
from ..data.sinusoids import SinusoidEpisodeSampler
from ..models.blackbox import BLACKBOX, get_blackbox
from ..seeding import seeded
from ..training import MetaTrainConfig
from .config_file import (
    TRAIN_OPTIONS,
    ConfigError,
    check_common_keys,
    check_sections,
    in_section,
    train_options,
)

__all__ = [
    "MetaRunConfig",
    "SECTIONS",
    "parse_meta_config",
    "build_learner",
    "build_sampler",
]

DATASETS = ("glyphs", "omniglot", "sinusoid")
SPLITS = ("alphabet", "class")
SECTIONS = {
    "data": {"dataset", "split", "path"},
    "episodes": {"n_way", "k_shot", "n_query", "batch_size"},
    "learner": None,  # name plus the learner's own options
    "train": {
        *TRAIN_OPTIONS,
        "seed",
        "eval_every",
        "eval_episodes",
        "test_episodes",
        "checkpoint_dir",
        "autocast",
        "compile",
    },
}
# Streams of the validation and test episodes and of the learner's own randomness, apart from
# the training ranks' episodes (seed + rank).
VAL_STREAM, TEST_STREAM, LEARNER_STREAM = 1_000_003, 2_000_003, 3_000_017


@dataclass
class MetaRunConfig:
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
    optimizer: str = "adam"
    schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 100
    eval_episodes: int = 200
    test_episodes: int = 600
    checkpoint_dir: str = "runs/run"
    checkpoint_every: int = 100
    autocast: bool = True
    compile: bool = False
    source: str = ""

    @property
    def regression(self) -> bool:
        return self.dataset == "sinusoid"


def _key(section: str, key: str) -> str:
    return f"[{section}] {key}"


def parse_meta_config(
    raw: dict, *, base: pathlib.Path | None = None, source: str = ""
) -> MetaRunConfig:
    """Check a meta-training config given as nested dicts; raise
    :class:`~mtml_lib.runs.config_file.ConfigError`
    on the first problem."""
    check_sections(raw, SECTIONS)
    data, episodes = raw.get("data", {}), raw.get("episodes", {})
    learner, train = dict(raw.get("learner", {})), raw.get("train", {})
    if "name" not in learner:
        raise ConfigError(
            '[learner] name is required: one of the black-box learners, e.g. "hypernetwork" '
            "(or give [tasks], [model] and [weighting] for a multi-task run)."
        )
    values: dict[str, Any] = {
        "learner": learner.pop("name"),
        "learner_options": learner,
        "source": source,
    }
    values.update(data)
    values.update(episodes)
    values.update(train)
    config = MetaRunConfig(**values)
    try:
        _check(config, base)
    except (ValueError, TypeError) as error:
        raise ConfigError(str(error)) from None
    return config


def _check(config: MetaRunConfig, base: pathlib.Path | None) -> None:
    check_choice(_key("data", "dataset"), config.dataset, DATASETS)
    check_choice(_key("data", "split"), config.split, SPLITS)
    check_choice(_key("learner", "name"), config.learner, tuple(BLACKBOX))
    if (BLACKBOX[config.learner].task == "regression") != config.regression:
        raise ValueError(
            f"`[learner] name` must be {'cnp_regression' if config.regression else 'a classifier'} "
            f"for the {config.dataset!r} dataset; got {config.learner!r}."
        )
    for key, minimum in (
        ("k_shot", 1),
        ("n_query", 1),
        ("batch_size", 1),
        ("eval_every", 0),
        ("test_episodes", 0),
    ):
        section = "episodes" if key in SECTIONS["episodes"] else "train"
        setattr(config, key, check_int(_key(section, key), getattr(config, key), minimum=minimum))
    if config.test_episodes == 1:
        raise ValueError("`[train] test_episodes` must be 0 (no meta-test) or at least 2; got 1.")
    try:
        train_config(config)
    except (ValueError, TypeError) as error:
        raise in_section("train", error) from None
    check_common_keys(config, base)
    if config.dataset == "omniglot":
        if not config.path:
            raise ValueError(
                '`[data] path` must name a folder holding Omniglot for dataset "omniglot"; got '
                "none."
            )
        path = pathlib.Path(config.path)
        if base is not None and not path.is_absolute():
            path = (base / path).resolve()
        if not path.is_dir():
            raise ValueError(
                f"`[data] path` must be an existing folder holding Omniglot; got {config.path!r}."
            )
        config.path = str(path)
    elif config.path is not None:
        raise ValueError(
            f'`[data] path` is only for dataset "omniglot"; got {config.path!r} for '
            f"{config.dataset!r}."
        )
    if not config.regression:
        config.n_way = check_int(_key("episodes", "n_way"), config.n_way, minimum=2)
        for split in ("train", "val", "test"):  # the samplers' own checks, on each split
            try:
                build_sampler(config, split, device=torch.device("cpu"), generator=0)
            except ValueError as error:
                raise ValueError(
                    f"[episodes] does not fit the meta-{split} split of {config.dataset!r} "
                    f"(split by {config.split}): {error}"
                ) from None
    try:
        build_learner(config)
    except TypeError as error:  # an option the learner does not take
        accepted = sorted(inspect.signature(BLACKBOX[config.learner]).parameters)
        raise TypeError(
            f"`[learner]` options {sorted(config.learner_options)} do not fit {config.learner!r} "
            f"(it takes {accepted}): {error}"
        ) from None


def train_config(
    config: MetaRunConfig, checkpoint: pathlib.Path | None = None, **changes
) -> MetaTrainConfig:
    """The run's :class:`~mtml_lib.training.MetaTrainConfig` (checked by its constructor)."""
    options = train_options(config, checkpoint)
    options["eval_episodes"] = config.eval_episodes
    options["autocast"] = config.autocast
    options["compile"] = config.compile
    return MetaTrainConfig(**{**options, **changes})


def splits(config: MetaRunConfig):
    """``(meta_train, meta_val, meta_test)`` datasets of a
    classification config (cached per process).
    """
    key = (config.dataset, config.split, config.path, config.seed)
    if key not in _SPLITS:
        dataset = load_glyphs(seed=0) if config.dataset == "glyphs" else load_omniglot(config.path)
        _SPLITS[key] = dataset.split(by=config.split, seed=config.seed)
    return _SPLITS[key]


_SPLITS: dict = {}


def build_learner(config: MetaRunConfig) -> torch.nn.Module:
    """The learner, initialised from ``config.seed`` (the same weights on every rank)."""
    ways = {} if config.regression else {"n_way": config.n_way}
    with seeded(config.seed):
        return get_blackbox(config.learner, **ways, **config.learner_options)


def build_sampler(
    config: MetaRunConfig,
    split: str,
    *,
    device: torch.device,
    generator: int,
    batch_size: int | None = None,
):
    """Episodes of ``split`` ("train", "val" or "test") on ``device`` from the seed
    ``generator``.
    """
    batch_size = batch_size or config.batch_size
    if config.regression:
        return SinusoidEpisodeSampler(
            k_shot=config.k_shot,
            n_query=config.n_query,
            batch_size=batch_size,
            device=device,
            generator=generator,
        )
    dataset = dict(zip(("train", "val", "test"), splits(config)))[split]
    return EpisodeSampler(
        dataset,
        n_way=config.n_way,
        k_shot=config.k_shot,
        n_query=config.n_query,
        batch_size=batch_size,
        device=device,
        generator=generator,
    )
