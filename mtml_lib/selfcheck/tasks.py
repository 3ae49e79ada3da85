"""Self-checks for notebook 01 ("What is a task")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch

from ..data import digits
from ..i18n import translate as _
from ..tasks import CROSS_ENTROPY, Task
from . import run_check

__all__ = ["check_multiple_of_3_task", "check_regime_answers", "check_training_loop", "REGIMES"]

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
        assert isinstance(task, Task), _(
            "make_task must return a Task; it returned {name}."
        ).format(name=type(task).__name__)
        assert task.loss == CROSS_ENTROPY, _(
            "the loss should be CROSS_ENTROPY; got {name}."
        ).format(name=task.loss.name)
        assert task.out_features == 2, _(
            "a yes/no label needs out_features=2; got {out_features}."
        ).format(out_features=task.out_features)
        x, y = task.sample(300, generator=0)
        pool = digits.load_digits_pool(split="train")
        index = {row.tobytes(): int(d) for row, d in zip(pool.images.numpy(), pool.labels)}
        assert tuple(x.shape) == (300, 64), _(
            "inputs should be flat 8x8 images, shape (n, 64); got {x_shape}."
        ).format(x_shape=tuple(x.shape))
        missing = sum(row.tobytes() not in index for row in x.numpy())
        assert missing == 0, _(
            "{missing} of 300 inputs are not images of the train pool: sample x from the pool."
        ).format(missing=missing)
        expected = torch.tensor([index[row.tobytes()] % 3 == 0 for row in x.numpy()]).long()
        assert y.dtype == torch.long, _(
            "class labels should be a long tensor; got {dtype}."
        ).format(dtype=y.dtype)
        wrong = int((y.cpu() != expected).sum())
        assert wrong == 0, _(
            "{wrong} of 300 labels are wrong (label 1 means the digit is 0, 3, 6 or 9)."
        ).format(wrong=wrong)
        digits_seen = {index[row.tobytes()] for row in x.numpy()}
        assert len(digits_seen) == 10, _(
            "p(x) should cover all ten digits (draw uniformly from the whole pool)."
        )

    run_check(_("Exercise 1: the 'multiple of 3' task"), check)


def check_regime_answers(answers: dict[str, str] | Callable[[], dict[str, str]]) -> None:
    """Exercise 2: name the regime of each scenario (a dict, or a function returning it)."""

    def check() -> None:
        nonlocal answers
        if callable(answers):
            # inside the check: a stub's NotImplementedError becomes "[not yet]"
            answers = answers()
        assert isinstance(answers, dict), _(
            "`answers` should be a dict from scenario to regime name."
        )
        unknown = sorted(set(answers.values()) - set(REGIMES))
        assert not unknown, _("use the names in REGIMES; {unknown} is not one of {list}.").format(
            unknown=unknown, list=list(REGIMES)
        )
        missing = sorted(set(_SCENARIOS) - set(answers))
        assert not missing, _("answer every scenario; missing {missing}.").format(missing=missing)
        wrong = sorted(k for k, digest in _SCENARIOS.items() if _digest(k, answers[k]) != digest)
        assert not wrong, _(
            "not quite for {wrong}: ask which of p(x), p(y|x) and the loss differ between the "
            "tasks of each scenario."
        ).format(wrong=wrong)

    run_check(_("Exercise 2: which regime?"), check)


def _reference_training(
    model, data, losses, weights, *, steps, tasks_per_step, batch_size, lr, generator
):
    """The lecture's multi-task loop, with the random draws in the order the exercise states."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    totals = []
    for _step in range(steps):
        chosen = torch.randperm(len(data), generator=generator)[:tasks_per_step].tolist()
        total = 0.0
        for k in chosen:
            x, y = data[k]
            rows = torch.randint(len(x), (batch_size,), generator=generator)
            task_id = torch.full((batch_size,), k, dtype=torch.long)
            total = total + weights[k] * losses[k](model(x[rows], task_id), y[rows])
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        totals.append(float(total.detach()))
    return totals


class _TinyModel(torch.nn.Module):
    """A shared linear map plus a per-task offset: enough to tell the loop's steps apart."""

    def __init__(self, num_tasks: int, features: int):
        super().__init__()
        self.shared = torch.nn.Linear(features, 1)
        self.offset = torch.nn.Parameter(torch.zeros(num_tasks, 1))

    def forward(self, x, task_id):
        return self.shared(x) + self.offset[task_id]


def check_training_loop(student: Callable[..., list]) -> None:
    """Exercise 3: ``student(model, data, losses, weights, *, steps, tasks_per_step, batch_size,
    lr, generator)`` runs the lecture's multi-task training loop and returns each step's loss.

    Compared with the reference loop step by step, from the same initialisation and seed.
    """
    import copy

    mse = torch.nn.functional.mse_loss
    l1 = torch.nn.functional.l1_loss

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        data = [(torch.randn(n, 3, generator=g), torch.randn(n, 1, generator=g)) for n in (7, 9, 5)]
        losses, weights = [mse, l1, mse], [1.0, 0.5, 2.0]
        torch.manual_seed(0)
        model = _TinyModel(3, 3)
        theirs = copy.deepcopy(model)
        settings = {"steps": 5, "tasks_per_step": 2, "batch_size": 4, "lr": 0.1}

        def run(loop, trained):  # the same data, weights and seed for both loops
            seeded = torch.Generator().manual_seed(1)
            return loop(trained, data, losses, weights, generator=seeded, **settings)

        want = run(_reference_training, model)
        got = run(student, theirs)
        assert isinstance(got, list) and len(got) == 5, _(
            "return a list with one loss per step (5 steps); got {name} {value}."
        ).format(name=type(got).__name__, value=got if not isinstance(got, list) else len(got))
        assert abs(float(got[0]) - want[0]) < 1e-5, _(
            "the first step's loss should be {want:.4f}; got {value:.4f}. Draw the tasks with "
            "torch.randperm(T)[:tasks_per_step], then each chosen task's rows with "
            "torch.randint, both from `generator`, and sum weights[k] * losses[k](...)."
        ).format(want=want[0], value=float(got[0]))
        assert all(abs(float(a) - b) < 1e-4 for a, b in zip(got, want)), _(
            "the first loss is right but later ones drift: take one SGD step per loop "
            "(zero_grad, backward of the weighted sum, step), with torch.optim.SGD and `lr`."
        )
        for mine, ref in zip(theirs.parameters(), model.parameters()):
            assert torch.allclose(mine, ref, atol=1e-5), _(
                "the losses match but the model ends elsewhere: train the model you were given."
            )

    run_check(_("Exercise 3: the multi-task training loop"), check)
