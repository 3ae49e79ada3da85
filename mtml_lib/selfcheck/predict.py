"""Predict, then run: a multiple-choice question before each key experiment.

``ask(key)`` prints the question and its options before the experiment runs; the student
writes the letter they expect in a function; after the run, ``check_prediction(key, answer)``
says whether the run agrees. The right letters are stored hashed, as in notebook 01's quiz,
so reading this file does not give them away; what the run printed is the explanation.

Example:
    >>> ask("03-scales")  # doctest: +ELLIPSIS
    Predict, then run: ...
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

from ..i18n import N_
from ..i18n import translate as _
from . import run_check

__all__ = ["QUESTIONS", "ask", "check_prediction"]


class Question(NamedTuple):
    text: str
    options: dict[str, str]
    digest: str  # of "key:letter" (see _digest)
    look: str  # which printed check to read when the prediction was off


QUESTIONS = {
    "01-task-id": Question(
        N_(
            "Two models of the same size train on the four multi-label tasks, one with the task "
            "descriptor z_i as an input and one without. What happens to the one without z_i?"
        ),
        {
            "a": N_("about the same accuracy as the one with z_i: the images carry the task"),
            "b": N_("lower accuracy on every task, no better than the blind ceiling"),
            "c": N_("better accuracy: it cannot overfit to the task identity"),
        },
        "62bae9978cca3752",
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
        "981cf27795f2b993",
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
        "5c008be6ac3fd666",
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
        "b0004cac98c752dd",
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
            "c": N_("lower: the model is tired of those classes"),
        },
        "54eb95ff19551d5e",
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
        "3b1b3b9417eaee2e",
        N_("the 'at 20 ways' statements"),
    ),
}


def _digest(key: str, letter: str) -> str:
    return hashlib.sha256(f"{key}:{letter}".encode()).hexdigest()[:16]


def ask(key: str) -> None:
    """Print the question ``key`` and its options."""
    if key not in QUESTIONS:
        raise ValueError(f"`key` must be one of {sorted(QUESTIONS)}; got {key!r}.")
    question = QUESTIONS[key]
    print(_("Predict, then run: {question}").format(question=_(question.text)))
    for letter, option in question.options.items():
        print(f"  ({letter}) {_(option)}")


def check_prediction(key: str, prediction: str | Callable[[], str]) -> None:
    """After the experiment: does the run agree with ``prediction`` (a letter, or a function
    returning it)?
    """
    if key not in QUESTIONS:
        raise ValueError(f"`key` must be one of {sorted(QUESTIONS)}; got {key!r}.")
    question = QUESTIONS[key]

    def check() -> None:
        letter = prediction() if callable(prediction) else prediction
        assert letter in question.options, _(
            "answer with one of the letters {value}; got {letter!r}."
        ).format(value=sorted(question.options), letter=letter)
        assert _digest(key, letter) == question.digest, _(
            "the run does not show ({letter}). Read {look} above: what did it measure, and why "
            "did it come out that way?"
        ).format(letter=letter, look=_(question.look))

    run_check(_("Prediction ({key})").format(key=key), check)
