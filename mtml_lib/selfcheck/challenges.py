"""Self-checks for notebook 04 ("Challenges and a case study")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..metrics import delta_m
from . import run_check

__all__ = ["check_delta_m"]


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
            assert isinstance(got, (int, float)) or hasattr(got, "item"), (
                f"return a number; got {type(got).__name__}."
            )
            got = float(got)
            if abs(got + expected) < 1e-6 and abs(expected) > 1e-6:
                raise AssertionError(
                    f"the sign is flipped for {multi} vs {single} (higher is better: {higher}): "
                    "positive must mean the multi-task model is better."
                )
            assert abs(got - expected) < 1e-6, (
                f"for multi-task {multi}, single-task {single}, higher is better {higher}: "
                f"expected {expected:.4f}, got {got:.4f}. Average the relative differences, with "
                "the sign flipped for lower-is-better metrics."
            )

    run_check("Exercise: the Delta_m metric", check)
