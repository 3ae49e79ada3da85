"""Multiplicative gates and FiLM."""

import torch
from testkit.conditioning import IN, T, batch, make


def test_multiplicative_gates_can_express_independent_networks():
    """Disjoint 0/1 gates give each task its own units:
    task b's weights do not change task a's output.
    """
    model = make("multiplicative", hidden=(8,))
    with torch.no_grad():
        model.gates[0].zero_()
        for t in range(T):
            model.gates[0][t, 2 * t : 2 * t + 2] = 1.0
    x = torch.randn(5, IN)
    task0 = torch.zeros(5, dtype=torch.long)
    before = model(x, task0)
    with torch.no_grad():
        model.layers[0].weight[2:].add_(1.0)  # units of tasks 1-3
    assert torch.allclose(before, model(x, task0))


def test_film_starts_as_the_shared_network():
    film = make("film", hidden=(8, 8))
    x, task_id = batch(6)
    a = film(x, task_id)
    b = film(x, torch.zeros_like(task_id))
    assert torch.allclose(a, b)  # gamma = 1, beta = 0 for every task at initialisation
