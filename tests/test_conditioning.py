import pytest
import torch
from torch import nn

from mtml_lib.models.batched import StackedMLP, TaskGrouping
from mtml_lib.models.conditioning import (
    CONDITIONING,
    additive_to_concat,
    concat_to_additive,
    count_parameters,
    get_conditioning,
)

IN, OUT, T = 12, 3, 4


def make(name, **kwargs):
    torch.manual_seed(0)
    return get_conditioning(name, in_features=IN, out_features=OUT, num_tasks=T, **kwargs)


def batch(n=16, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, IN, generator=g)
    task_id = torch.randint(0, T, (n,), generator=g)
    return x.to(device), task_id.to(device)


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


def test_independent_matches_a_loop_of_separate_networks():
    model = make("independent", hidden=(16, 8))
    x, task_id = batch(40)
    out = model(x, task_id)
    reference = torch.zeros_like(out)
    for t in range(T):
        rows = task_id == t
        reference[rows] = model.task_network(t)(x[rows])
    assert torch.allclose(out, reference, atol=1e-6)


def test_independent_tasks_get_no_gradient_from_each_other():
    model = make("independent")
    x, task_id = batch(32)
    out = model(x, task_id)
    out[task_id == 1].pow(2).sum().backward()  # the loss of task 1 only
    for grads in model.nets.layer_tensors(model.nets.flat.grad):
        for g in grads:  # per-layer weight (T, in, out) and bias (T, out) gradients
            others = torch.cat([g[t].reshape(-1) for t in range(T) if t != 1])
            assert torch.count_nonzero(others) == 0  # exactly zero, not just small
            assert torch.count_nonzero(g[1]) > 0
    assert model.shared_parameters() == []


def test_grouped_fast_path_matches_the_general_path():
    model = make("independent", hidden=(16,))
    x = torch.randn(4 * T, IN)
    grouped = torch.arange(T).repeat_interleave(4)
    perm = torch.randperm(4 * T, generator=torch.Generator().manual_seed(0))
    assert TaskGrouping(grouped, T).grouped and not TaskGrouping(grouped[perm], T).grouped
    assert torch.allclose(model(x, grouped)[perm], model(x[perm], grouped[perm]), atol=1e-6)


def test_stacked_mlp_starts_like_fresh_linear_layers():
    nets = StackedMLP(num_tasks=200, in_features=50, hidden=(), out_features=3)
    ((weight, bias),) = nets.layer_tensors()
    bound = 1 / 50**0.5
    assert weight.shape == (200, 50, 3) and bias.shape == (200, 3)
    assert weight.abs().max() <= bound and weight.abs().max() > 0.95 * bound
    assert abs(weight.std().item() - bound / 3**0.5) < 0.01


def test_stacked_mlp_handles_empty_tasks_and_batches():
    nets = StackedMLP(num_tasks=3, in_features=4, hidden=(5,), out_features=2)
    task_id = torch.tensor([2, 2, 2])
    assert nets(torch.randn(3, 4), TaskGrouping(task_id, 3)).shape == (3, 2)
    empty = torch.zeros(0, dtype=torch.long)
    assert nets(torch.randn(0, 4), TaskGrouping(empty, 3)).shape == (0, 2)


def test_shared_ignores_the_task():
    model = make("shared")
    x, _ = batch(8)
    outs = [model(x, torch.full((8,), t)) for t in range(T)]
    assert all(torch.equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("embedding_dim", [None, 3])
def test_concat_and_additive_compute_the_same_function_class(embedding_dim):
    concat = make("concat", hidden=(16, 8), embedding_dim=embedding_dim)
    with torch.no_grad():  # make the task part matter
        for p in concat.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x, task_id = batch(30)
    additive = concat_to_additive(concat)
    assert isinstance(additive, type(make("additive")))
    assert torch.allclose(additive(x, task_id), concat(x, task_id), atol=1e-5)
    back = additive_to_concat(additive)
    assert torch.allclose(back(x, task_id), concat(x, task_id), atol=1e-5)
    # and from a randomly initialised additive model to concat
    start = make("additive", hidden=(16, 8), embedding_dim=embedding_dim)
    with torch.no_grad():
        for p in start.parameters():
            p.add_(0.3 * torch.randn_like(p))
    assert torch.allclose(additive_to_concat(start)(x, task_id), start(x, task_id), atol=1e-5)
    with pytest.raises(TypeError, match="must be a Concat model"):
        concat_to_additive(start)


def test_one_hot_additive_is_a_per_task_bias():
    model = make("additive", hidden=(8,))
    x = torch.randn(1, IN)
    h = [torch.relu(model.input_layer(x) + model.task_bias[t]) for t in range(T)]
    assert all(torch.allclose(model.rest(h[t]), model(x, torch.tensor([t]))) for t in range(T))


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


def test_count_parameters():
    model = make("multihead", hidden=(10,))
    assert count_parameters(model, which="task_specific") == T * (10 * OUT + OUT)
    assert count_parameters(model) == (IN * 10 + 10) + T * (10 * OUT + OUT)
    assert count_parameters(make("independent", hidden=(10,)), which="shared") == 0
    with pytest.raises(ValueError, match="`which` must be one of"):
        count_parameters(model, which="some")
    with pytest.raises(TypeError, match="must be a ConditionedModel"):
        count_parameters(nn.Linear(2, 2), which="shared")
