r"""Exact solves of the small problems MGDA and CAGrad pose over the simplex of task weights.

Both methods choose weights :math:`w \in \Delta^T = \{w \ge 0, \sum_i w_i = 1\}` from the Gram
matrix :math:`Q = G G^\top` of the task gradients (T at most a few dozen):

* MGDA: :math:`\min_w w^\top Q w`, the minimum-norm point of the gradients' convex hull;
* CAGrad: :math:`\min_w w^\top Q\bar w + \rho\sqrt{w^\top Q w}` with :math:`\bar w` uniform.

:func:`simplex_qp` solves :math:`\min_w \tfrac12 w^\top H w + b^\top w` over the simplex with
an active-set method (Wolfe's minimum-norm-point algorithm, with a linear term): it adds the
vertex that violates the optimality conditions most, solves the equality-constrained problem on
the active set exactly, and steps back to the simplex when a weight would turn negative. It
ends in finitely many steps, at the optimum up to floating point (float64 throughout). Its
stopping rule compares the optimality gap with the problem's own scale, so gradients 100 times
apart in norm are solved as accurately as equal ones. :func:`cagrad_weights` majorises the
square root by a quadratic at the current point and solves that quadratic exactly, until the
Frank-Wolfe duality gap falls below a tolerance relative to the problem's scale.

Accuracy, as ``tests/weighting/test_simplex.py`` measures it against SciPy's SLSQP on random
conflicting gradients with norms up to 100x apart (T = 2..8): the combined direction has cosine
at least 0.999999 to the reference's, and the objective is never worse than the reference's by
more than 1e-9 of its scale.

Example:
    >>> import torch
    >>> g = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> simplex_qp(2 * g @ g.T, torch.zeros(2))  # MGDA: ||w g||^2 is least at w = (0.8, 0.2)
    tensor([0.8000, 0.2000], dtype=torch.float64)
"""

from __future__ import annotations

import torch

from .._validation import check_float, check_int

__all__ = ["simplex_qp", "cagrad_weights"]


def _solve_on(H: torch.Tensor, b: torch.Tensor, active: list[int]) -> torch.Tensor:
    """The minimiser of 1/2 v'Hv + b'v with v summing to 1, on the active coordinates (KKT system;
    least squares where the active points are affinely dependent)."""
    n = len(active)
    kkt = H.new_zeros(n + 1, n + 1)
    kkt[:n, :n] = H[active][:, active]
    kkt[:n, n] = kkt[n, :n] = 1.0
    rhs = torch.cat([-b[active], b.new_ones(1)])
    solution = torch.linalg.lstsq(kkt, rhs.unsqueeze(1), driver="gelsd").solution[:, 0]
    return solution[:n]


def simplex_qp(
    H: torch.Tensor, b: torch.Tensor, *, tol: float = 1e-12, max_iter: int = 1000
) -> torch.Tensor:
    """The :math:`w \\in \\Delta^T` minimising :math:`\\tfrac12 w^\\top H w + b^\\top w` (H positive
    semi-definite, ``(T, T)``; b ``(T,)``), in float64.

    Args:
        H, b: the problem.
        tol: optimality tolerance, relative to the problem's scale (largest entry of H and b).
        max_iter: a bound on the active-set changes (each adds or drops one coordinate).
    """
    H, b = H.detach().double(), b.detach().double()
    T = b.shape[0]
    tol = check_float("tol", tol, minimum=0.0) * float(max(H.abs().max(), b.abs().max(), 1e-300))
    check_int("max_iter", max_iter, minimum=1)
    start = int(torch.argmin(0.5 * H.diagonal() + b))
    w, active = H.new_zeros(T), [start]
    w[start] = 1.0
    for _ in range(max_iter):
        gradient = H @ w + b
        j = int(torch.argmin(gradient))
        if float(gradient[j]) >= float(w @ gradient) - tol or j in active:
            break  # every vertex direction is non-descending: optimal
        active.append(j)
        for _ in range(T + 1):  # minor cycles: step back into the simplex until feasible
            v = _solve_on(H, b, active)
            if bool((v > 0).all()):
                w = w.new_zeros(T)
                w[active] = v
                break
            current = w[active]
            ratios = torch.where(v <= 0, current / (current - v).clamp_min(1e-300), torch.inf)
            k = int(torch.argmin(ratios))
            step = float(ratios[k])
            w[active] = current + step * (v - current)
            active = [i for i in active if i != active[k] and float(w[i]) > 0.0]
            w[[i for i in range(T) if i not in active]] = 0.0
            if not active:  # cannot happen for a feasible start; stay safe
                active, w = [start], torch.nn.functional.one_hot(torch.tensor(start), T).double()
                break
    return w / w.sum()


def _cagrad_on(
    Q: torch.Tensor, b: torch.Tensor, rho: float, support: list[int]
) -> torch.Tensor | None:
    """The exact optimum of CAGrad's problem with the weights' support fixed, or None where there is
    none. On the support, b + lam Q w = mu 1 with lam = rho / ||g_w|| and the weights summing to
    1; eliminating w and mu leaves lam^2 = a (rho^2 - gamma) + beta^2, with a = 1'Q^-1 1,
    beta = 1'Q^-1 b and gamma = b'Q^-1 b on the support."""
    Qs, bs = Q[support][:, support], b[support]
    rhs = torch.stack([torch.ones_like(bs), bs], dim=1)
    q1, qb = torch.linalg.lstsq(Qs, rhs, driver="gelsd").solution.unbind(1)
    a, beta, gamma = float(q1.sum()), float(qb.sum()), float(bs @ qb)
    square = a * (rho**2 - gamma) + beta**2
    if a <= 0 or square <= 0:
        return None
    lam = square**0.5
    w = Q.new_zeros(Q.shape[0])
    w[support] = ((lam + beta) / a * q1 - qb) / lam
    return w if bool((w[support] > 0).all()) else None


def cagrad_weights(
    gram: torch.Tensor, c: float, *, tol: float = 1e-10, max_iter: int = 500
) -> torch.Tensor:
    r"""CAGrad's inner problem: :math:`\min_{w \in \Delta} w^\top Q \bar w + c \lVert g_0 \rVert
    \sqrt{w^\top Q w}`, for the Gram matrix ``gram`` ``(T, T)`` of the task gradients.

    Each iteration solves exactly the quadratic that majorises the square root at the current
    point (:func:`simplex_qp`; the objective falls at every step); once that identifies the
    optimum's support, the optimum on it has a closed form, which ends the search. The result's
    Frank-Wolfe duality gap is below ``tol`` times the problem's scale (the largest squared
    gradient norm).
    """
    Q = gram.detach().double()
    T = Q.shape[0]
    mean = Q.new_full((T,), 1.0 / T)
    b = Q @ mean  # g_i . g_0
    rho = c * float(mean @ Q @ mean) ** 0.5  # c ||g_0||
    scale = float(Q.diagonal().max().clamp_min(1e-300))
    if rho == 0.0:  # no radius (or g_0 = 0): a linear objective, least at a vertex
        return torch.nn.functional.one_hot(torch.argmin(b), T).double()

    def gap(w: torch.Tensor) -> float:
        norm = max(float(w @ Q @ w) ** 0.5, 1e-12 * scale**0.5)
        gradient = b + rho * (Q @ w) / norm
        return float(w @ gradient - gradient.min()), norm

    w = mean.clone()
    for _ in range(max_iter):
        violation, norm = gap(w)
        if violation <= tol * scale:
            break
        w = simplex_qp(rho / norm * Q, b)
        exact = _cagrad_on(Q, b, rho, [i for i in range(T) if float(w[i]) > 0])
        if exact is not None and gap(exact)[0] <= tol * scale:
            return exact
    return w
