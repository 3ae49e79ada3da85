"""MGDA: the minimum-norm point of the task gradients' convex hull."""

import itertools
import math

import torch
from torch import nn

from mtml_lib.weighting import get_weighting
from mtml_lib.weighting.mgda import min_norm_weights


def linear_losses(directions, task_scale=None):
    """Losses L_i = directions[i] . theta + |phi_i|^2:
    grad_theta L_i = directions[i], grad_phi_i = 2 phi_i.
    """
    theta = nn.Parameter(torch.zeros(directions.shape[1]))
    phi = nn.Parameter(torch.tensor([1.0, -2.0, 3.0][: directions.shape[0]]))
    losses = directions @ theta + phi**2 + 1.0
    return theta, phi, losses


def brute_force_simplex(fn, num_tasks, steps=200):
    best, best_w = math.inf, None
    for ticks in itertools.product(range(steps + 1), repeat=num_tasks - 1):
        if sum(ticks) > steps:
            continue
        w = torch.tensor([t / steps for t in ticks] + [1 - sum(ticks) / steps])
        value = float(fn(w))
        if value < best:
            best, best_w = value, w
    return best, best_w


def test_mgda_two_tasks_equals_the_closed_form():
    g1, g2 = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    alpha = ((g2 - g1) @ g2 / (g1 - g2).pow(2).sum()).clamp(0, 1)
    assert torch.allclose(min_norm_weights(torch.stack([g1, g2])), torch.stack([alpha, 1 - alpha]))
    theta, _, losses = linear_losses(torch.stack([g1, g2]))
    weights = get_weighting("mgda", num_tasks=2).combine(losses, [theta])
    assert torch.allclose(theta.grad, alpha * g1 + (1 - alpha) * g2)
    assert torch.allclose(weights.sum(), torch.tensor(1.0))


def test_mgda_more_tasks_finds_the_min_norm_point():
    grads = torch.tensor([[1.0, 0.2], [-0.3, 1.0], [0.4, -0.6]])
    alpha = min_norm_weights(grads)
    best, _ = brute_force_simplex(lambda w: (w @ grads).norm(), 3)
    assert (alpha @ grads).norm() <= best + 1e-3
    direction = alpha @ grads
    assert (grads @ direction >= -1e-5).all()  # no task is made worse, to first order
