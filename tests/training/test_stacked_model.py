"""StackedReplicas: R models of one architecture run as one, and handed back one by one."""

import pytest
import torch

from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.models.ranking import RankingModel
from mtml_lib.training.replicas import StackedReplicas


def _rankers(count):
    torch.manual_seed(0)
    return [
        RankingModel(
            in_features=7,
            num_positions=3,
            num_tasks=2,
            backbone="mmoe",
            shallow_tower=True,
            gate_dropout=0.5,
            position_dropout=0.5,
            hidden=(4,),
            num_experts=2,
            tower_hidden=(4,),
        )
        for _ in range(count)
    ]


def test_evaluation_mode_reaches_the_replicas():
    """Dropout is off in evaluation mode: each replica computes what its model computes."""
    models = [m.eval() for m in _rankers(3)]
    stack = StackedReplicas(models).eval()
    x, task_id = torch.randn(3, 16, 7), torch.tensor([0, 1] * 8)
    expected = torch.stack([m(x[r], task_id) for r, m in enumerate(models)])
    torch.testing.assert_close(stack(x, task_id), expected)
    stack.train()
    assert stack.skeleton.training
    assert not torch.allclose(stack(x, task_id), expected)  # dropout is back on


def test_unstack_returns_each_replica_as_its_own_module():
    models = _rankers(3)
    stack = StackedReplicas(models)
    with torch.no_grad():
        stack.stacked[0][1] += 1.0  # change replica 1 only
    back = stack.eval().unstack()
    assert [type(m) for m in back] == [RankingModel] * 3 and not any(m.training for m in back)
    first = stack.names[0]  # a parameter
    torch.testing.assert_close(back[0].state_dict()[first], models[0].state_dict()[first])
    assert not torch.allclose(back[1].state_dict()[first], models[1].state_dict()[first])
    with torch.no_grad():
        back[0].state_dict()[first].add_(1.0)  # a copy: the stack is untouched
    torch.testing.assert_close(stack.stacked[0][0], models[0].state_dict()[first])


def test_replicas_must_share_an_architecture():
    with pytest.raises(ValueError, match="at least one model"):
        StackedReplicas([])
    sizes = {"in_features": 2, "out_features": 1, "num_tasks": 2, "hidden": (4,)}
    with pytest.raises(ValueError, match="must share one architecture"):
        StackedReplicas(
            [get_conditioning("multihead", **sizes), get_conditioning("shared", **sizes)]
        )
    stack = StackedReplicas([get_conditioning("multihead", **sizes) for _ in range(2)])
    with pytest.raises(ValueError, match=r"one batch per replica, \(2, B, \.\.\.\)"):
        stack(torch.randn(3, 4, 2), torch.zeros(4, dtype=torch.long))
