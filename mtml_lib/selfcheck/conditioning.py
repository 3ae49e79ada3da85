"""Self-checks for notebook 02 ("Conditioning on the task")."""

from __future__ import annotations

import torch
from torch import nn

from . import run_check

__all__ = ["check_film_layer"]


def check_film_layer(layer_class: type[nn.Module]) -> None:
    """Exercise: ``layer_class(num_tasks, features)`` is a FiLM layer, ``forward(h, task_id)``.

    Checked by behaviour, whatever the parameters are called: it starts as the
    identity, is an elementwise affine map of ``h`` with one scale and one shift
    per task and feature, and task a's rows never move task b's parameters.
    """

    def check() -> None:
        torch.manual_seed(0)
        num_tasks, features = 3, 5
        layer = layer_class(num_tasks, features)
        assert isinstance(layer, nn.Module), "the layer should be an nn.Module."
        h = torch.randn(6, features)
        task_id = torch.tensor([0, 1, 2, 0, 1, 2])
        out = layer(h, task_id)
        assert tuple(out.shape) == (6, features), (
            f"output shape should be (6, {features}); got {tuple(out.shape)}."
        )
        assert torch.allclose(out, h, atol=1e-6), (
            "at initialisation, FiLM should leave h unchanged (gamma=1, beta=0)."
        )
        sizes = sorted(p.numel() for p in layer.parameters())
        assert sizes == [num_tasks * features] * 2, (
            "FiLM needs one gamma and one beta per task and feature, two tensors of "
            f"{num_tasks}x{features}; found parameter sizes {sizes}."
        )
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(torch.randn_like(p))
        f0, f1, f2 = layer(0 * h, task_id), layer(h, task_id), layer(2 * h, task_id)
        assert torch.allclose(f2 - f1, f1 - f0, atol=1e-5), (
            "the output should be an affine function of h: gamma * h + beta."
        )
        bumped = h.clone()
        bumped[:, 2] += 1.0
        changed = (layer(bumped, task_id) - f1).abs().sum(0) > 1e-6
        assert changed.tolist() == [False, False, True, False, False], (
            "each feature should be scaled and shifted on its own: changing feature 2 must change "
            "output feature 2 only."
        )
        same_h = h[:1].expand(num_tasks, -1)
        rows = layer(same_h, torch.arange(num_tasks))
        assert not torch.allclose(rows[0], rows[1]), (
            "different tasks should use different gamma and beta (index them by task_id)."
        )
        layer.zero_grad()
        layer(h, torch.zeros(6, dtype=torch.long)).sum().backward()
        for p in layer.parameters():
            g = p.grad.reshape(num_tasks, features)
            assert g[1:].abs().sum() == 0 and g[0].abs().sum() > 0, (
                "rows of task 0 should only update task 0's gamma and beta."
            )

    run_check("Exercise: a FiLM layer", check)
