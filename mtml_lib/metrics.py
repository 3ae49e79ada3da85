r"""Diagnostics of multi-task learning.

* :func:`gradient_cosine`: the cosine between the tasks' gradients on the shared
  parameters (negative: the tasks pull the shared weights in conflicting directions);
* :func:`delta_m`: the average relative difference of a multi-task model against
  single-task models (positive: better than single-task);
* :func:`task_affinity` and :func:`best_grouping`: TAG's inter-task affinity (one-step
  lookahead) and the task grouping it suggests;
* :func:`auc`: the area under the ROC curve (rank statistic);
* :func:`confidence_interval`: mean and 95% half-width over test episodes;
* :func:`t_interval` and :func:`paired_interval`: mean and 95% half-width over a few seeds
  (Student's t), and of the difference between two models trained from the same seeds.

Example:
    >>> import torch
    >>> theta = torch.zeros(2, requires_grad=True)
    >>> losses = torch.stack([theta @ torch.tensor([1.0, 0.0]), theta @ torch.tensor([-1.0, 0.0])])
    >>> gradient_cosine(losses, [theta])
    tensor([[ 1., -1.],
            [-1.,  1.]])
    >>> round(delta_m([0.9, 0.5], [0.8, 0.5], higher_is_better=[True, False]), 4)
    0.0625
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from ._validation import check_int, check_tensor
from .grads import per_task_gradients

__all__ = [
    "gradient_cosine",
    "delta_m",
    "task_affinity",
    "grouping_score",
    "best_grouping",
    "partitions",
    "auc",
    "confidence_interval",
    "t_quantile",
    "t_interval",
    "paired_interval",
    "bootstrap_interval",
]


def gradient_cosine(
    losses: torch.Tensor, shared_parameters: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Cosine similarity of every pair of task gradients on ``shared_parameters``: ``(T, T)``.

    ``losses`` must still hold its graph (it is differentiated, not modified). A
    task whose gradient is zero has cosine 0 with every task.
    """
    grads = per_task_gradients(losses, list(shared_parameters))  # (T, P)
    unit = grads / grads.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (unit @ unit.T).detach()


def delta_m(
    multi_task: Sequence[float], single_task: Sequence[float], *, higher_is_better: Sequence[bool]
) -> float:
    r""":math:`\Delta_m = \frac{1}{T}\sum_k (-1)^{l_k} \frac{M_{mtl,k} - M_{stl,k}}{M_{stl,k}}`.

    Sign convention: :math:`l_k = 0` when higher is better for task k's metric and 1
    otherwise, so **a positive** :math:`\Delta_m` **means the multi-task model is better**
    than the single-task models on average, a negative one means negative transfer.

    Args:
        multi_task, single_task: one metric value per task.
        higher_is_better: per task, whether a larger metric is better (accuracy, AUC) or worse
        (MSE).

    Returns:
        :math:`\Delta_m` as a fraction (multiply by 100 for percent).
    """
    if not (len(multi_task) == len(single_task) == len(higher_is_better)) or len(multi_task) == 0:
        raise ValueError(
            "`multi_task`, `single_task` and `higher_is_better` must have one entry per task; "
            f"got lengths {len(multi_task)}, {len(single_task)} and {len(higher_is_better)}."
        )
    total = 0.0
    for k, (mtl, stl, higher) in enumerate(zip(multi_task, single_task, higher_is_better)):
        if stl == 0:
            raise ValueError(f"`single_task[{k}]` must be non-zero (it divides); got {stl!r}.")
        total += (1.0 if higher else -1.0) * (mtl - stl) / stl
    return total / len(multi_task)


def task_affinity(
    losses_fn: Callable[[], torch.Tensor], shared_parameters: Sequence[torch.Tensor], *, lr: float
) -> torch.Tensor:
    r"""One-step lookahead inter-task affinity (Fifty et al., "Efficiently Identifying Task
    Groupings
    for Multi-Task Learning", NeurIPS 2021, https://arxiv.org/abs/2109.04617).

    :math:`Z_{i \to j} = 1 - \mathcal{L}_j(\theta_{|i}) / \mathcal{L}_j(\theta)`, where
    :math:`\theta_{|i}` takes one gradient step of size ``lr`` on task i's loss alone
    (on the shared parameters). Positive: a step for task i also lowers task j's loss.
    Average it over training steps (TAG does) before grouping tasks.

    Args:
        losses_fn: computes the per-task losses ``(T,)`` on a fixed batch with the current
        parameters.
        shared_parameters: the parameters stepped on (restored exactly afterwards).
        lr: the lookahead step size.

    Returns:
        ``(T, T)`` with row i the effect of task i's step on every task j.
    """
    shared = list(shared_parameters)
    losses = losses_fn()
    grads = per_task_gradients(losses, shared)  # (T, P)
    before = losses.detach()
    originals = [p.detach().clone() for p in shared]
    rows = []
    with torch.no_grad():
        for g in grads:
            offset = 0
            for p, original in zip(shared, originals):
                p.copy_(original - lr * g[offset : offset + p.numel()].view_as(p))
                offset += p.numel()
            rows.append(1.0 - losses_fn().detach() / before.clamp_min(1e-12))
        for p, original in zip(shared, originals):
            p.copy_(original)
    return torch.stack(rows)


def partitions(items: Sequence[int], max_groups: int | None = None) -> Iterator[list[list[int]]]:
    """Every partition of ``items`` into at most ``max_groups`` non-empty groups."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in partitions(rest, max_groups):
        for i in range(len(partition)):  # put `first` into an existing group
            yield partition[:i] + [[first] + partition[i]] + partition[i + 1 :]
        if max_groups is None or len(partition) < max_groups:  # or into a group of its own
            yield [[first]] + partition


def grouping_score(affinity: torch.Tensor, groups: Sequence[Sequence[int]]) -> float:
    """TAG's total affinity of a grouping: each task j receives the mean affinity
    :math:`Z_{i \\to j}` from the other tasks i of its group (0 when alone)."""
    total = 0.0
    for group in groups:
        for j in group:
            others = [i for i in group if i != j]
            if others:
                total += float(affinity[others, j].mean())
    return total


def best_grouping(affinity: torch.Tensor, *, max_groups: int) -> list[list[int]]:
    """The partition of the tasks into at most ``max_groups`` groups with the highest
    :func:`grouping_score`.

    Exhaustive search: fine for the handful of tasks a notebook uses (8 tasks: 4,140 partitions).
    """
    check_tensor("affinity", affinity, ndim=2)
    num_tasks = affinity.shape[0]
    if affinity.shape != (num_tasks, num_tasks):
        raise ValueError(f"`affinity` must be square (T, T); got shape {tuple(affinity.shape)}.")
    check_int("number of tasks", num_tasks, minimum=1, maximum=10)
    max_groups = check_int("max_groups", max_groups, minimum=1)
    best = max(
        partitions(range(num_tasks), max_groups),
        key=lambda groups: grouping_score(affinity, groups),
    )
    return sorted(sorted(group) for group in best)


def auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random
    negative (ties count one half). NaN when one class is missing.

    Example:
        >>> auc(torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1]))
        0.75
    """
    scores, labels = scores.detach().reshape(-1).double(), labels.detach().reshape(-1).bool()
    if scores.shape != labels.shape:
        raise ValueError(
            f"`scores` and `labels` must have the same length; got {scores.numel()} and "
            f"{labels.numel()}."
        )
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = torch.argsort(scores)
    sorted_scores = scores[order]
    ranks = torch.empty_like(sorted_scores)
    _, inverse, counts = torch.unique_consecutive(
        sorted_scores, return_inverse=True, return_counts=True
    )
    ends = torch.cumsum(counts, 0).double()
    average_rank = ends - (counts.double() - 1) / 2  # 1-based average rank of each tie group
    ranks[order] = average_rank[inverse]
    rank_sum = ranks[labels].sum().item()
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def confidence_interval(
    values: torch.Tensor | Sequence[float], *, z: float = 1.96
) -> tuple[float, float]:
    """Mean and half-width of the 95% confidence interval, ``z * std / sqrt(n)``, as few-shot
    papers report.

    Example:
        >>> mean, half = confidence_interval([0.8, 0.9, 1.0, 0.9])
        >>> round(mean, 3), round(half, 3)
        (0.9, 0.08)
    """
    values = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if values.numel() < 2:
        raise ValueError(f"`values` must hold at least 2 numbers; got {values.numel()}.")
    return float(values.mean()), float(z * values.std() / values.numel() ** 0.5)


def t_quantile(df: int, *, level: float = 0.95) -> float:
    """The two-sided Student-t quantile: ``t`` with P(|T| <= t) = ``level`` for ``df`` degrees of
    freedom (:data:`scipy.stats.t`'s inverse distribution function).

    Example:
        >>> round(t_quantile(9), 3), round(t_quantile(1000), 3)
        (2.262, 1.962)
    """
    from scipy import stats

    df = check_int("df", df, minimum=1)
    if not 0 < level < 1:
        raise ValueError(f"`level` must lie in (0, 1); got {level}.")
    return float(stats.t.ppf(0.5 + level / 2, df))


def t_interval(
    values: torch.Tensor | Sequence[float], *, level: float = 0.95
) -> tuple[float, float]:
    """Mean and half-width of the ``level`` confidence interval of the mean, with Student's t:
    for a handful of seeds, where ``1.96 * std / sqrt(n)`` would claim too much.

    Example:
        >>> mean, half = t_interval([0.8, 0.9, 1.0, 0.9])
        >>> round(mean, 3), round(half, 3)
        (0.9, 0.13)
    """
    values = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if values.numel() < 2:
        raise ValueError(f"`values` must hold at least 2 numbers; got {values.numel()}.")
    half = t_quantile(values.numel() - 1, level=level) * values.std() / values.numel() ** 0.5
    return float(values.mean()), float(half)


def paired_interval(
    a: torch.Tensor | Sequence[float], b: torch.Tensor | Sequence[float], *, level: float = 0.95
) -> tuple[float, float]:
    """Mean and t half-width of ``a - b`` seed by seed: the comparison of two models trained from
    the same seeds (and data), which cancels what the seed does to both.

    Example:
        >>> mean, half = paired_interval([1.0, 2.0, 3.0, 4.0], [0.9, 1.9, 2.8, 3.9])
        >>> round(mean, 3), mean - half > 0
        (0.125, True)
    """
    a, b = (torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in (a, b))
    if a.shape != b.shape:
        raise ValueError(
            f"`a` and `b` must hold one value per seed each; got {a.numel()} and {b.numel()}."
        )
    return t_interval(a - b, level=level)


def bootstrap_interval(
    statistic: Callable[..., torch.Tensor | float],
    *samples: torch.Tensor | Sequence[float],
    level: float = 0.95,
    resamples: int = 2000,
    generator: int | torch.Generator = 0,
) -> tuple[float, float, float]:
    """The statistic of ``samples`` and its percentile-bootstrap ``level`` interval, for
    statistics without a t interval (a spread, a ratio of spreads).

    :func:`scipy.stats.bootstrap` resamples the seeds with replacement, the same draw for every
    sample (``paired=True``: paired samples stay paired), ``resamples`` times; the interval holds
    the middle ``level`` of the statistic's resampled values (``method="percentile"``).

    Returns:
        ``(value, low, high)``.

    Example:
        >>> wide, narrow = torch.arange(32.0), torch.arange(32.0) / 4
        >>> value, low, high = bootstrap_interval(lambda a, b: a.std() / b.std(), wide, narrow)
        >>> round(value, 3), low > 1
        (4.0, True)
    """
    from scipy import stats

    if not samples:
        raise ValueError("`samples` must hold at least one sample; got none.")
    samples = tuple(torch.as_tensor(s, dtype=torch.float64).reshape(-1) for s in samples)
    n = samples[0].numel()
    if n < 2 or any(s.numel() != n for s in samples):
        raise ValueError(
            "`samples` must hold at least 2 values each, one per seed, as many in every sample; "
            f"got {[s.numel() for s in samples]}."
        )
    if not 0 < level < 1:
        raise ValueError(f"`level` must lie in (0, 1); got {level}.")
    check_int("resamples", resamples, minimum=100)
    if isinstance(generator, torch.Generator):
        generator = int(torch.randint(2**62, (1,), generator=generator))
    with warnings.catch_warnings():
        # a statistic undefined on some resamples (a spread of 0 in a ratio) gives an interval
        # of nan, as the statistic itself would be: returned as it is, not warned about
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        interval = stats.bootstrap(
            tuple(s.numpy() for s in samples),
            lambda *arrays: float(statistic(*(torch.from_numpy(a) for a in arrays))),
            n_resamples=resamples,
            confidence_level=level,
            method="percentile",
            paired=True,
            vectorized=False,
            rng=np.random.default_rng(generator),
        ).confidence_interval
    low, high = interval.low, interval.high
    return float(statistic(*samples)), float(low), float(high)
