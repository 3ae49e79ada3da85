"""The instructor's homework pipeline on nbgrader: release, collect, autograde (with the trusted
re-grade), grades and feedback.

The course folder is nbgrader's (:mod:`mtml_lib.course.folder`). :func:`autograde` runs
nbgrader's autograder, then re-grades every autograded part outside the kernel
(:mod:`mtml_lib.grading.regrade`) and writes those points into the gradebook, every run of
submission code inside the grading sandbox (:mod:`mtml_lib.grading.sandbox`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import hashlib
import json
import os
import pathlib
import queue
import shutil
import sys
import zipfile

from .._validation import check_int
from ..grading.record import record
from ..grading.regrade import load_spec, run_probes
from ..grading.sandbox import Limits, Sandbox, readonly_roots, unavailable_reason
from .folder import CourseError, _with_environment_bin, course_language, nbgrader

__all__ = ["release", "collect", "collect_exchange", "autograde", "export_grades", "feedback"]


def release(
    course: pathlib.Path,
    assignment: str,
    *,
    due: str | None = None,
    exchange: bool = False,
    quiet: bool = False,
) -> pathlib.Path:
    """The student version of ``assignment`` in ``release/<assignment>/``.

    ``due`` (``"YYYY-MM-DD HH:MM Area/City"``) sets the deadline in the gradebook and writes
    ``deadline.txt`` beside the notebooks: the deadline in its zone and in UTC, and the course's
    late policy, in the course's language (:mod:`mtml_lib.course.deadline`). ``exchange``
    then releases it to nbgrader's exchange (``nbgrader release_assignment``), where students
    fetch it.
    """
    from .deadline import DEADLINE_FILE, deadline_note, late_policy, set_deadline

    deadline = set_deadline(course, assignment, due) if due is not None else None
    nbgrader(course, "generate_assignment", assignment, "--force", quiet=quiet)
    folder = course / "release" / assignment
    if deadline is not None:
        note = deadline_note(deadline, assignment, late_policy(course), course_language(course))
        (folder / DEADLINE_FILE).write_text(note, encoding="utf-8")
    if exchange:
        nbgrader(course, "release_assignment", assignment, "--force", quiet=quiet)
    return folder


def collect_exchange(course: pathlib.Path, assignment: str) -> dict[str, str]:
    """Collect ``assignment`` from nbgrader's exchange into ``submitted/`` (each student's latest
    submission; one in another's name is refused, :class:`mtml_lib.course.exchange.OwnedCollect`).

    Returns:
        each collected student's time of submission, in UTC, with how late it was.
    """
    from nbgrader.utils import parse_utc

    from .deadline import deadline_of
    from .exchange import STAMP_FORMAT

    nbgrader(course, "collect", assignment, "--update")
    due = deadline_of(course, assignment)
    times = {}
    for stamp in sorted((course / "submitted").glob(f"*/{assignment}/timestamp.txt")):
        made = parse_utc(stamp.read_text(encoding="utf-8").strip())
        late = (made - due.replace(tzinfo=None)).total_seconds() if due else 0.0
        status = f"late by {datetime.timedelta(seconds=round(late))}" if late > 0 else "on time"
        times[stamp.parent.parent.name] = f"{made.strftime(STAMP_FORMAT)} ({status})"
    return times


def collect(course: pathlib.Path, assignment: str, folder: pathlib.Path) -> dict[str, str]:
    """Copy submissions into ``submitted/<student>/<assignment>/``: from
    ``folder/<student>/*.ipynb``, from ``folder/<student>.zip`` or from the archive
    ``mtml check`` writes, ``folder/<assignment>-<student>.zip`` (the notebooks anywhere inside
    an archive).

    Returns:
        each student's release: the stamp ``mtml workbook`` put in the submitted notebooks
        (course version, edition, date, release id), so a submission made on an old handout
        shows, or ``"no release stamp"``.
    """
    if not folder.is_dir():
        raise CourseError(f"folder must be a folder of submissions; got {str(folder)!r}")
    students = {}
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.suffix == ".zip" else entry.name
        student = student.removeprefix(f"{assignment}-") if entry.suffix == ".zip" else student
        if not (entry.is_dir() or entry.suffix == ".zip"):
            continue
        target = course / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if entry.suffix == ".zip":
            with zipfile.ZipFile(entry) as archive:
                for name in archive.namelist():
                    if name.endswith(".ipynb") and "__MACOSX" not in name:
                        (target / pathlib.Path(name).name).write_bytes(archive.read(name))
        else:
            for notebook in sorted(entry.rglob("*.ipynb")):
                shutil.copy(notebook, target / notebook.name)
        students[student] = _release_of(sorted(target.glob("*.ipynb")))
    return students


def _release_of(notebooks: list[pathlib.Path]) -> str:
    stamps = set()
    for notebook in notebooks:
        try:
            info = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["mtml"]["release"]
            stamps.add(f"{info['version']} {info['edition']} {info['released']} {info['release']}")
        except (ValueError, KeyError, TypeError):
            stamps.add("no release stamp")
    return ", ".join(sorted(stamps)) or "no notebook"


def _reference(
    course: pathlib.Path, assignment: str, grader: pathlib.Path, sandbox: Sandbox | None
) -> dict:
    """Probe data of the instructor's solution, cached by the hash of the source and the grader."""
    source = next((course / "source" / assignment).glob("*.ipynb"))
    key = hashlib.sha256(source.read_bytes() + grader.read_bytes()).hexdigest()[:16]
    cache = course / "graders" / "reference" / f"{assignment}-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    data = run_probes(source, grader, sandbox=sandbox)
    missing = [p for p, r in data.get("parts", {}).items() if "data" not in r]
    if data.get("crashed") or missing:
        raise CourseError(
            f"the reference solution of {assignment} fails its own probes: {missing or 'crashed'}"
            + (f" ({data['stopped']})" if data.get("stopped") else "")
        )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data), encoding="utf-8")
    return data


NO_SANDBOX = (
    "Grade inside a throwaway container or virtual machine that holds only the course "
    "folder's copy, with `mtml autograde --no-sandbox` there (unsafe anywhere else: a "
    "submission then runs as you, sees your files and can take marks it did not earn)."
)


def _sandbox_for(spec, limits: Limits, threads: int, course: pathlib.Path) -> Sandbox:
    """The grading sandbox of an assignment: its unavailable modules hidden, the data cache
    read-only. Refuses a course folder that the sandbox would show (inside the environment)."""
    from ..data.cache import cache_dir

    for root in readonly_roots():
        if root == course.resolve() or root in course.resolve().parents:
            raise CourseError(
                f"the course folder {course} is inside {root}, which the grading sandbox shows "
                "to submissions: move the course folder or the Python environment."
            )
    hide = sorted({m for modules in getattr(spec, "UNAVAILABLE", {}).values() for m in modules})
    cache = str(cache_dir())
    return Sandbox(
        limits,
        hide=hide,
        readonly={cache: "/data-cache"},
        env={"MTML_CACHE_DIR": "/data-cache"},
        threads=threads,
    )


def autograde(
    course: pathlib.Path,
    assignment: str,
    *,
    cell_timeout: int = 30,
    probe_timeout: int = 120,
    students: list[str] | None = None,
    sandbox: bool = True,
    jobs: int = 1,
    limits: Limits | None = None,
) -> dict[str, dict[str, float]]:
    """nbgrader autograde, then the trusted re-grade; returns ``{student: {grade_id: points}}``.

    Every submission runs in the grading sandbox (:mod:`mtml_lib.grading.sandbox`), both in
    nbgrader's kernel and in the re-grade; ``jobs`` submissions at a time. Where the sandbox
    cannot run, this refuses (:class:`CourseError`) unless ``sandbox=False`` (``--no-sandbox``:
    unsafe, for a throwaway container).
    """
    check_int("jobs", jobs, minimum=1, maximum=64)
    if sandbox and (reason := unavailable_reason()):
        raise CourseError(
            f"mtml autograde refuses to grade without its sandbox: {reason}.\n" + NO_SANDBOX
        )
    grader = course / "graders" / f"{assignment}.py"
    spec = load_spec(grader)
    if hasattr(spec, "PREPARE"):
        spec.PREPARE()
    limits = limits or Limits()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    box = _sandbox_for(spec, limits, threads, course) if sandbox else contextlib.nullcontext()
    with box as confined:
        failed = _nbgrader_autograde(course, assignment, students, cell_timeout, jobs, confined)
        reference = _reference(course, assignment, grader, confined)
        notebooks = [
            notebook
            for folder in sorted((course / "autograded").glob(f"*/{assignment}"))
            if (not students or folder.parent.name in students) and folder.parent.name not in failed
            for notebook in sorted(folder.glob("*.ipynb"))
        ]
        options = {
            "sandbox": confined,
            "cell_timeout": cell_timeout,
            "probe_timeout": probe_timeout,
            "total_timeout": limits.wall_seconds,
        }
        graded = _in_slots(
            notebooks,
            jobs,
            lambda notebook, slot: run_probes(
                notebook, grader, slot=slot, student=notebook.parent.parent.name, **options
            ),
        )
    probed = dict(zip(notebooks, graded))
    from .deadline import late_policy

    return record(
        course,
        assignment,
        spec,
        reference,
        probed,
        feedback_language=course_language(course),
        late=late_policy(course),
    )


def _in_slots(items: list, jobs: int, work) -> list:
    """``work(item, slot)`` for every item, ``jobs`` at a time, each run with a free slot."""
    slots: queue.SimpleQueue[int] = queue.SimpleQueue()
    for slot in range(jobs):
        slots.put(slot)

    def one(item):
        slot = slots.get()
        try:
            return work(item, slot)
        finally:
            slots.put(slot)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, items))


def _nbgrader_autograde(
    course: pathlib.Path,
    assignment: str,
    students: list[str] | None,
    cell_timeout: int,
    jobs: int,
    sandbox: Sandbox | None,
) -> list[str]:
    """nbgrader's autograder; with a sandbox, its kernels run there, one student per process.
    Returns the students nbgrader could not grade."""
    from nbgrader.converters.autograde import Autograde

    from ..grading.nbgrader_step import ENV_VAR, SandboxedExecute, TimedExecute, settings

    _with_environment_bin()
    arguments = ["autograde", assignment, "--force", f"--Execute.timeout={cell_timeout}"]
    # the execute step: in the sandbox, or (--no-sandbox) here; either way a cell's limit grows
    # with the machine's load and a cell stopped for time says so, in the course's language
    execute = TimedExecute if sandbox is None else SandboxedExecute
    steps = [
        step if step.__name__ != "Execute" else execute
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    names = json.dumps([f"{step.__module__}.{step.__name__}" for step in steps])
    arguments.append(f"--Autograde.autograde_preprocessors={names}")
    language = {"MTML_LANG": course_language(course)}
    if sandbox is None:
        selected = ["--student", ",".join(students)] if students else []
        nbgrader(course, *arguments, *selected, env={"MTML_AUTOGRADE": "1", **language})
        return []
    every = sorted(p.name for p in (course / "submitted").iterdir() if (p / assignment).is_dir())

    def one(student, slot):
        value = settings(
            sandbox.limits,
            hide=list(sandbox.hide),
            readonly=sandbox.readonly,
            threads=sandbox.threads,
            slot=slot,
        )
        try:
            nbgrader(
                course,
                *arguments,
                "--student",
                student,
                env={ENV_VAR: value, **language},
                quiet=True,
            )
        except CourseError as error:  # one broken submission does not stop the others
            print(f"{student}: not graded: {error}", file=sys.stderr)
            return student
        return None

    chosen = [s for s in every if not students or s in students]
    return [s for s in _in_slots(chosen, jobs, one) if s]


def export_grades(course: pathlib.Path, out: str | os.PathLike) -> pathlib.Path:
    """The grade table (nbgrader's CSV export) at ``out``."""
    out = pathlib.Path(out).resolve()
    nbgrader(course, "export", f"--to={out}")
    return out


def feedback(course: pathlib.Path, assignment: str, *, exchange: bool = False) -> pathlib.Path:
    """HTML feedback for every graded submission of ``assignment``, in ``course/feedback``;
    with ``exchange``, released to nbgrader's exchange too, where each student fetches their own
    (``nbgrader fetch_feedback``, or Fetch Feedback in JupyterLab)."""
    nbgrader(course, "generate_feedback", assignment, "--force")
    if exchange:
        nbgrader(course, "release_feedback", assignment)
    return course / "feedback"
