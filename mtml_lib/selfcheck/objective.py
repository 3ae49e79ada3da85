"""Self-checks for notebook 03 ("The multi-task objective")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..pareto import pareto_optimal
from ..weighting.dwa import dwa_weights
from ..weighting.pcgrad import pcgrad
from . import run_check

__all__ = ["check_dwa_weights", "check_pareto_front", "check_pcgrad"]


def check_dwa_weights(student: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Exercise: ``student(previous, before_previous, temperature)`` returns DWA's weights."""

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        cases = [(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 1.0]), 2.0)]
        for num_tasks, temperature in ((3, 2.0), (5, 0.5), (4, 10.0)):
            before = 0.5 + torch.rand(num_tasks, generator=g)
            cases.append((before * (0.5 + torch.rand(num_tasks, generator=g)), before, temperature))
        for previous, before, temperature in cases:
            got = student(previous.clone(), before.clone(), temperature)
            assert isinstance(got, torch.Tensor), f"return a tensor; got {type(got).__name__}."
            assert got.shape == previous.shape, (
                f"return one weight per task, shape {tuple(previous.shape)}; got "
                f"{tuple(got.shape)}."
            )
            assert torch.allclose(got.sum(), torch.tensor(float(previous.numel())), atol=1e-4), (
                f"the weights should sum to the number of tasks ({previous.numel()}); yours sum to "
                f"{got.sum().item():.4f}."
            )
            expected = dwa_weights(previous, before, temperature)
            assert torch.allclose(got, expected, atol=1e-4), (
                "the sum is right but the weights are not: use w_k = L_k(t-1) / L_k(t-2), then K * "
                "softmax(w / T)."
            )
        slow = student(torch.tensor([1.0, 0.5]), torch.tensor([1.0, 1.0]), 2.0)
        assert slow[0] > slow[1], (
            "the task whose loss stopped falling should get the larger weight."
        )

    run_check("Exercise: dynamic weight average", check)


def check_pcgrad(student: Callable[[torch.Tensor, list], torch.Tensor]) -> None:
    """Exercise: ``student(grads, orders)`` is PCGrad's update for ``grads (T, P)``, task i
    visiting the others in the order ``orders[i]``; compared with the library's ``pcgrad``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        for two in ([[1.0, 0.2], [-0.45, 0.25]], [[1.0, 0.2], [0.5, 1.0]]):  # conflict, agreement
            two = torch.tensor(two)
            got = student(two.clone(), [[1], [0]])
            expected = pcgrad(two, torch.Generator().manual_seed(0))
            assert isinstance(got, torch.Tensor) and tuple(got.shape) == (2,), (
                f"return the update, one number per parameter (shape (2,)); got {got!r}."
            )
            assert torch.allclose(got, expected, atol=1e-5), (
                f"for the gradients {two.numpy().round(3).tolist()} the update is "
                f"{expected.numpy().round(3).tolist()}; got "
                f"{got.detach().numpy().round(3).tolist()}. "
                "When g_i . g_j < 0, and only then, subtract (g_i . g_j) / |g_j|^2 * g_j from g_i, "
                "with g_j the *original* gradient; then sum the projected gradients."
            )
        for num_tasks in (3, 5):
            grads = torch.randn(num_tasks, 7, generator=g)
            visit = torch.Generator().manual_seed(3)  # the library draws each order like this
            orders = [
                [j for j in torch.randperm(num_tasks, generator=visit).tolist() if j != i]
                for i in range(num_tasks)
            ]
            got = student(grads.clone(), orders)
            expected = pcgrad(grads, torch.Generator().manual_seed(3))
            assert torch.allclose(got, expected, atol=1e-5), (
                f"right for two tasks, wrong for {num_tasks}: project g_i against the *original* "
                "g_j (not the projected one), keep projecting the same g_i along its order, and "
                "sum at the end."
            )

    run_check("Exercise: the PCGrad projection", check)


def check_pareto_front(student: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Exercise: ``student(losses (N, T))`` marks the Pareto-optimal rows (boolean ``(N,)``)."""

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        small = torch.tensor([[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 1.0], [1.0, 3.0]])
        got = student(small.clone())
        assert isinstance(got, torch.Tensor) and got.dtype == torch.bool, (
            f"return a boolean tensor; got {getattr(got, 'dtype', type(got).__name__)}."
        )
        want = pareto_optimal(small)
        assert got.tolist() == want.tolist(), (
            f"for the losses {small.tolist()} the answer is {want.tolist()}; got {got.tolist()}. "
            "A row is dominated when another is no worse on every task and better on one "
            "(equal rows do not dominate each other)."
        )
        for tasks in (2, 3):
            losses = torch.rand(40, tasks, generator=g).round(decimals=1)
            assert student(losses.clone()).tolist() == pareto_optimal(losses).tolist(), (
                f"right on the small example, wrong on 40 random points with {tasks} tasks "
                "(ties included)."
            )

    run_check("Exercise: the Pareto front", check)
