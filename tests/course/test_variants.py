"""Per-student variants: the seed each student's runs use, and what the check says of it."""

import nbformat
import pytest

from mtml_lib.course.variants import (
    REFERENCE_SEED,
    STUDENT_ID_TAG,
    student_id_warning,
    student_seed,
    written_student_id,
)


def test_a_seed_per_student_and_assignment_the_same_everywhere():
    seeds = {
        (a, s): student_seed(a, s)
        for a in ("hw1_multitask", "hw2_blackbox")
        for s in ("kim.minji", "lee.jiwoo", "park-1")
    }
    assert len(set(seeds.values())) == len(seeds)  # no two pairs share a seed
    assert all(1 <= seed < 1_000_000 for seed in seeds.values())
    # fixed by the pair alone (sha256 of "assignment/student"), so the grader derives the same
    assert student_seed("hw1_multitask", "kim.minji") == 382398
    assert student_seed("hw1_multitask", "") == REFERENCE_SEED == 0


@pytest.mark.parametrize(
    ("assignment", "student", "message"),
    [
        ("", "kim", "`assignment` must be a non-empty string; got ''"),
        ("hw1_multitask", "kim minji", "`student` must be your student id"),
        ("hw1_multitask", "../x", "got '../x'"),
        ("hw1_multitask", 7, "got 7"),
    ],
)
def test_a_bad_id_is_refused_with_what_an_id_is(assignment, student, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        student_seed(assignment, student)


def notebook_with(source: str | None):
    cells = [nbformat.v4.new_code_cell("import torch")]
    if source is not None:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [STUDENT_ID_TAG]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_the_written_id_is_read_from_the_tagged_cell():
    assert written_student_id(notebook_with('STUDENT_ID = "kim.minji"\nSEED = 1')) == "kim.minji"
    assert written_student_id(notebook_with('STUDENT_ID = ""')) == ""
    assert written_student_id(notebook_with("STUDENT_ID = input()")) is None
    assert written_student_id(notebook_with("STUDENT_ID = (")) is None
    assert written_student_id(notebook_with(None)) is None


def test_the_check_warns_when_the_runs_are_not_at_the_uploads_seed():
    assert student_id_warning(notebook_with('STUDENT_ID = "kim.minji"'), "kim.minji") is None
    assert student_id_warning(notebook_with(None), "kim.minji") is None  # a notebook without one
    empty = student_id_warning(notebook_with('STUDENT_ID = ""'), "kim.minji")
    assert "STUDENT_ID is not written" in empty and "'kim.minji'" in empty
    other = student_id_warning(notebook_with('STUDENT_ID = "lee.jiwoo"'), "kim.minji")
    assert "STUDENT_ID is 'lee.jiwoo' but this upload is filed under 'kim.minji'" in other
