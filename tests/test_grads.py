"""Generic gradient helpers, against autograd on each task alone."""

import pytest
import torch
from torch import nn

from mtml_lib import grads
from mtml_lib.grads import per_task_gradients, per_task_gradients_looped
from mtml_lib.models.conditioning import CONDITIONING, get_conditioning
from mtml_lib.weighting import parameter_groups


def test_per_task_gradients_match_one_backward_per_task():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    losses = (net(x) ** 2).mean(0)  # (2,): one loss per output
    grads = per_task_gradients(losses, list(net.parameters()))
    for t in range(2):
        net.zero_grad()
        (net(x) ** 2).mean(0)[t].backward()
        expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        torch.testing.assert_close(grads[t], expected)


def test_unused_parameters_and_graphless_losses_give_zeros():
    a, b = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
    losses = torch.stack([a.sum(), torch.tensor(1.0)])  # task 1 has no graph at all
    grads = per_task_gradients(losses, [a, b])
    assert grads.shape == (2, 5)
    assert torch.equal(grads[0], torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]))
    assert torch.equal(grads[1], torch.zeros(5))


@pytest.mark.parametrize("name", [n for n in CONDITIONING if n != "independent"])
def test_the_batched_backward_gives_each_task_its_own_gradient(name):
    """One batched backward pass against one pass per task, on every conditioning model's
    shared parameters (independent networks share none)."""
    torch.manual_seed(0)
    model = get_conditioning(name, in_features=6, out_features=2, num_tasks=3)
    task_id = torch.arange(3).repeat_interleave(10)
    out = model(torch.randn(30, 6), task_id)
    losses = torch.stack([(out[task_id == i] ** 2).mean() for i in range(3)])
    shared, _ = parameter_groups(model)
    batched = per_task_gradients(losses, shared)
    torch.testing.assert_close(batched, per_task_gradients_looped(losses, shared))
    assert batched.abs().sum(dim=1).min() > 0  # every task moves the shared weights


def test_a_graph_the_batched_pass_cannot_take_falls_back_to_the_loop(monkeypatch):
    calls = []
    real = torch.autograd.grad

    def refusing(*args, **kwargs):
        calls.append(kwargs.get("is_grads_batched", False))
        if kwargs.get("is_grads_batched"):
            raise RuntimeError("Batching rule not implemented for aten::something")
        return real(*args, **kwargs)

    monkeypatch.setattr(grads.torch.autograd, "grad", refusing)
    theta = torch.ones(2, requires_grad=True)
    losses = torch.stack([2 * theta[0], 3 * theta[1]])
    assert torch.equal(per_task_gradients(losses, [theta]), torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    assert calls == [True, False, False]  # tried batched once, then one pass per task
