"""Predict, then run: the questions, the rules that read the right letter off a run, and what
the notebooks store."""

import itertools
import json
import pathlib

import pytest
import torch

from mtml_lib.selfcheck import predict
from mtml_lib.selfcheck.predict import QUESTIONS, ask, check_prediction, record_prediction

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Three-letter questions over measurements between 0 and 1: a grid of runs that came out
# every which way.
GRID = (0.05, 0.2, 0.5, 0.9, 1.0)


@pytest.fixture(autouse=True)
def _fresh_session(monkeypatch):
    # what a kernel has recorded lives in the module: each test starts from a new kernel
    monkeypatch.setattr(predict, "_RECORDED", {})
    monkeypatch.setattr(predict, "_SHOWN", set())


def _runs(key):
    """``{letter: a run (measurements) that shows it}`` over the grid."""
    question = QUESTIONS[key]
    runs = {}
    for values in itertools.product(GRID, repeat=len(question.observed)):
        run = dict(zip(question.observed, values, strict=True))
        runs.setdefault(question.rule(**run), run)
    return runs


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


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_the_verdict_flips_when_the_run_comes_out_otherwise(key, capsys):
    runs = _runs(key)
    for recorded in QUESTIONS[key].options:
        record_prediction(key, recorded)
        for shown, run in runs.items():
            if shown is None:
                continue
            check_prediction(key, recorded, **run)
            verdict = capsys.readouterr().out.splitlines()[-1]
            assert verdict.startswith("[ok]" if shown == recorded else "[wrong]"), (run, verdict)


def test_the_verdict_is_on_the_letter_recorded_before_the_run(capsys):
    key, run = "03-scales", {"progress_small": 0.95, "progress_large": 0.4}  # shows (c)
    check_prediction(key, "c", **run)  # nothing recorded
    assert capsys.readouterr().out.startswith("[wrong]")
    record_prediction(key, "b")
    check_prediction(key, "c", **run)  # changed to the right letter after the run
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[ok]") and "recorded before the run" in out[0]
    assert "recorded (b) before the run and answer (c) now" in out[1]
    assert out[2].startswith("[wrong]")
    record_prediction(key, "c")  # re-recorded once the verdict was shown: marked
    check_prediction(key, "c", **run)
    out = capsys.readouterr().out.splitlines()
    assert "recorded after the run was checked" in out[0]
    assert "after the run's verdict had been shown" in out[1] and out[2].startswith("[ok]")


def test_recording_refuses_what_is_not_a_letter(capsys):
    def stub():
        raise NotImplementedError()

    record_prediction("03-scales", stub)
    record_prediction("03-scales", "z")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[not yet]") and out[1].startswith("[wrong]")
    assert "one of the letters" in out[1]
    with pytest.raises(ValueError, match="`key` must be one of"):
        record_prediction("07-nothing", "a")


def test_the_verdicts(capsys):
    key, run = "03-scales", {"progress_small": 0.95, "progress_large": 0.4}  # sigma=1 stalls
    record_prediction(key, "c")
    record_prediction("06-ways", "c")
    capsys.readouterr()
    check_prediction(key, "c", **run)
    check_prediction(key, "z", **run)

    def stub():
        raise NotImplementedError()

    check_prediction(key, stub, **run)
    check_prediction("06-ways", "c", lead_5_way=0.1, lead_20_way=0.3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[ok]")
    assert lines[1].startswith("[wrong]") and "one of the letters" in lines[1]
    assert lines[2].startswith("[not yet]")
    assert lines[3].startswith("[ok]")
    record_prediction("02-relatedness", "a")
    check_prediction(  # shared is better at rho = +1 only, and not far worse at -1: no option
        "02-relatedness",
        "a",
        shared_identical=0.1,
        shared_opposite=torch.tensor(0.5),
        apart_identical=0.2,
        apart_opposite=0.4,
    )
    assert "none of the options" in capsys.readouterr().out.splitlines()[-1]


def test_a_run_that_shows_no_option_says_so(capsys):
    # the shared model worse on identical tasks: none of the three options
    run = {"shared_identical": 0.5, "shared_opposite": 0.5, "apart_identical": 0.1}
    record_prediction("02-relatedness", "b")
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
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells]
    asked = next(i for i, s in enumerate(sources) if f'ask("{key}")' in s)
    checked = next(i for i, s in enumerate(sources) if "check_prediction(" in s and f'"{key}"' in s)
    assert asked + 2 < checked  # at least one experiment cell between them
    # the letter is recorded in the cell that asks, before any experiment cell runs
    assert sources[asked].rstrip().endswith(f'record_prediction("{key}", my_prediction)')
    assert not any("my_prediction" in s for s in sources[asked + 1 : checked])
    assert "Interpret (two lines)" in sources[checked + 1]
    # the instructor's stored run agrees with the instructor's prediction
    outputs = "".join("".join(o.get("text", "")) for o in cells[checked].get("outputs", []))
    assert outputs.startswith("[ok]"), outputs
