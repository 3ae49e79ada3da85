"""Multi-task datasets: the lecture's 'sample tasks, then examples' batches."""

import pytest
import torch
from testkit.conditioning import model_for

from mtml_lib.data.digits import mixed_losses, multilabel
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import sinusoid_tasks
from mtml_lib.training import fit


def test_task_sampling_uniform_and_proportional():
    data = MultiTaskDataset.sample(sinusoid_tasks(3, generator=0), [1000, 10, 10], generator=0)
    g = torch.Generator().manual_seed(0)
    picks = torch.stack([data.choose_tasks(1, "proportional", g) for _ in range(300)]).flatten()
    assert (picks == 0).float().mean() > 0.9
    picks = torch.stack([data.choose_tasks(1, "uniform", g) for _ in range(600)]).flatten()
    assert all(150 < (picks == i).sum() < 250 for i in range(3))
    history = fit(
        model_for(data, "shared"),
        data,
        steps=30,
        tasks_per_step=1,
        device="cpu",
        generator=0,
        progress=False,
    )
    assert history.sampled.sum(1).eq(1).all()
    assert (history.losses[~history.sampled] == 0).all()


def test_dataset_errors():
    tasks = multilabel()
    with pytest.raises(ValueError, match="one size per task"):
        MultiTaskDataset.sample(tasks, [10, 10], generator=0)
    with pytest.raises(ValueError, match=r"`n_per_task\[1\]` must be an integer >= 1; got 0"):
        MultiTaskDataset.sample(tasks, [10, 0, 10, 10], generator=0)


def test_the_batch_says_where_each_task_sits_in_the_output():
    """task_outputs is the layout's one statement: task i's rows and its first widths[i]
    columns, with any leading axis (the replicas') kept."""
    data = MultiTaskDataset.sample(mixed_losses(), 20, generator=0)  # widths 10 and 1
    assert len(set(data.widths)) > 1
    batch = data.batch(5, generator=0, tasks_per_step=1)
    (i,) = batch.tasks.tolist()
    prediction = torch.randn(5, data.out_features)
    [(task, rows)] = batch.task_outputs(prediction)
    assert task == i and torch.equal(rows, prediction[:, : data.tasks[i].out_features])
    full = data.batch(4, generator=0)
    stacked = torch.randn(2, 4 * data.num_tasks, data.out_features)  # (R, B, out)
    blocks = full.task_outputs(stacked)
    assert [j for j, _ in blocks] == list(range(data.num_tasks))
    for j, rows in blocks:
        assert torch.equal(rows, stacked[:, full.task_id == j, : full.widths[j]])
    with pytest.raises(ValueError, match=r"`prediction` must have 8 rows \(2 tasks of 4\)"):
        full.task_outputs(torch.zeros(7, 3))
