"""The two ends: independent networks and one shared network."""

import torch
from testkit.conditioning import T, batch, make


def test_independent_matches_a_loop_of_separate_networks():
    model = make("independent", hidden=(16, 8))
    x, task_id = batch(40)
    out = model(x, task_id)
    reference = torch.zeros_like(out)
    for t in range(T):
        rows = task_id == t
        reference[rows] = model.task_network(t)(x[rows])
    assert torch.allclose(out, reference, atol=1e-6)


def test_independent_tasks_get_no_gradient_from_each_other():
    model = make("independent")
    x, task_id = batch(32)
    out = model(x, task_id)
    out[task_id == 1].pow(2).sum().backward()  # the loss of task 1 only
    for grads in model.nets.layer_tensors(model.nets.flat.grad):
        for g in grads:  # per-layer weight (T, in, out) and bias (T, out) gradients
            others = torch.cat([g[t].reshape(-1) for t in range(T) if t != 1])
            assert torch.count_nonzero(others) == 0  # exactly zero, not just small
            assert torch.count_nonzero(g[1]) > 0
    assert model.shared_parameters() == []


def test_shared_ignores_the_task():
    model = make("shared")
    x, _ = batch(8)
    outs = [model(x, torch.full((8,), t)) for t in range(T)]
    assert all(torch.equal(outs[0], o) for o in outs[1:])
