"""The handout's parts on small trees: the release manifest and the update rule, the student's
check and its errors, and how collect names and dates what the check uploads."""

import json
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

import mtml_lib.course
from mtml_lib.course import CourseError, collect
from mtml_lib.course.check import check_homework, locked_checksums, upload_name
from mtml_lib.course.manifest import (
    MANIFEST,
    apply_update,
    content_hash,
    find_release,
    merge,
    read_manifest,
    release_id,
    stamp,
    write_manifest,
)

HW = "hw0_tiny"


def release_tree(root, files, *, edition="en", assignments=None):
    """A delivered tree: ``files`` (relative path -> text) and its manifest."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    hashes = {path: content_hash(root / path) for path in files}
    info = {
        "course": "mtml-workbook",
        "version": "9.9",
        "edition": edition,
        "released": "2026-12-01",
        "release": release_id(hashes),
        "assignments": assignments or {},
    }
    return write_manifest(root, info, hashes)


def test_an_update_adds_updates_and_never_overwrites_an_edit(tmp_path):
    old, new, student = tmp_path / "old", tmp_path / "new", tmp_path / "student"
    release_tree(old, {"a.txt": "a1", "b.txt": "b1", "c.txt": "c1", "gone.txt": "g1"})
    merge(old, student)  # the first delivery
    (student / "b.txt").write_text("my answer", encoding="utf-8")  # the student's edit
    (student / "c.txt").write_text("my other answer", encoding="utf-8")
    (student / "mine.txt").write_text("notes", encoding="utf-8")  # a file of their own
    release_tree(new, {"a.txt": "a2", "b.txt": "b2", "c.txt": "c1", "new.txt": "n1"})
    report = merge(new, student)

    assert (student / "a.txt").read_text(encoding="utf-8") == "a2"  # unedited: updated
    assert (student / "b.txt").read_text(encoding="utf-8") == "my answer"  # edited: kept ...
    beside = report.kept["b.txt"]
    assert (student / beside).read_text(encoding="utf-8") == "b2"  # ... the new version beside it
    assert (student / "c.txt").read_text(encoding="utf-8") == "my other answer"
    assert report.kept["c.txt"] is None  # the release did not change c: nothing beside it
    assert (student / "new.txt").read_text(encoding="utf-8") == "n1" and report.added == ["new.txt"]
    assert not (student / "gone.txt").exists() and report.removed == ["gone.txt"]
    assert (student / "mine.txt").read_text(encoding="utf-8") == "notes"
    assert read_manifest(student)["release"] == read_manifest(new)["release"]
    assert any("kept your edited b.txt" in line for line in report.lines())


def test_a_notebook_counts_as_edited_by_its_cells_not_its_outputs(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    before = content_hash(path)
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    notebook.cells[0].execution_count = 1
    nbformat.write(
        stamp(
            notebook,
            {**dict.fromkeys(("course", "version", "edition")), "released": "x", "release": "y"},
            "h",
        ),
        path,
    )
    assert content_hash(path) == before  # ran and stamped: still unedited
    notebook.cells[0].source = "print(2)"
    nbformat.write(notebook, path)
    assert content_hash(path) != before


def test_a_folder_without_a_manifest_keeps_everything_it_has(tmp_path):
    new, student = tmp_path / "new", tmp_path / "student"
    release_tree(new, {"a.txt": "a2"})
    student.mkdir()
    (student / "a.txt").write_text("whatever was there", encoding="utf-8")
    report = merge(new, student)
    assert (student / "a.txt").read_text(
        encoding="utf-8"
    ) == "whatever was there" and "a.txt" in report.kept


def handout_zip(tmp_path, name, files, edition):
    root = tmp_path / name / "mtml-workbook"
    release_tree(root, files, edition=edition)
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in root.rglob("*"):
            out.write(path, path.relative_to(root.parent).as_posix())
    return archive


def test_apply_update_takes_a_handout_of_the_same_edition_only(tmp_path):
    student = tmp_path / "student"
    release_tree(student, {"a.txt": "a1"}, edition="ko")
    with pytest.raises(ValueError, match="the 'en' edition, but .* holds the 'ko' one"):
        apply_update(handout_zip(tmp_path, "en", {"a.txt": "a2"}, "en"), student)
    assert (student / "a.txt").read_text(encoding="utf-8") == "a1"
    apply_update(handout_zip(tmp_path, "ko", {"a.txt": "a2"}, "ko"), student)
    assert (student / "a.txt").read_text(encoding="utf-8") == "a2"
    (tmp_path / "not.zip").write_text("no", encoding="utf-8")
    with pytest.raises(ValueError, match="`archive` must be a handout's .zip file"):
        apply_update(tmp_path / "not.zip", student)


def test_a_broken_manifest_is_named(tmp_path):
    (tmp_path / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="is not readable"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a release manifest"):
        read_manifest(tmp_path)
    assert find_release(tmp_path / "deeper" / "still") == tmp_path.resolve()


# --- the student's check ----------------------------------------------------------------------


def tiny_homework(*, solved):
    """Two parts of two points: an answer cell, its visible test, and a read-only cell."""
    answer = "def double(x):\n    " + ("return 2 * x" if solved else "raise NotImplementedError()")
    cells = [
        nbformat.v4.new_code_cell(
            "import time",
            metadata={
                "nbgrader": {"grade_id": "setup", "locked": True, "solution": False, "grade": False}
            },
        ),
        nbformat.v4.new_code_cell(
            answer,
            metadata={
                "nbgrader": {
                    "grade_id": "double",
                    "solution": True,
                    "grade": False,
                    "locked": False,
                }
            },
        ),
        nbformat.v4.new_code_cell(
            "value = double(3)",
            metadata={"nbgrader": {"grade_id": "run", "locked": True, "solution": False}},
        ),
        nbformat.v4.new_code_cell(
            "assert value == 6",
            metadata={
                "nbgrader": {
                    "grade_id": "test_value",
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 1,
                }
            },
        ),
        nbformat.v4.new_code_cell(
            "assert double(2) == 4",
            metadata={
                "nbgrader": {
                    "grade_id": "test_double",
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 2,
                }
            },
        ),
        nbformat.v4.new_code_cell(
            "assert 1 + 1 == 2",
            metadata={
                "nbgrader": {
                    "grade_id": "test_free",
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 2,
                }
            },
        ),
    ]
    return nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def tiny_release(root, *, solved, cell_timeout=60):
    notebook = tiny_homework(solved=solved)
    path = root / "homework" / HW / f"{HW}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    entry = {
        "notebook": f"homework/{HW}/{HW}.ipynb",
        "cell_timeout": cell_timeout,
        "locked": locked_checksums(notebook),
    }
    release_tree(root, {}, assignments={HW: entry})
    return path


def test_the_check_reports_each_part_and_writes_the_upload_collect_reads(tmp_path):
    path = tiny_release(tmp_path / "wb", solved=False)
    report = check_homework(HW, release=tmp_path / "wb" / "homework", student="kim", out=tmp_path)
    # test_value fails on a name its unsolved part would have set: it waits for that part too
    assert [(p, v) for p, _points, v in report.parts] == [
        ("test_value", "not yet"),
        ("test_double", "not yet"),
        ("test_free", "passed"),
    ]
    assert report.passed == 2 and report.points == 5
    assert not any("does not run top to bottom" in w for w in report.warnings)
    assert report.upload == tmp_path / upload_name(HW, "kim") == tmp_path / f"{HW}-kim.zip"
    with zipfile.ZipFile(report.upload) as upload:
        assert upload.namelist() == [f"{HW}/{HW}.ipynb"]
    assert any("have no outputs" in w for w in report.warnings)  # saved without running

    course = tmp_path / "course"
    stamped = nbformat.read(path, as_version=4)
    stamp(
        stamped,
        {
            "course": "c",
            "version": "9.9",
            "edition": "en",
            "released": "2026-12-01",
            "release": "abc",
        },
        "h",
    )
    nbformat.write(stamped, path)
    check_homework(HW, release=tmp_path / "wb", student="kim", out=tmp_path / "uploads")
    releases = collect(course, HW, tmp_path / "uploads")
    assert releases == {"kim": "9.9 en 2026-12-01 abc"}  # the student's name, without HW-
    assert (course / "submitted" / "kim" / HW / f"{HW}.ipynb").exists()


def test_the_check_warns_about_edited_locked_cells_and_a_cell_past_the_limit(tmp_path):
    path = tiny_release(tmp_path, solved=True, cell_timeout=3)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[5].source = "pass  # the test, edited away"
    notebook.cells[1].source += "\ntime.sleep(30)"  # past 3 s however busy the machine
    nbformat.write(notebook, path)
    report = check_homework(HW, release=tmp_path, student="kim")
    text = "\n".join(report.warnings)
    assert "read-only cell test_free was edited" in text
    assert "double: this cell ran past its time limit and was stopped" in text
    assert report.upload.exists()


@pytest.mark.parametrize(
    ("damage", "error", "match"),
    [
        ("wrong name", ValueError, r"`assignment` must be one of \['hw0_tiny'\]; got 'hw9'"),
        ("missing", CourseError, "is missing: the homework notebook must stay"),
        ("corrupted", CourseError, "is not a readable notebook"),
        ("not a notebook", CourseError, "is not a readable notebook"),
        ("no release", CourseError, "no workbook release here"),
        ("bad student", ValueError, "`student` must be 1 to 64 letters"),
    ],
)
def test_the_check_names_what_is_wrong(tmp_path, damage, error, match):
    path = tiny_release(tmp_path / "wb", solved=True)
    assignment, student, where = HW, "kim", tmp_path / "wb"
    if damage == "wrong name":
        assignment = "hw9"
    elif damage == "missing":
        path.unlink()
    elif damage == "corrupted":
        path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")
    elif damage == "not a notebook":
        path.write_text(json.dumps({"cells": "none"}), encoding="utf-8")
    elif damage == "no release":
        where = tmp_path
    else:
        student = "../../etc"
    with pytest.raises(error, match=match):
        check_homework(assignment, release=where, student=student)
    assert not list(tmp_path.rglob("*.zip"))  # nothing half-written to upload


def test_collect_refuses_a_folder_that_is_not_one(tmp_path):
    with pytest.raises(CourseError, match="must be a folder of submissions"):
        collect(tmp_path / "course", HW, tmp_path / "nowhere")


KIT = pathlib.Path(mtml_lib.course.__file__).parent / "kit" / "workbook.py"


def test_the_kit_says_every_message_in_both_editions():
    import ast
    import runpy

    said = {
        node.args[0].value
        for node in ast.walk(ast.parse(KIT.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "say"
        and isinstance(node.args[0], ast.Constant)
    }
    korean = runpy.run_path(str(KIT))["KOREAN"]
    assert said == set(korean)
    for english, translated in korean.items():
        assert re.findall(r"{(\w+)}", english) == re.findall(r"{(\w+)}", translated), english


@pytest.mark.parametrize("edition", ["en", "ko"])
def test_a_failed_install_is_named_and_retried_next_time(tmp_path, edition):
    kit = KIT
    shutil.copy(kit, tmp_path / "workbook.py")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "mtml_workbook-9.9-py3-none-any.whl").write_bytes(b"not a wheel")
    (tmp_path / "requirements.txt").write_text("this is not a requirement ((\n", encoding="utf-8")
    manifest = {"wheel": "wheels/mtml_workbook-9.9-py3-none-any.whl", "workbook": "workbook"}
    manifest["edition"] = edition
    (tmp_path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(tmp_path / "workbook.py"), "setup"], capture_output=True, text=True
    )
    assert result.returncode == 2
    expected = {
        "en": ("pip could not install requirements.txt", "the next run tries again"),
        "ko": ("pip이 requirements.txt 를 설치하지 못했습니다", "다음 실행에서 다시 시도합니다"),
    }
    assert all(part in result.stderr for part in expected[edition]), result.stderr
    assert not (tmp_path / ".venv" / ".mtml-installed").exists()


def test_a_release_names_only_assignments_the_course_has(tmp_path):
    from mtml_lib.course import build_workbook

    notebooks = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
    with pytest.raises(CourseError, match=r"`homework` must name assignments .*got 'hw9_typo'"):
        build_workbook(tmp_path / "out", source=notebooks, homework=["hw1_multitask", "hw9_typo"])
    assert not (tmp_path / "out").exists()
