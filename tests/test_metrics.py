import torch
from torch import nn

from mtml_lib.metrics import gradient_cosine


def test_gradient_cosine_against_a_hand_computation():
    theta = nn.Parameter(torch.zeros(3))
    a, b, c = (
        torch.tensor([1.0, 2.0, 0.0]),
        torch.tensor([-2.0, 1.0, 1.0]),
        torch.tensor([0.0, 0.0, 5.0]),
    )
    losses = torch.stack([a @ theta, b @ theta, c @ theta])
    cosine = gradient_cosine(losses, [theta])
    expected = torch.tensor(
        [
            [1.0, (a @ b) / (a.norm() * b.norm()), 0.0],
            [(a @ b) / (a.norm() * b.norm()), 1.0, (b @ c) / (b.norm() * c.norm())],
            [0.0, (b @ c) / (b.norm() * c.norm()), 1.0],
        ]
    )
    assert torch.allclose(cosine, expected, atol=1e-6)
    assert theta.grad is None  # a diagnostic: it leaves the training gradients alone


def test_gradient_cosine_of_a_task_without_gradient_is_zero():
    theta = nn.Parameter(torch.ones(2))
    losses = torch.stack([theta.sum(), torch.tensor(3.0)])
    assert torch.equal(gradient_cosine(losses, [theta])[0, 1], torch.tensor(0.0))
