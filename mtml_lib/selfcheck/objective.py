"""Self-checks for notebook 03 ("The multi-task objective")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..weighting.dwa import dwa_weights
from . import run_check

__all__ = ["check_dwa_weights"]


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
