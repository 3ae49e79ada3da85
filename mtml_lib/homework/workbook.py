"""The student workbook: every lab notebook without its exercise solutions, and the homework
releases, in one edition's language.

Built from the one source (``notebooks/``), with nbgrader's own preprocessors; an edition's
markdown comes from the translated twins beside the English cells (:mod:`mtml_lib.i18n.editions`).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

from ..i18n import check_language
from ..i18n.editions import select_edition
from .editions import course_language, edition_course
from .pipeline import ROOT, assignments, find_course, release

__all__ = ["build_workbook"]


def _student_lab(source: pathlib.Path, target: pathlib.Path, language: str) -> None:
    """A lab notebook in ``language`` with exercise solutions replaced by stubs and outputs
    cleared."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    notebook = nbformat.from_dict(select_edition(nbformat.read(source, as_version=4), language))
    resources = {"language": "python"}
    notebook, resources = ClearSolutions(enforce_metadata=False).preprocess(notebook, resources)
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(notebook, target)


_README = {
    "en": "# mtml-workbook, student version\n\nOpen the notebooks in order (01 to 06); the "
    "exercises print `[ok]`, `[not yet]` or `[wrong]` with a hint. Homework is in `homework/`.\n",
    "ko": "# mtml-workbook, 학생용 (한국어판)\n\n노트북을 순서대로(01부터 06까지) 여세요. "
    "연습 문제는 `[통과]`, `[아직]` 또는 힌트가 붙은 `[오답]`을 출력합니다. 과제(homework)는 "
    "`homework/`에 있습니다.\n",
}


def build_workbook(
    out: str | os.PathLike, *, course: pathlib.Path | None = None, language: str = "en"
) -> pathlib.Path:
    """Write the student workbook in ``language``: every lab notebook without its exercise
    solutions, and the homework releases of that edition.

    Files already in ``out`` are kept as they are (they may hold a student's work);
    only missing notebooks are written. Delete the folder to start afresh.
    """
    check_language(language)
    out = pathlib.Path(out)
    labs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    out.mkdir(parents=True, exist_ok=True)
    for lab in labs:
        if not (out / lab.name).exists():
            _student_lab(lab, out / lab.name, language)
    course = course or find_course()
    with tempfile.TemporaryDirectory(prefix="mtml-edition-") as scratch:
        if course_language(course) != language:  # release from a course folder of the edition
            course = edition_course(course, language, pathlib.Path(scratch) / "course")
        for assignment in assignments(course):
            target = out / "homework" / assignment
            if not target.exists():
                release(course, assignment, quiet=True)
                shutil.copytree(course / "release" / assignment, target)
    (out / "README.md").write_text(_README[language])
    return out
