"""Predict, then run: the questions, the rules that read the right letter off a run, and what
the notebooks store."""

import itertools
import json
import pathlib

import pytest
import torch

from mtml_lib.selfcheck.predict import QUESTIONS, ask, check_prediction

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Three-letter questions over measurements between 0 and 1: a grid of runs that came out
# every which way.
GRID = (0.05, 0.2, 0.5, 0.9, 1.0)


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_no_letter_is_right_whatever_the_run_shows(key):
    question = QUESTIONS[key]
    shown = {
        question.rule(**dict(zip(question.observed, values, strict=True)))
        for values in itertools.product(GRID, repeat=len(question.observed))
    }
    # every option is what some run shows: the library holds rules, not answers
    assert set(question.options) <= shown, (key, shown)
    assert shown <= set(question.options) | {None}


def test_the_verdicts(capsys):
    key, run = "03-scales", {"progress_small": 0.95, "progress_large": 0.4}  # sigma=1 stalls
    check_prediction(key, "c", **run)
    check_prediction(key, lambda: "a", **run)
    check_prediction(key, "z", **run)

    def stub():
        raise NotImplementedError()

    check_prediction(key, stub, **run)
    check_prediction(key, "a", progress_small=torch.tensor(0.5), progress_large=0.5)
    check_prediction("06-ways", "c", lead_5_way=0.1, lead_20_way=0.3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[ok]")
    assert lines[1].startswith("[wrong]") and "equal weights" in lines[1]
    assert lines[2].startswith("[wrong]") and "one of the letters" in lines[2]
    assert lines[3].startswith("[not yet]")
    assert lines[4].startswith("[ok]") and lines[5].startswith("[ok]")


def test_a_run_that_shows_no_option_says_so(capsys):
    # the shared model worse on identical tasks: none of the three options
    run = {"shared_identical": 0.5, "shared_opposite": 0.5, "apart_identical": 0.1}
    check_prediction("02-relatedness", "b", **run, apart_opposite=0.1)
    assert "none of the options" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("observed", "match"),
    [
        ({"progress_small": 0.5}, "must be exactly"),
        ({"progress_small": 0.5, "progress_large": 0.5, "seed": 1}, "must be exactly"),
        ({"progress_small": "high", "progress_large": 0.5}, "`progress_small` must be a number"),
        ({"progress_small": float("nan"), "progress_large": 0.5}, "must be finite"),
        ({"progress_small": torch.ones(3), "progress_large": 0.5}, "must be a number"),
    ],
)
def test_bad_measurements_are_refused(observed, match):
    with pytest.raises(ValueError, match=match):
        check_prediction("03-scales", "c", **observed)


def test_unknown_keys_are_refused(capsys):
    with pytest.raises(ValueError, match="`key` must be one of"):
        ask("07-nothing")
    ask("01-task-id")
    assert "(a)" in capsys.readouterr().out


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_each_question_is_asked_before_and_checked_after_its_experiment(key):
    notebook = next((ROOT / "notebooks").glob(f"{key[:2]}_*.ipynb"))
    cells = json.loads(notebook.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells]
    asked = next(i for i, s in enumerate(sources) if f'ask("{key}")' in s)
    checked = next(i for i, s in enumerate(sources) if "check_prediction(" in s and f'"{key}"' in s)
    assert asked + 2 < checked  # at least one experiment cell between them
    assert "Interpret (two lines)" in sources[checked + 1]
    # the instructor's stored run agrees with the instructor's prediction
    outputs = "".join("".join(o.get("text", "")) for o in cells[checked].get("outputs", []))
    assert outputs.startswith("[ok]"), outputs
