"""Procedural multi-task families with a controlled relation between the tasks (no download).

The sinusoid families (MAML's, and related sinusoids) are in :mod:`mtml_lib.data.sinusoids`.

* GradNorm's toy (:func:`loss_scale_toy`): tasks that differ mainly in the scale
  of their targets, hence of their losses.
* The MMoE paper's regression tasks (:func:`mmoe_correlated`), with a controlled
  correlation between the tasks.

Example:
    >>> tasks = mmoe_correlated(0.5, in_features=10, generator=0)
    >>> [t.name for t in tasks]
    ['task 1', 'task 2']
"""

from __future__ import annotations

import torch

from .._validation import check_float, check_int
from ..seeding import make_generator
from ..tasks import MSE, Task

__all__ = [
    "loss_scale_toy",
    "mmoe_correlated",
    "mmoe_weight_vectors",
    "label_correlation",
]


def loss_scale_toy(
    sigmas=(1.0, 100.0),
    *,
    in_features: int = 250,
    out_features: int = 100,
    generator: int | torch.Generator | None = 0,
) -> list[Task]:
    """GradNorm's toy (Chen et al., 2018, section 4): ``y_i = sigma_i tanh((B + eps_i) x)``.

    ``B`` (out x in) has entries from N(0, 10^2) shared by all tasks, ``eps_i`` entries
    from N(0, 3.5^2) per task, and ``x`` is uniform in [-1, 1]^in scaled to unit
    length. The tasks are alike apart from ``sigma_i``, so their squared-error
    losses differ by a factor of about ``sigma_i^2``: with equal weights, the task of
    largest scale dominates the shared layers.

    Args:
        sigmas: one output scale per task.
        in_features, out_features: 250 and 100 in the paper.
        generator: seeds ``B`` and the ``eps_i`` (the task family itself).
    """
    if isinstance(sigmas, (int, float)) or len(sigmas) < 1:
        raise ValueError(f"`sigmas` must be a non-empty sequence of scales; got {sigmas!r}.")
    sigmas = [
        check_float(f"sigmas[{i}]", s, minimum=0.0, strict_minimum=True)
        for i, s in enumerate(sigmas)
    ]
    in_features = check_int("in_features", in_features, minimum=1)
    out_features = check_int("out_features", out_features, minimum=1)
    generator = make_generator(generator)
    base = 10.0 * torch.randn(out_features, in_features, generator=generator)

    def sample_x(n: int, g: torch.Generator) -> torch.Tensor:
        x = 2 * torch.rand(n, in_features, generator=g) - 1
        return x / x.norm(dim=1, keepdim=True)

    tasks = []
    for sigma in sigmas:
        matrix = base + 3.5 * torch.randn(out_features, in_features, generator=generator)

        def sample_y(x: torch.Tensor, g: torch.Generator, m=matrix, s=sigma) -> torch.Tensor:
            return s * torch.tanh(x @ m.T)

        tasks.append(
            Task(
                name=f"sigma={sigma:g}",
                sample_x=sample_x,
                sample_y=sample_y,
                loss=MSE,
                out_features=out_features,
            )
        )
    return tasks


def _psd_cholesky(matrix: torch.Tensor) -> torch.Tensor:
    """Lower-triangular L with L L^T = matrix,
    for a positive semi-definite matrix (singular allowed).
    """
    n = matrix.shape[0]
    lower = torch.zeros_like(matrix)
    for j in range(n):
        pivot = matrix[j, j] - (lower[j, :j] ** 2).sum()
        lower[j, j] = pivot.clamp_min(0).sqrt()
        for i in range(j + 1, n):
            off = matrix[i, j] - (lower[i, :j] * lower[j, :j]).sum()
            lower[i, j] = off / lower[j, j] if lower[j, j] > 1e-7 else 0.0
    if not torch.allclose(lower @ lower.T, matrix, atol=1e-5):
        raise ValueError(
            "`correlation` must be a positive semi-definite matrix with ones on the diagonal."
        )
    return lower


def _mmoe_parameters(correlation, in_features: int, scale: float, num_sines: int, generator):
    if isinstance(correlation, torch.Tensor) and correlation.ndim == 2:
        cosines = correlation.double()
    else:
        p = check_float("correlation", correlation, minimum=-1.0, maximum=1.0)
        cosines = torch.tensor([[1.0, p], [p, 1.0]], dtype=torch.double)
    num_tasks = cosines.shape[0]
    if cosines.shape != (num_tasks, num_tasks) or not torch.allclose(
        cosines.diagonal(), torch.ones(num_tasks, dtype=torch.double)
    ):
        raise ValueError(
            f"`correlation` must be a (T, T) matrix with ones on the diagonal; got {correlation!r}."
        )
    in_features = check_int("in_features", in_features, minimum=num_tasks)
    scale = check_float("scale", scale, minimum=0.0, strict_minimum=True)
    num_sines = check_int("num_sines", num_sines, minimum=0)
    generator = make_generator(generator)
    # (d, T)
    basis, _ = torch.linalg.qr(
        torch.randn(in_features, num_tasks, generator=generator, dtype=torch.double)
    )
    # (d, T): w_k . w_j = c^2 cosines[k, j]
    weights = (scale * basis @ _psd_cholesky(cosines).T).float()
    alpha = torch.randn(num_sines, generator=generator)
    beta = torch.randn(num_sines, generator=generator)
    return weights, alpha, beta


def mmoe_weight_vectors(
    correlation,
    *,
    in_features: int = 100,
    scale: float = 0.3,
    num_sines: int = 5,
    generator: int | torch.Generator | None = 0,
) -> torch.Tensor:
    """The vectors :math:`w_k` (columns, ``(d,
    T)``) behind :func:`mmoe_correlated` with the same arguments.
    """
    return _mmoe_parameters(correlation, in_features, scale, num_sines, generator)[0]


def mmoe_correlated(
    correlation,
    *,
    in_features: int = 100,
    scale: float = 0.3,
    num_sines: int = 5,
    noise: float = 0.01,
    generator: int | torch.Generator | None = 0,
) -> list[Task]:
    """The synthetic regression tasks of the MMoE paper (Ma et al., KDD 2018, section 3.2).

    With orthogonal unit vectors :math:`u_1, u_2` and :math:`w_1 = c\\,u_1`,
    :math:`w_2 = c\\,(p\\,u_1 + \\sqrt{1-p^2}\\,u_2)`, inputs :math:`x \\sim N(0, I_d)` and

    .. math:: y_k = w_k^\\top x + \\sum_{i=1}^{m} \\sin(\\alpha_i w_k^\\top x + \\beta_i) +
    \\epsilon_k,

    with :math:`\\alpha_i, \\beta_i \\sim N(0, 1)` shared by the tasks and
    :math:`\\epsilon_k \\sim N(0, \\text{noise}^2)`. The cosine of :math:`w_1, w_2` is :math:`p`
    (:func:`mmoe_weight_vectors`); the Pearson correlation of the labels is close to,
    but not exactly, :math:`p`: the sine terms share :math:`\\beta` and bend it (measure
    it with :func:`label_correlation`).

    Our choices, where the paper leaves them open: ``d = 100``, ``c = 0.3``,
    ``m = 5``, noise standard deviation 0.01.

    Args:
        correlation: ``p`` in [-1, 1] for two tasks, or a ``(T, T)`` matrix of the cosines
            between the :math:`w_k` (positive semi-definite, ones on the diagonal) for T tasks.
        in_features: d.
        scale: c.
        num_sines: m.
        noise: label noise standard deviation.
        generator: seeds the task family (the :math:`u`, :math:`\\alpha`, :math:`\\beta`).
    """
    weights, alpha, beta = _mmoe_parameters(correlation, in_features, scale, num_sines, generator)
    noise = check_float("noise", noise, minimum=0.0)
    d = weights.shape[0]

    def sample_x(n: int, g: torch.Generator) -> torch.Tensor:
        return torch.randn(n, d, generator=g)

    tasks = []
    for k in range(weights.shape[1]):

        def sample_y(x: torch.Tensor, g: torch.Generator, w=weights[:, k]) -> torch.Tensor:
            projection = x @ w  # (n,)
            # (n,)
            y = projection + torch.sin(alpha[None, :] * projection[:, None] + beta[None, :]).sum(
                dim=1
            )
            if noise > 0:
                y = y + noise * torch.randn(y.shape, generator=g)
            return y.unsqueeze(1)  # (n, 1)

        tasks.append(
            Task(
                name=f"task {k + 1}", sample_x=sample_x, sample_y=sample_y, loss=MSE, out_features=1
            )
        )
    return tasks


def label_correlation(
    tasks: list[Task], *, n: int = 20000, generator: int | torch.Generator | None = 0
) -> torch.Tensor:
    """The Pearson correlation matrix ``(T, T)`` of the tasks'
    labels on shared inputs (tasks sharing p(x)).
    """
    generator = make_generator(generator)
    x = tasks[0].sample_x(n, generator)
    labels = torch.stack([t.sample_y(x, generator)[:, 0] for t in tasks])
    return torch.corrcoef(labels)
