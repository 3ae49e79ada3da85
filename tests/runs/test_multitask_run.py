"""`mtml train` with a multi-task config, alone and under torchrun."""

from __future__ import annotations

import json
import math
import pathlib

import pytest
import torch
from testkit.torchrun import config_error, kill_mid_run, mtml_train, mtml_train_alone, state

from mtml_lib import cli

MULTITASK = """\
[tasks]
family = "mmoe"
correlation = 0.0
in_features = 20
n_train = 2000
n_test = 500
[model]
name = "mmoe"
hidden = [16]
num_experts = 4
tower_hidden = [8]
gate_dropout = 0.1
[weighting]
name = "{method}"
[train]
steps = {steps}
lr = 3e-3
batch_size = 32
seed = 5
eval_every = 100
checkpoint_dir = "{folder}"
checkpoint_every = {every}
"""


def _multitask_config(tmp_path, name, *, method, steps, every) -> pathlib.Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        MULTITASK.format(method=method, steps=steps, every=every, folder=name), encoding="utf-8"
    )
    return path


GOOD = {
    "tasks": '[tasks]\nfamily = "related_sinusoids"\nnum_tasks = 4\nrelatedness = -0.5\nn_train = '
    "50\nn_test = 50\n",
    "model": '[model]\nname = "multihead"\n',
    "weighting": "",
    "train": "",
}


def _text(**sections) -> str:
    return "".join({**GOOD, **sections}.values())


@pytest.mark.slow
# DistributedDataParallel; per-task gradients averaged
@pytest.mark.parametrize("method", ["dwa", "pcgrad"])
def test_a_killed_multitask_run_resumes_to_the_uninterrupted_result(tmp_path, method):
    steps, every = 300, 10
    mtml_train(_multitask_config(tmp_path, "whole", method=method, steps=steps, every=every), 2)
    whole = state(tmp_path / "whole")

    config = _multitask_config(tmp_path, "killed", method=method, steps=steps, every=every)
    kill_mid_run(config, 2)  # every process of the run, mid-training
    saved = state(tmp_path / "killed")
    assert 0 < saved["step"] < steps, (
        f"the run was not interrupted mid-way (checkpoint at step {saved['step']})"
    )
    assert saved["world_size"] == 2 and len(saved["streams"]) == 2 and len(saved["rngs"]) == 2
    (tmp_path / "killed-copy.pt").write_bytes((tmp_path / "killed" / "checkpoint.pt").read_bytes())

    mtml_train(config, 2)  # the same command again: it resumes
    resumed = state(tmp_path / "killed")
    assert resumed["step"] == steps
    for key, value in whole["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, rtol=0, atol=0, msg=key)
    for key in ("losses", "weights", "sampled"):
        torch.testing.assert_close(
            resumed["history"][key], whole["history"][key], rtol=0, atol=0, equal_nan=True
        )
    assert resumed["history"]["eval_metrics"] == whole["history"]["eval_metrics"]

    # With one process it resumes too: rank 0 continues its streams.
    single = tmp_path / "single"
    single.mkdir()
    (single / "checkpoint.pt").write_bytes((tmp_path / "killed-copy.pt").read_bytes())
    mtml_train_alone(_multitask_config(tmp_path, "single", method=method, steps=steps, every=every))
    alone = state(single)
    assert alone["step"] == steps and alone["world_size"] == 1
    assert alone["history"]["losses"].shape == (steps, 2)
    results = json.loads((single / "results.json").read_text(encoding="utf-8"))
    assert (
        results["world_size"] == 1
        and results["task_names"] == ["task 1", "task 2"]
        and len(results["test"]) == 2
    )
    print(
        f"{method}: killed at step {saved['step']} of {steps}; resumed with 2 processes: identical "
        "to the uninterrupted run"
    )


def test_a_single_process_multitask_run_writes_results(tmp_path):
    from mtml_lib.runs import load_config, run
    from mtml_lib.runs.multitask_run import MultiTaskConfig

    config = load_config(
        _multitask_config(tmp_path, "out", method="uncertainty", steps=40, every=20)
    )
    assert isinstance(config, MultiTaskConfig) and config.model_options["hidden"] == (16,)
    results = run(config, progress=False)
    assert (
        results["steps"] == 40 and results["world_size"] == 1 and results["examples_per_step"] == 64
    )
    assert results["eval"]["steps"] == [40] and results["metric_names"] == ["mse", "mse"]
    assert (
        json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["test"]
        == results["test"]
    )
    assert all(math.isfinite(v) for v in results["test"] + results["final_train_losses"])


@pytest.mark.parametrize(
    "sections, words",
    [
        ({"model": '[model]\nname = "mlp"\n'}, ["[model] name", "'mlp'", "multihead"]),
        ({"model": "[model]\nhidden = [8]\n"}, ["[model] name is required"]),
        ({"model": '[model]\nname = "mmoe"\nexperts = 3\n'}, ["[model]", "experts", "num_experts"]),
        (
            {"model": '[model]\nname = "mmoe"\n', "weighting": '[weighting]\nname = "gradnorm"\n'},
            ["GradNorm", "shared weight matrix", "mmoe"],
        ),
        (
            {"weighting": '[weighting]\nname = "gradsurgery"\n'},
            ["[weighting] name", "'gradsurgery'", "pcgrad"],
        ),
        (
            {"weighting": '[weighting]\nname = "gradnorm"\nbeta = 1.0\n'},
            ["[weighting]", "beta", "alpha"],
        ),
        ({"tasks": '[tasks]\nfamily = "nyuv2"\n'}, ["[tasks] family", "'nyuv2'", "mmoe"]),
        (
            {"tasks": '[tasks]\nfamily = "mmoe"\nrelatedness = 0.5\n'},
            ["[tasks]", "relatedness", "correlation"],
        ),
        (
            {"tasks": '[tasks]\nfamily = "mmoe"\ncorrelation = 1.5\n'},
            ["[tasks]", "correlation", "1.5"],
        ),
        (
            {"tasks": '[tasks]\nfamily = "mmoe"\nin_features = 10\n'},
            ["[tasks] correlation", "is required", "'mmoe'"],
        ),
        (
            {"tasks": '[tasks]\nfamily = "mmoe"\ncorrelation = [[1.0, 0.5], [0.5]]\n'},
            ["[tasks]", "correlation"],
        ),
        (
            {
                "tasks": '[tasks]\nfamily = "related_sinusoids"\nnum_tasks = 4\nrelatedness = '
                "0.0\nn_train = [10, 10]\n"
            },
            ["[tasks] n_train", "one size per task (4)"],
        ),
        ({"train": "[train]\ntasks_per_step = 5\n"}, ["[train] tasks_per_step", "5"]),
        (
            {"weighting": '[weighting]\nname = "mgda"\n', "train": "[train]\ntasks_per_step = 2\n"},
            ["[train] tasks_per_step", "MGDA", "every task's loss"],
        ),
        (
            {
                "model": '[model]\nname = "independent"\n',
                "weighting": '[weighting]\nname = "pcgrad"\n',
            },
            ["shared_parameters", "PCGrad"],
        ),
        (
            {
                "model": '[model]\nname = "independent"\n',
                "weighting": '[weighting]\nname = "gradnorm"\n',
            },
            ["GradNorm", "shared weight matrix"],
        ),
        ({"train": "[train]\nbatch_size = 0\n"}, ["[train] batch_size", "0"]),
        ({"train": '[train]\noptimizer = "lion"\n'}, ["[train] optimizer", "'adamw'", "'lion'"]),
        ({"train": '[train]\nschedule = "step"\n'}, ["[train] schedule", "'cosine'", "'step'"]),
        ({"train": "[train]\nwarmup_steps = -1\n"}, ["[train] warmup_steps", "-1"]),
        ({"train": "[train]\nepochs = 3\n"}, ["unknown key", "epochs", "steps"]),
        ({"train": '[learner]\nname = "cnp"\n'}, ["[learner] together with", "[model]"]),
    ],
)
def test_bad_multitask_configs_name_the_key_and_the_value(tmp_path, sections, words):
    message = config_error(tmp_path, _text(**sections))
    for word in words:
        assert word in message, (word, message)


def test_a_bad_multitask_config_fails_before_any_process_group(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(_text(weighting='[weighting]\nname = "gradsurgery"\n'), encoding="utf-8")
    monkeypatch.setenv("RANK", "0")  # as torchrun would start it, with no rendezvous to reach
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", str(path)])
    assert exit_.value.code == 2 and "gradsurgery" in capsys.readouterr().err
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize(
    "family, options",
    [
        (
            "mmoe",
            "correlation = [[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]]\nin_features = 10\n",
        ),
        ("related_sinusoids", "num_tasks = 2\nrelatedness = 0.5\n"),
        ("loss_scale", "sigmas = [1.0, 10.0]\nin_features = 8\nout_features = 4\n"),
        ("digits_classification", 'num_tasks = 2\ntransform = "rotate"\n'),
        ("digits_multilabel", 'attributes = ["even", "prime"]\n'),
        ("digits_mixed", ""),
    ],
)
def test_every_task_family_builds_from_a_config(tmp_path, family, options):
    from mtml_lib.runs import load_config
    from mtml_lib.runs.multitask_run import FAMILIES, build_data

    assert len(FAMILIES) == 6  # a family added to FAMILIES belongs in this list too
    path = tmp_path / "config.toml"
    path.write_text(
        f'[tasks]\nfamily = "{family}"\n{options}n_train = 20\nn_test = 10\n[model]\nname = '
        '"multihead"\n',
        encoding="utf-8",
    )
    train, test = build_data(load_config(path))
    assert (
        train.sizes == [20] * train.num_tasks
        and test.sizes == [10] * test.num_tasks
        and train.num_tasks >= 2
    )
    # the held-out tasks read the test images, the training tasks the others
    if family.startswith("digits"):
        from mtml_lib.data.digits import load_digits_pool

        pools = {
            split: {tuple(row.tolist()) for row in load_digits_pool(split=split).images.flatten(1)}
            for split in ("train", "test")
        }
        for data, split in ((train, "train"), (test, "test")):  # task 0 sees the images as they are
            assert all(tuple(row.tolist()) in pools[split] for row in data.xs[0].flatten(1)), split


def test_the_optimizer_and_its_schedule_are_train_keys(tmp_path):
    import tomllib

    from mtml_lib.runs.multitask_run import parse_multitask_config, train_config

    keys = (
        '[train]\noptimizer = "adamw"\nschedule = "cosine"\nwarmup_steps = 5\nweight_decay = 0.01\n'
    )
    config = train_config(parse_multitask_config(tomllib.loads(_text(train=keys)), base=tmp_path))
    assert (config.optimizer, config.schedule, config.warmup_steps, config.weight_decay) == (
        "adamw",
        "cosine",
        5,
        0.01,
    )
