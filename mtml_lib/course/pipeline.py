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
import hashlib
import json
import os
import pathlib
import queue
import sys

from .._validation import check_int
from ..grading.fingerprints import part_fingerprints
from ..grading.record import graded_with, record
from ..grading.regrade import load_spec, run_probes
from ..grading.sandbox import Limits, Sandbox, readonly_roots, unavailable_reason
from .folder import CourseError, _with_environment_bin, course_language, nbgrader

__all__ = ["release", "autograde"]


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
    regrade: bool = False,
) -> dict[str, dict[str, float]]:
    """nbgrader autograde, then the trusted re-grade; returns ``{student: {grade_id: points}}``.

    Every submission runs in the grading sandbox (:mod:`mtml_lib.grading.sandbox`), both in
    nbgrader's kernel and in the re-grade; ``jobs`` submissions at a time. Where the sandbox
    cannot run, this refuses (:class:`CourseError`) unless ``sandbox=False`` (``--no-sandbox``:
    unsafe, for a throwaway container).

    ``regrade`` (after a grader or the solution was corrected): the trusted re-grade alone, of
    the parts graded differently since (:mod:`mtml_lib.grading.fingerprints`); each grade that
    moves is printed (student, part, before -> after); hand-graded ones stay as they are.
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
    stamps_path = graded_with(course, assignment)
    if regrade and not stamps_path.exists():
        raise CourseError(
            f"no earlier autograde of {assignment} kept what it graded with: run `mtml autograde "
            f"{assignment}` (without --regrade) first."
        )
    box = _sandbox_for(spec, limits, threads, course) if sandbox else contextlib.nullcontext()
    with box as confined:
        failed = []
        if not regrade:
            failed = _nbgrader_autograde(course, assignment, students, cell_timeout, jobs, confined)
        reference = _reference(course, assignment, grader, confined)
        fingerprints = part_fingerprints(grader, reference)
        notebooks = [
            notebook
            for folder in sorted((course / "autograded").glob(f"*/{assignment}"))
            if (not students or folder.parent.name in students) and folder.parent.name not in failed
            for notebook in sorted(folder.glob("*.ipynb"))
        ]
        todo = _regrade_plan(stamps_path, fingerprints, notebooks) if regrade else None
        if todo is not None:
            notebooks = [n for n in notebooks if todo[n.parent.parent.name]]
            if not notebooks:
                print(f"no part of {assignment} is graded differently now: nothing to re-grade")
                return {}
        limit = {"cell_timeout": cell_timeout, "probe_timeout": probe_timeout}
        graded = _probe_all(notebooks, grader, jobs, todo, confined, limit, limits.wall_seconds)
    probed = dict(zip(notebooks, graded))
    from .deadline import late_policy

    moved: list = []
    scores = record(
        course,
        assignment,
        spec,
        reference,
        probed,
        feedback_language=course_language(course),
        late=late_policy(course),
        fingerprints=fingerprints,
        only=todo,
        moved=moved,
    )
    if todo is not None:
        _print_moved(todo, len(notebooks), moved)
    return scores


def _probe_all(notebooks, grader, jobs, todo, sandbox, limit: dict, wall: int) -> list[dict]:
    """The probe data of each notebook, ``jobs`` at a time (of the parts in ``todo`` only, for a
    re-grade)."""
    return _in_slots(
        notebooks,
        jobs,
        lambda notebook, slot: run_probes(
            notebook,
            grader,
            sandbox=sandbox,
            slot=slot,
            student=notebook.parent.parent.name,
            parts=todo[notebook.parent.parent.name] if todo else None,
            total_timeout=wall,
            **limit,
        ),
    )


def _regrade_plan(
    stamps_path: pathlib.Path, fingerprints: dict[str, str], notebooks: list[pathlib.Path]
) -> dict[str, list[str]]:
    """Each submission's parts whose grading changed since it was graded."""
    stamps = json.loads(stamps_path.read_text(encoding="utf-8"))
    return {
        notebook.parent.parent.name: [
            part
            for part, now in fingerprints.items()
            if stamps.get(notebook.parent.parent.name, {}).get(part) != now
        ]
        for notebook in notebooks
    }


def _print_moved(todo: dict[str, list[str]], count: int, moved: list) -> None:
    parts = sorted({p for parts in todo.values() for p in parts})
    print(f"re-graded {', '.join(parts)} of {count} submission(s)")
    print(f"{len(moved)} grade(s) moved" + (":" if moved else ""))
    for student, part, before, after in moved:
        print(f"  {student}, {part}: {'none' if before is None else f'{before:g}'} -> {after:g}")


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
