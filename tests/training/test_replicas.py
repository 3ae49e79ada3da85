"""Seed-batched training: every replica takes exactly the steps it would take alone."""

import pytest
import torch

from mtml_lib import fit, get_conditioning
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.sinusoids import related_sinusoids
from mtml_lib.seeding import seeded
from mtml_lib.training.replicas import StackedReplicas, fit_replicas


def _data(relatedness=-0.5, n=60, seed=0):
    return MultiTaskDataset.sample(related_sinusoids(2, relatedness=relatedness), n, generator=seed)


def _model(name="multihead"):
    def make():
        return get_conditioning(name, in_features=1, out_features=1, num_tasks=2, hidden=(8,))

    return make


@pytest.mark.parametrize("name", ["multihead", "independent", "mmoe"])
def test_one_replica_is_the_plain_run(name):
    train, test = _data(), _data(seed=1)
    batched = fit_replicas(
        _model(name),
        train,
        seeds=[3],
        steps=25,
        lr=1e-2,
        batch_size=8,
        device="cpu",
        generator=7,
        eval_data=test,
        progress=False,
    )
    with seeded(3):
        model = _model(name)()
    alone = fit(
        model,
        train,
        steps=25,
        lr=1e-2,
        batch_size=8,
        device="cpu",
        generator=7,
        eval_data=test,
        progress=False,
    )
    torch.testing.assert_close(batched.losses[:, 0], alone.losses, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(
        batched.final_metrics[0],
        torch.tensor(alone.final_metrics, dtype=torch.float64),
        rtol=1e-4,
        atol=1e-6,
    )
    # the trained replica, handed back as a module of its own, holds the plain run's weights
    (trained,) = batched.models
    assert type(trained) is type(model) and not trained.training
    for (name_a, a), (name_b, b) in zip(
        trained.state_dict().items(), model.state_dict().items(), strict=True
    ):
        assert name_a == name_b
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("weighting", ["equal", "uncertainty", "dwa", "gradnorm", "random"])
def test_replicas_do_not_see_each_other(weighting):
    """Changing replica 2's seed leaves replicas 0 and 1 exactly as they were."""
    data = [_data(1.0), _data(-1.0)]
    options = {"window": 2} if weighting == "dwa" else {}
    runs = [
        fit_replicas(
            _model(),
            data,
            weighting,
            seeds=seeds,
            steps=12,
            lr=1e-2,
            batch_size=8,
            device="cpu",
            progress=False,
            weighting_options=options,
        )
        for seeds in ([0, 1, 2], [0, 1, 5])
    ]
    a, b = (r.by_setting(r.losses.transpose(0, 1)) for r in runs)  # (settings, seeds, steps, T)
    torch.testing.assert_close(a[:, :2], b[:, :2], rtol=0, atol=0)
    assert not torch.allclose(a[:, 2], b[:, 2])
    assert runs[0].settings == [0, 0, 0, 1, 1, 1] and runs[0].seeds == [0, 1, 2] * 2


def test_methods_that_cannot_batch_are_trained_one_by_one():
    history = fit_replicas(
        _model(),
        [_data(1.0), _data(-1.0)],
        "pcgrad",
        seeds=[0, 1],
        steps=6,
        device="cpu",
        eval_data=[_data(1.0, seed=1), _data(-1.0, seed=1)],
        progress=False,
    )
    assert tuple(history.losses.shape) == (6, 4, 2) and tuple(history.final_metrics.shape) == (4, 2)
    assert len(history.models) == 4 and not any(m.training for m in history.models)


def test_the_stack_runs_each_replica_on_its_own_inputs():
    torch.manual_seed(0)
    models = [_model()() for _ in range(3)]
    stack = StackedReplicas(models)
    x, task_id = torch.randn(3, 5, 1), torch.tensor([0, 1, 1, 0, 1])
    expected = torch.stack([m(x[r], task_id) for r, m in enumerate(models)])
    torch.testing.assert_close(stack(x, task_id), expected)
    assert len(stack.shared_parameters()) == len(models[0].shared_parameters())


def test_bad_replica_requests_are_named():
    data = _data()
    with pytest.raises(ValueError, match="`tasks_per_step` must be None for replicas"):
        fit_replicas(_model(), data, seeds=[0], steps=1, tasks_per_step=1, progress=False)
    with pytest.raises(ValueError, match="`seeds` must hold at least one seed"):
        fit_replicas(_model(), data, seeds=[], steps=1, progress=False)
    with pytest.raises(ValueError, match=r"`data\[1\]` must have the tasks' losses and sizes"):
        fit_replicas(_model(), [data, _data(n=30)], seeds=[0], steps=1, progress=False)
    with pytest.raises(ValueError, match="must share one architecture"):
        StackedReplicas([_model()(), _model("shared")()])


def test_settings_pair_each_seed_with_its_own_dataset():
    data = [_data(seed=s) for s in range(3)]  # three draws of the same tasks
    paired = fit_replicas(
        _model(),
        data,
        seeds=[10, 11, 12],
        settings=[0, 1, 2],
        steps=4,
        device="cpu",
        progress=False,
    )
    assert paired.settings == [0, 1, 2] and paired.seeds == [10, 11, 12]
    assert tuple(paired.losses.shape) == (4, 3, 2)
    with pytest.raises(ValueError, match="`settings` must name one dataset per seed"):
        fit_replicas(_model(), data, seeds=[0, 1], settings=[0], steps=1, progress=False)
