"""The training options: frozen dataclasses that name a bad option and its value."""

import dataclasses

import pytest

from mtml_lib.training.config import FitConfig, MetaTrainConfig, TrainConfig, make_config


@pytest.mark.parametrize(
    ("kind", "options", "error", "message"),
    [
        (TrainConfig, {"steps": 0}, ValueError, "`steps` must be an integer >= 1; got 0."),
        (TrainConfig, {"steps": 1, "lr": 0.0}, ValueError, "`lr` must be a number > 0.0; got 0.0."),
        (
            TrainConfig,
            {"steps": 1, "eval_every": 0},
            ValueError,
            "`eval_every` must be an integer >= 1",
        ),
        (
            TrainConfig,
            {"steps": 1, "keep_best": 1},
            TypeError,
            "`keep_best` must be True or False; got 1.",
        ),
        (
            FitConfig,
            {"steps": 1, "batch_size": 0},
            ValueError,
            "`batch_size` must be an integer >= 1",
        ),
        (
            FitConfig,
            {"steps": 1, "task_sampling": "random"},
            ValueError,
            "`task_sampling` must be one of",
        ),
        (
            MetaTrainConfig,
            {"steps": 1, "eval_episodes": 1},
            ValueError,
            "`eval_episodes` must be an integer >= 2",
        ),
        (
            MetaTrainConfig,
            {"steps": 1, "compile": "yes"},
            TypeError,
            "`compile` must be True or False",
        ),
    ],
)
def test_bad_options_are_named(kind, options, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        kind(**options)


def test_configs_are_frozen_and_replace_checks_again():
    config = FitConfig(steps=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.steps = 20
    assert config.replace(batch_size=7).batch_size == 7 and config.batch_size == 32
    with pytest.raises(ValueError, match="`batch_size`"):
        config.replace(batch_size=0)


def test_make_config_builds_changes_and_names_unknown_options():
    assert make_config(FitConfig, steps=3).steps == 3
    assert make_config(FitConfig, FitConfig(steps=3), lr=0.5).lr == 0.5
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['stepz'\]; FitConfig takes"):
        make_config(FitConfig, stepz=3)
    with pytest.raises(TypeError, match="`steps` must be given"):
        make_config(FitConfig, lr=0.1)
    with pytest.raises(TypeError, match="`config` must be a MetaTrainConfig; got FitConfig"):
        make_config(MetaTrainConfig, FitConfig(steps=3))


def test_meta_training_keeps_the_best_weights_by_default():
    assert MetaTrainConfig(steps=1).keep_best and not FitConfig(steps=1).keep_best
