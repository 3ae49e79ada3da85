"""The multi-task loop: it learns every task, runs reproduce, resume is exact, bad input fails."""

import pytest
import torch
from testkit.conditioning import model_for

from mtml_lib.data.digits import mixed_losses, multilabel
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.training import evaluate_tasks, fit
from mtml_lib.weighting import get_weighting


@pytest.fixture(scope="module")
def digits_data():
    return (
        MultiTaskDataset.sample(multilabel(split="train"), 400, generator=0),
        MultiTaskDataset.sample(multilabel(split="test"), 300, generator=1),
    )


def test_fit_learns_every_task(digits_data, device):
    train, test = digits_data
    model = model_for(train)
    before = evaluate_tasks(model.to(device), test)
    history = fit(
        model,
        train,
        "equal",
        steps=150,
        lr=3e-3,
        device=device,
        generator=0,
        eval_data=test,
        eval_every=50,
        progress=False,
    )
    after = history.final_metrics
    assert history.losses.shape == (150, 4) and history.eval_steps == [50, 100, 150]
    assert all(a > 0.85 for a in after), after
    assert sum(after) > sum(before) + 0.5
    first, last = history.losses[:10].mean(0), history.losses[-10:].mean(0)
    assert (last < 0.6 * first).all()
    assert torch.equal(history.weights, torch.ones(150, 4))


def test_same_seed_same_run(digits_data):
    train, _ = digits_data
    runs = [
        fit(model_for(train), train, steps=20, device="cpu", generator=5, progress=False).losses
        for _ in range(2)
    ]
    assert torch.equal(runs[0], runs[1])


def test_resume_after_interruption_matches_an_uninterrupted_run(digits_data, tmp_path):
    train, test = digits_data
    path = tmp_path / "run.pt"
    full = model_for(train, "mmoe")
    reference = fit(
        full,
        train,
        steps=60,
        device="cpu",
        generator=3,
        progress=False,
        eval_data=test,
        eval_every=20,
    )

    interrupted = model_for(train, "mmoe")
    fit(
        interrupted,
        train,
        steps=40,
        device="cpu",
        generator=3,
        progress=False,
        eval_data=test,
        eval_every=20,
        checkpoint=path,
        checkpoint_every=20,
    )
    resumed = model_for(train, "mmoe", seed=99)  # a fresh process would start from other weights
    history = fit(
        resumed,
        train,
        steps=60,
        device="cpu",
        generator=3,
        progress=False,
        eval_data=test,
        eval_every=20,
        checkpoint=path,
        checkpoint_every=20,
    )
    assert torch.equal(history.losses, reference.losses)
    assert history.eval_metrics == reference.eval_metrics
    for a, b in zip(resumed.state_dict().values(), full.state_dict().values()):
        assert torch.equal(a, b)


def test_mixed_losses_train_together():
    tasks = mixed_losses()
    data = MultiTaskDataset.sample(tasks, 300, generator=0)
    assert data.out_features == 10
    model = model_for(data)
    history = fit(
        model, data, steps=80, lr=3e-3, device="cpu", generator=0, eval_data=data, progress=False
    )
    assert history.metric_names == ["accuracy", "mse"]
    accuracy, mse = history.final_metrics
    assert accuracy > 0.5 and mse < 0.8


def test_fit_errors(digits_data):
    train, _ = digits_data
    model = model_for(train)
    with pytest.raises(ValueError, match="`steps` must be an integer >= 1; got 0"):
        fit(model, train, steps=0, progress=False)
    with pytest.raises(ValueError, match="`lr` must be a number > 0"):
        fit(model, train, steps=1, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="`task_sampling` must be one of"):
        fit(model, train, steps=1, task_sampling="greedy", progress=False)
    with pytest.raises(ValueError, match="Did you mean 'equal'"):
        fit(model, train, "eqaul", steps=1, progress=False)
    with pytest.raises(ValueError, match=r"`tasks_per_step` must be an integer in \[1, 4\]; got 9"):
        fit(model, train, steps=1, tasks_per_step=9, progress=False)
    with pytest.raises(TypeError, match="`data` must be a MultiTaskDataset"):
        fit(model, [train], steps=1, progress=False)


@pytest.mark.parametrize(
    "method, hyper",
    [
        ("gradnorm", {}),
        ("dwa", {"window": 5}),
        ("pcgrad", {}),
        ("random", {}),
        ("uncertainty", {}),
        ("worst_case", {"mode": "exponentiated"}),
        ("cagrad", {}),
    ],
)
def test_resume_with_a_stateful_weighting_method(digits_data, tmp_path, method, hyper):

    train, _ = digits_data
    path = tmp_path / "run.pt"
    reference = fit(
        model_for(train),
        train,
        get_weighting(method, num_tasks=4, **hyper),
        steps=24,
        device="cpu",
        generator=1,
        progress=False,
    )
    fit(
        model_for(train),
        train,
        get_weighting(method, num_tasks=4, **hyper),
        steps=12,
        device="cpu",
        generator=1,
        progress=False,
        checkpoint=path,
        checkpoint_every=12,
    )
    resumed = fit(
        model_for(train, seed=5),
        train,
        get_weighting(method, num_tasks=4, **hyper),
        steps=24,
        device="cpu",
        generator=1,
        progress=False,
        checkpoint=path,
        checkpoint_every=12,
    )
    assert torch.allclose(resumed.losses, reference.losses, atol=1e-6)
    assert torch.allclose(resumed.weights.nan_to_num(), reference.weights.nan_to_num(), atol=1e-6)


def test_a_checkpoint_of_another_format_is_refused_clearly(digits_data, tmp_path):
    """A checkpoint written before the shared training core (one `generator`, one `torch_rng`)."""
    train, _ = digits_data
    path = tmp_path / "run.pt"
    fit(
        model_for(train),
        train,
        "dwa",
        steps=12,
        device="cpu",
        generator=1,
        progress=False,
        checkpoint=path,
        checkpoint_every=12,
    )
    state = torch.load(path, weights_only=False)
    del state["format"], state["streams"]
    torch.save(state, path)
    with pytest.raises(
        ValueError, match=r"`checkpoint` .* was written by another version of mtml_lib \(format 1"
    ):
        fit(
            model_for(train),
            train,
            "dwa",
            steps=24,
            device="cpu",
            generator=1,
            progress=False,
            checkpoint=path,
        )


def test_fit_refuses_task_sampling_with_methods_that_need_every_loss():
    from mtml_lib.data.digits import multilabel
    from mtml_lib.data.multitask_data import MultiTaskDataset
    from mtml_lib.training import fit

    data = MultiTaskDataset.sample(multilabel(), 20, generator=0)
    model = get_conditioning("multihead", in_features=64, out_features=2, num_tasks=4)
    with pytest.raises(ValueError, match="needs every task's loss at every step; got 2"):
        fit(model, data, "mgda", steps=1, tasks_per_step=2, progress=False)
