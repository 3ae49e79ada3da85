"""The student workbook: every lab notebook without its exercise solutions, and the homework
releases.

Built from the one source (``notebooks/``), with nbgrader's own preprocessors.
"""

from __future__ import annotations

import os
import pathlib
import shutil

from .pipeline import ROOT, assignments, find_course, release

__all__ = ["build_workbook"]


def _student_lab(source: pathlib.Path, target: pathlib.Path) -> None:
    """A lab notebook with exercise solutions replaced by stubs and outputs cleared."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    notebook = nbformat.read(source, as_version=4)
    resources = {"language": "python"}
    notebook, resources = ClearSolutions(enforce_metadata=False).preprocess(notebook, resources)
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(notebook, target)


def build_workbook(out: str | os.PathLike, *, course: pathlib.Path | None = None) -> pathlib.Path:
    """Write the student workbook: every lab notebook without its exercise solutions, and the
    homework releases.

    Files already in ``out`` are kept as they are (they may hold a student's work);
    only missing notebooks are written. Delete the folder to start afresh.
    """
    out = pathlib.Path(out)
    labs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    out.mkdir(parents=True, exist_ok=True)
    for lab in labs:
        if not (out / lab.name).exists():
            _student_lab(lab, out / lab.name)
    course = course or find_course()
    for assignment in assignments(course):
        target = out / "homework" / assignment
        if not target.exists():
            release(course, assignment, quiet=True)
            shutil.copytree(course / "release" / assignment, target)
    (out / "README.md").write_text(
        "# mtml-workbook, student version\n\nOpen the notebooks in order (01 to 06); the "
        "exercises print `[ok]`, `[not yet]` or `[wrong]` with a hint. Homework is in "
        "`homework/`.\n"
    )
    return out
