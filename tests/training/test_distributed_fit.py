"""fit under torchrun (gloo, 2 CPU processes): every method takes the one-process step."""

from __future__ import annotations

import sys

import pytest
import torch
from testkit import fit_worker
from testkit.torchrun import torchrun

from mtml_lib import distributed
from mtml_lib.data.multitask_data import MultiTaskBatch, MultiTaskDataset
from mtml_lib.seeding import make_generator
from mtml_lib.training import fit
from mtml_lib.weighting import WEIGHTING

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
        return MultiTaskBatch(
            torch.cat(xs), torch.cat(ids), ys, parts[0].tasks, len(parts) * batch_size, self.widths
        )


@pytest.fixture(scope="module")
def parallel_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit-ddp")
    torchrun(
        [sys.executable, fit_worker.__file__, str(out)],
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
    # own: (ranks, steps, T), 0 where a rank did not draw a task
    history, own = (
        run["history"],
        run["rank_losses"],
    )
    drew = own > 0  # a squared error on a drawn batch is never exactly 0
    # Each process draws 2 of the 3 tasks: across two processes a step covers 2 or 3 of them, and
    # some tasks are drawn by one process only (where a mean over both processes would halve the
    # loss).
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
