"""Predict, then run: the questions, their hashed answers, and what the notebooks store."""

import json
import pathlib

import pytest

from mtml_lib.selfcheck.predict import QUESTIONS, _digest, ask, check_prediction

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_question_has_exactly_one_right_letter():
    for key, question in QUESTIONS.items():
        right = [letter for letter in question.options if _digest(key, letter) == question.digest]
        assert len(right) == 1, key


def test_the_verdicts(capsys):
    key = "03-scales"
    right = next(x for x in QUESTIONS[key].options if _digest(key, x) == QUESTIONS[key].digest)
    wrong = next(x for x in QUESTIONS[key].options if x != right)
    check_prediction(key, right)
    check_prediction(key, lambda: wrong)
    check_prediction(key, "z")

    def stub():
        raise NotImplementedError()

    check_prediction(key, stub)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[ok]")
    assert lines[1].startswith("[wrong]") and "equal weights" in lines[1]
    assert lines[2].startswith("[wrong]") and "one of the letters" in lines[2]
    assert lines[3].startswith("[not yet]")


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
    checked = next(i for i, s in enumerate(sources) if f'check_prediction("{key}"' in s)
    assert asked + 2 < checked  # at least one experiment cell between them
    assert "Interpret (two lines)" in sources[checked + 1]
    # the instructor's stored run agrees with the instructor's prediction
    outputs = "".join("".join(o.get("text", "")) for o in cells[checked].get("outputs", []))
    assert outputs.startswith("[ok]"), outputs
