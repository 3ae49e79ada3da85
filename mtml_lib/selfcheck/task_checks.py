"""Self-checks for notebook 01 ("What is a task")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch

from ..data import digits
from ..i18n import translate as _
from ..tasks import CROSS_ENTROPY, Task
from . import run_check
from .guards import library_answer, unchanged

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
        for split in ("train", "test"):
            check_split(split)

    def check_split(split: str) -> None:
        task = make_task(split)
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
        pool = digits.load_digits_pool(split=split)
        index = {row.tobytes(): int(d) for row, d in zip(pool.images.numpy(), pool.labels)}
        assert tuple(x.shape) == (300, 64), _(
            "inputs should be flat 8x8 images, shape (n, 64); got {x_shape}."
        ).format(x_shape=tuple(x.shape))
        missing = sum(row.tobytes() not in index for row in x.numpy())
        assert missing == 0, _(
            "make_task('{split}'): {missing} of 300 inputs are not images of the {split} pool: "
            "sample x from the pool of `split`."
        ).format(split=split, missing=missing)
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


class _RecordingModel(torch.nn.Module):
    """A shared linear map plus a per-task offset that records every call: its inputs, task ids
    and the parameters' values at that moment (so the check can follow the student's loop)."""

    def __init__(self, num_tasks: int, features: int):
        super().__init__()
        self.shared = torch.nn.Linear(features, 1)
        self.offset = torch.nn.Parameter(torch.zeros(num_tasks, 1))
        self.calls: list[tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]] = []

    def forward(self, x, task_id):
        snapshot = [p.detach().clone() for p in self.parameters()]
        self.calls.append((x.detach().clone(), torch.as_tensor(task_id).detach().clone(), snapshot))
        return self.shared(x) + self.offset[task_id]


def _steps(calls):
    """The recorded calls grouped by the parameters' values: one group per optimizer step."""
    groups: list[list] = []
    for x, task_id, params in calls:
        if groups and all(torch.equal(a, b) for a, b in zip(groups[-1][0][2], params)):
            groups[-1].append((x, task_id, params))
        else:
            groups.append([(x, task_id, params)])
    return groups


def _step_batches(group, where, settings, step: int) -> dict[int, list[int]]:
    """The rows of each task one step's calls of the model saw: ``{task: [row, ...]}``."""
    batches: dict[int, list[int]] = {}
    for x, task_id, _params in group:
        assert task_id.numel() == len(x), _(
            "give the model one task id per row: task_id of shape (rows,)."
        )
        for row, t in zip(x, task_id.reshape(-1).tolist()):
            k, i = where.get(row.numpy().tobytes(), (None, None))
            assert k is not None, _(
                "the model was called on inputs that are not rows of data[k]: index the "
                "task's own x with the drawn rows."
            )
            assert t == k, _(
                "rows of task {k} were given task id {t}: fill task_id with k for task k's rows."
            ).format(k=k, t=t)
            batches.setdefault(k, []).append(i)
    assert len(batches) == settings["tasks_per_step"], _(
        "each step should use {want} different tasks; step {step} used {got}."
    ).format(want=settings["tasks_per_step"], step=step, got=sorted(batches))
    counts = {k: len(rows) for k, rows in batches.items()}
    assert set(counts.values()) == {settings["batch_size"]}, _(
        "each chosen task's mini-batch should have batch_size = {want} rows; step {step} "
        "used {got} rows per task."
    ).format(want=settings["batch_size"], step=step, got=counts)
    return batches


def _verify_step(shadow, before, after, batches, returned, task_setup, settings, step: int):
    """One step, recomputed on ``shadow`` from the parameters ``before`` it: the returned loss is
    the weighted sum on the rows the model saw, and ``after`` is one SGD step on it."""
    data, losses, weights = task_setup
    with torch.no_grad():
        for mine, value in zip(shadow.parameters(), before):
            mine.copy_(value)
    total = sum(
        weights[k]
        * losses[k](shadow(data[k][0][rows], torch.full((len(rows),), k)), data[k][1][rows])
        for k, rows in batches.items()
    )
    assert abs(float(returned) - total.item()) < 1e-5, _(
        "step {step} returned {value:.4f}, but the weighted sum of the chosen tasks' "
        "losses on the rows your model saw is {want:.4f}: sum weights[k] * "
        "losses[k](...), and return it before the step changes the parameters."
    ).format(step=step, value=float(returned), want=total.item())
    shadow.zero_grad()
    total.backward()
    for mine, value in zip(shadow.parameters(), after):
        assert torch.allclose(mine.detach() - settings["lr"] * mine.grad, value, atol=1e-5), _(
            "after step {step} the parameters are not one SGD step (lr = {lr}) on that "
            "weighted sum: zero_grad, backward of the sum, step, with "
            "torch.optim.SGD(model.parameters(), lr=lr)."
        ).format(step=step, lr=settings["lr"])


def _run_loop(student, task_setup, settings, seed: int, global_seed: int):
    """The student's loop on a fresh recording model, from ``generator`` seeded ``seed`` and the
    global random state seeded ``global_seed`` (which must not matter)."""
    from ..training.multitask_loop import fit

    data, losses, weights = task_setup
    torch.manual_seed(0)
    model = _RecordingModel(len(data), 3)
    torch.manual_seed(global_seed)
    given = unchanged(data=data, weights=weights)
    with library_answer(student, {"mtml_lib.training.multitask_loop.fit": fit}):
        got = student(
            model,
            data,
            list(losses),
            weights,
            generator=torch.Generator().manual_seed(seed),
            **settings,
        )
    given.verify()
    return got, model


def _verify_draws(chosen_sets, rows_seen, settings, runs) -> None:
    """Random tasks and rows, every one drawn from ``generator``: ``runs`` holds the losses of
    the first run, of the same seed with another global seed, and of another seed."""
    assert len(chosen_sets) > 1 and set().union(*chosen_sets) == set(rows_seen), _(
        "every step used the same tasks: draw the mini-batch of tasks at random, with `generator`."
    )
    assert all(len(seen) > settings["batch_size"] for seen in rows_seen.values()), _(
        "each task's mini-batch is always the same rows: draw them at random, with `generator`."
    )
    first, again, other = ([float(v) for v in losses] for losses in runs)
    assert again == first, _(
        "the same `generator` seed gave another run: draw every random number from "
        "`generator`, not from torch's global random state."
    )
    assert other != first, _(
        "another `generator` seed gave the same run: draw the tasks and rows from `generator`."
    )


def check_training_loop(student: Callable[..., list]) -> None:
    """Exercise 3: ``student(model, data, losses, weights, *, steps, tasks_per_step, batch_size,
    lr, generator)`` runs the lecture's multi-task training loop and returns each step's loss.

    Checked by following the student's own loop, whatever order it draws its random numbers in:
    the model records every call, and each step must be one SGD step on the weighted sum of the
    losses of ``tasks_per_step`` different tasks, each on ``batch_size`` of its own rows, with
    every draw from ``generator``.
    """
    mse = torch.nn.functional.mse_loss
    l1 = torch.nn.functional.l1_loss
    steps = 12
    settings = {"steps": steps, "tasks_per_step": 2, "batch_size": 4, "lr": 0.1}
    g = torch.Generator().manual_seed(0)
    data = [(torch.randn(n, 3, generator=g), torch.randn(n, 1, generator=g)) for n in (17, 23, 13)]
    task_setup = (data, [mse, l1, mse], [1.0, 0.5, 2.0])
    where = {
        row.numpy().tobytes(): (k, i) for k, (x, _y) in enumerate(data) for i, row in enumerate(x)
    }

    def check() -> None:
        got, model = _run_loop(student, task_setup, settings, 1, 100)
        assert isinstance(got, list) and len(got) == steps, _(
            "return a list with one loss per step ({steps} steps); got {name} {value}."
        ).format(
            steps=steps, name=type(got).__name__, value=len(got) if isinstance(got, list) else got
        )
        groups = _steps(model.calls)
        assert model.calls, _(
            "the model you were given was never called: compute each chosen task's loss with "
            "losses[k](model(x, task_id), y)."
        )
        assert len(groups) == steps, _(
            "take exactly one optimizer step per loop iteration: over {steps} steps the model's "
            "parameters took {value} different values while it was called."
        ).format(steps=steps, value=len(groups))
        shadow = _RecordingModel(len(data), 3)
        chosen_sets, rows_seen = set(), {k: set() for k in range(len(data))}
        for s, group in enumerate(groups):
            batches = _step_batches(group, where, settings, s + 1)
            chosen_sets.add(frozenset(batches))
            for k, rows in batches.items():
                rows_seen[k].update(rows)
            after = (
                groups[s + 1][0][2] if s + 1 < steps else [p.detach() for p in model.parameters()]
            )
            _verify_step(shadow, group[0][2], after, batches, got[s], task_setup, settings, s + 1)
        again, _model = _run_loop(student, task_setup, settings, 1, 200)
        other, _model = _run_loop(student, task_setup, settings, 2, 100)
        _verify_draws(chosen_sets, rows_seen, settings, (got, again, other))

    run_check(_("Exercise 3: the multi-task training loop"), check)
