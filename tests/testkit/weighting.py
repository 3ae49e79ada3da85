"""Small problems whose gradients and optima are known, for the loss-weighting tests."""

import itertools
import math

import torch
from torch import nn


def linear_losses(directions: torch.Tensor):
    """``(theta, phi, losses)`` with L_i = directions[i] . theta + phi_i^2 + 1: the shared
    gradient of task i is ``directions[i]``, its own parameter's gradient ``2 phi_i`` (phi starts
    at 1, -2, 3; up to three tasks)."""
    theta = nn.Parameter(torch.zeros(directions.shape[1]))
    phi = nn.Parameter(torch.tensor([1.0, -2.0, 3.0][: directions.shape[0]]))
    losses = directions @ theta + phi**2 + 1.0
    return theta, phi, losses


def brute_force_simplex(fn, num_tasks: int, steps: int = 200):
    """``(best value, its weights)`` of ``fn`` over a grid of the probability simplex with
    ``steps`` ticks per side: the reference a closed-form or iterative solver is checked against."""
    best, best_w = math.inf, None
    for ticks in itertools.product(range(steps + 1), repeat=num_tasks - 1):
        if sum(ticks) > steps:
            continue
        w = torch.tensor([t / steps for t in ticks] + [1 - sum(ticks) / steps])
        value = float(fn(w))
        if value < best:
            best, best_w = value, w
    return best, best_w
