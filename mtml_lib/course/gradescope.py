"""A homework's Gradescope autograder: ``mtml gradescope HW --out autograder.zip``.

The zip follows Gradescope's autograder specification: ``setup.sh`` and ``run_autograder`` at its
root; Gradescope unpacks it to ``/autograder/source``, runs ``setup.sh`` once as root when it
builds the image, and ``run_autograder`` (as root, working folder ``/autograder``) for every
submission, which it puts in ``/autograder/submission``; the result must be
``/autograder/results/results.json``.

=====================  ==================================================================
file                   what it is
=====================  ==================================================================
``setup.sh``           installs Python 3.11, the pinned environment (``requirements.txt``,
                       the lock's student cut) and the library's wheel into
                       ``/autograder/venv``; replaces the library modules the parts ask
                       students to write by placeholders there; makes the grader's data
                       (the generated datasets) once; makes ``source/`` root-only
``run_autograder``     ``python -m mtml_lib.course.gradescope_container /autograder``
``requirements.txt``   the exact versions (torch from PyTorch's CPU index)
``wheels/``            the library
``grader/``            the assignment's trusted grader, its helpers and its catalogs
``reference.json``     the probe data of the instructor's solution
``config.json``        the assignment, the course's language, time limits, the points and
                       visibility of each part, the modules hidden
=====================  ==================================================================

The container's side (:mod:`mtml_lib.course.gradescope_container`) grades with the same trusted
re-grade as ``mtml autograde``: the submission's code and the grader's probes run as an
unprivileged user with the grading limits
(:class:`mtml_lib.grading.unprivileged.Unprivileged`: Gradescope's container has no namespaces
for bubblewrap), and the trusted side, as root, scores the probe data against the reference and
writes ``results.json`` last. What a submission then cannot do, and why:

* **write its own results.json, or edit run_autograder**: ``/autograder``, ``results/`` and the
  scripts are root's and not writable by the submission's user; whatever it leaves is overwritten,
  because the trusted side writes the result after every process of that user is gone;
* **read the hidden tests, the grader or the reference data**: ``/autograder/source`` is root-only
  (0700), and the submission's notebook is graded from a copy in the user's scratch folder; the
  feedback holds each check's verdict and message, never a test's source;
* **call the library's version of a part**: replaced by placeholders in the container's
  environment, as the sandbox does in its view.

One test per autograded part: its points, its maximum, the checks' messages, and its visibility
(``after_published`` where the part's test cell holds hidden tests, so their verdicts show once
grades are published; ``visible`` otherwise). Written answers are graded by hand on Gradescope
(a manually graded question); the result's text says so.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import stat
import tempfile
import time
import zipfile

from .._validation import check_choice, check_int
from ..grading.sandbox import Limits
from .folder import CourseError, course_language

__all__ = ["build", "GRADESCOPE_LIMITS", "STUDENT_IDS", "UID"]

#: what one submission may use on Gradescope (its default container: 1/2 vCPU, 768 MB, 10
#: minutes): the grading sandbox's limits, with the run's wall clock inside the 10 minutes
GRADESCOPE_LIMITS = Limits(wall_seconds=540, cpu_seconds=540)
#: where the id a submission is graded under (HW1's own seed) comes from: Gradescope's
#: submission metadata, the account's email before the "@", its email, or its student id (SID)
STUDENT_IDS = ("email-user", "email", "sid")
UID = 61500  # the submission's user id in the container (no account needed)
SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04).
set -euo pipefail
AUTOGRADER=${AUTOGRADER:-/autograder}
SOURCE=$AUTOGRADER/source
if ! command -v python3.11 >/dev/null; then
    apt-get update
    apt-get install -y software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y python3.11 python3.11-venv
fi
PY="$AUTOGRADER/venv/bin/python"
if [ -n "${MTML_SETUP_PACKAGES:-}" ]; then
    # offline (a local imitation of Gradescope): the packages of an environment already
    # installed, read through a .pth file, in place of downloading them
    python3.11 -m venv --without-pip "$AUTOGRADER/venv"
    PURELIB=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$MTML_SETUP_PACKAGES" > "$PURELIB/mtml-setup.pth"
else
    python3.11 -m venv "$AUTOGRADER/venv"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet --extra-index-url https://download.pytorch.org/whl/cpu \\
        -r "$SOURCE/requirements.txt"
fi
"$PY" -m pip install --quiet --no-deps --force-reinstall "$SOURCE"/wheels/*.whl
"$PY" -I -m mtml_lib.course.gradescope_container "$AUTOGRADER" --setup
"""
RUN = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission.
exec "${AUTOGRADER:-/autograder}/venv/bin/python" -I -m mtml_lib.course.gradescope_container \\
    "${AUTOGRADER:-/autograder}"
"""


def _hidden_parts(source: pathlib.Path) -> list[str]:
    """The grade ids of the test cells that hold hidden tests."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    hidden = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        text = "".join(cell.get("source", ""))
        if meta.get("grade") and not meta.get("solution") and "BEGIN HIDDEN TESTS" in text:
            hidden.append(meta["grade_id"])
    return hidden


def build(
    course: str | os.PathLike,
    assignment: str,
    out: str | os.PathLike,
    *,
    project: str | os.PathLike | None = None,
    student_id: str = "email-user",
    cell_timeout: int = 60,
    probe_timeout: int = 240,
    limits: Limits = GRADESCOPE_LIMITS,
) -> pathlib.Path:
    """Write the Gradescope autograder of ``assignment`` to ``out`` (see the module docstring).

    Args:
        project: the checkout whose library and lock go in (default: the one around the course
            folder, else the one this library runs from).
        student_id: where the id a submission is graded under comes from (:data:`STUDENT_IDS`).
        cell_timeout, probe_timeout: the re-grade's limits per cell and per probe, in seconds
            (twice ``mtml autograde``'s: the default container has half a CPU).
    """
    from ..grading.regrade import grader_files, load_spec
    from .handout import REQUIREMENTS, build_wheel
    from .pipeline import _reference

    course = pathlib.Path(course).resolve()
    check_choice("student_id", student_id, STUDENT_IDS)
    check_int("cell_timeout", cell_timeout, minimum=1)
    check_int("probe_timeout", probe_timeout, minimum=1)
    grader = course / "graders" / f"{assignment}.py"
    sources = sorted((course / "source" / assignment).glob("*.ipynb"))
    if not grader.is_file() or not sources:
        raise CourseError(
            f"assignment must be a homework of {course} with a grader; got {assignment!r}."
        )
    project = pathlib.Path(project) if project else _project_of(course)
    spec = load_spec(grader)
    if hasattr(spec, "PREPARE"):
        spec.PREPARE()
    reference = _reference(course, assignment, grader, None)  # the instructor's own solution
    config = _config(spec, assignment, sources[0], course_language(course), student_id, limits)
    config.update(cell_timeout=cell_timeout, probe_timeout=probe_timeout)
    out = pathlib.Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mtml-gradescope-") as scratch:
        wheel = build_wheel(project, pathlib.Path(scratch), int(time.time()))
        entries: dict[str, bytes] = {
            "setup.sh": SETUP.encode(),
            "run_autograder": RUN.encode(),
            "requirements.txt": (project / REQUIREMENTS).read_bytes(),
            f"wheels/{wheel.name}": wheel.read_bytes(),
            "reference.json": json.dumps(reference).encode(),
            "config.json": json.dumps(config, indent=2).encode(),
        }
        for name, text in grader_files(grader).items():
            entries[f"grader/{name}"] = text.encode()
        locale = course / "graders" / "locale"
        for path in sorted(locale.rglob("*.mo")) if locale.is_dir() else ():
            entries[f"grader/locale/{path.relative_to(locale).as_posix()}"] = path.read_bytes()
        _write_zip(out, entries)
    return out


def _config(spec, assignment: str, source: pathlib.Path, language: str, student_id: str, limits):
    """config.json: what the container's side needs to know of the assignment."""
    hidden = set(_hidden_parts(source))
    return {
        "assignment": assignment,
        "notebook": source.name,
        "language": language,
        "student_id": student_id,
        "limits": {k: getattr(limits, k) for k in Limits.__dataclass_fields__},
        "uid": UID,
        "parts": [
            {
                "id": part,
                "max_score": float(sum(points for points, _ in checks)),
                "visibility": "after_published" if part in hidden else "visible",
            }
            for part, checks in spec.CHECKS.items()
        ],
        "hidden_modules": sorted(
            {m for modules in getattr(spec, "UNAVAILABLE", {}).values() for m in modules}
        ),
    }


def _write_zip(out: pathlib.Path, entries: dict[str, bytes]) -> None:
    """The zip, its scripts executable (Gradescope keeps the modes)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, datetime.datetime.now().timetuple()[:6])
            mode = 0o755 if name in ("setup.sh", "run_autograder") else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def _project_of(course: pathlib.Path) -> pathlib.Path:
    """The checkout around the course folder, else the one this library runs from."""
    from ..grading.sandbox import LIBRARY

    for folder in [*course.parents, LIBRARY.parent]:
        if (folder / "pyproject.toml").is_file() and (folder / "mtml_lib").is_dir():
            return folder
    raise CourseError(
        f"neither the course folder {course} nor this library ({LIBRARY}) is inside the "
        "workbook's checkout, whose library and lock go into the zip: pass project=."
    )
