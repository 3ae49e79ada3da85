import itertools
import math

import pytest
import torch
from torch import nn

from mtml_lib.weighting import WEIGHTING, get_weighting
from mtml_lib.weighting.cagrad import cagrad
from mtml_lib.weighting.dwa import dwa_weights
from mtml_lib.weighting.mgda import min_norm_weights
from mtml_lib.weighting.pcgrad import pcgrad

HYPER = {"static": {"weights": [1.0, 2.0, 0.5]}}


def linear_losses(directions, task_scale=None):
    """Losses L_i = directions[i] . theta + |phi_i|^2:
    grad_theta L_i = directions[i], grad_phi_i = 2 phi_i.
    """
    theta = nn.Parameter(torch.zeros(directions.shape[1]))
    phi = nn.Parameter(torch.tensor([1.0, -2.0, 3.0][: directions.shape[0]]))
    losses = directions @ theta + phi**2 + 1.0
    return theta, phi, losses


def brute_force_simplex(fn, num_tasks, steps=200):
    best, best_w = math.inf, None
    for ticks in itertools.product(range(steps + 1), repeat=num_tasks - 1):
        if sum(ticks) > steps:
            continue
        w = torch.tensor([t / steps for t in ticks] + [1 - sum(ticks) / steps])
        value = float(fn(w))
        if value < best:
            best, best_w = value, w
    return best, best_w


# --- hand computations -------------------------------------------------------------


def test_equal_and_static_are_weighted_sums():
    directions = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    theta, phi, losses = linear_losses(directions)
    weights = get_weighting("static", num_tasks=3, weights=[1.0, 2.0, 0.5]).combine(losses, [theta])
    assert torch.equal(weights, torch.tensor([1.0, 2.0, 0.5]))
    assert torch.allclose(theta.grad, weights @ directions)
    assert torch.allclose(phi.grad, weights * 2 * phi.detach())
    theta, phi, losses = linear_losses(directions)
    get_weighting("equal", num_tasks=3).combine(losses, [theta])
    assert torch.allclose(theta.grad, directions.sum(0))


def test_pcgrad_two_conflicting_gradients_is_the_projection_formula():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    assert g1 @ g2 < 0
    expected = (g1 - (g1 @ g2) / (g2 @ g2) * g2) + (g2 - (g2 @ g1) / (g1 @ g1) * g1)
    assert torch.allclose(pcgrad(torch.stack([g1, g2])), expected)
    # Agreeing gradients are left alone.
    agree = torch.tensor([[1.0, 0.2], [0.5, 1.0]])
    assert torch.allclose(pcgrad(agree), agree.sum(0))


def test_pcgrad_projects_on_the_original_gradients():
    grads = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, -1.0, 0.5]])
    generator = torch.Generator().manual_seed(3)
    reference, orders = grads.clone(), torch.Generator().manual_seed(3)
    for i in range(3):
        for j in torch.randperm(3, generator=orders).tolist():
            if j != i and reference[i] @ grads[j] < 0:
                reference[i] = (
                    reference[i] - (reference[i] @ grads[j]) / (grads[j] @ grads[j]) * grads[j]
                )
    assert torch.allclose(pcgrad(grads, generator), reference.sum(0), atol=1e-6)


def test_pcgrad_through_combine_keeps_task_specific_gradients():
    directions = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    theta, phi, losses = linear_losses(directions)
    assert get_weighting("pcgrad", num_tasks=2).combine(losses, [theta]) is None
    assert torch.allclose(theta.grad, pcgrad(directions))
    assert torch.allclose(phi.grad, 2 * phi.detach())


def test_mgda_two_tasks_equals_the_closed_form():
    g1, g2 = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    alpha = ((g2 - g1) @ g2 / (g1 - g2).pow(2).sum()).clamp(0, 1)
    assert torch.allclose(min_norm_weights(torch.stack([g1, g2])), torch.stack([alpha, 1 - alpha]))
    theta, _, losses = linear_losses(torch.stack([g1, g2]))
    weights = get_weighting("mgda", num_tasks=2).combine(losses, [theta])
    assert torch.allclose(theta.grad, alpha * g1 + (1 - alpha) * g2)
    assert torch.allclose(weights.sum(), torch.tensor(1.0))


def test_mgda_more_tasks_finds_the_min_norm_point():
    grads = torch.tensor([[1.0, 0.2], [-0.3, 1.0], [0.4, -0.6]])
    alpha = min_norm_weights(grads, max_iter=500)
    best, _ = brute_force_simplex(lambda w: (w @ grads).norm(), 3)
    assert (alpha @ grads).norm() <= best + 1e-3
    direction = alpha @ grads
    assert (grads @ direction >= -1e-5).all()  # no task is made worse, to first order


def test_cagrad_matches_a_brute_force_solve_and_its_limits():
    grads = torch.tensor([[1.0, 0.0], [-0.8, 0.6], [0.2, -0.9]])
    c = 0.5
    gram, mean = grads @ grads.T, torch.full((3,), 1 / 3)
    radius = c * (mean @ gram @ mean).sqrt()
    best, w = brute_force_simplex(lambda w: w @ gram @ mean + radius * (w @ gram @ w).sqrt(), 3)
    gw = w @ grads
    expected = (grads.mean(0) + radius / gw.norm() * gw) / (1 + c**2)
    direction, effective = cagrad(grads, c)
    assert torch.allclose(direction, expected, atol=0.02)
    assert torch.allclose(effective @ grads, direction, atol=1e-6)
    # c = 0 is gradient descent on the average loss.
    assert torch.allclose(cagrad(grads, 0.0)[0], grads.mean(0), atol=1e-6)


def test_uncertainty_loss_and_gradient_match_the_formula():
    method = get_weighting("uncertainty", num_tasks=2, kinds=["regression", "classification"])
    with torch.no_grad():
        method.log_variance.copy_(torch.tensor([0.3, -0.7]))
    losses = torch.tensor([2.0, 0.5], requires_grad=True)
    s = method.log_variance.detach()
    expected = 0.5 * torch.exp(-s[0]) * 2.0 + 0.5 * s[0] + torch.exp(-s[1]) * 0.5 + 0.5 * s[1]
    assert torch.allclose(method.objective(losses), expected)
    weights = method.combine(losses, [])
    assert torch.allclose(weights, torch.stack([0.5 * torch.exp(-s[0]), torch.exp(-s[1])]))
    assert torch.allclose(losses.grad, weights)
    d_s = torch.stack([-0.5 * torch.exp(-s[0]) * 2.0 + 0.5, -torch.exp(-s[1]) * 0.5 + 0.5])
    assert torch.allclose(method.log_variance.grad, d_s)


def test_uncertainty_takes_its_kinds_from_the_tasks():
    from mtml_lib.data.digits import mixed_losses

    method = get_weighting("uncertainty", num_tasks=2)
    method.attach(mixed_losses())
    assert method.kinds == ["classification", "regression"]
    explicit = get_weighting("uncertainty", num_tasks=2, kinds="regression")
    explicit.attach(mixed_losses())
    assert explicit.kinds == ["regression", "regression"]


def test_gradnorm_weight_gradient_matches_the_formula():
    method = get_weighting("gradnorm", num_tasks=2, alpha=1.5)
    layer = nn.Parameter(torch.tensor([[1.0, 2.0]]))
    x = torch.tensor([1.0, 1.0])
    a, b = 3.0, 0.5
    first = torch.stack([a * (layer @ x).sum(), b * (layer @ x).sum() ** 2])
    method.combine(first, [layer])  # step 0 records the initial losses
    layer.grad = None
    with torch.no_grad():
        method.weights.copy_(torch.tensor([0.5, 1.5]))  # already sums to T
    losses = torch.stack([a * (layer @ x).sum(), b * (layer @ x).sum() ** 2])
    weights = method.combine(losses, [layer])
    norms = torch.tensor([a * x.norm(), 2 * b * (layer @ x).sum().item() * x.norm()])
    G = weights * norms
    ratio = losses.detach() / first.detach()
    target = G.mean() * (ratio / ratio.mean()) ** 1.5
    assert torch.allclose(method.weights.grad, torch.sign(G - target) * norms)
    assert torch.allclose(
        layer.grad, weights[0] * a * x + weights[1] * 2 * b * (layer @ x).sum().detach() * x
    )
    with torch.no_grad():  # an optimiser step, then the renormalisation at the next use
        method.weights.sub_(0.1 * method.weights.grad)
    method._renormalise()
    assert torch.allclose(method.weights.sum(), torch.tensor(2.0))


def test_gradnorm_needs_a_shared_matrix():
    method = get_weighting("gradnorm", num_tasks=2)
    with pytest.raises(ValueError, match="GradNorm needs a shared weight matrix"):
        method.combine(torch.ones(2, requires_grad=True), [nn.Parameter(torch.zeros(3))])


def test_dwa_weights_formula_and_schedule():
    previous, before = torch.tensor([1.0, 0.5, 2.0]), torch.tensor([2.0, 0.5, 1.0])
    weights = dwa_weights(previous, before, 2.0)
    expected = (
        3
        * torch.exp(torch.tensor([0.5, 1.0, 2.0]) / 2)
        / torch.exp(torch.tensor([0.5, 1.0, 2.0]) / 2).sum()
    )
    assert torch.allclose(weights, expected)
    assert torch.allclose(weights.sum(), torch.tensor(3.0))
    method = get_weighting("dwa", num_tasks=2, temperature=2.0, window=2)
    seen = []
    for step_losses in ([4.0, 4.0], [4.0, 4.0], [2.0, 4.0], [2.0, 4.0], [1.0, 4.0], [1.0, 4.0]):
        seen.append(method.combine(torch.tensor(step_losses, requires_grad=True)))
    assert all(
        torch.equal(w, torch.ones(2)) for w in seen[:4]
    )  # two full epochs before any adaptation
    # After epochs [4, 4] and [2, 4]: task 0 halved its loss, so task 1 (not learning) gets more
    # weight.
    assert torch.allclose(
        method.weights, dwa_weights(torch.tensor([2.0, 4.0]), torch.tensor([4.0, 4.0]), 2.0)
    )
    assert method.weights[1] > method.weights[0]


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


def test_worst_case_moves_weight_to_the_largest_loss():
    method = get_weighting("worst_case", num_tasks=3, mode="exponentiated", step_size=0.5)
    for _ in range(20):
        weights = method.combine(torch.tensor([0.1, 2.0, 0.5], requires_grad=True))
    assert weights.argmax() == 1 and torch.allclose(weights.sum(), torch.tensor(3.0))
    hard = get_weighting("worst_case", num_tasks=3, mode="max")
    assert torch.equal(
        hard.combine(torch.tensor([0.1, 2.0, 0.5], requires_grad=True)),
        torch.tensor([0.0, 3.0, 0.0]),
    )
    smooth = get_weighting("worst_case", num_tasks=3, temperature=0.5)
    losses = torch.tensor([0.1, 2.0, 0.5], requires_grad=True)
    weights = smooth.combine(losses)
    assert torch.allclose(weights, 3 * torch.softmax(losses.detach() / 0.5, dim=0))
    # The gradient is that of 3 * tau * logsumexp(L / tau), the smooth maximum.
    leaf = losses.detach().clone().requires_grad_()
    (3 * 0.5 * torch.logsumexp(leaf / 0.5, dim=0)).backward()
    assert torch.allclose(losses.grad, leaf.grad)


def test_gradient_methods_accumulate_into_existing_grads():
    directions = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    theta, _, losses = linear_losses(directions)
    theta.grad = torch.tensor([10.0, 10.0])
    get_weighting("mgda", num_tasks=2).combine(losses, [theta])
    assert torch.allclose(theta.grad, torch.tensor([10.5, 10.5]))


# --- every method ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WEIGHTING))
def test_every_method_reduces_the_total_loss(name):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    targets = torch.stack(
        [x @ torch.randn(4, generator=g) for _ in range(3)], dim=1
    )  # three linear tasks
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
        weights = method.combine(losses(), list(trunk.parameters()))
        optimizer.step()
        assert weights is None or (weights.shape == (3,) and torch.isfinite(weights).all())
    assert losses().sum().item() < 0.5 * before


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
        method.combine(trunk(torch.ones(2)) ** 2, list(trunk.parameters()))
    copy.load_state_dict(method.state_dict())
    trunk.zero_grad()
    out = trunk(torch.ones(2)) ** 2
    a = method.combine(out, list(trunk.parameters()))
    b = copy.combine(trunk(torch.ones(2)) ** 2, list(trunk.parameters()))
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


def test_fit_refuses_task_sampling_with_methods_that_need_every_loss():
    from mtml_lib.data.digits import multilabel
    from mtml_lib.data.multitask import MultiTaskDataset
    from mtml_lib.models.conditioning import get_conditioning
    from mtml_lib.training import fit

    data = MultiTaskDataset.sample(multilabel(), 20, generator=0)
    model = get_conditioning("multihead", in_features=64, out_features=2, num_tasks=4)
    with pytest.raises(ValueError, match="needs every task's loss at every step; got 2"):
        fit(model, data, "mgda", steps=1, tasks_per_step=2, progress=False)
