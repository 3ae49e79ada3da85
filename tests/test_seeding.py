import random

import numpy as np
import pytest
import torch

from mtml_lib.seeding import make_generator, seed_everything, spawn_seed


def test_same_seed_same_numbers():
    a = torch.rand(5, generator=make_generator(3))
    b = torch.rand(5, generator=make_generator(3))
    c = torch.rand(5, generator=make_generator(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_generator_passes_through_and_none_is_fresh():
    g = torch.Generator().manual_seed(1)
    assert make_generator(g) is g
    x = torch.rand(8, generator=make_generator(None))
    y = torch.rand(8, generator=make_generator(None))
    assert not torch.equal(x, y)


@pytest.mark.parametrize(
    "bad, error", [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)]
)
def test_bad_seeds(bad, error):
    with pytest.raises(error, match="`generator` must be"):
        make_generator(bad)


def test_seed_everything_seeds_all_global_generators():
    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    with pytest.raises(ValueError, match="`seed` must be"):
        seed_everything(-3)


def test_spawn_seed_is_deterministic():
    assert spawn_seed(make_generator(0)) == spawn_seed(make_generator(0))
