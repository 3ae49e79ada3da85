"""Multi-task `fit` under torchrun (gloo, 2 CPU processes): every weighting method takes the step
of one
process on both processes' batches combined."""

from __future__ import annotations

import json
import math
import pathlib
import sys

import fit_worker
import pytest
import torch
from torchrun_util import config_error, kill_mid_run, mtml_train, mtml_train_alone, state, torchrun

from mtml_lib import cli, distributed
from mtml_lib.data.multitask import MultiTaskBatch, MultiTaskDataset
from mtml_lib.seeding import make_generator
from mtml_lib.training import fit
from mtml_lib.weighting import WEIGHTING

# A step of Adam at lr 1e-2 moves a weight by about 1e-2, so a wrong step lands about that far away.
# Rounding
# is far below it: a task's mean over 2 x 16 rows is not bit-equal to the mean of two means over 16,
# and
# CAGrad's iterative solver carries that to about 5e-6 after 8 steps.
TOLERANCE = {"rtol": 1e-5, "atol": 5e-5}


class _Combined(MultiTaskDataset):
    """Every step, the batches of both ranks (generators SEED + 0 and SEED + 1), task after task:
    each task's rows from rank 0, then from rank 1. A task's loss on them is the mean of the ranks'
    losses."""

    def __init__(self, data: MultiTaskDataset, seeds):
        super().__init__(data.tasks, data.xs, data.ys)
        self.generators = [make_generator(s) for s in seeds]

    def batch(self, batch_size, *, generator=None, tasks_per_step=None, task_sampling="uniform"):
        parts = [MultiTaskDataset.batch(self, batch_size, generator=g) for g in self.generators]
        xs, ids = [], []
        ys = [torch.cat([part.ys[i] for part in parts]) for i in range(self.num_tasks)]
        for j in range(parts[0].tasks.numel()):
            for part in parts:
                xs.append(part.x[j * batch_size : (j + 1) * batch_size])
                ids.append(part.task_id[j * batch_size : (j + 1) * batch_size])
        return MultiTaskBatch(torch.cat(xs), torch.cat(ids), ys, parts[0].tasks)


@pytest.fixture(scope="module")
def parallel_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit-ddp")
    torchrun(
        [sys.executable, str(pathlib.Path(__file__).parent / "fit_worker.py"), str(out)],
        2,
        cwd=out,
        timeout=600,
    )
    return {p.stem: torch.load(p, weights_only=False) for p in out.glob("*.pt")}


def _reference(name: str, ranks) -> tuple[dict, torch.Tensor]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each torchrun process
    try:
        net = fit_worker.model()
        data = _Combined(fit_worker.data(), [fit_worker.SEED + r for r in ranks])
        history = fit(
            net,
            data,
            fit_worker.method(name),
            steps=fit_worker.STEPS,
            lr=fit_worker.LR,
            batch_size=fit_worker.BATCH,
            device="cpu",
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    return net.state_dict(), history.losses


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WEIGHTING))
def test_two_processes_take_the_step_of_one_on_both_batches(parallel_runs, name):
    run = parallel_runs[name]
    combined, losses = _reference(name, (0, 1))
    for key, value in run["model"].items():
        torch.testing.assert_close(value, combined[key], **TOLERANCE, msg=f"{name}: {key}")
    # The logged per-task losses are those of both processes' batches.
    torch.testing.assert_close(run["history"]["losses"], losses, **TOLERANCE)
    # The comparison can tell: training on rank 0's batches alone ends far outside the tolerance.
    alone, _ = _reference(name, (0,))
    assert (
        max(float((v - alone[k]).abs().max()) for k, v in run["model"].items())
        > 20 * TOLERANCE["atol"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(fit_worker.SUBSET_RUNS) + list(WEIGHTING))
def test_every_process_ends_with_the_same_weights(parallel_runs, label):
    run = parallel_runs[label]
    assert len(run["every_rank"]) == 2
    for key, value in run["every_rank"][0].items():
        assert torch.equal(value, run["every_rank"][1][key]), (label, key)
    assert torch.isfinite(run["history"]["losses"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(fit_worker.SUBSET_RUNS))
def test_task_subsets_log_each_task_over_the_processes_that_drew_it(parallel_runs, label):
    run = parallel_runs[label]
    history, own = (
        run["history"],
        run["rank_losses"],
    )  # own: (ranks, steps, T), 0 where a rank did not draw a task
    drew = own > 0  # a squared error on a drawn batch is never exactly 0
    # Each process draws 2 of the 3 tasks: across two processes a step covers 2 or 3 of them, and
    # some
    # tasks are drawn by one process only (where a mean over both processes would halve the loss).
    assert (drew.sum(2) == 2).all() and (drew.sum(0) == 1).any()
    assert torch.equal(history["sampled"], drew.any(0))
    expected = own.sum(0) / drew.sum(0).clamp_min(1)
    torch.testing.assert_close(history["losses"], expected, rtol=1e-6, atol=0)


def test_an_equal_stream_in_two_processes_is_refused(monkeypatch):
    monkeypatch.setattr(distributed, "current", lambda: distributed.Context(rank=0, world_size=2))
    monkeypatch.setattr(distributed, "all_gather_objects", lambda value: [value, value])
    with pytest.raises(ValueError, match="`generator` must differ between the 2 processes"):
        fit(
            fit_worker.model(),
            fit_worker.data(),
            "equal",
            steps=1,
            device="cpu",
            generator=0,
            progress=False,
        )


# --- `mtml train` with a multi-task config
# ---------------------------------------------------------

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
    path.write_text(MULTITASK.format(method=method, steps=steps, every=every, folder=name))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    "method", ["dwa", "pcgrad"]
)  # DistributedDataParallel; per-task gradients averaged
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
    results = json.loads((single / "results.json").read_text())
    assert (
        results["world_size"] == 1
        and results["task_names"] == ["task 1", "task 2"]
        and len(results["test"]) == 2
    )
    print(
        f"{method}: killed at step {saved['step']} of {steps}; resumed with 2 processes: identical "
        "to the "
        f"uninterrupted run"
    )


def test_a_single_process_multitask_run_writes_results(tmp_path):
    from mtml_lib.runs import load_config, run
    from mtml_lib.runs.multitask import MultiTaskConfig

    config = load_config(
        _multitask_config(tmp_path, "out", method="uncertainty", steps=40, every=20)
    )
    assert isinstance(config, MultiTaskConfig) and config.model_options["hidden"] == (16,)
    results = run(config, progress=False)
    assert (
        results["steps"] == 40 and results["world_size"] == 1 and results["examples_per_step"] == 64
    )
    assert results["eval"]["steps"] == [40] and results["metric_names"] == ["mse", "mse"]
    assert json.loads((tmp_path / "out" / "results.json").read_text())["test"] == results["test"]
    assert all(math.isfinite(v) for v in results["test"] + results["final_train_losses"])


GOOD = {
    "tasks": '[tasks]\nfamily = "related_sinusoids"\nnum_tasks = 4\nrelatedness = -0.5\nn_train = '
    "50\nn_test = 50\n",
    "model": '[model]\nname = "multihead"\n',
    "weighting": "",
    "train": "",
}


def _text(**sections) -> str:
    return "".join({**GOOD, **sections}.values())


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
    path.write_text(_text(weighting='[weighting]\nname = "gradsurgery"\n'))
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
    from mtml_lib.runs.multitask import FAMILIES, build_data

    assert len(FAMILIES) == 6  # a family added to FAMILIES belongs in this list too
    path = tmp_path / "config.toml"
    path.write_text(
        f'[tasks]\nfamily = "{family}"\n{options}n_train = 20\nn_test = 10\n[model]\nname = '
        '"multihead"\n'
    )
    train, test = build_data(load_config(path))
    assert (
        train.sizes == [20] * train.num_tasks
        and test.sizes == [10] * test.num_tasks
        and train.num_tasks >= 2
    )
    if family.startswith(
        "digits"
    ):  # the held-out tasks read the test images, the training tasks the others
        from mtml_lib.data.digits import load_digits_pool

        pools = {
            split: {tuple(row.tolist()) for row in load_digits_pool(split=split).images.flatten(1)}
            for split in ("train", "test")
        }
        for data, split in ((train, "train"), (test, "test")):  # task 0 sees the images as they are
            assert all(tuple(row.tolist()) in pools[split] for row in data.xs[0].flatten(1)), split
