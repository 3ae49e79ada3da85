"""Self-checks for notebook 03 ("The multi-task objective")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..i18n import translate as _
from ..pareto import pareto_optimal
from ..weighting.dwa import DynamicWeightAverage, dwa_weights
from ..weighting.pcgrad import PCGrad, pcgrad
from . import run_check
from .guards import call_leaving_inputs, library_answer

__all__ = ["check_dwa_weights", "check_pareto_front", "check_pcgrad"]


def check_dwa_weights(student: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Exercise: ``student(previous, before_previous, temperature)`` returns DWA's weights."""

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        cases = [(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 1.0]), 2.0)]
        for num_tasks, temperature in ((3, 2.0), (5, 0.5), (4, 10.0)):
            before = 0.5 + torch.rand(num_tasks, generator=g)
            cases.append((before * (0.5 + torch.rand(num_tasks, generator=g)), before, temperature))
        answers = {
            "mtml_lib.weighting.dwa.dwa_weights": dwa_weights,
            "mtml_lib.weighting.DynamicWeightAverage": DynamicWeightAverage,
        }
        for previous, before, temperature in cases:
            names = ("previous", "before_previous")
            got = call_leaving_inputs(
                student, names, previous, before, temperature, answers=answers
            )
            assert isinstance(got, torch.Tensor), _("return a tensor; got {name}.").format(
                name=type(got).__name__
            )
            assert got.shape == previous.shape, _(
                "return one weight per task, shape {previous_shape}; got {got_shape}."
            ).format(previous_shape=tuple(previous.shape), got_shape=tuple(got.shape))
            assert torch.allclose(got.sum(), torch.tensor(float(previous.numel())), atol=1e-4), _(
                "the weights should sum to the number of tasks ({numel}); yours sum to {value:.4f}."
            ).format(numel=previous.numel(), value=got.sum().item())
            expected = dwa_weights(previous, before, temperature)
            assert torch.allclose(got, expected, atol=1e-4), _(
                "the sum is right but the weights are not: use w_k = L_k(t-1) / L_k(t-2), then K "
                "* softmax(w / T)."
            )
        with library_answer(student, answers):
            slow = student(torch.tensor([1.0, 0.5]), torch.tensor([1.0, 1.0]), 2.0)
        assert slow[0] > slow[1], _(
            "the task whose loss stopped falling should get the larger weight."
        )

    run_check(_("Exercise: dynamic weight average"), check)


def check_pcgrad(student: Callable[[torch.Tensor, list], torch.Tensor]) -> None:
    """Exercise: ``student(grads, orders)`` is PCGrad's update for ``grads (T, P)``, task i
    visiting the others in the order ``orders[i]``; compared with the library's ``pcgrad``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        answers = {"mtml_lib.weighting.pcgrad.pcgrad": pcgrad, "mtml_lib.weighting.PCGrad": PCGrad}
        for two in ([[1.0, 0.2], [-0.45, 0.25]], [[1.0, 0.2], [0.5, 1.0]]):  # conflict, agreement
            two = torch.tensor(two)
            got = call_leaving_inputs(student, ("grads",), two, [[1], [0]], answers=answers)
            expected = pcgrad(two, torch.Generator().manual_seed(0))
            assert isinstance(got, torch.Tensor) and tuple(got.shape) == (2,), _(
                "return the update, one number per parameter (shape (2,)); got {got!r}."
            ).format(got=got)
            assert torch.allclose(got, expected, atol=1e-5), _(
                "for the gradients {value} the update is {value2}; got {value3}. When g_i . g_j "
                "< 0, and only then, subtract (g_i . g_j) / |g_j|^2 * g_j from g_i, with g_j the "
                "*original* gradient; then sum the projected gradients."
            ).format(
                value=two.numpy().round(3).tolist(),
                value2=expected.numpy().round(3).tolist(),
                value3=got.detach().numpy().round(3).tolist(),
            )
        for num_tasks in (3, 5):
            grads = torch.randn(num_tasks, 7, generator=g)
            visit = torch.Generator().manual_seed(3)  # the library draws each order like this
            orders = [
                [j for j in torch.randperm(num_tasks, generator=visit).tolist() if j != i]
                for i in range(num_tasks)
            ]
            got = call_leaving_inputs(student, ("grads", "orders"), grads, orders, answers=answers)
            expected = pcgrad(grads, torch.Generator().manual_seed(3))
            assert torch.allclose(got, expected, atol=1e-5), _(
                "right for two tasks, wrong for {num_tasks}: project g_i against the *original* "
                "g_j (not the projected one), keep projecting the same g_i along its order, and "
                "sum at the end."
            ).format(num_tasks=num_tasks)

    run_check(_("Exercise: the PCGrad projection"), check)


def check_pareto_front(student: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Exercise: ``student(losses (N, T))`` marks the Pareto-optimal rows (boolean ``(N,)``)."""

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        small = torch.tensor([[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 1.0], [1.0, 3.0]])
        answers = {"mtml_lib.pareto.pareto_optimal": pareto_optimal}
        got = call_leaving_inputs(student, ("losses",), small, answers=answers)
        assert isinstance(got, torch.Tensor) and got.dtype == torch.bool, _(
            "return a boolean tensor; got {value}."
        ).format(value=getattr(got, "dtype", type(got).__name__))
        want = pareto_optimal(small)
        assert got.tolist() == want.tolist(), _(
            "for the losses {value} the answer is {value2}; got {value3}. A row is dominated "
            "when another is no worse on every task and better on one (equal rows do not "
            "dominate each other)."
        ).format(value=small.tolist(), value2=want.tolist(), value3=got.tolist())
        for tasks in (2, 3):
            losses = torch.rand(40, tasks, generator=g).round(decimals=1)
            got = call_leaving_inputs(student, ("losses",), losses, answers=answers)
            assert got.tolist() == pareto_optimal(losses).tolist(), _(
                "right on the small example, wrong on 40 random points with {tasks} tasks (ties "
                "included)."
            ).format(tasks=tasks)

    run_check(_("Exercise: the Pareto front"), check)
