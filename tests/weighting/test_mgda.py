"""MGDA: the minimum-norm point of the task gradients' convex hull."""

import torch
from testkit.weighting import brute_force_simplex, linear_losses

from mtml_lib.weighting import get_weighting
from mtml_lib.weighting.mgda import min_norm_weights


def test_mgda_two_tasks_equals_the_closed_form():
    g1, g2 = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    alpha = ((g2 - g1) @ g2 / (g1 - g2).pow(2).sum()).clamp(0, 1)
    assert torch.allclose(min_norm_weights(torch.stack([g1, g2])), torch.stack([alpha, 1 - alpha]))
    theta, _, losses = linear_losses(torch.stack([g1, g2]))
    weights = get_weighting("mgda", num_tasks=2).combine(losses, [theta], [])
    assert torch.allclose(theta.grad, alpha * g1 + (1 - alpha) * g2)
    assert torch.allclose(weights.sum(), torch.tensor(1.0))


def test_mgda_more_tasks_finds_the_min_norm_point():
    grads = torch.tensor([[1.0, 0.2], [-0.3, 1.0], [0.4, -0.6]])
    alpha = min_norm_weights(grads)
    best, _ = brute_force_simplex(lambda w: (w @ grads).norm(), 3)
    assert (alpha @ grads).norm() <= best + 1e-3
    direction = alpha @ grads
    assert (grads @ direction >= -1e-5).all()  # no task is made worse, to first order
