"""Every weighting method in the registry meets one contract."""

import pytest
import torch
from testkit.weighting import linear_losses
from torch import nn

from mtml_lib.weighting import WEIGHTING, GradientCombination, get_weighting

HYPER = {"static": {"weights": [1.0, 2.0, 0.5]}}


def test_gradient_methods_accumulate_into_existing_grads():
    directions = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    theta, phi, losses = linear_losses(directions)
    theta.grad = torch.tensor([10.0, 10.0])
    get_weighting("mgda", num_tasks=2).combine(losses, [theta], [phi])
    assert torch.allclose(theta.grad, torch.tensor([10.5, 10.5]))


@pytest.mark.parametrize("name", sorted(WEIGHTING))
def test_every_method_reduces_the_total_loss(name):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    # three linear tasks
    targets = torch.stack([x @ torch.randn(4, generator=g) for _ in range(3)], dim=1)
    trunk, heads = nn.Linear(4, 8), nn.Linear(8, 3)
    method = get_weighting(name, num_tasks=3, **HYPER.get(name, {}))
    optimizer = torch.optim.Adam(
        [*trunk.parameters(), *heads.parameters(), *method.parameters()], lr=0.01
    )

    def losses():
        return ((heads(trunk(x)) - targets) ** 2).mean(0)

    before = losses().sum().item()
    for _ in range(200):
        optimizer.zero_grad()
        weights = method.combine(losses(), list(trunk.parameters()), list(heads.parameters()))
        optimizer.step()
        assert weights is None or (weights.shape == (3,) and torch.isfinite(weights).all())
    assert losses().sum().item() < 0.5 * before


@pytest.mark.parametrize("name", sorted(WEIGHTING))
def test_every_method_gives_each_task_specific_parameter_its_own_tasks_gradient(name):
    """The task-specific parameters are passed, never guessed: each gets the gradient of its own
    task's weighted loss (a gradient combination's weights are not the heads' business: it gives
    them the plain gradient)."""
    theta = nn.Parameter(torch.zeros(2, 1))  # a matrix: GradNorm measures on one
    phi = nn.Parameter(torch.tensor([1.0, -2.0]))
    losses = torch.tensor([[1.0, 0.0], [-1.0, 1.0]]) @ theta[:, 0] + phi**2 + 1.0
    method = get_weighting(
        name, num_tasks=2, **({"weights": [1.0, 2.0]} if name == "static" else {})
    )
    weights = method.combine(losses, [theta], [phi])
    scale = torch.ones(2) if isinstance(method, GradientCombination) else weights.detach()
    if name == "uncertainty":  # its objective scales each loss by exp(-s_i) / 2
        scale = torch.exp(-method.parameters()[0].detach()) / 2
    torch.testing.assert_close(phi.grad, scale * 2 * phi.detach())


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, m in WEIGHTING.items()
        if isinstance(m, type) and issubclass(m, GradientCombination)
    ),
)
def test_a_gradient_combination_refuses_to_guess_the_task_specific_parameters(name):
    theta, _, losses = linear_losses(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="`task_parameters` must be given"):
        get_weighting(name, num_tasks=2).combine(losses, [theta])


@pytest.mark.parametrize("name", sorted(WEIGHTING))
def test_every_method_checks_the_number_of_losses(name):
    method = get_weighting(name, num_tasks=3, **HYPER.get(name, {}))
    with pytest.raises(ValueError, match=r"`losses` must have shape \(3,\); got shape \(2,\)"):
        method.combine(torch.ones(2, requires_grad=True), [nn.Parameter(torch.zeros(2, 2))])


@pytest.mark.parametrize("name", sorted(WEIGHTING))
def test_every_method_state_round_trips(name):
    method = get_weighting(name, num_tasks=3, **HYPER.get(name, {}))
    copy = get_weighting(name, num_tasks=3, **HYPER.get(name, {}))
    trunk = nn.Linear(2, 3)
    for _ in range(3):
        method.combine(trunk(torch.ones(2)) ** 2, list(trunk.parameters()), [])
    copy.load_state_dict(method.state_dict())
    trunk.zero_grad()
    out = trunk(torch.ones(2)) ** 2
    a = method.combine(out, list(trunk.parameters()), [])
    b = copy.combine(trunk(torch.ones(2)) ** 2, list(trunk.parameters()), [])
    assert (a is None and b is None) or torch.allclose(a, b)


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("dwa", {"temperature": -1.0}, r"`temperature` must be a number > 0.0; got -1.0"),
        ("dwa", {"window": 0}, r"`window` must be an integer >= 1; got 0"),
        ("gradnorm", {"alpha": -0.5}, r"`alpha` must be a number >= 0.0; got -0.5"),
        (
            "static",
            {"weights": [1.0, -1.0, 1.0]},
            r"`weights\[1\]` must be a number >= 0.0; got -1.0",
        ),
        ("static", {"weights": [1.0, 1.0]}, r"one weight per task \(3\); got 2"),
        ("cagrad", {"c": 1.5}, r"`c` must be a number >= 0.0 and <= 0.999; got 1.5"),
        (
            "worst_case",
            {"mode": "hardmax"},
            r"`mode` must be one of \['softmax', 'exponentiated', 'max'\]; got 'hardmax'",
        ),
        ("worst_case", {"temperature": -1.0}, r"`temperature` must be a number > 0.0; got -1.0"),
        ("worst_case", {"step_size": 0.0}, r"`step_size` must be a number > 0.0; got 0.0"),
        (
            "uncertainty",
            {"kinds": ["regression", "ranking", "regression"]},
            r"`kinds\[1\]` must be one of",
        ),
    ],
)
def test_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_weighting(name, num_tasks=3, **kwargs)


def test_unknown_method_suggests_the_nearest():
    with pytest.raises(ValueError, match="Did you mean 'pcgrad'"):
        get_weighting("pcgard", num_tasks=2)
