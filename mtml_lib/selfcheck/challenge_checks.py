"""Self-checks for notebook 04 ("Challenges and a case study")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..i18n import translate as _
from ..metrics import delta_m, task_affinity
from ..models.conditioning.moe import MixtureOfExperts
from . import run_check
from .guards import call_leaving_inputs, library_answer, reject_library_modules

__all__ = ["check_affinity", "check_delta_m", "check_mmoe_layer"]


def check_delta_m(
    student: Callable[[Sequence[float], Sequence[float], Sequence[bool]], float],
) -> None:
    """Exercise: ``student(multi_task, single_task,
    higher_is_better)`` returns Delta_m (positive = better).
    """

    def check() -> None:
        cases = [
            ([0.9], [0.8], [True]),
            ([0.5], [0.4], [False]),
            ([0.88, 1.1], [0.8, 1.0], [True, False]),
            ([0.7, 0.2, 3.0], [0.75, 0.25, 2.0], [True, False, False]),
        ]
        for multi, single, higher in cases:
            names = ("multi_task", "single_task", "higher_is_better")
            answers = {"mtml_lib.metrics.delta_m": delta_m}
            got = call_leaving_inputs(student, names, multi, single, higher, answers=answers)
            expected = delta_m(multi, single, higher_is_better=higher)
            assert isinstance(got, (int, float)) or hasattr(got, "item"), _(
                "return a number; got {name}."
            ).format(name=type(got).__name__)
            got = float(got)
            if abs(got + expected) < 1e-6 and abs(expected) > 1e-6:
                raise AssertionError(
                    _(
                        "the sign is flipped for {multi} vs {single} (higher is better: "
                        "{higher}): positive must mean the multi-task model is better."
                    ).format(multi=multi, single=single, higher=higher)
                )
            assert abs(got - expected) < 1e-6, _(
                "for multi-task {multi}, single-task {single}, higher is better {higher}: "
                "expected {expected:.4f}, got {got:.4f}. Average the relative differences, with "
                "the sign flipped for lower-is-better metrics."
            ).format(multi=multi, single=single, higher=higher, expected=expected, got=got)

    run_check(_("Exercise: the Delta_m metric"), check)


def check_affinity(student: Callable[..., torch.Tensor]) -> None:
    """Exercise: ``student(losses_fn, shared, lr)`` is the one-step lookahead affinity
    ``Z[i, j] = 1 - L_j(theta after a step on L_i) / L_j(theta)``; compared with the library's
    ``task_affinity``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(32, 4, generator=g)
        targets = torch.randn(4, 3, generator=g)
        targets[:, 1] = targets[:, 0]  # tasks 0 and 1 agree; task 2 is its own
        weight = torch.nn.Parameter(torch.randn(4, 1, generator=g) * 0.1)
        bias = torch.nn.Parameter(torch.zeros(1))

        def losses_fn():
            prediction = x @ weight + bias
            return ((prediction - x @ targets) ** 2).mean(0)

        results = {}
        for lr in (0.05, 0.2):
            expected = task_affinity(losses_fn, [weight, bias], lr=lr)
            before = [weight.detach().clone(), bias.detach().clone()]
            with library_answer(student, {"mtml_lib.metrics.task_affinity": task_affinity}):
                got = student(losses_fn, [weight, bias], lr)
            assert isinstance(got, torch.Tensor) and tuple(got.shape) == (3, 3), _(
                "return a (T, T) tensor for T = 3 tasks; got {value}."
            ).format(value=getattr(got, "shape", type(got)))
            assert torch.equal(weight.detach(), before[0]) and torch.equal(
                bias.detach(), before[1]
            ), _("the parameters must be restored exactly after each lookahead step.")
            if torch.allclose(got.T, expected, atol=1e-4) and not torch.allclose(got, expected):
                raise AssertionError(
                    _("rows and columns are swapped: row i is the step on task i.")
                )
            if lr != 0.05 and torch.allclose(got, results[0.05], atol=1e-6):
                raise AssertionError(
                    _(
                        "your result is the same for lr = 0.05 and lr = {lr}: take the lookahead "
                        "step with the `lr` you are given."
                    ).format(lr=lr)
                )
            assert torch.allclose(got, expected, atol=1e-4), _(
                "for lr = {lr}, expected {value}, got {value2}: step on task i's loss alone "
                "(theta - lr * grad L_i), then compare every task's loss with its value before."
            ).format(
                lr=lr,
                value=expected.numpy().round(3).tolist(),
                value2=got.detach().numpy().round(3).tolist(),
            )
            results[lr] = got.detach()

    run_check(_("Exercise: lookahead task affinity"), check)


def _gate_weights(scores: torch.Tensor) -> torch.Tensor:
    """A gate's mixing weights: its output when the gate ends with its own softmax (rows that
    are already distributions), else the softmax of its scores."""
    if (scores >= 0).all() and torch.allclose(scores.sum(-1), torch.ones(()), atol=1e-5):
        return scores
    return torch.softmax(scores, dim=-1)


def check_mmoe_layer(layer_class: type[torch.nn.Module]) -> None:
    """Exercise: ``layer_class(in_features, hidden, num_experts, num_tasks)`` is the MMoE layer:
    shared experts ``self.experts`` (each Linear + ReLU), one softmax gate ``self.gates[t]`` per
    task; ``forward(x, task_id)`` mixes the experts with each row's own task's gate.
    """

    answers = {"mtml_lib.models.conditioning.MixtureOfExperts": MixtureOfExperts}

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        for features, hidden, num_experts, num_tasks in ((4, 6, 3, 2), (3, 5, 4, 3)):
            with library_answer(layer_class, answers):
                layer = layer_class(features, hidden, num_experts, num_tasks)
            reject_library_modules(layer, answers)
            experts, gates = list(layer.experts), list(layer.gates)
            assert len(experts) == num_experts and len(gates) == num_tasks, _(
                "{experts} experts and one gate per task ({tasks}); got {value} and {value2}."
            ).format(experts=num_experts, tasks=num_tasks, value=len(experts), value2=len(gates))
            x = torch.randn(7, features, generator=g)
            task_id = torch.arange(7) % num_tasks
            got = call_leaving_inputs(layer, ("x", "task_id"), x, task_id)
            assert tuple(got.shape) == (7, hidden), _(
                "output (B, hidden) = {want}; got {got_shape}."
            ).format(want=(7, hidden), got_shape=tuple(got.shape))
            outputs = torch.stack([expert(x) for expert in experts])  # (E, B, H)
            weights = torch.stack([_gate_weights(gate(x)) for gate in gates])  # (T, B, E)
            rows = torch.arange(7)
            mine = weights[task_id, rows]  # (B, E): each row's own task's gate
            expected = torch.einsum("be,ebh->bh", mine, outputs)
            other = torch.einsum("be,ebh->bh", weights[(task_id + 1) % num_tasks, rows], outputs)
            assert not torch.allclose(got, other, atol=1e-5), _(
                "the rows use another task's gate: row b should use gates[task_id[b]]."
            )
            assert torch.allclose(got, expected, atol=1e-5), _(
                "mix the experts' outputs with softmax(gates[t](x)) of each row's task t: sum_e "
                "softmax(...)_e * experts[e](x) (the softmax applied once, in the gate or in "
                "forward)."
            )
            assert (outputs >= 0).all(), _("each expert ends with a ReLU.")

    run_check(_("Exercise: the MMoE layer"), check)
