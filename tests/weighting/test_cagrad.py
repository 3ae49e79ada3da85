"""CAGrad against a brute-force solve."""

import torch
from testkit.weighting import brute_force_simplex

from mtml_lib.weighting.cagrad import cagrad


def test_cagrad_matches_a_brute_force_solve_and_its_limits():
    grads = torch.tensor([[1.0, 0.0], [-0.8, 0.6], [0.2, -0.9]])
    c = 0.5
    gram, mean = grads @ grads.T, torch.full((3,), 1 / 3)
    radius = c * (mean @ gram @ mean).sqrt()
    best, w = brute_force_simplex(lambda w: w @ gram @ mean + radius * (w @ gram @ w).sqrt(), 3)
    gw = w @ grads
    expected = (grads.mean(0) + radius / gw.norm() * gw) / (1 + c**2)
    direction, effective = cagrad(grads, c)
    assert torch.allclose(direction, expected, atol=0.02)
    assert torch.allclose(effective @ grads, direction, atol=1e-6)
    # c = 0 is gradient descent on the average loss.
    assert torch.allclose(cagrad(grads, 0.0)[0], grads.mean(0), atol=1e-6)
