"""PCGrad against the paper's projection formula."""

import torch
from testkit.weighting import linear_losses

from mtml_lib.weighting import get_weighting
from mtml_lib.weighting.pcgrad import pcgrad


def test_pcgrad_two_conflicting_gradients_is_the_projection_formula():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    assert g1 @ g2 < 0
    expected = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g2 @ g1) / (g1 @ g1) * g1)
    assert torch.allclose(pcgrad(torch.stack([g1, g2])), expected)
    # Agreeing gradients are left alone.
    agree = torch.tensor([[1.0, 0.2], [0.5, 1.0]])
    assert torch.allclose(pcgrad(agree), agree.sum(0))


def test_pcgrad_projects_on_the_original_gradients():
    grads = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, -1.0, 0.5]])
    generator = torch.Generator().manual_seed(3)
    reference, orders = grads.clone(), torch.Generator().manual_seed(3)
    for i in range(3):
        for j in torch.randperm(3, generator=orders).tolist():
            if j != i and reference[i] @ grads[j] < 0:
                reference[i] = (
                    reference[i] - (reference[i] @ grads[j]) / (grads[j] @ grads[j]) * grads[j]
                )
    assert torch.allclose(pcgrad(grads, generator), reference.sum(0), atol=1e-6)


def test_pcgrad_through_combine_keeps_task_specific_gradients():
    directions = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    theta, phi, losses = linear_losses(directions)
    assert get_weighting("pcgrad", num_tasks=2).combine(losses, [theta], [phi]) is None
    assert torch.allclose(theta.grad, pcgrad(directions))
    assert torch.allclose(phi.grad, 2 * phi.detach())
