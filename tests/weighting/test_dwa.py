"""Dynamic weight average against Liu et al.'s formula."""

import torch

from mtml_lib.weighting import get_weighting
from mtml_lib.weighting.dwa import dwa_weights


def test_dwa_weights_formula_and_schedule():
    previous, before = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([2.0, 0.5, 1.0])
    weights = dwa_weights(previous, before, 2.0)
    expected = (
        3
        * torch.exp(torch.tensor([0.5, 1.0, 2.0]) / 2)
        / torch.exp(torch.tensor([0.5, 1.0, 2.0]) / 2).sum()
    )
    assert torch.allclose(weights, expected)
    assert torch.allclose(weights.sum(), torch.tensor(3.0))
    method = get_weighting("dwa", num_tasks=2, temperature=2.0, window=2)
    seen = []
    for step_losses in ([4.0, 4.0], [4.0, 4.0], [2.0, 4.0], [2.0, 4.0], [1.0, 4.0], [1.0, 4.0]):
        seen.append(method.combine(torch.tensor(step_losses, requires_grad=True)))
    # two full epochs before any adaptation
    assert all(torch.equal(w, torch.ones(2)) for w in seen[:4])
    # After epochs [4, 4] and [2, 4]: task 0 halved its loss, so task 1 (not learning) gets more
    # weight.
    assert torch.allclose(
        method.weights, dwa_weights(torch.tensor([2.0, 4.0]), torch.tensor([4.0, 4.0]), 2.0)
    )
    assert method.weights[1] > method.weights[0]
