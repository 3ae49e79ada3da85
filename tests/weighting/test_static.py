"""Equal and static weights: plain weighted sums."""

import torch
from testkit.weighting import linear_losses

from mtml_lib.weighting import get_weighting


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
