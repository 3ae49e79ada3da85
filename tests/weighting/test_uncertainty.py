"""Uncertainty weighting against Kendall et al.'s formulas."""

import torch

from mtml_lib.weighting import get_weighting


def test_uncertainty_loss_and_gradient_match_the_formula():
    method = get_weighting("uncertainty", num_tasks=2, kinds=["regression", "classification"])
    with torch.no_grad():
        method.log_variance.copy_(torch.tensor([0.3, -0.7]))
    losses = torch.tensor([2.0, 0.5], requires_grad=True)
    s = method.log_variance.detach()
    expected = 0.5 * torch.exp(-s[0]) * 2.0 + 0.5 * s[0] + torch.exp(-s[1]) * 0.5 + 0.5 * s[1]
    assert torch.allclose(method.objective(losses), expected)
    weights = method.combine(losses, [])
    assert torch.allclose(weights, torch.stack([0.5 * torch.exp(-s[0]), torch.exp(-s[1])]))
    assert torch.allclose(losses.grad, weights)
    d_s = torch.stack([-0.5 * torch.exp(-s[0]) * 2.0 + 0.5, -torch.exp(-s[1]) * 0.5 + 0.5])
    assert torch.allclose(method.log_variance.grad, d_s)


def test_uncertainty_takes_its_kinds_from_the_tasks():
    from mtml_lib.data.digits import mixed_losses

    method = get_weighting("uncertainty", num_tasks=2)
    method.attach(mixed_losses())
    assert method.kinds == ["classification", "regression"]
    explicit = get_weighting("uncertainty", num_tasks=2, kinds="regression")
    explicit.attach(mixed_losses())
    assert explicit.kinds == ["regression", "regression"]
