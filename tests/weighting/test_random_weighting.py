"""Random loss weighting."""

import torch

from mtml_lib.weighting import get_weighting


def test_random_weights_are_positive_reproducible_and_sum_to_t():
    a = get_weighting("random", num_tasks=4, generator=7)
    b = get_weighting("random", num_tasks=4, generator=7)
    for _ in range(3):
        wa, wb = (
            a.combine(torch.ones(4, requires_grad=True)),
            b.combine(torch.ones(4, requires_grad=True)),
        )
        assert (
            torch.equal(wa, wb) and (wa > 0).all() and torch.allclose(wa.sum(), torch.tensor(4.0))
        )
