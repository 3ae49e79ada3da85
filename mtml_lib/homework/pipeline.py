"""The instructor's homework pipeline on nbgrader: release, collect, autograde, with the trusted
re-grade.

The course folder is nbgrader's: ``nbgrader_config.py``, ``source/<assignment>/``, and the
folders nbgrader makes (``release/``, ``submitted/``, ``autograded/``, ``feedback/``,
``gradebook.db``). :func:`autograde` runs nbgrader's autograder, then re-grades every
autograded part outside the kernel (:mod:`mtml_lib.homework.regrade`) and writes those
points into the gradebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

from .regrade import regrade, run_probes

__all__ = [
    "find_course",
    "assignments",
    "nbgrader",
    "release",
    "collect",
    "autograde",
    "export_grades",
    "feedback",
]

ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_course(course: str | os.PathLike | None = None) -> pathlib.Path:
    """The nbgrader course folder: ``course``, else ``MTML_COURSE``,
    else ``./notebooks/homework``, else the workbook's.
    """
    candidates = [
        course,
        os.environ.get("MTML_COURSE"),
        pathlib.Path.cwd() / "notebooks" / "homework",
        ROOT / "notebooks" / "homework",
    ]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "nbgrader_config.py").exists():
            return pathlib.Path(candidate).resolve()
    raise SystemExit(
        "no nbgrader course folder found: pass --course or set MTML_COURSE "
        "(a folder holding nbgrader_config.py and source/)."
    )


def _with_environment_bin() -> None:
    """Put this Python's script folder on PATH: nbgrader runs the `alembic` command when it creates
    a
    gradebook, and `.venv/bin/mtml` may be called without the environment activated."""
    scripts = str(pathlib.Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader(
    course: pathlib.Path, *args: str, env: dict | None = None, quiet: bool = False
) -> None:
    """Run an nbgrader command in the course folder (its nbgrader_config.py applies)."""
    _with_environment_bin()
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(
        command, cwd=course, env={**os.environ, **(env or {})}, capture_output=quiet, text=True
    )
    if result.returncode != 0:
        detail = (result.stderr or "")[-2000:] if quiet else ""
        raise SystemExit(
            f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}).\n{detail}"
        )


def assignments(course: pathlib.Path) -> list[str]:
    return sorted(p.name for p in (course / "source").iterdir() if p.is_dir())


def release(course: pathlib.Path, assignment: str, *, quiet: bool = False) -> pathlib.Path:
    nbgrader(course, "generate_assignment", assignment, "--force", quiet=quiet)
    return course / "release" / assignment


def collect(course: pathlib.Path, assignment: str, folder: pathlib.Path) -> list[str]:
    """Copy submissions into ``submitted/<student>/<assignment>/``: from
    ``folder/<student>/*.ipynb``
    or from ``folder/<student>.zip`` (the notebooks anywhere inside the archive)."""
    students = []
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.suffix == ".zip" else entry.name
        target = course / "submitted" / student / assignment
        if entry.is_dir():
            notebooks = sorted(entry.rglob("*.ipynb"))
        elif entry.suffix == ".zip":
            notebooks = []
        else:
            continue
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if entry.suffix == ".zip":
            with zipfile.ZipFile(entry) as archive:
                for name in archive.namelist():
                    if name.endswith(".ipynb") and "__MACOSX" not in name:
                        (target / pathlib.Path(name).name).write_bytes(archive.read(name))
        for notebook in notebooks:
            shutil.copy(notebook, target / notebook.name)
        students.append(student)
    return students


def _reference(course: pathlib.Path, assignment: str, grader: pathlib.Path) -> dict:
    """Probe data of the instructor's solution, cached by the hash of the source and the grader."""
    source = next((course / "source" / assignment).glob("*.ipynb"))
    key = hashlib.sha256(source.read_bytes() + grader.read_bytes()).hexdigest()[:16]
    cache = course / "graders" / "reference" / f"{assignment}-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    data = run_probes(source, grader)
    missing = [p for p, r in data.get("parts", {}).items() if "data" not in r]
    if data.get("crashed") or missing:
        raise SystemExit(
            f"the reference solution of {assignment} fails its own probes: {missing or 'crashed'}"
        )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data))
    return data


def _annotate(notebook: pathlib.Path, parts: dict) -> None:
    """Show the trusted grade under each test cell of the
    autograded notebook (feedback renders it).
    """
    import nbformat

    document = nbformat.read(notebook, as_version=4)
    for cell in document.cells:
        part = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and part in parts:
            result = parts[part]
            lines = [f"[graded] {result.points:g} of {result.max_points:g} points"] + [
                f"  - {m}" for m in result.messages
            ]
            cell.outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")
            )
    notebook.chmod(0o644)  # nbgrader leaves autograded files read-only
    nbformat.write(document, notebook)
    notebook.chmod(0o444)


def autograde(
    course: pathlib.Path,
    assignment: str,
    *,
    cell_timeout: int = 30,
    probe_timeout: int = 120,
    students: list[str] | None = None,
) -> dict[str, dict[str, float]]:
    """nbgrader autograde, then the trusted re-grade; returns ``{student: {grade_id: points}}``."""
    from nbgrader.api import Gradebook

    _with_environment_bin()
    selected = ["--student", ",".join(students)] if students else []
    nbgrader(
        course,
        "autograde",
        assignment,
        "--force",
        f"--Execute.timeout={cell_timeout}",
        *selected,
        env={"MTML_AUTOGRADE": "1"},
    )
    grader = course / "graders" / f"{assignment}.py"
    reference = _reference(course, assignment, grader)
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for folder in sorted((course / "autograded").glob(f"*/{assignment}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            for notebook in sorted(folder.glob("*.ipynb")):
                parts = regrade(
                    notebook,
                    grader,
                    reference,
                    cell_timeout=cell_timeout,
                    probe_timeout=probe_timeout,
                )
                for part, result in parts.items():
                    grade = gradebook.find_grade(part, notebook.stem, assignment, student)
                    grade.manual_score = result.points
                    scores.setdefault(student, {})[part] = result.points
                _annotate(notebook, parts)
            gradebook.db.commit()
    for student, parts in scores.items():
        print(
            f"{student}: "
            + ", ".join(f"{part} {points:g}" for part, points in parts.items())
            + f" | autograded total {sum(parts.values()):g}"
        )
    return scores


def export_grades(course: pathlib.Path, out: str | os.PathLike) -> pathlib.Path:
    """The grade table (nbgrader's CSV export) at ``out``."""
    out = pathlib.Path(out).resolve()
    nbgrader(course, "export", f"--to={out}")
    return out


def feedback(course: pathlib.Path, assignment: str) -> pathlib.Path:
    """HTML feedback for every graded submission of ``assignment``, in ``course/feedback``."""
    nbgrader(course, "generate_feedback", assignment, "--force")
    return course / "feedback"
