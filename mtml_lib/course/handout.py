"""The student handout: one archive per edition that works where the repository is not.

``mtml-workbook-<version>-<language>.zip`` unpacks into ``mtml-workbook-<language>/``::

    README.md            in the edition's language: the two commands, the check, updates
    Makefile, workbook.py    the two commands (`make lab`, `make test`; `python3 workbook.py ...`
                         without make): set up .venv and open JupyterLab / check the set-up
    requirements.txt     exact versions: the repository's lock, cut to what the workbook needs
    environment.yml      the same for conda
    wheels/              the library, built from the instructor's checkout
    workbook/            the student notebooks: the labs and the appendix without solutions,
                         and the homework releases (nbgrader's student version)
    .mtml-release.json   the release: version, edition, date, id, assignments, content hashes

Every notebook carries the release's stamp in its metadata (:mod:`mtml_lib.course.manifest`).
Nothing an instructor keeps is taken: the notebooks are nbgrader's student versions, the wheel
is the library alone (the graders, reference data and sources stay in the course folder).
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import resources

from .. import __version__
from ..i18n import check_language
from .folder import CourseError
from .workbook import Staged, release_date

__all__ = ["build_handout", "build_wheel", "handout_name"]

REQUIREMENTS = pathlib.Path("requirements") / "student.txt"


WHEEL_README = """# mtml_lib

The library of the mtml-workbook course on multi-task learning and meta-learning: task
families, task-conditioned models, loss weighting, mixture-of-experts ranking, episodic
few-shot data and black-box meta-learners, in PyTorch, with the workbook's self-checks.
It comes with the course handout; the handout's README says how to set it up.
"""


def handout_name(language: str) -> str:
    """The archive's file name for an edition."""
    return f"mtml-workbook-{__version__}-{check_language(language)}.zip"


def build_wheel(project: pathlib.Path, out: pathlib.Path, epoch: int) -> pathlib.Path:
    """The library's wheel, built with pip from a clean copy of ``project`` (only
    ``pyproject.toml`` and ``mtml_lib/``, with ``WHEEL_README``; no build leftovers), its file times
    those of the release date."""
    with tempfile.TemporaryDirectory(prefix="mtml-wheel-") as scratch:
        copy = pathlib.Path(scratch) / "project"
        copy.mkdir()
        shutil.copy(project / "pyproject.toml", copy / "pyproject.toml")
        # the wheel's description is the library's, not the project README (that one is the
        # instructor's: it speaks of solution blocks, hidden tests and graders)
        (copy / "README.md").write_text(WHEEL_README, encoding="utf-8")
        shutil.copytree(
            project / "mtml_lib",
            copy / "mtml_lib",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        out.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        result = subprocess.run(
            [*command, "--quiet", "--wheel-dir", str(out), str(copy)],
            env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)},
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise CourseError(f"building the library's wheel failed:\n{result.stderr[-2000:]}")
    (wheel,) = out.glob("mtml_workbook-*.whl")
    return wheel


def _titles(root: pathlib.Path, workbook: str) -> str:
    """The README's list of notebooks: each file with its title (the first heading)."""
    lines = []
    for path in sorted((root / workbook).rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]) if cells else ""
        title = first.lstrip("# ").splitlines()[0] if first.startswith("#") else path.stem
        lines.append(f"- `{path.relative_to(root).as_posix()}`: {title}")
    return "\n".join(lines)


def _environment_yml(wheel: str) -> str:
    return (
        "# conda route: the same exact versions as requirements.txt, installed through pip.\n"
        "name: mtml-workbook\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n"
        f"  - pip\n  - pip:\n      - -r requirements.txt\n      - {wheel}\n"
    )


def _zip(root: pathlib.Path, archive: pathlib.Path, released: str) -> None:
    """A zip of ``root`` (its folder name first in every path), entries sorted, every time the
    release date's, so the same release gives the same bytes."""
    when = datetime.date.fromisoformat(released).timetuple()[:6]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{root.name}/{path.relative_to(root).as_posix()}", when)
            info.external_attr = (0o755 if path.name == "workbook.py" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, path.read_bytes())


def build_handout(
    out: str | os.PathLike,
    *,
    language: str,
    source: str | os.PathLike = "notebooks",
    course: str | os.PathLike | None = None,
    project: str | os.PathLike = ".",
    released: str | None = None,
    homework: Sequence[str] | None = None,
) -> pathlib.Path:
    """Build the handout archive of the ``language`` edition into the folder ``out``.

    Args:
        out: the folder that receives ``mtml-workbook-<version>-<language>.zip``.
        language: the edition (``mtml_lib.i18n.LANGUAGES``).
        source: the instructor notebooks (labs and appendix).
        course: the nbgrader course folder of the homework (default ``source/homework``).
        project: the checkout whose library goes into the wheel and whose
            ``requirements/student.txt`` becomes ``requirements.txt``.
        released: the release date (``YYYY-MM-DD``; default today, or ``SOURCE_DATE_EPOCH``).
        homework: the assignments it holds (default all); name every one released so far,
            since an update takes away what a newer handout no longer has.

    Returns:
        The archive's path.
    """
    check_language(language)
    project, released = pathlib.Path(project), release_date(released)
    requirements = project / REQUIREMENTS
    if not (project / "pyproject.toml").exists() or not requirements.exists():
        raise CourseError(
            f"{str(project)!r} is not the workbook's checkout (no pyproject.toml or "
            f"{REQUIREMENTS}): pass --project."
        )
    epoch = int(datetime.datetime.fromisoformat(released).replace(tzinfo=datetime.UTC).timestamp())
    kit = resources.files("mtml_lib.course") / "kit"
    with tempfile.TemporaryDirectory(prefix="mtml-handout-") as scratch:
        staged = Staged(pathlib.Path(scratch) / f"mtml-workbook-{language}", language)
        staged.add_workbook(
            source=pathlib.Path(source),
            course=course and pathlib.Path(course),
            folder="workbook",
            homework=homework,
        )
        wheel = build_wheel(project, staged.root / "wheels", epoch).relative_to(staged.root)
        shutil.copy(requirements, staged.root / "requirements.txt")
        (staged.root / "environment.yml").write_text(
            _environment_yml(wheel.as_posix()), encoding="utf-8"
        )
        for name in ("workbook.py", "Makefile"):
            (staged.root / name).write_bytes((kit / name).read_bytes())
        for name in (wheel.as_posix(), "requirements.txt", "environment.yml", "workbook.py"):
            staged.add(name)
        staged.add("Makefile")
        readme = (kit / f"README.{language}.md").read_text(encoding="utf-8")
        notebooks = _titles(staged.root, "workbook")
        (staged.root / "README.md").write_text(
            readme.format(version=__version__, released=released, notebooks=notebooks),
            encoding="utf-8",
        )
        staged.add("README.md")
        staged.finish(released, workbook="workbook", wheel=wheel.as_posix())
        out = pathlib.Path(out)
        out.mkdir(parents=True, exist_ok=True)
        archive = out / handout_name(language)
        _zip(staged.root, archive, released)
    return archive
