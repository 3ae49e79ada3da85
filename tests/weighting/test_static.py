"""Equal and static weights: plain weighted sums."""

import torch
from torch import nn

from mtml_lib.weighting import get_weighting


def linear_losses(directions, task_scale=None):
    """Losses L_i = directions[i] . theta + |phi_i|^2:
    grad_theta L_i = directions[i], grad_phi_i = 2 phi_i.
    """
    theta = nn.Parameter(torch.zeros(directions.shape[1]))
    phi = nn.Parameter(torch.tensor([1.0, -2.0, 3.0][: directions.shape[0]]))
    losses = directions @ theta + phi**2 + 1.0
    return theta, phi, losses


def test_equal_and_static_are_weighted_sums():
    directions = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    theta, phi, losses = linear_losses(directions)
    weights = get_weighting("static", num_tasks=3, weights=[1.0, 2.0, 0.5]).combine(losses, [theta])
    assert torch.equal(weights, torch.tensor([1.0, 2.0, 0.5]))
    assert torch.allclose(theta.grad, weights @ directions)
    assert torch.allclose(phi.grad, weights * 2 * phi.detach())
    theta, phi, losses = linear_losses(directions)
    get_weighting("equal", num_tasks=3).combine(losses, [theta])
    assert torch.allclose(theta.grad, directions.sum(0))
