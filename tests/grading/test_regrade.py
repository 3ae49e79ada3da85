"""The trusted side's scoring: checks, partial credit and the feedback a student reads."""

import json
import subprocess
import sys
import types

from mtml_lib.grading.regrade import score, well_formed

SPEC = types.SimpleNamespace(
    CHECKS={"double": [(1, lambda got, ref: got == ref)], "layout": [(2, lambda g, r: g == r)]},
    UNAVAILABLE={"layout": ["mtml_lib.data.sequence_layout"]},
)
REFERENCE = {"parts": {"double": {"data": [2, 4]}, "layout": {"data": [1]}}}


def test_points_follow_the_checks():
    student = {"cells": {}, "parts": {"double": {"data": [2, 4]}, "layout": {"data": [0]}}}
    parts = score(SPEC, student, REFERENCE)
    assert (parts["double"].points, parts["layout"].points) == (1, 0)
    assert parts["layout"].messages == ["failed: <lambda>"]


def test_feedback_names_the_unavailable_module_and_the_limit_a_cell_hit():
    student = {
        "cells": {
            "setup": "ok",
            "answer": "ImportError: mtml_lib.data.sequence_layout.sequence_layout is not "
            "available while grading: a graded part asks you to write it yourself.",
            "big": "MemoryError",
        },
        "parts": {"double": {"data": [2, 4]}, "layout": {"error": "NameError: name 'f'"}},
    }
    parts = score(SPEC, student, REFERENCE)
    assert parts["double"].points == 1 and parts["double"].messages == []
    messages = parts["layout"].messages
    assert messages[0].startswith("mtml_lib.data.sequence_layout is not available while grading")
    assert messages[1] == "no result: NameError: name 'f'"
    assert messages[2] == "cell big stopped at the memory limit (MemoryError)"


def test_a_stopped_run_says_why():
    student = {"cells": {}, "parts": {}, "stopped": "it ran past the 900 s time limit"}
    parts = score(SPEC, student, REFERENCE)
    assert parts["double"].messages == ["no result: it ran past the 900 s time limit"]


def test_forged_probe_output_is_reduced_to_what_scoring_reads():
    forged = json.dumps(
        {
            "cells": {"a": "ok", "b": 5},
            "parts": {"double": 7, "layout": {"error": ["x"]}, "other": {"data": [1], "x": 2}},
        }
    ).encode()
    data = well_formed(forged)
    assert data == {"cells": {"a": "ok"}, "parts": {"other": {"data": [1]}}}
    parts = score(SPEC, data, REFERENCE)  # the trusted side does not trip over it
    assert parts["double"].points == 0 and parts["layout"].points == 0
    assert well_formed(b"not json")["crashed"] is True


def test_the_untrusted_side_loads_no_notebook_tooling():
    """Every sandboxed run starts the untrusted side under a CPU-time limit: it must not pay for
    importing nbgrader (about 3 s of CPU) or nbformat, which only the instructor's side uses."""
    code = (
        "import sys, mtml_lib.grading.untrusted\n"
        "print(sorted(m for m in ('nbgrader', 'nbformat', 'traitlets') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def fingerprints_after(tmp_path, change=None, reference=None):
    """HW1's grader (a copy, changed by ``change(text)``) and its parts' fingerprints."""
    import pathlib
    import shutil

    from mtml_lib.grading.fingerprints import part_fingerprints

    graders = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "homework" / "graders"
    folder = tmp_path / f"graders{len(list(tmp_path.iterdir()))}"
    shutil.copytree(graders, folder, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    path = folder / "hw1_multitask.py"
    if change:
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    parts = ("test_multihead", "test_film", "test_uncertainty", "test_experiment", "test_mmoe")
    data = reference or {"parts": {p: {"data": [1.0]} for p in (*parts, "test_recommender")}}
    return part_fingerprints(path, data)


def changed(before, after):
    return sorted(part for part in before if before[part] != after[part])


def test_a_regrade_finds_the_parts_whose_grading_changed(tmp_path):
    before = fingerprints_after(tmp_path)
    assert before == fingerprints_after(tmp_path)  # the same grader: nothing to re-grade
    # a check of part 2 corrected: part 2 alone
    fixed = fingerprints_after(
        tmp_path, lambda t: t.replace("gap <= 1e-6 for gap", "gap <= 1e-5 for gap")
    )
    assert changed(before, fixed) == ["test_film"]
    # a helper that part 4's probe calls (its re-run of the experiment)
    helper = fingerprints_after(
        tmp_path,
        lambda t: t.replace(
            "def _rerun_experiment(ns, seed, steps):",
            "def _rerun_experiment(ns, seed, steps):  # fixed",
        ),
    )
    assert changed(before, helper) == ["test_experiment"]
    # a part's points in CHECKS
    points = fingerprints_after(
        tmp_path, lambda t: t.replace("(1, output_shape),", "(2, output_shape),")
    )
    assert changed(before, points) == ["test_multihead"]
    # a constant outside the functions may be read by any part: every part
    constant = fingerprints_after(tmp_path, lambda t: t.replace("MSE_BAND = 0.3", "MSE_BAND = 0.4"))
    assert changed(before, constant) == sorted(before)
    # the instructor's solution, and so the reference data of one part
    data = {"parts": {p: {"data": [1.0]} for p in before}}
    data["parts"]["test_mmoe"] = {"data": [2.0]}
    assert changed(before, fingerprints_after(tmp_path, reference=data)) == ["test_mmoe"]
