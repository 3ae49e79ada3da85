"""The homework's answer keys and part texts quote only figures the reference run printed.

``python -m benchmarks homework`` runs each assignment's solution as a student runs it and keeps the
executed notebook in ``benchmarks/homework_runs/``. Every decimal figure in the homework's English
markdown is either a setting or threshold the text itself sets (listed below, with why), or a
result, which must be read from that run; a derived figure (a range, a margin over chance) is
recomputed from the run's printed table.
"""

import json
import pathlib
import re

import pytest

from mtml_lib.claims import without_citations
from mtml_lib.course.editions.twins import twins

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks" / "homework" / "source"
RUNS = ROOT / "benchmarks" / "homework_runs"
ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")
FIGURE = re.compile(r"(?<![\w.$^{])\d+\.\d+")

# Figures the text sets rather than measures: settings of the experiments, grading thresholds,
# chance levels.
SETTINGS = {
    "hw1_multitask": {
        "0.0": "a like weight",
        "0.25": "a like weight",
        "1.0": "a like weight and a static weight",
        "0.3": "the relatedness -0.5 of part 4 is a setting; 0.3 is no result either (a bound)",
        "0.5": "chance AUC, a correlation and a relatedness the text sets",
        "0.9": "a correlation of notebook 04's sweep",
        "0.01": "the gap below which one seed cannot call a difference",
        "0.02": "the spread over initialisations the grader's tolerance allows for",
        "0.04": "a grading tolerance",
        "0.15": "a grading tolerance",
        "0.7": "a grading threshold",
    },
    "hw2_blackbox": {},
}
# Results the reference run prints, as the text quotes them.
PRINTED = {
    "hw1_multitask": ["0.771", "0.763", "0.777"],
    "hw2_blackbox": ["96.4% ± 0.9", "88.4% ± 1.2", "80.6% ± 1.3", "86.6% ± 1.3"],
}


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def english_markdown(assignment):
    notebook = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    english = [e for e, _ in twins(notebook)]
    return [without_citations("".join(notebook["cells"][i]["source"])) for i in english]


def printed(assignment):
    return "".join(
        "".join(output.get("text", ""))
        for cell in cells(RUNS / f"{assignment}.ipynb")
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_run_is_of_the_current_solution(assignment):
    run = [c["source"] for c in cells(RUNS / f"{assignment}.ipynb") if c["cell_type"] == "code"]
    source = SOURCE / assignment / f"{assignment}.ipynb"
    now = [c["source"] for c in cells(source) if c["cell_type"] == "code"]
    assert [("".join(s)) for s in run] == [("".join(s)) for s in now], (
        f"the solution of {assignment} changed since its reference run: "
        "run `python -m benchmarks homework` again"
    )
    errors = [
        o
        for c in cells(RUNS / f"{assignment}.ipynb")
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_figure_in_the_text_is_a_setting_or_a_printed_result(assignment):
    output = printed(assignment)
    for figure in PRINTED[assignment]:
        assert figure in output, f"{figure} is not in the reference run's output"
    results = " ".join(PRINTED[assignment])
    unexplained = [
        (figure, text[max(0, m.start() - 40) : m.end() + 20])
        for text in english_markdown(assignment)
        for m in FIGURE.finditer(text)
        if (figure := m.group()) not in SETTINGS[assignment]
        and figure not in results
        and figure not in DERIVED.get(assignment, {})
    ]
    assert not unexplained, unexplained


def _auc_table(output):
    """{(model, like weight): (click AUC, like AUC)} from part 6's printed table."""
    rows = re.findall(r"^\s*(shared-bottom|mmoe)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", output, re.M)
    return {(m, float(w)): (float(c), float(like)) for m, w, c, like in rows}


def _accuracies(output):
    """{(N, K): accuracy in %} from part 6's printed lines."""
    rows = re.findall(r"^(\d)-way (\d)-shot: test accuracy ([\d.]+)%", output, re.M)
    return {(int(n), int(k)): float(a) for n, k, a in rows}


def test_hw1_the_like_weight_sweep_moves_the_aucs_as_little_as_the_key_says():
    table = _auc_table(printed("hw1_multitask"))
    assert table, "part 6's table was not found in the reference run"
    for model in ("shared-bottom", "mmoe"):
        for objective in (0, 1):
            values = [table[model, w][objective] for w in (0.25, 1.0, 4.0)]
            assert max(values) - min(values) < 0.015, (model, objective, values)


def test_hw2_the_margins_over_chance_the_key_quotes():
    accuracy = _accuracies(printed("hw2_blackbox"))
    margins = [round(accuracy[n, 1] - 100 / n) for n in (2, 3, 4)]
    text = " ".join(english_markdown("hw2_blackbox"))
    quoted = re.search(r"about (\d+), (\d+) and (\d+)\s+points", text)
    assert quoted, "the key's margins over chance were not found"
    assert [int(q) for q in quoted.groups()] == margins, (quoted.groups(), margins)


def test_hw2_the_minutes_the_text_states_are_the_runs():
    minutes = re.search(r"training and testing took ([\d.]+) min", printed("hw2_blackbox"))
    assert minutes, "the run's time was not printed"
    texts = english_markdown("hw2_blackbox")
    stated = {float(m) for t in texts for m in re.findall(r"(\d+\.\d+) minutes", t)}
    run = float(minutes.group(1))
    # "about": a wall-clock time moves by a few percent from one run to the next on one machine
    assert stated and all(abs(s - run) <= 0.1 * run for s in stated), (stated, run)


# Figures computed from the run by the tests above.
DERIVED = {
    "hw1_multitask": {
        "0.015": test_hw1_the_like_weight_sweep_moves_the_aucs_as_little_as_the_key_says
    },
    "hw2_blackbox": {"3.3": test_hw2_the_minutes_the_text_states_are_the_runs},
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_korean_text_quotes_the_same_figures(assignment):
    notebook = json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    different = []
    for english, translations in twins(notebook):
        en = sorted(FIGURE.findall("".join(notebook["cells"][english]["source"])))
        for language, twin in translations.items():
            other = sorted(FIGURE.findall("".join(notebook["cells"][twin]["source"])))
            if en != other:
                different.append((english, language, en, other))
    assert not different, different
