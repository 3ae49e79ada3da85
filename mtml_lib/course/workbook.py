"""The student workbook: every lab notebook and the appendix without their exercise solutions,
and the homework releases, in one edition's language, stamped with their release.

Built from the one source (a ``notebooks/`` folder and its nbgrader course folder, both
arguments), with nbgrader's own preprocessors; an edition's markdown comes from the translated
twins beside the English cells (:mod:`mtml_lib.course.editions.twins`). :func:`build_workbook`
writes it into a folder with the update rule of :func:`mtml_lib.course.manifest.merge`, so
rebuilding it over a student's folder adds and updates what they have not edited and keeps the rest.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Sequence

from .. import __version__
from ..i18n import check_language
from .check import locked_checksums
from .editions.code_cells import catalog
from .editions.twins import select_edition
from .folder import (
    CourseError,
    assignments,
    cell_timeout,
    code_stub,
    course_language,
    edition_course,
)
from .manifest import MergeReport, content_hash, merge, release_id, stamp, write_manifest
from .pipeline import release

__all__ = ["COURSE", "Staged", "build_workbook", "release_date", "source_notebooks"]

COURSE = "mtml-workbook"
LABS_LOCALE = "locale"  # beside the lab notebooks: the catalogs of their code cells (comments)
LABS, APPENDIX = "[0-9][0-9]_*.ipynb", "appendix_*.ipynb"


def source_notebooks(source: str | os.PathLike) -> list[pathlib.Path]:
    """The instructor notebooks a workbook is made of: the labs in order, then the appendix.

    Raises:
        CourseError: when ``source`` holds no lab notebook.
    """
    source = pathlib.Path(source)
    labs = sorted(source.glob(LABS))
    if not labs:
        raise CourseError(
            f"no lab notebooks ({LABS}) in {str(source)!r}: pass the workbook's notebooks folder "
            "(--source)."
        )
    return labs + sorted(source.glob(APPENDIX))


def release_date(released: str | None = None) -> str:
    """The release date: ``released`` (ISO ``YYYY-MM-DD``), else ``SOURCE_DATE_EPOCH``'s day,
    else today.

    Raises:
        ValueError: when ``released`` is not an ISO date.
    """
    if released is not None:
        try:
            return datetime.date.fromisoformat(released).isoformat()
        except ValueError:
            raise ValueError(
                f"`released` must be a date as YYYY-MM-DD; got {released!r}."
            ) from None
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date().isoformat()
    return datetime.date.today().isoformat()


def _student_notebook(source: pathlib.Path, language: str):
    """A notebook in ``language`` with exercise solutions replaced by stubs and outputs
    cleared."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    code = catalog(source.parent / LABS_LOCALE, "labs", language)
    notebook = nbformat.read(source, as_version=4)
    notebook = nbformat.from_dict(select_edition(notebook, language, code=code))
    resources = {"language": "python"}
    stub = ClearSolutions(enforce_metadata=False, code_stub=code_stub(language))
    notebook, resources = stub.preprocess(notebook, resources)
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    return notebook


@dataclasses.dataclass
class Staged:
    """A tree being staged for release: its root, and what is in it so far."""

    root: pathlib.Path
    language: str
    files: dict[str, str] = dataclasses.field(default_factory=dict)  # path -> content hash
    assignments: dict[str, dict] = dataclasses.field(default_factory=dict)

    def add(self, relative: str) -> None:
        self.files[relative] = content_hash(self.root / relative)

    def add_workbook(
        self,
        *,
        source: pathlib.Path,
        course: pathlib.Path | None,
        folder: str = "",
        homework: Sequence[str] | None = None,
    ) -> None:
        """Stage the student notebooks of ``source`` and the homework releases of ``course``
        (default ``source/homework``) under ``folder``: the assignments named in ``homework``
        (default all of them)."""
        import nbformat

        base = self.root / folder
        base.mkdir(parents=True, exist_ok=True)
        prefix = f"{folder}/" if folder else ""
        for notebook in source_notebooks(source):
            nbformat.write(_student_notebook(notebook, self.language), base / notebook.name)
            self.add(prefix + notebook.name)
        course = pathlib.Path(course or pathlib.Path(source) / "homework")
        if not (course / "nbgrader_config.py").exists():
            raise CourseError(f"no nbgrader course folder at {str(course)!r} (--course).")
        timeout = cell_timeout(course)
        chosen = assignments(course) if homework is None else list(homework)
        for assignment in chosen:
            if assignment not in assignments(course):
                raise CourseError(
                    f"`homework` must name assignments of {str(course)!r}, one of "
                    f"{assignments(course)}; got {assignment!r}."
                )
        with tempfile.TemporaryDirectory(prefix="mtml-edition-") as scratch:
            if course_language(course) != self.language:  # release from the edition's folder
                course = edition_course(course, self.language, pathlib.Path(scratch) / "course")
            for assignment in sorted(set(chosen)):
                release(course, assignment, quiet=True)
                shutil.copytree(course / "release" / assignment, base / "homework" / assignment)
                for path in sorted((base / "homework" / assignment).rglob("*")):
                    if path.is_file():
                        self.add(path.relative_to(self.root).as_posix())
                notebook = f"{prefix}homework/{assignment}/{assignment}.ipynb"
                released = nbformat.read(self.root / notebook, as_version=4)
                self.assignments[assignment] = {
                    "notebook": notebook,
                    "cell_timeout": timeout,
                    "locked": locked_checksums(released),
                }

    def finish(self, released: str | None = None, **extra) -> dict:
        """Stamp every notebook with the release and write the manifest; returns it."""
        info = {
            "course": COURSE,
            "version": __version__,
            "edition": self.language,
            "released": release_date(released),
            "release": release_id(self.files),
        }
        for path, hashed in self.files.items():
            if path.endswith(".ipynb"):
                target = self.root / path
                notebook = stamp(json.loads(target.read_text(encoding="utf-8")), info, hashed)
                target.write_text(
                    json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
                )
        return write_manifest(
            self.root, {**info, **extra, "assignments": self.assignments}, self.files
        )


def build_workbook(
    out: str | os.PathLike,
    *,
    source: str | os.PathLike = "notebooks",
    course: str | os.PathLike | None = None,
    language: str = "en",
    released: str | None = None,
    homework: Sequence[str] | None = None,
) -> MergeReport:
    """Write the student workbook in ``language`` into ``out``: the labs and the appendix of
    ``source`` without their solutions, and the homework releases of ``course`` (default
    ``source/homework``): those named in ``homework``, default all (name every assignment
    released so far: one left out is taken away from the folder unless the student edited it).

    ``out`` may already hold a student's work: what they have not edited is updated, what they
    have edited is kept (:func:`mtml_lib.course.manifest.merge`).
    """
    check_language(language)
    with tempfile.TemporaryDirectory(prefix="mtml-workbook-") as scratch:
        staged = Staged(pathlib.Path(scratch) / "tree", language)
        staged.add_workbook(
            source=pathlib.Path(source), course=course and pathlib.Path(course), homework=homework
        )
        staged.finish(released, workbook=".")
        return merge(staged.root, out)
