"""The grade table in the import formats of Canvas and Moodle, and the course's own CSV, from a
gradebook made here with nbgrader's API (auto-graded parts, a written answer graded by hand or
not yet, a late penalty, a student who submitted nothing)."""

import csv
import datetime
import io
import pathlib
import shutil
import subprocess
import sys

import pytest

from mtml_lib.course import lms
from mtml_lib.course.folder import _with_environment_bin

ROOT = pathlib.Path(__file__).resolve().parents[2]
DUE = datetime.datetime(2026, 12, 1, 9, 0)

ROSTER = """username,role,edition,name,lms_id,sis_id,login,email,section
instructor1,instructor,en,,,,,,
ta1,ta,en,,,,,,
kim,student,ko,"Kim, Minji",1001,S-2026-01,mkim,minji@example.edu,Lab A
lee,student,en,Jun Lee,1002,S-2026-02,,jun@example.edu,Lab B
park,student,en,,1003,S-2026-03,,,Lab A
"""


def make_gradebook(path):
    """hw1: 3 + 2 auto-graded points and a 5-point written answer; hw2: 4 auto-graded points.

    kim: hw1 all graded (3 + 2 + 4 by hand), hw2 late by a day (10% off 4); lee: hw1 with the
    written answer not graded yet; park: nothing submitted."""
    from nbgrader.api import Gradebook

    _with_environment_bin()  # nbgrader's gradebook runs alembic, from this environment
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("hw1", duedate=DUE)
        gb.add_assignment("hw2", duedate=DUE)
        gb.add_notebook("hw1", "hw1")
        gb.add_notebook("hw2", "hw2")
        gb.add_grade_cell("test_a", "hw1", "hw1", max_score=3, cell_type="code")
        gb.add_grade_cell("test_b", "hw1", "hw1", max_score=2, cell_type="code")
        gb.add_grade_cell("answer", "hw1", "hw1", max_score=5, cell_type="markdown")
        gb.add_solution_cell("answer", "hw1", "hw1")
        gb.add_grade_cell("test_c", "hw2", "hw2", max_score=4, cell_type="code")
        for student in ("kim", "lee", "park"):
            gb.add_student(student)
        gb.add_submission("hw1", "kim", timestamp=DUE)
        gb.add_submission("hw1", "lee", timestamp=DUE)
        gb.add_submission("hw2", "kim", timestamp=DUE + datetime.timedelta(days=1))

        def grade(cell, assignment, student, auto=None, manual=None):
            g = gb.find_grade(cell, assignment, assignment, student)
            g.auto_score, g.manual_score, g.needs_manual_grade = auto, manual, False
            if cell == "answer" and manual is None:
                g.needs_manual_grade = True

        grade("test_a", "hw1", "kim", auto=3)
        grade("test_b", "hw1", "kim", auto=2)
        grade("answer", "hw1", "kim", manual=4)
        grade("test_a", "hw1", "lee", auto=1)
        grade("test_b", "hw1", "lee", auto=2)
        grade("answer", "hw1", "lee")
        grade("test_c", "hw2", "kim", auto=4)
        gb.find_submission_notebook("hw2", "hw2", "kim").late_submission_penalty = 0.4
        gb.db.commit()


@pytest.fixture
def gradebook(tmp_path):
    from nbgrader.api import Gradebook

    make_gradebook(tmp_path / "gradebook.db")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        yield gb


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_scores_count_hand_grading_late_penalties_and_missing_work(gradebook):
    table = lms.grade_table(gradebook)
    assert table.scores == {
        ("kim", "hw1"): 9.0,  # 3 + 2 auto-graded, 4 by hand
        ("kim", "hw2"): 3.6,  # 4 less 10% for a day late
        ("lee", "hw1"): None,  # the written answer is not graded yet
        ("lee", "hw2"): 0.0,
        ("park", "hw1"): 0.0,
        ("park", "hw2"): 0.0,
    }
    assert table.pending == [("lee", "hw1")]
    assert [(name, maximum) for name, maximum, _ in table.assignments] == [
        ("hw1", 10.0),
        ("hw2", 4.0),
    ]


def test_canvas_file_has_canvas_columns_points_possible_and_roster_ids(gradebook, roster):
    table = lms.grade_table(gradebook, people=lms.read_people(roster))
    got = rows(lms.canvas_csv(table, {"hw1": "Homework 1 (4567)"}))
    assert got[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [
        "Homework 1 (4567)",
        "hw2",
    ]
    assert got[1] == ["Points Possible", "", "", "", "", "10", "4"]
    assert got[2:] == [
        ["Kim, Minji", "1001", "S-2026-01", "mkim", "Lab A", "9", "3.6"],
        ["Lee, Jun", "1002", "S-2026-02", "lee", "Lab B", "", "0"],  # pending: left empty
        ["park", "1003", "S-2026-03", "park", "Lab A", "0", "0"],
    ]


def test_canvas_refuses_a_column_title_that_is_not_name_and_id(gradebook):
    with pytest.raises(ValueError, match=r"column for 'hw1' must be Canvas's .*got 'Homework 1'"):
        lms.canvas_csv(lms.grade_table(gradebook), {"hw1": "Homework 1"})


def test_moodle_file_has_moodles_user_fields(gradebook, roster):
    table = lms.grade_table(gradebook, people=lms.read_people(roster))
    got = rows(lms.moodle_csv(table))
    assert got[0] == ["First name", "Last name", "ID number", "Username", "Email address"] + [
        "hw1",
        "hw2",
    ]
    assert got[1:] == [
        ["Minji", "Kim", "S-2026-01", "mkim", "minji@example.edu", "9", "3.6"],
        ["Jun", "Lee", "S-2026-02", "lee", "jun@example.edu", "", "0"],
        ["park", "", "S-2026-03", "park", "", "0", "0"],
    ]


def test_course_csv_keeps_nbgraders_columns_and_marks_pending_hand_grading(gradebook):
    got = rows(lms.course_csv(lms.grade_table(gradebook)))
    assert got[0][:11] == [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
    ]
    by = {(r[0], r[3]): r for r in got[1:]}
    # raw, penalty, score, max, hand grading pending, similarity (no report made: empty)
    assert by[("hw2", "kim")][7:] == ["4", "0.4", "3.6", "4", "false", ""]
    assert by[("hw1", "lee")][7:] == ["3", "0", "3", "10", "true", ""]
    assert by[("hw1", "park")][2] == "" and by[("hw1", "park")][9] == "0"


def test_a_student_with_work_missing_from_the_roster_is_named(gradebook, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("username,role\ninstructor1,instructor\nkim,student\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not on the roster as students.*\['lee'\]"):
        lms.grade_table(gradebook, people=lms.read_people(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,role\nkim,student\n", "needs a header with `username`"),
        ("username,role\nkim,student\nkim,student\n", r"row 3: `username` 'kim' is on the roster"),
        ("username,role\n,student\n", "row 2: `username` must not be empty"),
    ],
)
def test_bad_rosters_are_named(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        lms.read_people(path)


def test_an_unknown_assignment_is_named(gradebook):
    with pytest.raises(ValueError, match=r"assignment must be one of \['hw1', 'hw2'\]"):
        lms.grade_table(gradebook, assignments=["hw3"])


@pytest.mark.slow  # four runs of nbgrader export
def test_mtml_grades_writes_each_format_through_nbgrader_export(tmp_path, roster):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "notebooks" / "homework" / "nbgrader_config.py", course)
    make_gradebook(course / "gradebook.db")

    def grades(*args):
        command = [sys.executable, "-m", "mtml_lib.cli", "--course", str(course), "grades"]
        return subprocess.run(
            [*command, *args], capture_output=True, text=True, check=False, cwd=tmp_path
        )

    done = grades("--format", "canvas", "--roster", str(roster), "--column", "hw2=HW 2 (88)")
    assert done.returncode == 0, done.stderr
    assert "lee, hw1: written answers not graded yet" in done.stderr
    canvas = rows((tmp_path / "canvas.csv").read_text(encoding="utf-8"))
    assert canvas[0][-1] == "HW 2 (88)" and canvas[2][:4] == [
        "Kim, Minji",
        "1001",
        "S-2026-01",
        "mkim",
    ]
    assert grades("--format", "moodle", "--out", "m.csv").returncode == 0
    assert rows((tmp_path / "m.csv").read_text(encoding="utf-8"))[1][3] == "kim"
    assert grades().returncode == 0  # nbgrader's own table
    assert (tmp_path / "grades.csv").read_text(encoding="utf-8").startswith("assignment,")
    assert grades("--format", "course", "--out", "course.csv").returncode == 0
    course_rows = rows((tmp_path / "course.csv").read_text(encoding="utf-8"))
    assert course_rows[0][-2:] == ["needs_manual_grade", "similarity"]
    bad = grades("--column", "hw1")
    assert bad.returncode == 2 and "--column must be HW=TITLE; got 'hw1'" in bad.stderr
