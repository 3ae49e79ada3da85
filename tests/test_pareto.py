"""Pareto optimality, against a brute-force definition."""

import itertools

import pytest
import torch

from mtml_lib.pareto import pareto_optimal


def brute_force(losses):
    rows = losses.tolist()

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))

    return [not any(dominates(a, b) for a in rows) for b in rows]


@pytest.mark.parametrize("tasks", [1, 2, 3])
def test_matches_the_definition(tasks):
    g = torch.Generator().manual_seed(tasks)
    for _ in range(20):
        losses = torch.randint(0, 4, (12, tasks), generator=g).float()  # many ties
        assert pareto_optimal(losses).tolist() == brute_force(losses)


def test_a_front_is_kept_whole_and_equal_rows_survive():
    front = torch.tensor([[t, 1 - t] for t in (0.0, 0.25, 0.5, 0.75, 1.0)])
    assert pareto_optimal(front).all()
    twice = torch.cat([front, front, front + 0.1])
    assert pareto_optimal(twice).tolist() == [True] * 10 + [False] * 5
    for a, b in itertools.combinations(range(5), 2):
        assert not (front[a] <= front[b]).all()


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="`losses` must be a 2-D tensor"):
        pareto_optimal(torch.zeros(3))
