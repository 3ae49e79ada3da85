"""Worst-case (min-max) weighting."""

import torch

from mtml_lib.weighting import get_weighting


def test_worst_case_moves_weight_to_the_largest_loss():
    method = get_weighting("worst_case", num_tasks=3, mode="exponentiated", step_size=0.5)
    for _ in range(20):
        weights = method.combine(torch.tensor([0.1, 2.0, 0.5], requires_grad=True))
    assert weights.argmax() == 1 and torch.allclose(weights.sum(), torch.tensor(3.0))
    hard = get_weighting("worst_case", num_tasks=3, mode="max")
    assert torch.equal(
        hard.combine(torch.tensor([0.1, 2.0, 0.5], requires_grad=True)),
        torch.tensor([0.0, 3.0, 0.0]),
    )
    smooth = get_weighting("worst_case", num_tasks=3, temperature=0.5)
    losses = torch.tensor([0.1, 2.0, 0.5], requires_grad=True)
    weights = smooth.combine(losses)
    assert torch.allclose(weights, 3 * torch.softmax(losses.detach() / 0.5, dim=0))
    # The gradient is that of 3 * tau * logsumexp(L / tau), the smooth maximum.
    leaf = losses.detach().clone().requires_grad_()
    (3 * 0.5 * torch.logsumexp(leaf / 0.5, dim=0)).backward()
    assert torch.allclose(losses.grad, leaf.grad)
