"""Generic gradient helpers, against autograd on each task alone."""

import torch
from torch import nn

from mtml_lib.grads import graph_parameters, per_task_gradients


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


def test_graph_parameters_are_the_leaves_a_loss_depends_on():
    used, unused = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    frozen = torch.ones(2)
    found = graph_parameters((used * frozen).sum())
    assert len(found) == 1 and found[0] is used
    assert all(p is not unused for p in found)
