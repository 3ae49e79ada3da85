"""Diagnostics of multi-task learning and meta-testing, against hand computations."""

import math

import pytest
import torch
from torch import nn

from mtml_lib.metrics import (
    auc,
    best_grouping,
    confidence_interval,
    delta_m,
    gradient_cosine,
    grouping_score,
    partitions,
    task_affinity,
)


def test_gradient_cosine_against_a_hand_computation():
    theta = nn.Parameter(torch.zeros(3))
    a, b, c = (
        torch.tensor([1.0, 2.0, 0.0]),
        torch.tensor([-2.0, 1.0, 1.0]),
        torch.tensor([0.0, 0.0, 5.0]),
    )
    losses = torch.stack([a @ theta, b @ theta, c @ theta])
    cosine = gradient_cosine(losses, [theta])
    expected = torch.tensor(
        [
            [1.0, (a @ b) / (a.norm() * b.norm()), 0.0],
            [(a @ b) / (a.norm() * b.norm()), 1.0, (b @ c) / (b.norm() * c.norm())],
            [0.0, (b @ c) / (b.norm() * c.norm()), 1.0],
        ]
    )
    assert torch.allclose(cosine, expected, atol=1e-6)
    assert theta.grad is None  # a diagnostic: it leaves the training gradients alone


def test_gradient_cosine_of_a_task_without_gradient_is_zero():
    theta = nn.Parameter(torch.ones(2))
    losses = torch.stack([theta.sum(), torch.tensor(3.0)])
    assert torch.equal(gradient_cosine(losses, [theta])[0, 1], torch.tensor(0.0))


def test_delta_m_sign_convention():
    # accuracy up 10% on task 1 (higher is better), MSE up 10% on task 2 (lower is better): they
    # cancel.
    assert delta_m([0.88, 1.1], [0.8, 1.0], higher_is_better=[True, False]) == pytest.approx(0.0)
    # lower MSE: positive
    assert delta_m([0.9], [1.0], higher_is_better=[False]) == pytest.approx(0.1)
    # negative transfer
    assert delta_m([1.2], [1.0], higher_is_better=[False]) == pytest.approx(-0.2)
    with pytest.raises(ValueError, match="one entry per task"):
        delta_m([1.0], [1.0, 2.0], higher_is_better=[True])
    with pytest.raises(ValueError, match="non-zero"):
        delta_m([1.0], [0.0], higher_is_better=[True])


def test_auc_against_the_pairwise_definition():
    g = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 5, (60,), generator=g).float()  # many ties
    labels = torch.randint(0, 2, (60,), generator=g)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]).float() + 0.5 * (pos[:, None] == neg[None, :]).float()
    assert auc(scores, labels) == pytest.approx(pairs.mean().item())
    assert math.isnan(auc(torch.ones(3), torch.ones(3)))


def test_task_affinity_is_a_one_step_lookahead():
    theta = torch.nn.Parameter(torch.tensor([1.0, 1.0]))

    def losses():  # task 0 and 1 both want theta[0] = 0; task 2 wants theta[0] = 2
        return torch.stack([theta[0] ** 2, theta[0] ** 2 + theta[1] ** 2, (theta[0] - 2) ** 2])

    before = losses().detach()
    z = task_affinity(losses, [theta], lr=0.1)
    # by hand: a step on task 0 moves theta[0] from 1 to 0.8
    after = torch.tensor([0.8**2, 0.8**2 + 1.0, 1.2**2])
    assert torch.allclose(z[0], 1 - after / before)
    assert z[0, 1] > 0 and z[0, 2] < 0 and z[2, 0] < 0
    assert torch.equal(theta.detach(), torch.tensor([1.0, 1.0]))  # restored


def test_partitions_and_best_grouping():
    assert len(list(partitions(range(4)))) == 15  # Bell(4)
    assert (
        all(len(p) <= 2 for p in partitions(range(5), 2))
        and len(list(partitions(range(5), 2))) == 16
    )
    affinity = torch.tensor(
        [
            [0.0, 0.5, -0.2, -0.3],
            [0.4, 0.0, -0.1, -0.2],
            [-0.3, -0.2, 0.0, 0.6],
            [-0.1, -0.3, 0.5, 0.0],
        ]
    )
    assert best_grouping(affinity, max_groups=2) == [[0, 1], [2, 3]]
    assert grouping_score(affinity, [[0, 1], [2, 3]]) == pytest.approx(0.4 + 0.5 + 0.5 + 0.6)
    with pytest.raises(ValueError, match="square"):
        best_grouping(torch.zeros(2, 3), max_groups=2)


def test_confidence_interval():
    values = torch.tensor([0.5, 0.7, 0.9, 0.7])
    mean, half = confidence_interval(values)
    assert mean == pytest.approx(0.7)
    assert half == pytest.approx(1.96 * values.std().item() / 2)
    with pytest.raises(ValueError, match="at least 2"):
        confidence_interval([0.5])


def test_t_quantile_and_interval_against_scipy():
    from scipy import stats

    from mtml_lib.metrics import paired_interval, t_interval, t_quantile

    # the printed tables' two-sided 95% values (Student's t, 6 decimals)
    table = {1: 12.706205, 2: 4.302653, 3: 3.182446, 9: 2.262157, 30: 2.042272, 1000: 1.962339}
    for df, value in table.items():
        assert t_quantile(df) == pytest.approx(value, abs=1e-6), df
    assert t_quantile(9, level=0.9) == pytest.approx(1.833113, abs=1e-6)
    with pytest.raises(ValueError, match=r"`level` must lie in \(0, 1\); got 1.5"):
        t_quantile(9, level=1.5)
    values = torch.tensor([0.3, 0.5, 0.4, 0.9, 0.1])
    mean, half = t_interval(values)
    low, high = stats.t.interval(0.95, 4, loc=values.mean(), scale=stats.sem(values.numpy()))
    assert mean == pytest.approx(float(values.mean())) and half == pytest.approx((high - low) / 2)
    # a paired comparison sees a consistent small gain that the two separate intervals hide
    a = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    gain, gain_half = paired_interval(a + 0.1, a)
    assert gain == pytest.approx(0.1) and gain_half < 1e-9
    with pytest.raises(ValueError, match="one value per seed each"):
        paired_interval([1.0, 2.0], [1.0])


def test_bootstrap_interval_covers_and_pairs():
    from scipy import stats

    from mtml_lib.metrics import bootstrap_interval, t_interval

    # the mean: close to the t interval of a normal sample
    values = torch.randn(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    value, low, high = bootstrap_interval(torch.mean, values)
    mean, half = t_interval(values)
    assert value == pytest.approx(mean)
    assert low == pytest.approx(mean - half, abs=0.04) and high == pytest.approx(
        mean + half, abs=0.04
    )
    # a ratio of spreads: 4 times wider, interval above 1; scipy's own bootstrap agrees
    rng = torch.Generator().manual_seed(1)
    wide, narrow = 4 * torch.randn(32, generator=rng), torch.randn(32, generator=rng)
    ratio = lambda a, b: a.std() / b.std()  # noqa: E731
    value, low, high = bootstrap_interval(ratio, wide, narrow, resamples=4000)
    reference = stats.bootstrap(
        (wide.numpy(), narrow.numpy()),
        lambda a, b: a.std(ddof=1) / b.std(ddof=1),
        paired=True,
        vectorized=False,
        method="percentile",
        n_resamples=4000,
        random_state=0,
    ).confidence_interval
    assert 1 < low < value < high
    assert low == pytest.approx(reference.low, rel=0.1) and high == pytest.approx(
        reference.high, rel=0.1
    )
    # paired: the same draw for every sample, so a difference of equal samples is exactly 0
    same = bootstrap_interval(lambda a, b: (a - b).abs().max(), wide, wide.clone())
    assert same == (0.0, 0.0, 0.0)
    # deterministic for a seed
    assert bootstrap_interval(ratio, wide, narrow) == bootstrap_interval(ratio, wide, narrow)


@pytest.mark.parametrize(
    ("samples", "options", "match"),
    [
        ((), {}, "at least one sample"),
        (([1.0],), {}, "at least 2 values"),
        (([1.0, 2.0], [1.0, 2.0, 3.0]), {}, "as many in every sample"),
        (([1.0, 2.0],), {"level": 1.0}, "`level` must lie in"),
        (([1.0, 2.0],), {"resamples": 10}, "resamples"),
    ],
)
def test_bootstrap_interval_refuses_bad_input(samples, options, match):
    from mtml_lib.metrics import bootstrap_interval

    with pytest.raises(ValueError, match=match):
        bootstrap_interval(torch.mean, *samples, **options)


def test_bootstrap_interval_of_an_undefined_statistic_is_nan_without_a_warning():
    import warnings

    from mtml_lib.metrics import bootstrap_interval

    flat = torch.zeros(8)  # a ratio of its spread to itself is 0 / 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, low, high = bootstrap_interval(lambda a: a.std() / a.std(), flat)
    assert math.isnan(value) and math.isnan(low) and math.isnan(high)
