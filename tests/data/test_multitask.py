"""Multi-task datasets: the lecture's 'sample tasks, then examples' batches."""

import pytest
import torch

from mtml_lib.data.digits import multilabel
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import sinusoid_tasks
from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.training import fit


def model_for(data, name="multihead", seed=0):
    torch.manual_seed(seed)
    return get_conditioning(
        name,
        in_features=data.in_features,
        out_features=data.out_features,
        num_tasks=data.num_tasks,
        hidden=(32,),
    )


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
