"""`mtml train CONFIG`, alone and under torchrun (gloo, 2 CPU processes)."""

from __future__ import annotations

import json
import pathlib

import pytest
import torch
from testkit.torchrun import config_error, kill_mid_run, mtml_train, mtml_train_alone, state

from mtml_lib import cli, distributed
from mtml_lib.data.mixing import concat_episodes
from mtml_lib.runs import load_config, parse_config
from mtml_lib.runs.meta_run import LEARNER_STREAM, build_learner, build_sampler
from mtml_lib.training import meta_train

SINUSOID = """\
[data]
dataset = "sinusoid"
[episodes]
k_shot = 5
n_query = 10
batch_size = 4
[learner]
name = "cnp_regression"
hidden = 16
[train]
steps = {steps}
lr = 3e-3
seed = 7
eval_every = 0
test_episodes = 0
checkpoint_dir = "{folder}"
checkpoint_every = {every}
"""


def _config(tmp_path, name="run", *, steps=6, every=3) -> pathlib.Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SINUSOID.format(steps=steps, every=every, folder=name), encoding="utf-8")
    return path


class _Combined:
    """The episodes of both ranks in one batch: rank 0's (seed + 0) then rank 1's (seed + 1)."""

    def __init__(self, samplers):
        self.samplers = samplers
        self.generator = samplers[0].generator

    def sample(self):
        return concat_episodes(s.sample() for s in self.samplers)


@pytest.mark.slow
def test_two_processes_equal_one_process_on_both_ranks_batches(tmp_path):
    mtml_train(_config(tmp_path, steps=6), 2)
    parallel = state(tmp_path / "run")
    assert parallel["step"] == 6 and parallel["world_size"] == 2 and len(parallel["streams"]) == 2

    config = load_config(_config(tmp_path, "reference", steps=6))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each torchrun process
    reference = {}
    try:
        for name, ranks in (("combined", (0, 1)), ("rank 0 alone", (0,))):
            learner = build_learner(config)
            samplers = [
                build_sampler(
                    config, "train", device=torch.device("cpu"), generator=config.seed + r
                )
                for r in ranks
            ]
            history = meta_train(
                learner,
                _Combined(samplers),
                steps=config.steps,
                lr=config.lr,
                device="cpu",
                generator=config.seed + LEARNER_STREAM,
                progress=False,
            )
            reference[name] = learner.state_dict()
            reference[name + " losses"] = history.losses
    finally:
        torch.set_num_threads(threads)

    for key, value in parallel["model"].items():
        torch.testing.assert_close(value, reference["combined"][key], rtol=1e-5, atol=1e-6, msg=key)
    # The logged loss is the mean over both ranks' episodes: the combined batch's loss.
    torch.testing.assert_close(
        parallel["history"]["losses"], reference["combined losses"], rtol=1e-5, atol=1e-6
    )
    # The comparison can tell: training on rank 0's episodes alone ends elsewhere.
    assert any(
        not torch.allclose(v, reference["rank 0 alone"][k], rtol=1e-4, atol=1e-5)
        for k, v in parallel["model"].items()
    )


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    steps, every = 400, 10
    mtml_train(_config(tmp_path, "whole", steps=steps, every=every), 2)
    whole = state(tmp_path / "whole")

    config = _config(tmp_path, "killed", steps=steps, every=every)
    checkpoint = tmp_path / "killed" / "checkpoint.pt"
    kill_mid_run(config, 2)  # every process of the run, mid-training
    interrupted = state(tmp_path / "killed")["step"]
    assert 0 < interrupted < steps, (
        f"the run was not interrupted mid-way (checkpoint at step {interrupted})"
    )
    (tmp_path / "killed-copy.pt").write_bytes(checkpoint.read_bytes())

    mtml_train(config, 2)  # the same command again: it resumes
    resumed = state(tmp_path / "killed")
    assert resumed["step"] == steps
    for key, value in whole["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, rtol=0, atol=0, msg=key)
    torch.testing.assert_close(
        resumed["history"]["losses"], whole["history"]["losses"], rtol=0, atol=0
    )

    # With another number of processes it resumes too: rank 0 continues its stream.
    single = tmp_path / "single"
    single.mkdir()
    (single / "checkpoint.pt").write_bytes((tmp_path / "killed-copy.pt").read_bytes())
    mtml_train_alone(_config(tmp_path, "single", steps=steps, every=every))
    alone = state(single)
    assert alone["step"] == steps and alone["world_size"] == 1
    assert alone["history"]["losses"].shape == (steps,)
    results = json.loads((single / "results.json").read_text(encoding="utf-8"))
    assert results["world_size"] == 1 and results["steps"] == steps
    print(
        f"killed at step {interrupted} of {steps}; resumed with 2 processes: identical to the "
        "uninterrupted run"
    )


def test_unknown_learner_is_refused(tmp_path):
    message = config_error(tmp_path, '[learner]\nname = "maml"\n')
    assert "[learner] name" in message and "'maml'" in message and "hypernetwork" in message


def test_n_way_larger_than_a_split_is_refused(tmp_path):
    message = config_error(tmp_path, '[episodes]\nn_way = 400\n[learner]\nname = "hypernetwork"\n')
    assert (
        "[episodes]" in message
        and "`n_way`" in message
        and "got 400" in message
        and "meta-" in message
    )


def test_missing_omniglot_folder_is_refused(tmp_path):
    message = config_error(
        tmp_path,
        f'[data]\ndataset = "omniglot"\npath = "{tmp_path / "nowhere"}"\n'
        '[learner]\nname = "hypernetwork"\n',
    )
    assert "[data] path" in message and "nowhere" in message
    assert "[data] path" in config_error(
        tmp_path, '[data]\ndataset = "omniglot"\n[learner]\nname = "cnp"\n'
    )


@pytest.mark.parametrize(
    "text, words",
    [
        ('[learner]\nname = "cnp"\n[train]\nstep = 3\n', ["unknown key", "step", "steps"]),
        ('[learnr]\nname = "cnp"\n', ["unknown section", "learnr"]),
        ("[train]\nsteps = 3\n", ["[learner] name is required"]),
        ('[learner]\nname = "cnp"\n[train]\nsteps = 0\n', ["[train] steps", "0"]),
        ('[learner]\nname = "cnp"\n[train]\nlr = -1.0\n', ["[train] lr", "-1.0"]),
        ('[data]\ndataset = "sinusoid"\n[learner]\nname = "cnp"\n', ["cnp_regression", "'cnp'"]),
        ('[learner]\nname = "cnp"\nwidth = 3\n', ["width", "'cnp'"]),
        (
            '[learner]\nname = "cnp"\n[episodes]\nk_shot = 15\nn_query = 10\n',
            ["k_shot + n_query", "15 + 10"],
        ),
    ],
)
def test_bad_configs_name_the_key_and_the_value(tmp_path, text, words):
    message = config_error(tmp_path, text)
    for word in words:
        assert word in message, (word, message)


def test_a_bad_config_fails_before_any_process_group(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[learner]\nname = "maml"\n', encoding="utf-8")
    # As torchrun would start it, but with no rendezvous to reach: joining a group would hang or
    # fail.
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", str(path)])
    assert exit_.value.code == 2
    assert "maml" in capsys.readouterr().err
    assert not torch.distributed.is_initialized() and not distributed.current().active


def test_a_single_process_run_writes_results(tmp_path):
    config = parse_config(
        {
            "data": {"dataset": "sinusoid"},
            "episodes": {"batch_size": 4},
            "learner": {"name": "cnp_regression", "hidden": 8},
            "train": {
                "steps": 4,
                "eval_every": 2,
                "eval_episodes": 8,
                "test_episodes": 16,
                "checkpoint_dir": str(tmp_path / "out"),
            },
        }
    )
    from mtml_lib.runs import run

    results = run(config, progress=False)
    assert (
        results["steps"] == 4 and results["world_size"] == 1 and results["episodes_per_step"] == 4
    )
    assert results["eval"]["steps"] == [2, 4] and results["test"]["episodes"] == 16
    assert (
        json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["test"]
        == results["test"]
    )


@pytest.mark.parametrize(
    "path",
    sorted((pathlib.Path(__file__).parents[2] / "configs").glob("*.toml")),
    ids=lambda p: p.name,
)
def test_shipped_configs_are_valid(path):
    config = load_config(path)  # every key checked, the dataset split and the learner built
    # git-ignored
    assert pathlib.Path(config.checkpoint_dir).parent == pathlib.Path(__file__).parents[2] / "runs"
