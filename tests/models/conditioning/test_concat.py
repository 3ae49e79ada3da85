"""Concatenation and additive conditioning are one function class."""

import pytest
import torch
from testkit.conditioning import IN, T, batch, make

from mtml_lib.models.conditioning import (
    additive_to_concat,
    concat_to_additive,
)


@pytest.mark.parametrize("embedding_dim", [None, 3])
def test_concat_and_additive_compute_the_same_function_class(embedding_dim):
    concat = make("concat", hidden=(16, 8), embedding_dim=embedding_dim)
    with torch.no_grad():  # make the task part matter
        for p in concat.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x, task_id = batch(30)
    additive = concat_to_additive(concat)
    assert isinstance(additive, type(make("additive")))
    assert torch.allclose(additive(x, task_id), concat(x, task_id), atol=1e-5)
    back = additive_to_concat(additive)
    assert torch.allclose(back(x, task_id), concat(x, task_id), atol=1e-5)
    # and from a randomly initialised additive model to concat
    start = make("additive", hidden=(16, 8), embedding_dim=embedding_dim)
    with torch.no_grad():
        for p in start.parameters():
            p.add_(0.3 * torch.randn_like(p))
    assert torch.allclose(additive_to_concat(start)(x, task_id), start(x, task_id), atol=1e-5)
    with pytest.raises(TypeError, match="must be a Concat model"):
        concat_to_additive(start)


def test_one_hot_additive_is_a_per_task_bias():
    model = make("additive", hidden=(8,))
    x = torch.randn(1, IN)
    h = [torch.relu(model.input_layer(x) + model.task_bias[t]) for t in range(T)]
    assert all(torch.allclose(model.rest(h[t]), model(x, torch.tensor([t]))) for t in range(T))
