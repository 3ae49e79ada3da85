"""The similarity report: copies are flagged (a renamed, reordered classmate's answer, a part
pasted from the library, an earlier term's answer), honest answers of the same part written
independently are not, and the released starter code counts for nothing."""

import csv
import io
import os
import pathlib
import shutil
import subprocess
import sys

import nbformat
import pytest
from testkit.similar import FILM_RENAMED, HONEST, MMOE_RENAMED, UNCERTAINTY_LIBRARY

from mtml_lib import cli
from mtml_lib import course as homework
from mtml_lib.course import lms
from mtml_lib.course.similarity import similarity
from mtml_lib.course.similarity_report import read_closest

pytestmark = pytest.mark.slow  # releases HW1 with nbgrader

ROOT = pathlib.Path(__file__).resolve().parents[2]
HW1 = "hw1_multitask"


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    target = tmp_path_factory.mktemp("similar") / "homework"
    shutil.copytree(
        ROOT / "notebooks" / "homework",
        target,
        ignore=shutil.ignore_patterns(
            "release", "submitted", "autograded", "feedback", "gradebook.db", "reference"
        ),
    )
    homework.release(target, HW1, quiet=True)
    source = nbformat.read(target / "source" / HW1 / f"{HW1}.ipynb", as_version=4)
    right = {
        grade_id(c): "\n".join(
            line
            for line in c.source.splitlines()
            if "### BEGIN" not in line and "### END" not in line
        )
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }

    def submit(folder, student, answers):
        notebook = nbformat.read(target / "release" / HW1 / f"{HW1}.ipynb", as_version=4)
        for cell in notebook.cells:
            if grade_id(cell) in answers:
                cell.source = answers[grade_id(cell)]
        (folder / student / HW1).mkdir(parents=True)
        nbformat.write(notebook, folder / student / HW1 / f"{HW1}.ipynb")

    submitted = target / "submitted"
    submit(submitted, "ana", right)  # the instructor's answers
    submit(submitted, "ben", {"mmoe": MMOE_RENAMED})  # ana's MMoE, renamed and reordered
    submit(submitted, "cho", {"uncertainty": UNCERTAINTY_LIBRARY})  # pasted from the library
    honest = {part: HONEST[part] for part in ("multihead", "uncertainty", "mmoe")}
    submit(submitted, "dan", honest)  # three parts, written independently of ana's
    submit(submitted, "eve", {})  # the release as it was: nothing but starter code
    submit(submitted, "fay", {"film": FILM_RENAMED})  # an earlier term's FiLM, renamed
    earlier = target.parent / "term-2025"
    submit(earlier, "zed", {"film": HONEST["film"]})  # independent of ana's FiLM
    return target, earlier


@pytest.fixture(scope="module")
def report(course):
    folder, earlier = course
    return similarity(folder, HW1, earlier=[earlier])


def test_copies_are_flagged_and_nothing_else(report):
    flagged = {(p.part, p.student, p.other) for p in report.flagged}
    assert flagged == {
        ("mmoe", "ana", "ben"),
        ("uncertainty", "cho", "library:mtml_lib.weighting.uncertainty"),
        ("film", "fay", "term-2025:zed"),
    }
    scores = {(p.part, p.student, p.other): p.score for p in report.pairs}
    print(
        "\nflagged: "
        + ", ".join(f"{p.part} {p.student}/{p.other} {p.score:.0%}" for p in report.flagged)
    )
    # the honest pairs are far below the threshold, not just under it
    for pair in [
        ("multihead", "ana", "dan"),
        ("uncertainty", "ana", "dan"),
        ("mmoe", "ana", "dan"),
        ("film", "ana", "term-2025:zed"),
    ]:
        assert scores[pair] < 0.3, pair
    honest = max(scores[pair] for pair in scores if not {"ben", "cho", "fay"} & set(pair))
    print(f"the closest honest pair: {honest:.0%}")
    # the release's starter code, which every submission holds, is shared by no one
    assert all(p.tokens == 0 for p in report.pairs if "eve" in (p.student, p.other))
    assert [p.score for p in report.flagged] == sorted(
        (p.score for p in report.flagged), reverse=True
    )


def test_a_lower_threshold_flags_more(course):
    folder, _ = course
    loose = similarity(folder, HW1, threshold=0.1, min_tokens=1, write=False)
    assert ("film", "ana", "fay") in {(p.part, p.student, p.other) for p in loose.flagged}


def test_the_report_shows_matched_code_side_by_side(report):
    page = report.html_path.read_text(encoding="utf-8")
    assert "3 flagged" in page and page.index("ben") < page.index("library:mtml_lib.weighting")
    assert page.count("<mark>") >= 6  # both sides of each flagged pair
    assert "self.routers" in page and "self.gates" in page  # ben's names beside ana's
    with report.csv_path.open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["ben"]["other"] == "ana" and rows["ben"]["flagged"] == "true"
    assert rows["dan"]["flagged"] == "false" and rows["eve"]["share"] == "0.00"


def test_the_grade_table_gets_each_students_closest_match(course, report):
    folder, _ = course
    closest = read_closest(folder, HW1)
    assert closest["cho"].endswith(
        "with library:mtml_lib.weighting.uncertainty (uncertainty), flagged"
    )
    people = [lms.Person("cho"), lms.Person("dan")]
    details = {"timestamp": "", "raw": 5.0, "penalty": 0.0, "manual": False}
    table = lms.Table([(HW1, 20.0, "")], people, {}, {(p.username, HW1): details for p in people})
    rows = list(csv.DictReader(io.StringIO(lms.course_csv(table, {HW1: closest}))))
    assert rows[0]["similarity"] == closest["cho"] and "flagged" not in rows[1]["similarity"]


def test_the_command_prints_the_flagged_pairs(course, capsys):
    folder, earlier = course
    assert cli.main(["--course", str(folder), "similarity", HW1, "--earlier", str(earlier)]) == 0
    out = capsys.readouterr().out
    assert "6 submissions" in out and "3 flagged" in out and "mmoe: ana and ben" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": 0}, r"threshold must be a number in \(0, 1\]; got 0"),
        ({"noise": 3}, "noise"),
        ({"earlier": ["/no/such/folder"]}, "earlier must be a folder of submissions"),
    ],
)
def test_bad_settings_are_named(course, options, message):
    folder, _ = course
    with pytest.raises(ValueError, match=message):
        similarity(folder, HW1, write=False, **options)


def test_an_assignment_without_a_release_is_refused(course):
    folder, _ = course
    with pytest.raises(homework.CourseError, match="has no release"):
        similarity(folder, "hw2_blackbox", write=False)


def test_the_result_does_not_depend_on_pythons_string_hash(course):
    """copydetect hashes with Python's hash(), which changes with every process: with every
    fingerprint kept, the shares are the same under any seed."""
    folder, earlier = course
    code = (
        "import sys; from mtml_lib.course.similarity import similarity\n"
        f"r = similarity({str(folder)!r}, {HW1!r}, earlier=[{str(earlier)!r}], write=False)\n"
        "print(sorted((p.part, p.student, p.other, round(p.score, 6)) for p in r.pairs))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and "ben" in runs[0]
