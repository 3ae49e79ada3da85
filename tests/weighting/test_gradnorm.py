"""GradNorm against Chen et al.'s formula."""

import pytest
import torch
from torch import nn

from mtml_lib.weighting import get_weighting


def test_gradnorm_weight_gradient_matches_the_formula():
    method = get_weighting("gradnorm", num_tasks=2, alpha=1.5)
    layer = nn.Parameter(torch.tensor([[1.0, 2.0]]))
    x = torch.tensor([1.0, 1.0])
    a, b = 3.0, 0.5
    first = torch.stack([a * (layer @ x).sum(), b * (layer @ x).sum() ** 2])
    method.combine(first, [layer])  # step 0 records the initial losses
    layer.grad = None
    with torch.no_grad():
        method.weights.copy_(torch.tensor([0.5, 1.5]))  # already sums to T
    losses = torch.stack([a * (layer @ x).sum(), b * (layer @ x).sum() ** 2])
    weights = method.combine(losses, [layer])
    norms = torch.tensor([a * x.norm(), 2 * b * (layer @ x).sum().item() * x.norm()])
    G = weights * norms
    ratio = losses.detach() / first.detach()
    target = G.mean() * (ratio / ratio.mean()) ** 1.5
    assert torch.allclose(method.weights.grad, torch.sign(G - target) * norms)
    assert torch.allclose(
        layer.grad, weights[0] * a * x + weights[1] * 2 * b * (layer @ x).sum().detach() * x
    )
    with torch.no_grad():  # an optimiser step, then the renormalisation at the next use
        method.weights.sub_(0.1 * method.weights.grad)
    method._renormalise()
    assert torch.allclose(method.weights.sum(), torch.tensor(2.0))


def test_gradnorm_needs_a_shared_matrix():
    method = get_weighting("gradnorm", num_tasks=2)
    with pytest.raises(ValueError, match="GradNorm needs a shared weight matrix"):
        method.combine(torch.ones(2, requires_grad=True), [nn.Parameter(torch.zeros(3))])
