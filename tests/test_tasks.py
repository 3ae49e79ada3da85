import math

import pytest
import torch

from mtml_lib import tasks as T
from mtml_lib.data import digits
from mtml_lib.data.sinusoids import sample_sinusoid_batch, sinusoid_task, sinusoid_tasks


def test_task_is_the_triple_and_samples_reproducibly():
    task = sinusoid_task(amplitude=2.0, phase=0.5)
    x1, y1 = task.sample(50, generator=1)
    x2, y2 = task.sample(50, generator=1)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert x1.shape == (50, 1) and y1.shape == (50, 1)
    assert torch.allclose(y1, 2.0 * torch.sin(x1 - 0.5))
    assert ((x1 >= -5) & (x1 <= 5)).all()
    assert task.loss is T.MSE
    assert task.loss(y1, y1).item() == 0.0


def test_sample_moves_to_the_requested_device(device):
    x, y = sinusoid_task(amplitude=1.0, phase=0.0).sample(4, generator=0, device=device)
    assert x.device.type == device.type and y.device.type == device.type


def test_sample_errors():
    task = sinusoid_task(amplitude=1.0, phase=0.0)
    with pytest.raises(ValueError, match="`n` must be an integer >= 1; got 0"):
        task.sample(0)
    with pytest.raises(ValueError, match="got -3"):
        task.sample(-3)
    bad = T.Task(
        name="bad",
        sample_x=lambda n, g: torch.zeros(n, 1),
        sample_y=lambda x, g: torch.zeros(1),
        loss=T.MSE,
        out_features=1,
    )
    with pytest.raises(ValueError, match="returned 5 inputs and 1 labels"):
        bad.sample(5)
    with pytest.raises(TypeError, match="`loss` must be a mtml_lib.tasks.Loss"):
        T.Task(
            name="x",
            sample_x=lambda n, g: None,
            sample_y=lambda x, g: None,
            loss=torch.nn.MSELoss(),
            out_features=1,
        )
    with pytest.raises(TypeError, match="`sample_y` must be callable"):
        T.Task(name="x", sample_x=lambda n, g: None, sample_y=3, loss=T.MSE, out_features=1)


def test_multitask_classification_regime():
    tasks = digits.multitask_classification(num_tasks=3)
    assert T.shared_components(tasks) == {"p(x)": False, "p(y|x)": False, "loss": True}
    assert T.regime(tasks) == "multi-task classification"
    # Same digits, different inputs: task 1 is task 0's images under a fixed pixel permutation.
    pool = digits.load_digits_pool(split="train")
    views = digits.input_transforms(3, kind="permute", seed=0)
    for task, view in zip(tasks, views):
        x = view(pool.images[:20])
        assert torch.equal(task.sample_y(x, None), pool.labels[:20])
    assert not torch.equal(views[1](pool.images[:5]), pool.images[:5])
    rotated = digits.multitask_classification(num_tasks=4, transform="rotate")
    assert [t.name for t in rotated] == ["identity", "rotate_90", "rotate_180", "rotate_270"]
    with pytest.raises(ValueError, match="`num_tasks` must be an integer in \\[1, 4\\]; got 5"):
        digits.multitask_classification(num_tasks=5, transform="rotate")


def test_multilabel_regime_shares_inputs_and_labels_attributes():
    tasks = digits.multilabel(split="test")
    assert T.regime(tasks) == "multi-label learning"
    x, _ = tasks[0].sample(200, generator=0)
    pool = digits.load_digits_pool(split="test")
    index = {row.tobytes(): int(d) for row, d in zip(pool.images.numpy(), pool.labels)}
    digit = torch.tensor([index[r.tobytes()] for r in x.numpy()])
    expected = {
        "even": digit % 2 == 0,
        "at_least_5": digit >= 5,
        "prime": torch.isin(digit, torch.tensor([2, 3, 5, 7])),
        "closed_loop": torch.isin(digit, torch.tensor([0, 6, 8, 9])),
    }
    for task in tasks:
        assert torch.equal(task.sample_y(x, None), expected[task.name].long())
    with pytest.raises(
        ValueError, match="`attribute` must be a known digit attribute.*Did you mean 'prime'"
    ):
        digits.multilabel(attributes=["prim"])


def test_mixed_losses_regime():
    tasks = digits.mixed_losses()
    assert T.regime(tasks) == "tasks with different losses"
    assert [t.loss.name for t in tasks] == ["cross_entropy", "mse"]
    x, y = tasks[1].sample(64, generator=0)
    assert y.shape == (64, 1) and y.dtype == torch.float32
    assert torch.allclose(y[:, 0], digits.ink(x))


def test_one_task_and_empty_sets():
    task = sinusoid_task(amplitude=1.0, phase=0.0)
    assert T.regime([task, task]) == "one task"
    with pytest.raises(ValueError, match="at least one Task"):
        T.regime([])
    with pytest.raises(TypeError, match=r"`tasks\[1\]` must be a Task"):
        T.shared_components([task, "nope"])


def test_digits_splits_are_disjoint_and_cover_everything():
    train, test = digits.load_digits_pool(split="train"), digits.load_digits_pool(split="test")
    assert len(train) == 1347 and len(test) == 450
    train_rows = {r.tobytes() for r in train.images.numpy()}
    assert not any(r.tobytes() in train_rows for r in test.images.numpy())
    assert float(train.images.min()) == 0.0 and float(train.images.max()) == 1.0
    with pytest.raises(ValueError, match="`split` must be one of"):
        digits.load_digits_pool(split="validation")


def test_empirical_labels_reject_inputs_outside_the_pool():
    task = digits.multilabel()[0]
    with pytest.raises(ValueError, match="outside this task's pool"):
        task.sample_y(torch.rand(3, 64), None)


def test_sinusoid_family_uses_mamls_ranges():
    tasks = sinusoid_tasks(200, generator=0)
    assert T.shared_components(tasks)["p(x)"]
    batch = sample_sinusoid_batch(500, 10, generator=0)
    assert batch["x"].shape == (500, 10, 1)
    assert batch["amplitude"].min() >= 0.1 and batch["amplitude"].max() <= 5.0
    assert batch["phase"].min() >= 0 and batch["phase"].max() <= math.pi
    expected = batch["amplitude"][:, None, None] * torch.sin(
        batch["x"] - batch["phase"][:, None, None]
    )
    assert torch.allclose(batch["y"], expected)
    with pytest.raises(ValueError, match="`x_range` must be \\(low, high\\) with low < high"):
        sinusoid_task(amplitude=1.0, phase=0.0, x_range=(1.0, -1.0))


@pytest.mark.parametrize("relatedness", [1.0, 0.3, 0.0, -0.6, -1.0])
def test_related_sinusoids_have_the_requested_correlation(relatedness):
    from mtml_lib.data.sinusoids import related_sinusoids

    a, b = related_sinusoids(2, relatedness=relatedness, noise=0.0)
    x = torch.linspace(-math.pi, math.pi, 20001)[:-1, None]  # one full period, evenly spaced
    ya, yb = a.sample_y(x, None)[:, 0], b.sample_y(x, None)[:, 0]
    correlation = torch.corrcoef(torch.stack([ya, yb]))[0, 1]
    assert abs(correlation.item() - relatedness) < 1e-3
    assert T.regime([a, b]) == "multi-label learning"


def test_related_sinusoids_noise_and_errors():
    from mtml_lib.data.sinusoids import related_sinusoids

    noisy, clean = (
        related_sinusoids(4, relatedness=0.5, noise=0.3),
        related_sinusoids(4, relatedness=0.5, noise=0.0),
    )
    x, y = noisy[3].sample(5000, generator=0)
    residual = y - clean[3].sample_y(x, None)
    assert abs(residual.std().item() - 0.3) < 0.02
    with pytest.raises(
        ValueError, match=r"`relatedness` must be a number >= -1.0 and <= 1.0; got 1.5"
    ):
        related_sinusoids(4, relatedness=1.5)
    with pytest.raises(ValueError, match="`num_tasks` must be an integer >= 2"):
        related_sinusoids(1, relatedness=0.0)


def test_loss_scale_toy_follows_the_paper():
    from mtml_lib.data.synthetic import loss_scale_toy

    small, large = loss_scale_toy((1.0, 100.0), in_features=30, out_features=8, generator=0)
    x, y_small = small.sample(400, generator=1)
    assert torch.allclose(x.norm(dim=1), torch.ones(400), atol=1e-5)  # unit-length inputs
    y_large = large.sample_y(x, None)
    assert y_small.abs().max() <= 1.0 and y_large.abs().max() <= 100.0
    ratio = (y_large**2).mean() / (y_small**2).mean()
    assert 5e3 < ratio < 2e4  # losses differ by about sigma^2 = 1e4
    # Same family under the same seed; the tasks differ only through eps_i and sigma_i.
    again = loss_scale_toy((1.0, 100.0), in_features=30, out_features=8, generator=0)[0]
    assert torch.equal(again.sample_y(x, None), y_small)
    with pytest.raises(ValueError, match=r"`sigmas\[1\]` must be a number > 0.0; got -1.0"):
        loss_scale_toy((1.0, -1.0))
