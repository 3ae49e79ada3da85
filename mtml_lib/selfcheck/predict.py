"""Predict, then run: a multiple-choice question before each key experiment.

``ask(key)`` prints the question and its options before the experiment runs; the student
writes the letter they expect in a function, and ``record_prediction(key, answer)`` notes it
before the experiment starts; after the run, ``check_prediction(key, answer, **observed)`` says
whether the run agrees with the letter recorded, and shows it when the answer was changed since.
No right letter is stored anywhere: each question's rule reads the letter off the numbers the run
measured (``observed``), so a run that came out otherwise would make another letter right, and
what the run printed is the explanation.

Example:
    >>> ask("03-scales")  # doctest: +ELLIPSIS
    Predict, then run: ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from ..i18n import N_
from ..i18n import translate as _
from . import run_check

__all__ = ["QUESTIONS", "ask", "check_prediction", "record_prediction"]


class Question(NamedTuple):
    text: str
    options: dict[str, str]
    observed: tuple[str, ...]  # the measurements the rule reads
    rule: Callable[..., str | None]  # measurements -> the letter the run shows (None: none)
    look: str  # which printed check to read when the prediction was off


def _task_id(with_z: float, without_z: float, blind_ceiling: float) -> str | None:
    if abs(with_z - without_z) <= 0.02:
        return "a"
    if without_z > with_z:
        return None  # better without the task: none of the options
    return "b" if without_z <= blind_ceiling + 0.03 else "c"


def _relatedness(
    shared_identical: float, shared_opposite: float, apart_identical: float, apart_opposite: float
) -> str | None:
    better = (shared_identical < apart_identical, shared_opposite < apart_opposite)
    if better == (True, True):
        return "a"
    close = all(
        abs(s - a) <= 0.1 * a
        for s, a in ((shared_identical, apart_identical), (shared_opposite, apart_opposite))
    )
    if close:
        return "c"
    return "b" if better == (True, False) and shared_opposite > 2 * apart_opposite else None


def _scales(progress_small: float, progress_large: float) -> str | None:
    # progress: a task's final training loss over its first (lower = learned more)
    if progress_small > progress_large + 0.2:
        return "c"
    if progress_small < progress_large - 0.2:
        return "b"
    return "a"


def _correlation(
    shared_p1: float, shared_p05: float, apart_p1: float, apart_p05: float
) -> str | None:
    del apart_p1  # read by the student; the options compare at p = 0.5 only
    if abs(shared_p05 - shared_p1) <= 0.1 * shared_p1:
        return "b"
    if shared_p05 > shared_p1:
        return "a" if shared_p05 > apart_p05 else "c"
    return None


def _leak(trained_classes: float, held_out: float) -> str:
    if trained_classes > held_out + 0.03:
        return "b"
    return "c" if trained_classes < held_out - 0.03 else "a"


def _ways(lead_5_way: float, lead_20_way: float) -> str:
    if lead_20_way > lead_5_way + 0.03:
        return "c"
    return "a" if lead_20_way < lead_5_way - 0.03 else "b"


QUESTIONS = {
    "01-task-id": Question(
        N_(
            "Two models of the same size train on the four multi-label tasks, one with the task "
            "descriptor z_i as an input and one without. What happens to the one without z_i?"
        ),
        {
            "a": N_("about the same accuracy as the one with z_i: the images carry the task"),
            "b": N_(
                "lower accuracy on every task, no better than one answer for all four "
                "questions about an image"
            ),
            "c": N_(
                "lower accuracy, but well above one answer per image: a network this size "
                "finds a way around the missing z_i"
            ),
        },
        ("with_z", "without_z", "blind_ceiling"),
        _task_id,
        N_("the statements printed under 'over 8 seeds'"),
    ),
    "02-relatedness": Question(
        N_(
            "Experiment B varies how related two regression tasks are, from identical (rho = +1) "
            "to "
            "opposite (rho = -1). Against independent networks, full sharing is ..."
        ),
        {
            "a": N_("better at every rho: it sees twice the data"),
            "b": N_("better for identical tasks, far worse for opposite ones"),
            "c": N_("the same everywhere: both have enough capacity"),
        },
        ("shared_identical", "shared_opposite", "apart_identical", "apart_opposite"),
        _relatedness,
        N_("the 'identical tasks' and 'conflicting tasks' statements"),
    ),
    "03-scales": Question(
        N_(
            "Two regression tasks share a network; their targets have noise scales sigma = 1 and "
            "sigma = 100, and the losses are summed with equal weights. What happens to the "
            "sigma = 1 task?"
        ),
        {
            "a": N_("it learns as well as with a network of its own"),
            "b": N_("it learns faster: its loss is the easier one"),
            "c": N_("it hardly learns: the sigma = 100 task's gradient drowns it"),
        },
        ("progress_small", "progress_large"),
        _scales,
        N_("the 'equal weights' statement"),
    ),
    "04-correlation": Question(
        N_(
            "The two tasks' correlation p drops from 1 to 0.5. What happens to the shared-bottom "
            "model's test error, compared with separate networks?"
        ),
        {
            "a": N_("it rises, and at p = 0.5 it is worse than separate networks"),
            "b": N_("it stays put: the shared layer has capacity for both tasks"),
            "c": N_("it rises, but stays better than separate networks"),
        },
        ("shared_p1", "shared_p05", "apart_p1", "apart_p05"),
        _correlation,
        N_("the 'negative transfer' statement"),
    ),
    "05-leak": Question(
        N_(
            "An embedding is trained on some classes; a nearest-neighbour classifier on top is "
            "tested "
            "on episodes of those same classes, and on episodes of held-out classes. The first "
            "accuracy is ..."
        ),
        {
            "a": N_("about the same as the second: the episodes are drawn the same way"),
            "b": N_("higher: the embedding memorised the classes it was trained on"),
            "c": N_(
                "lower: the embedding overfit those classes, so their other drawings land in "
                "the wrong place"
            ),
        },
        ("trained_classes", "held_out"),
        _leak,
        N_("the 'leaked split' statement"),
    ),
    "06-ways": Question(
        N_(
            "From 5-way to 20-way 1-shot, how does the meta-trained learner's lead over nearest "
            "neighbour on raw pixels change?"
        ),
        {
            "a": N_("it shrinks: with more classes every method is near chance"),
            "b": N_("it stays the same"),
            "c": N_(
                "it grows: the harder the task, the more what was learned across tasks matters"
            ),
        },
        ("lead_5_way", "lead_20_way"),
        _ways,
        N_("the 'at 20 ways' statements"),
    ),
}


# In this kernel's session: key -> (the letter recorded, whether it was recorded after a verdict
# of that question had been shown), and the keys whose verdict was shown.
_RECORDED: dict[str, tuple[str, bool]] = {}
_SHOWN: set[str] = set()


def _question(key: str) -> Question:
    if key not in QUESTIONS:
        raise ValueError(f"`key` must be one of {sorted(QUESTIONS)}; got {key!r}.")
    return QUESTIONS[key]


def _letter(question: Question, prediction: str | Callable[[], str]) -> str:
    letter = prediction() if callable(prediction) else prediction
    assert letter in question.options, _(
        "answer with one of the letters {value}; got {letter!r}."
    ).format(value=sorted(question.options), letter=letter)
    return letter


def ask(key: str) -> None:
    """Print the question ``key`` and its options."""
    question = _question(key)
    print(_("Predict, then run: {question}").format(question=_(question.text)))
    for letter, option in question.options.items():
        print(f"  ({letter}) {_(option)}")


def record_prediction(key: str, prediction: str | Callable[[], str]) -> None:
    """Before the experiment: note the letter ``prediction`` gives (a letter, or a function
    returning it), which ``check_prediction`` judges after the run; the verdict line says whether
    one was recorded."""
    question = _question(key)

    late = key in _SHOWN

    def check() -> None:
        _RECORDED[key] = (_letter(question, prediction), late)

    if late:
        run_check(_("Prediction ({key}) recorded after the run was checked").format(key=key), check)
    else:
        run_check(_("Prediction ({key}) recorded before the run").format(key=key), check)


def check_prediction(key: str, prediction: str | Callable[[], str], **observed: float) -> None:
    """After the experiment: does the run agree with the letter ``record_prediction`` noted
    before it? ``prediction`` (a letter, or a function returning it) is the answer now; when it
    differs from the recorded one, the check says so and judges the recorded one. ``observed``
    holds the measurements the question's rule reads (numbers, or one-element tensors); the rule
    turns them into the letter the run shows.

    Raises:
        ValueError: for an unknown key, or measurements missing, extra or not finite numbers.
    """
    question = _question(key)
    if sorted(observed) != sorted(question.observed):
        raise ValueError(
            f"`observed` of {key!r} must be exactly {list(question.observed)}; "
            f"got {sorted(observed)}."
        )
    values = {}
    for name, value in observed.items():
        try:
            values[name] = float(value)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"`{name}` must be a number; got {value!r}.") from None
        if not math.isfinite(values[name]):
            raise ValueError(f"`{name}` must be finite; got {values[name]}.")
    shown = question.rule(**values)
    recorded, late = _RECORDED.get(key, (None, False))

    def check() -> None:
        letter = _letter(question, prediction)
        assert recorded is not None, _(
            "no prediction was recorded before the experiment: run the cell with "
            "record_prediction({key!r}, ...) first, then the experiment, then this cell."
        ).format(key=key)
        if late:
            print(_("This letter was recorded after the run's verdict had been shown."))
        if letter != recorded:
            print(
                _(
                    "You recorded ({recorded}) before the run and answer ({letter}) now; the "
                    "verdict is on ({recorded})."
                ).format(recorded=recorded, letter=letter)
            )
            letter = recorded
        assert shown is not None, _(
            "this run shows none of the options clearly (a setting too small?). Read {look} "
            "above and compare it with your ({letter})."
        ).format(letter=letter, look=_(question.look))
        assert letter == shown, _(
            "the run does not show ({letter}). Read {look} above: what did it measure, and why "
            "did it come out that way?"
        ).format(letter=letter, look=_(question.look))

    if run_check(_("Prediction ({key})").format(key=key), check) or recorded is not None:
        _SHOWN.add(key)
