"""A task is the triple {p(x), p(y|x), L}."""

import pytest
import torch

from mtml_lib import tasks as T
from mtml_lib.data.sinusoids import sinusoid_task


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


def test_one_task_and_empty_sets():
    task = sinusoid_task(amplitude=1.0, phase=0.0)
    assert T.regime([task, task]) == "one task"
    with pytest.raises(ValueError, match="at least one Task"):
        T.regime([])
    with pytest.raises(TypeError, match=r"`tasks\[1\]` must be a Task"):
        T.shared_components([task, "nope"])
