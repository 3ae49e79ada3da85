"""T small networks as one batched kernel."""

import torch
from testkit.conditioning import IN, T, make

from mtml_lib.models.batched import StackedMLP, TaskGrouping


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
