"""Self-checks for notebook 04 ("Challenges and a case study")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..i18n import translate as _
from ..metrics import delta_m, task_affinity
from . import run_check

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
            got = student(list(multi), list(single), list(higher))
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

        expected = task_affinity(losses_fn, [weight, bias], lr=0.05)
        before = [weight.detach().clone(), bias.detach().clone()]
        got = student(losses_fn, [weight, bias], 0.05)
        assert isinstance(got, torch.Tensor) and tuple(got.shape) == (3, 3), _(
            "return a (T, T) tensor for T = 3 tasks; got {value}."
        ).format(value=getattr(got, "shape", type(got)))
        assert torch.equal(weight.detach(), before[0]) and torch.equal(bias.detach(), before[1]), _(
            "the parameters must be restored exactly after each lookahead step."
        )
        if torch.allclose(got.T, expected, atol=1e-4) and not torch.allclose(got, expected):
            raise AssertionError(_("rows and columns are swapped: row i is the step on task i."))
        assert torch.allclose(got, expected, atol=1e-4), _(
            "expected {value}, got {value2}: step on task i's loss alone (theta - lr * grad "
            "L_i), then compare every task's loss with its value before."
        ).format(
            value=expected.numpy().round(3).tolist(), value2=got.detach().numpy().round(3).tolist()
        )

    run_check(_("Exercise: lookahead task affinity"), check)


def check_mmoe_layer(layer_class: type[torch.nn.Module]) -> None:
    """Exercise: ``layer_class(in_features, hidden, num_experts, num_tasks)`` is the MMoE layer:
    shared experts ``self.experts`` (each Linear + ReLU), one softmax gate ``self.gates[t]`` per
    task; ``forward(x, task_id)`` mixes the experts with each row's own task's gate.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        layer = layer_class(4, 6, 3, 2)
        experts, gates = list(layer.experts), list(layer.gates)
        assert len(experts) == 3 and len(gates) == 2, _(
            "3 experts and one gate per task (2); got {value} and {value2}."
        ).format(value=len(experts), value2=len(gates))
        x = torch.randn(5, 4, generator=g)
        task_id = torch.tensor([0, 1, 1, 0, 1])
        got = layer(x, task_id)
        assert tuple(got.shape) == (5, 6), _(
            "output (B, hidden) = (5, 6); got {got_shape}."
        ).format(got_shape=tuple(got.shape))
        outputs = torch.stack([expert(x) for expert in experts])  # (E, B, H)
        weights = torch.stack([torch.softmax(gate(x), dim=-1) for gate in gates])  # (T, B, E)
        mine = weights[task_id, torch.arange(5)]  # (B, E): each row's own task's gate
        expected = torch.einsum("be,ebh->bh", mine, outputs)
        other = torch.einsum("be,ebh->bh", weights[1 - task_id, torch.arange(5)], outputs)
        assert not torch.allclose(got, other, atol=1e-5), _(
            "the rows use the other task's gate: row b should use gates[task_id[b]]."
        )
        assert torch.allclose(got, expected, atol=1e-5), _(
            "mix the experts' outputs with softmax(gates[t](x)) of each row's task t: sum_e "
            "softmax(...)_e * experts[e](x)."
        )
        assert (outputs >= 0).all(), _("each expert ends with a ReLU.")

    run_check(_("Exercise: the MMoE layer"), check)
