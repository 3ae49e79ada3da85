"""mtml_lib.stats against scipy and against the definitions: paired tests, TOST and Holm."""

import random

import pytest
import torch
from scipy import stats as scipy_stats

from mtml_lib.metrics import confidence_interval
from mtml_lib.stats import Estimate, compare_family, equivalence_test, holm, paired_test


def test_an_estimate_unpacks_to_the_interval_and_keeps_its_values():
    values = torch.rand(50, generator=torch.Generator().manual_seed(0))
    estimate = Estimate(values)
    mean, half = estimate
    assert (mean, half) == confidence_interval(values)
    assert (estimate.mean, estimate.half_width) == (mean, half)
    assert torch.equal(estimate.values, values.double())


def test_the_paired_test_is_scipys():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(40, generator=g)
    b = a - 0.02 + 0.05 * torch.randn(40, generator=g)
    result = paired_test(a, b)
    assert result.p_value == pytest.approx(scipy_stats.ttest_rel(a.numpy(), b.numpy()).pvalue)
    d = (a - b).double().numpy()
    half = scipy_stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / len(d) ** 0.5
    assert result.difference == pytest.approx(d.mean()) and result.half_width == pytest.approx(
        half, rel=2e-3
    )
    signed_rank = paired_test(a, b, test="wilcoxon")
    expected = scipy_stats.wilcoxon(a.numpy(), b.numpy()).pvalue
    assert signed_rank.p_value == pytest.approx(expected) and signed_rank.test == "wilcoxon"
    assert paired_test(a, a).p_value == 1.0


def test_pairing_sees_what_unpaired_intervals_miss():
    """Seeds move both models a lot, one model is always a little better: the unpaired 95%
    intervals overlap, the paired test is sure."""
    g = torch.Generator().manual_seed(2)
    seed_effect = 0.2 * torch.randn(8, generator=g)
    a = 0.7 + seed_effect + 0.01 * torch.randn(8, generator=g) + 0.03
    b = 0.7 + seed_effect + 0.01 * torch.randn(8, generator=g)
    (ma, ha), (mb, hb) = confidence_interval(a), confidence_interval(b)
    assert ma - ha < mb + hb  # the intervals overlap
    assert paired_test(a, b).p_value < 0.001


def test_equivalence_needs_the_interval_inside_the_margin():
    g = torch.Generator().manual_seed(3)
    a = torch.rand(600, generator=g)
    close = a + 0.002 * torch.randn(600, generator=g)
    result = equivalence_test(a, close, margin=0.01)
    assert result.equivalent and -0.01 < result.low < result.high < 0.01
    # TOST's duality: equivalent at 5% exactly when the 90% interval lies inside the margin
    for shift in (0.0, 0.004, 0.008, 0.009, 0.0095, 0.012, 0.02):
        result = equivalence_test(a + shift, close, margin=0.01)
        assert result.equivalent == (result.low > -0.01 and result.high < 0.01), shift
    assert not equivalence_test(a + 0.02, close, margin=0.01).equivalent  # the flip
    # a tiny sample is not "as good as" anything, however close
    assert not equivalence_test([0.5, 0.6, 0.7], [0.51, 0.58, 0.71], margin=0.01).equivalent


def holm_rejects(p_values, alpha):
    """Holm's sequential procedure as written: visit the p-values from the smallest; reject
    while p_(k) <= alpha / (m - k + 1), stop at the first that is not."""
    m, rejected = len(p_values), set()
    for rank, index in enumerate(sorted(range(m), key=p_values.__getitem__)):
        if p_values[index] > alpha / (m - rank):
            break
        rejected.add(index)
    return rejected


def test_holm_is_the_step_down_procedure():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == [0.5] and holm([0.6, 0.9]) == [1.0, 1.0]
    rng = random.Random(4)
    for _ in range(200):
        p_values = [rng.random() ** 3 for _ in range(rng.randint(1, 9))]
        adjusted = holm(p_values)
        for alpha in (0.01, 0.05, 0.1):
            assert {i for i, p in enumerate(adjusted) if p <= alpha} == holm_rejects(
                p_values, alpha
            )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: paired_test([1.0, 2.0], [1.0]), "`a` and `b` must hold the same units"),
        (lambda: paired_test([1.0, 2.0], [1.0, 3.0], test="z"), "`test` must be one of"),
        (lambda: equivalence_test([1.0, 2.0], [1.0, 2.0], margin=0), "`margin` must be positive"),
        (
            lambda: equivalence_test([1.0, 2.0], [1.0, 2.0], margin=1, alpha=0.5),
            r"`alpha` must lie in \(0, 0.5\)",
        ),
        (lambda: holm([0.2, 1.5]), r"`p_values` must be one or more numbers in \[0, 1\]"),
        (lambda: holm([]), "`p_values` must be one or more"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_family_is_decided_together():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(12, generator=g, dtype=torch.float64)
    comparisons = {
        "clear": (base, base + 1.0 + 0.01 * torch.randn(12, generator=g, dtype=torch.float64)),
        "none": (base, base + 0.3 * torch.randn(12, generator=g, dtype=torch.float64)),
        "above": (base + 0.5 + 0.01 * torch.randn(12, generator=g, dtype=torch.float64), base),
    }
    family = compare_family(comparisons)
    assert family["clear"].below and not family["clear"].above
    assert family["above"].above and not family["above"].below
    assert not family["none"].below and not family["none"].above
    # the same p-values as the tests one by one, adjusted as holm() adjusts them
    alone = [paired_test(a, b).p_value for a, b in comparisons.values()]
    assert [d.adjusted_p for d in family.values()] == pytest.approx(holm(alone))


def test_a_bad_family_is_refused():
    with pytest.raises(ValueError, match="`comparisons` must hold one or more"):
        compare_family({})
    with pytest.raises(ValueError, match=r"`alpha` must lie in \(0, 1\)"):
        compare_family({"x": ([1.0, 2.0], [2.0, 3.5])}, alpha=1.5)


def test_the_same_difference_in_every_unit_is_decided_without_scipys_precision_warning():
    """Two runs that differ from a baseline by the same amount (the baseline one result shared by
    every run, the runs' means equal): the t statistic is infinite, which SciPy computes with a
    'catastrophic cancellation' warning on stderr. The test decides it without SciPy."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shifted = paired_test([0.5, 0.7, 0.9], [0.3, 0.5, 0.7])  # 0.2 each, to rounding
        same = paired_test([0.5, 0.5], [0.5, 0.5])
        inside = equivalence_test([0.5, 0.7], [0.49, 0.69], margin=0.02)
        outside = equivalence_test([0.5, 0.7], [0.45, 0.65], margin=0.02)
    assert shifted.p_value == 0.0 and abs(shifted.difference - 0.2) < 1e-12
    assert same.p_value == 1.0
    assert inside.equivalent and not outside.equivalent
    assert (inside.low, inside.high) == (inside.difference, inside.difference)
    # a real spread still goes to SciPy
    spread = paired_test([0.5, 0.7, 0.9], [0.3, 0.6, 0.7])
    assert 0 < spread.p_value < 1
