"""Every conditioning choice in the registry meets one contract."""

import pytest
import torch
from testkit.conditioning import IN, OUT, T, batch, make
from torch import nn

from mtml_lib.models.conditioning import (
    CONDITIONING,
    count_parameters,
    get_conditioning,
)
from mtml_lib.weighting import parameter_groups


@pytest.mark.parametrize("name", sorted(CONDITIONING))
class TestContract:
    def test_shape_and_no_nan_with_mixed_tasks(self, name):
        x, task_id = batch()
        out = make(name)(x, task_id)
        assert out.shape == (16, OUT)
        assert torch.isfinite(out).all()

    def test_every_parameter_gets_a_gradient(self, name):
        model = make(name)
        x, task_id = batch(64)
        model(x, task_id).pow(2).mean().backward()
        missing = [
            n
            for n, p in model.named_parameters()
            if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
        ]
        assert missing == []

    def test_runs_on_the_device_of_its_inputs(self, name, device):
        model = make(name).to(device)
        x, task_id = batch(device=device)
        assert model(x, task_id).device.type == device.type

    def test_parameter_split_covers_every_parameter_once(self, name):
        model = make(name)
        shared, specific = model.shared_parameters(), model.task_specific_parameters()
        assert {id(p) for p in shared}.isdisjoint({id(p) for p in specific})
        assert len(shared) + len(specific) == len(list(model.parameters()))
        assert count_parameters(model) == count_parameters(
            model, which="shared"
        ) + count_parameters(model, which="task_specific")
        assert parameter_groups(model) == (shared, specific)  # the one way the loops ask

    def test_rows_are_processed_independently(self, name):
        """A row's output depends only on that row (and its task), not on the rest of the batch."""
        model = make(name).eval()
        x, task_id = batch(10)
        full = model(x, task_id)
        single = torch.cat([model(x[i : i + 1], task_id[i : i + 1]) for i in range(10)])
        assert torch.allclose(full, single, atol=1e-5)

    def test_bad_inputs(self, name):
        model = make(name)
        x, task_id = batch(6)
        with pytest.raises(
            ValueError, match=r"`task_id` must hold task indices in \[0, 4\); got 4"
        ):
            model(x, torch.full((6,), T))
        with pytest.raises(ValueError, match="got -1"):
            model(x, torch.full((6,), -1))
        with pytest.raises(TypeError, match="`task_id.dtype` must be"):
            model(x, task_id.float())
        with pytest.raises(ValueError, match=r"`task_id` must have shape \(6,\); got shape \(5,\)"):
            model(x, task_id[:5])
        with pytest.raises(
            ValueError, match=r"`x` must have shape \(\*, 12\); got shape \(6, 11\)"
        ):
            model(x[:, :11], task_id)
        with pytest.raises(TypeError, match="`x.dtype` must be a floating point"):
            model(x.long(), task_id)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError,
        match=r"one of \['additive', 'concat'.*got 'multihed'\. Did you mean 'multihead'\?",
    ):
        get_conditioning("multihed", in_features=2, out_features=1, num_tasks=2)
    with pytest.raises(ValueError, match="`num_tasks` must be an integer >= 1; got 0"):
        get_conditioning("shared", in_features=2, out_features=1, num_tasks=0)


def test_count_parameters():
    model = make("multihead", hidden=(10,))
    assert count_parameters(model, which="task_specific") == T * (10 * OUT + OUT)
    assert count_parameters(model) == (IN * 10 + 10) + T * (10 * OUT + OUT)
    assert count_parameters(make("independent", hidden=(10,)), which="shared") == 0
    with pytest.raises(ValueError, match="`which` must be one of"):
        count_parameters(model, which="some")
    with pytest.raises(TypeError, match="must be a ConditionedModel"):
        count_parameters(nn.Linear(2, 2), which="shared")


def test_parameter_groups_of_a_model_that_does_not_say_are_all_shared():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    shared, specific = parameter_groups(model)
    assert shared == list(model.parameters()) and specific == []


def test_parameter_groups_of_a_model_that_names_only_its_shared_ones():
    """A student's model may say only which parameters are shared: the rest are its tasks'."""

    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, self.heads = nn.Linear(2, 3), nn.ModuleList(nn.Linear(3, 1) for _ in "ab")

        def shared_parameters(self):
            return list(self.trunk.parameters())

    model = Heads()
    assert parameter_groups(model) == (
        list(model.trunk.parameters()),
        list(model.heads.parameters()),
    )


def test_parameter_groups_refuse_a_model_that_names_a_parameter_twice_or_never():
    class Careless(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk, self.head = nn.Linear(2, 3), nn.Linear(3, 1)

        def shared_parameters(self):
            return list(self.trunk.parameters())

        def task_specific_parameters(self):
            return [self.trunk.weight]

    with pytest.raises(ValueError, match=r"name each parameter once.*'trunk.weight': 2.*'head"):
        parameter_groups(Careless())
