"""Mixtures of experts: gates are distributions; gate dropout."""

import pytest
import torch
from testkit.conditioning import batch, make


def test_mmoe_gates_are_distributions_and_moe_shares_one():
    mmoe, moe = make("mmoe", num_experts=5), make("moe", num_experts=5)
    x, task_id = batch(20)
    gates = mmoe.gate_weights(x, task_id)
    assert gates.shape == (20, 5)
    assert torch.allclose(gates.sum(-1), torch.ones(20))
    shared_gate = moe.gate_weights(x, task_id)
    assert torch.allclose(shared_gate, moe.gate_weights(x, torch.zeros_like(task_id)))
    assert {n.split(".")[0] for n, _ in mmoe.named_parameters() if mmoe._is_task_specific(n)} == {
        "gates",
        "towers",
    }


def test_gate_dropout_only_in_training_and_keeps_a_distribution():
    model = make("mmoe", num_experts=4, gate_dropout=0.5)
    x, task_id = batch(32)
    model.eval()
    assert torch.equal(model(x, task_id), model(x, task_id))
    model.train()
    torch.manual_seed(0)
    a = model(x, task_id)
    torch.manual_seed(1)
    assert not torch.equal(a, model(x, task_id))
    with pytest.raises(
        ValueError, match="`gate_dropout` must be a number >= 0.0 and <= 0.99; got 1.0"
    ):
        make("mmoe", gate_dropout=1.0)
