"""Worst-case (min-max) weighting."""

import pytest
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


def test_relative_losses_chase_the_task_that_made_the_least_progress():
    """On raw losses a task on a 100x scale takes all the weight; relative to the first step's
    losses, the weight goes to the task that has improved least, whatever its scale."""
    raw = get_weighting("worst_case", num_tasks=2, temperature=0.05)
    relative = get_weighting("worst_case", num_tasks=2, temperature=0.05, relative=True)
    first = torch.tensor([100.0, 1.0])
    assert raw.combine(first.clone().requires_grad_())[0] > 1.99  # the large scale wins
    assert torch.allclose(relative.combine(first.clone().requires_grad_()), torch.ones(2))
    later = torch.tensor([10.0, 0.8])  # task 1 at 10% of where it started, task 2 at 80%
    assert raw.combine(later.clone().requires_grad_())[0] > 1.99
    assert relative.combine(later.clone().requires_grad_())[1] > 1.99
    # one first-step reference per replica, and it survives a checkpoint
    replicas = get_weighting("worst_case", num_tasks=2, relative=True).batch_replicas(2)
    replicas.combine(torch.tensor([[100.0, 1.0], [1.0, 100.0]], requires_grad=True))
    again = get_weighting("worst_case", num_tasks=2, relative=True).batch_replicas(2)
    again.load_state_dict(replicas.state_dict())
    weights = again.combine(torch.tensor([[50.0, 1.0], [1.0, 50.0]], requires_grad=True))
    # replica 0 is at (50%, 100%) of its start, replica 1 at (100%, 50%)
    assert weights[0, 1] > 1.5 and weights[1, 0] > 1.5


def test_relative_must_be_a_boolean():
    with pytest.raises(TypeError, match="`relative` must be True or False; got 'yes'"):
        get_weighting("worst_case", num_tasks=2, relative="yes")
