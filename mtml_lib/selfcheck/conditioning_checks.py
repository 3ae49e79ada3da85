"""Self-checks for notebook 02 ("Conditioning on the task")."""

from __future__ import annotations

import torch
from torch import nn

from ..i18n import translate as _
from ..models.conditioning.multiplicative import FiLM, Multiplicative
from . import run_check
from .guards import call_leaving_inputs, library_answer, reject_library_modules

__all__ = ["check_cross_stitch", "check_film_layer", "check_multiplicative_stack"]


def check_film_layer(layer_class: type[nn.Module]) -> None:
    """Exercise: ``layer_class(num_tasks, features)`` is a FiLM layer, ``forward(h, task_id)``.

    Checked by behaviour, whatever the parameters are called: it starts as the
    identity, is an elementwise affine map of ``h`` with one scale and one shift
    per task and feature, and task a's rows never move task b's parameters.
    """

    answers = {"mtml_lib.models.conditioning.FiLM": FiLM}

    def check() -> None:
        torch.manual_seed(0)
        num_tasks, features = 3, 5
        with library_answer(layer_class, answers):
            layer = layer_class(num_tasks, features)
        assert isinstance(layer, nn.Module), _("the layer should be an nn.Module.")
        reject_library_modules(layer, answers)
        h = torch.randn(6, features)
        task_id = torch.tensor([0, 1, 2, 0, 1, 2])

        def run(h, task_id):  # every call must leave h and task_id as they were
            return call_leaving_inputs(layer, ("h", "task_id"), h, task_id)

        out = run(h, task_id)
        assert tuple(out.shape) == (6, features), _(
            "output shape should be (6, {features}); got {out_shape}."
        ).format(features=features, out_shape=tuple(out.shape))
        assert torch.allclose(out, h, atol=1e-6), _(
            "at initialisation, FiLM should leave h unchanged (gamma=1, beta=0)."
        )
        sizes = sorted(p.numel() for p in layer.parameters())
        assert sizes == [num_tasks * features] * 2, _(
            "FiLM needs one gamma and one beta per task and feature, two tensors of "
            "{num_tasks}x{features}; found parameter sizes {sizes}."
        ).format(num_tasks=num_tasks, features=features, sizes=sizes)
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(torch.randn_like(p))
        f0, f1, f2 = run(0 * h, task_id), run(h, task_id), run(2 * h, task_id)
        assert torch.allclose(f2 - f1, f1 - f0, atol=1e-5), _(
            "the output should be an affine function of h: gamma * h + beta."
        )
        bumped = h.clone()
        bumped[:, 2] += 1.0
        changed = (run(bumped, task_id) - f1).abs().sum(0) > 1e-6
        assert changed.tolist() == [False, False, True, False, False], _(
            "each feature should be scaled and shifted on its own: changing feature 2 must "
            "change output feature 2 only."
        )
        same_h = h[:1].expand(num_tasks, -1)
        rows = run(same_h, torch.arange(num_tasks))
        assert not torch.allclose(rows[0], rows[1]), _(
            "different tasks should use different gamma and beta (index them by task_id)."
        )
        layer.zero_grad()
        run(h, torch.zeros(6, dtype=torch.long)).sum().backward()
        for p in layer.parameters():
            g = p.grad.reshape(num_tasks, features)
            assert g[1:].abs().sum() == 0 and g[0].abs().sum() > 0, _(
                "rows of task 0 should only update task 0's gamma and beta."
            )

    run_check(_("Exercise: a FiLM layer"), check)


def check_multiplicative_stack(student) -> None:
    """Exercise: ``student(U, a, V)`` writes T independent one-hidden-layer networks
    ``f_t(x) = V_t relu(U_t x + a_t)`` as one network with multiplicative conditioning,
    ``W2 (gates[t] * relu(W1 x + b1))``; it returns ``(W1, b1, W2, gates)``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        for tasks, hidden, inputs, outputs in ((2, 3, 4, 1), (4, 5, 3, 2)):
            U = torch.randn(tasks, hidden, inputs, generator=g)
            a = torch.randn(tasks, hidden, generator=g)
            V = torch.randn(tasks, outputs, hidden, generator=g)
            answers = {"mtml_lib.models.conditioning.Multiplicative": Multiplicative}
            got = call_leaving_inputs(student, ("U", "a", "V"), U, a, V, answers=answers)
            assert isinstance(got, tuple) and len(got) == 4, _(
                "return the tuple (W1, b1, W2, gates)."
            )
            W1, b1, W2, gates = got
            want = {
                "W1": (tasks * hidden, inputs),
                "b1": (tasks * hidden,),
                "W2": (outputs, tasks * hidden),
                "gates": (tasks, tasks * hidden),
            }
            for name, value in zip(want, got):
                assert tuple(value.shape) == want[name], _(
                    "{name} should have shape {want} for T={tasks}, hidden={hidden}; got "
                    "{value_shape}."
                ).format(
                    name=name,
                    want=want[name],
                    tasks=tasks,
                    hidden=hidden,
                    value_shape=tuple(value.shape),
                )
            x = torch.randn(6, inputs, generator=g)
            for t in range(tasks):
                expected = torch.relu(x @ U[t].T + a[t]) @ V[t].T
                mine = (gates[t] * torch.relu(x @ W1.T + b1)) @ W2.T
                assert torch.allclose(mine, expected, atol=1e-5), _(
                    "task {t}'s output differs from its own network: stack the U_t as blocks of "
                    "W1, the V_t side by side in W2, and let gates[t] keep task t's block only."
                ).format(t=t)

    run_check(_("Exercise: independent networks as multiplicative conditioning"), check)


def check_cross_stitch(unit_class: type[nn.Module]) -> None:
    """Exercise: ``unit_class(num_tasks)`` is a cross-stitch unit: ``forward(h)`` mixes the task
    columns' activations ``h (T, B, F)`` with a learned ``(T, T)`` matrix that starts as the
    identity (independent networks).
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        unit = unit_class(3)
        assert isinstance(unit, nn.Module), _("the unit should be an nn.Module.")
        params = list(unit.parameters())
        assert [tuple(p.shape) for p in params] == [(3, 3)], _(
            "a cross-stitch unit for 3 tasks has one learnable (3, 3) matrix; found {value}."
        ).format(value=[tuple(p.shape) for p in params])
        h = torch.randn(3, 4, 5, generator=g)

        def run(h):  # every call must leave h as it was
            return call_leaving_inputs(unit, ("h",), h)

        out = run(h)
        assert tuple(out.shape) == (3, 4, 5), _("output shape (3, 4, 5); got {out_shape}.").format(
            out_shape=tuple(out.shape)
        )
        assert torch.allclose(out, h, atol=1e-6), _(
            "at the start the unit should leave every column as it is (alpha = identity)."
        )
        with torch.no_grad():
            params[0].copy_(torch.rand(3, 3, generator=g))
        expected = torch.einsum("ts,sbf->tbf", params[0].detach(), h)
        assert torch.allclose(run(h), expected, atol=1e-5), _(
            "column t of the output should be sum_s alpha[t, s] * h[s]."
        )
        run(h).sum().backward()
        assert params[0].grad is not None and params[0].grad.abs().sum() > 0, _(
            "alpha must be learned: the output should be differentiable with respect to it."
        )

    run_check(_("Exercise: a cross-stitch unit"), check)
