"""The digits pools and the lecture's three multi-task regimes on them."""

import pytest
import torch

from mtml_lib import tasks as T
from mtml_lib.data import digits


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
