r"""Comparing runs the way the course teaches: keep every value, pair what was measured on the
same seeds and episodes, claim "as good as" only with an equivalence margin, and correct a
family of conclusions drawn from the same runs.

* :class:`Estimate`: a mean and its 95% half-width that also keeps the values it came from (what
  :func:`mtml_lib.training.meta_test` returns; it unpacks to ``(mean, half_width)``);
* :func:`paired_test`: the difference ``a - b`` measured on the same units (seeds, episodes),
  its t interval, and the paired t-test's or Wilcoxon's signed-rank p-value (scipy's);
* :func:`equivalence_test`: two one-sided paired tests (TOST) of ``|a - b| < margin``;
* :func:`holm`: Holm's step-down adjusted p-values for a family of tests;
* :func:`compare_family`: a family of paired comparisons drawn from the same runs, each tested
  and all decided together (Holm).

Example:
    >>> a = [0.71, 0.74, 0.69, 0.73, 0.75, 0.70]
    >>> b = [0.66, 0.70, 0.66, 0.69, 0.70, 0.67]
    >>> result = paired_test(a, b)
    >>> round(result.difference, 3), result.p_value < 0.01
    (0.04, True)
    >>> equivalence_test(a, b, margin=0.01).equivalent
    False
    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03, 0.005])]
    [0.03, 0.06, 0.06, 0.02]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import NamedTuple

import torch

from .metrics import confidence_interval, t_interval

__all__ = [
    "Estimate",
    "PairedTest",
    "Equivalence",
    "Decision",
    "paired_test",
    "equivalence_test",
    "holm",
    "compare_family",
]

Values = torch.Tensor | Sequence[float]


class Estimate(tuple):
    """``(mean, half_width)`` of the 95% interval of ``values`` (``1.96 * std / sqrt(n)``, as
    few-shot papers report over test episodes), with the values kept for paired comparisons.

    Example:
        >>> estimate = Estimate([0.8, 0.9, 1.0, 0.9])
        >>> mean, half = estimate
        >>> round(mean, 3), round(half, 3), len(estimate.values)
        (0.9, 0.08, 4)
    """

    values: torch.Tensor

    def __new__(cls, values: Values):
        values = torch.as_tensor(values, dtype=torch.float64).reshape(-1).cpu()
        estimate = super().__new__(cls, confidence_interval(values))
        estimate.values = values
        return estimate

    @property
    def mean(self) -> float:
        return self[0]

    @property
    def half_width(self) -> float:
        return self[1]


class PairedTest(NamedTuple):
    difference: float  # the mean of a - b
    half_width: float  # of its 95% t interval
    p_value: float  # two-sided, of "no difference"
    n: int  # paired units
    test: str  # "t" or "wilcoxon"


class Decision(NamedTuple):
    test: PairedTest  # of a - b
    adjusted_p: float  # Holm-adjusted over the family
    below: bool  # a is below b: a negative difference, adjusted_p < alpha
    above: bool  # a is above b: a positive difference, adjusted_p < alpha


class Equivalence(NamedTuple):
    difference: float  # the mean of a - b
    low: float  # its 90% t interval (TOST at 5% rejects both one-sided nulls iff it lies
    high: float  # inside (-margin, margin))
    p_value: float  # the larger of the two one-sided p-values
    margin: float
    equivalent: bool  # p_value < alpha


def _pairs(a: Values, b: Values) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = (torch.as_tensor(v, dtype=torch.float64).reshape(-1).cpu() for v in (a, b))
    if a.shape != b.shape or a.numel() < 2:
        raise ValueError(
            "`a` and `b` must hold the same units (seeds or episodes), at least 2 each; "
            f"got {a.numel()} and {b.numel()}."
        )
    return a, b


def _no_spread(d: torch.Tensor) -> bool:
    """Whether the differences are one value (to rounding): SciPy's t-tests then lose all
    precision (and warn); the statistic is infinite, or 0/0 when the value is 0."""
    return bool(torch.allclose(d, d.mean().expand_as(d), rtol=1e-9, atol=1e-12))


def paired_test(a: Values, b: Values, *, test: str = "t") -> PairedTest:
    """``a - b`` on paired units, its 95% t interval, and the two-sided p-value of the paired
    t-test (``test="t"``, :func:`scipy.stats.ttest_rel`) or of Wilcoxon's signed-rank test
    (``test="wilcoxon"``, :func:`scipy.stats.wilcoxon`; for per-episode accuracies far from
    normal).

    Raises:
        ValueError: when ``a`` and ``b`` differ in length, hold fewer than 2 values, or
            ``test`` is unknown.
    """
    from scipy import stats

    a, b = _pairs(a, b)
    if test not in ("t", "wilcoxon"):
        raise ValueError(f"`test` must be one of ['t', 'wilcoxon']; got {test!r}.")
    difference, half = t_interval(a - b)
    if bool(torch.all(a == b)):
        p_value = 1.0
    elif test == "t" and _no_spread(a - b):  # t is infinite: no run-to-run variation to test
        p_value = 0.0
    elif test == "t":
        p_value = float(stats.ttest_rel(a.numpy(), b.numpy()).pvalue)
    else:
        p_value = float(stats.wilcoxon(a.numpy(), b.numpy()).pvalue)
    return PairedTest(difference, half, p_value, a.numel(), test)


def equivalence_test(a: Values, b: Values, *, margin: float, alpha: float = 0.05) -> Equivalence:
    """Two one-sided paired t-tests (TOST) of ``-margin < mean(a - b) < margin``: equivalent at
    level ``alpha`` when both one-sided nulls are rejected, i.e. the ``1 - 2 alpha`` t interval
    of the difference lies inside the margin. The margin is stated before the run.

    Raises:
        ValueError: for unpaired inputs, a margin that is not positive, or ``alpha`` outside
            (0, 0.5).
    """
    from scipy import stats

    a, b = _pairs(a, b)
    if not margin > 0:
        raise ValueError(f"`margin` must be positive; got {margin}.")
    if not 0 < alpha < 0.5:
        raise ValueError(f"`alpha` must lie in (0, 0.5); got {alpha}.")
    if _no_spread(a - b):  # the same difference in every unit: inside the margin or not
        difference = float((a - b).mean())
        inside = abs(difference) < margin
        return Equivalence(
            difference, difference, difference, 0.0 if inside else 1.0, margin, inside
        )
    d = (a - b).numpy()
    above = stats.ttest_1samp(d, -margin, alternative="greater").pvalue
    below = stats.ttest_1samp(d, margin, alternative="less").pvalue
    n = len(d)
    difference = float(d.mean())
    half = float(stats.t.ppf(1 - alpha, n - 1) * d.std(ddof=1) / n**0.5)  # exact: TOST's dual
    p_value = float(max(above, below))
    return Equivalence(
        difference, difference - half, difference + half, p_value, margin, p_value < alpha
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the k-th smallest of m is
    multiplied by ``m - k + 1``, made non-decreasing, and capped at 1. Rejecting where the
    adjusted value is below ``alpha`` keeps the chance of any false claim in the family at most
    ``alpha``.

    Raises:
        ValueError: when a p-value lies outside [0, 1] or there is none.
    """
    p_values = [float(p) for p in p_values]
    if not p_values or not all(0 <= p <= 1 for p in p_values):
        raise ValueError(f"`p_values` must be one or more numbers in [0, 1]; got {p_values}.")
    m = len(p_values)
    order = sorted(range(m), key=p_values.__getitem__)
    adjusted, running = [0.0] * m, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def compare_family(
    comparisons: Mapping[Hashable, tuple[Values, Values]], *, alpha: float = 0.05, test: str = "t"
) -> dict[Hashable, Decision]:
    """Decide a family of paired comparisons drawn from the same runs together: each
    ``key: (a, b)`` gets :func:`paired_test` (``test``), the p-values are adjusted by
    :func:`holm`, and ``below`` / ``above`` say where ``a`` lies against ``b`` at family-wise
    error ``alpha``.

    Example:
        >>> family = compare_family(
        ...     {"x": ([1.0, 1.1, 1.2], [2.0, 2.2, 2.1]), "y": ([1, 2], [2, 1])}
        ... )
        >>> family["x"].below, family["y"].below, family["y"].above
        (True, False, False)

    Raises:
        ValueError: for an empty family, ``alpha`` outside (0, 1), or what :func:`paired_test`
            refuses.
    """
    if not comparisons:
        raise ValueError("`comparisons` must hold one or more (a, b) pairs; got none.")
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie in (0, 1); got {alpha}.")
    tests = {key: paired_test(a, b, test=test) for key, (a, b) in comparisons.items()}
    adjusted = holm([result.p_value for result in tests.values()])
    return {
        key: Decision(
            result, p, result.difference < 0 and p < alpha, result.difference > 0 and p < alpha
        )
        for (key, result), p in zip(tests.items(), adjusted, strict=True)
    }
