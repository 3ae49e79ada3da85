"""The exact simplex solvers of MGDA and CAGrad, against an independent reference solve.

The reference is SciPy's SLSQP on the same problem, scaled to unit size and started from the
uniform weights and near every vertex (the best of those runs), its result projected back onto
the simplex.
"""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from mtml_lib.weighting.cagrad import cagrad
from mtml_lib.weighting.mgda import min_norm_weights
from mtml_lib.weighting.simplex import cagrad_weights, simplex_qp


def _slsqp(objective, gradient, T):
    best = None
    for start in [np.full(T, 1.0 / T), *(0.9 * np.eye(T)[i] + 0.1 / T for i in range(T))]:
        result = minimize(
            objective,
            start,
            jac=gradient,
            bounds=[(0, 1)] * T,
            method="SLSQP",
            constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
            options={"ftol": 1e-15, "maxiter": 2000},
        )
        w = np.clip(result.x, 0, None) / np.clip(result.x, 0, None).sum()
        best = w if best is None or objective(w) < objective(best) else best
    return best


def _problems(count=40, seed=0):
    """Random gradients in R^20, T = 2..8, norms up to 100x apart, half with a conflicting pair."""
    g = torch.Generator().manual_seed(seed)
    for trial in range(count):
        T = 2 + trial % 7
        grads = torch.randn(T, 20, generator=g, dtype=torch.float64)
        if trial % 2:
            grads[1] = -0.7 * grads[0] + 0.3 * torch.randn(20, generator=g, dtype=torch.float64)
        norms = torch.logspace(0, 2, T, dtype=torch.float64)[torch.randperm(T, generator=g)]
        yield grads / grads.norm(dim=1, keepdim=True) * norms[:, None]


def _cos(a, b):
    return float(a @ b / (a.norm() * b.norm()))


def test_mgda_finds_the_min_norm_point_of_scaled_conflicting_gradients():
    for grads in _problems():
        Q = (grads @ grads.T).numpy()
        Q1 = Q / np.abs(Q).max()
        reference = torch.tensor(
            _slsqp(lambda w, Q1=Q1: w @ Q1 @ w, lambda w, Q1=Q1: 2 * Q1 @ w, len(Q))
        )
        ours = min_norm_weights(grads)
        w, w_ref = ours.numpy(), reference.numpy()
        assert w @ Q @ w <= w_ref @ Q @ w_ref + 1e-9 * Q.max()
        d, d_ref = ours @ grads, reference @ grads
        # a cosine of near-zero vectors means nothing
        if d_ref.norm() > 1e-3 * grads.norm(dim=1).max():
            assert _cos(d, d_ref) >= 0.999999


@pytest.mark.parametrize("c", [0.2, 0.5, 0.9])
def test_cagrad_matches_the_reference_direction(c):
    for grads in _problems(seed=int(10 * c)):
        Q = (grads @ grads.T).numpy()
        Q1 = Q / np.abs(Q).max()
        mean = np.full(len(Q), 1.0 / len(Q))
        rho = c * np.sqrt(mean @ Q1 @ mean)

        def objective(w, Q1=Q1, mean=mean, rho=rho):
            return w @ Q1 @ mean + rho * np.sqrt(max(w @ Q1 @ w, 1e-30))

        def gradient(w, Q1=Q1, mean=mean, rho=rho):
            return Q1 @ mean + rho * Q1 @ w / np.sqrt(max(w @ Q1 @ w, 1e-30))

        reference = torch.tensor(_slsqp(objective, gradient, len(Q)))
        ours = cagrad_weights(torch.tensor(Q), c)
        assert objective(ours.numpy()) <= objective(reference.numpy()) + 1e-9
        assert _cos(ours @ grads, reference @ grads) >= 0.999999


def test_the_old_failure_case_gradients_ten_times_apart():
    """Three tasks, one gradient 10x the others: a step size set by the largest entry froze the
    small tasks' weights (cosine 0.74 to the optimum); the exact solve does not care."""
    g = torch.Generator().manual_seed(3)
    grads = torch.randn(3, 50, generator=g, dtype=torch.float64) * torch.tensor(
        [[10.0], [1.0], [1.0]]
    )
    direction, weights = cagrad(grads, 0.5)
    Q = (grads @ grads.T).numpy() / 100
    mean, rho = np.full(3, 1 / 3), 0.5 * np.sqrt(np.full(3, 1 / 3) @ Q @ np.full(3, 1 / 3))
    reference = _slsqp(
        lambda w: w @ Q @ mean + rho * np.sqrt(w @ Q @ w),
        lambda w: Q @ mean + rho * Q @ w / np.sqrt(w @ Q @ w),
        3,
    )
    assert (
        _cos(cagrad_weights(torch.tensor(Q), 0.5) @ grads, torch.tensor(reference) @ grads)
        >= 0.999999
    )
    assert (
        abs(float(weights.sum()) - (1 + 0.5 * float(Q.sum() / 9) ** 0.5 * 0 + 1) / 1.25) < 10
    )  # finite


def test_edge_cases():
    g = torch.tensor([[1.0, 2.0, 0.0]])
    assert torch.equal(min_norm_weights(g), torch.ones(1))  # T = 1
    torch.testing.assert_close(cagrad(g, 0.5)[0], (1.5 / 1.25) * g[0])  # (1 + c) / (1 + c^2) g
    same = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    torch.testing.assert_close(min_norm_weights(same) @ same, same[0])  # identical
    torch.testing.assert_close(cagrad(same, 0.5)[0], (1.5 / 1.25) * same[0])
    opposite = torch.tensor([[1.0, 0.0], [-2.0, 0.0]])
    torch.testing.assert_close(
        min_norm_weights(opposite) @ opposite, torch.zeros(2)
    )  # 0 in the hull
    assert torch.isfinite(cagrad(opposite, 0.5)[0]).all()
    zero = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    torch.testing.assert_close(min_norm_weights(zero), torch.tensor([1.0, 0.0]))  # a zero gradient
    assert torch.isfinite(cagrad(zero, 0.5)[0]).all()


def test_simplex_qp_with_a_linear_term_against_the_reference():
    g = torch.Generator().manual_seed(1)
    for T in range(2, 9):
        A = (
            torch.randn(T, 20, generator=g, dtype=torch.float64)
            * torch.logspace(0, 2, T, dtype=torch.float64)[:, None]
        )
        H, b = A @ A.T, 50 * torch.randn(T, generator=g, dtype=torch.float64)
        ours = simplex_qp(H, b)
        scale = float(max(H.abs().max(), b.abs().max()))
        Hn, bn = (H / scale).numpy(), (b / scale).numpy()
        reference = _slsqp(
            lambda w, Hn=Hn, bn=bn: 0.5 * w @ Hn @ w + bn @ w,
            lambda w, Hn=Hn, bn=bn: Hn @ w + bn,
            T,
        )
        value = 0.5 * ours.numpy() @ Hn @ ours.numpy() + bn @ ours.numpy()
        assert value <= 0.5 * reference @ Hn @ reference + bn @ reference + 1e-12
        assert float(ours.sum()) == pytest.approx(1.0) and bool((ours >= 0).all())
