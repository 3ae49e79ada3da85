"""Self-checks for notebook 01 ("What is a task")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch

from ..data import digits
from ..tasks import CROSS_ENTROPY, Task
from . import run_check

__all__ = ["check_multiple_of_3_task", "check_regime_answers", "REGIMES"]

REGIMES = ("multi-task classification", "multi-label learning", "tasks with different losses")

# Hashes of the right answers, so reading this file does not give them away.
_SCENARIOS = {
    "spam_filter_per_user": "a4626f2a53890958",
    "face_attributes": "b6483173e61b5d1b",
    "steering_and_pedestrians": "a64951a5cbf7e353",
}


def _digest(scenario: str, answer: str) -> str:
    return hashlib.sha256(f"{scenario}:{answer}".encode()).hexdigest()[:16]


def check_multiple_of_3_task(make_task: Callable[[str], Task]) -> None:
    """Exercise 1: ``make_task(split)`` builds the task "is the digit a multiple of 3?"."""

    def check() -> None:
        task = make_task("train")
        assert isinstance(task, Task), (
            f"make_task must return a Task; it returned {type(task).__name__}."
        )
        assert task.loss == CROSS_ENTROPY, (
            f"the loss should be CROSS_ENTROPY; got {task.loss.name}."
        )
        assert task.out_features == 2, (
            f"a yes/no label needs out_features=2; got {task.out_features}."
        )
        x, y = task.sample(300, generator=0)
        pool = digits.load_digits_pool(split="train")
        index = {row.tobytes(): int(d) for row, d in zip(pool.images.numpy(), pool.labels)}
        assert tuple(x.shape) == (300, 64), (
            f"inputs should be flat 8x8 images, shape (n, 64); got {tuple(x.shape)}."
        )
        missing = sum(row.tobytes() not in index for row in x.numpy())
        assert missing == 0, (
            f"{missing} of 300 inputs are not images of the train pool: sample x from the pool."
        )
        expected = torch.tensor([index[row.tobytes()] % 3 == 0 for row in x.numpy()]).long()
        assert y.dtype == torch.long, f"class labels should be a long tensor; got {y.dtype}."
        wrong = int((y.cpu() != expected).sum())
        assert wrong == 0, (
            f"{wrong} of 300 labels are wrong (label 1 means the digit is 0, 3, 6 or 9)."
        )
        digits_seen = {index[row.tobytes()] for row in x.numpy()}
        assert len(digits_seen) == 10, (
            "p(x) should cover all ten digits (draw uniformly from the whole pool)."
        )

    run_check("Exercise 1: the 'multiple of 3' task", check)


def check_regime_answers(answers: dict[str, str] | Callable[[], dict[str, str]]) -> None:
    """Exercise 2: name the regime of each scenario (a dict, or a function returning it)."""

    def check() -> None:
        nonlocal answers
        if callable(answers):
            # inside the check: a stub's NotImplementedError becomes "[not yet]"
            answers = answers()
        assert isinstance(answers, dict), "`answers` should be a dict from scenario to regime name."
        unknown = sorted(set(answers.values()) - set(REGIMES))
        assert not unknown, f"use the names in REGIMES; {unknown} is not one of {list(REGIMES)}."
        missing = sorted(set(_SCENARIOS) - set(answers))
        assert not missing, f"answer every scenario; missing {missing}."
        wrong = sorted(k for k, digest in _SCENARIOS.items() if _digest(k, answers[k]) != digest)
        assert not wrong, (
            f"not quite for {wrong}: ask which of p(x), p(y|x) and the loss differ between "
            "the tasks of each scenario."
        )

    run_check("Exercise 2: which regime?", check)
