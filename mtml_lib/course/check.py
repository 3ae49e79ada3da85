"""The student's check before submitting: ``mtml check hw1_multitask``.

Runs the homework notebook as the autograder does (nbgrader's ``Execute``, a clean kernel in a
folder of its own, the course's time limit per cell, ``MTML_AUTOGRADE`` set), then reports the
visible tests part by part and what would cost points or stop the grader: a notebook that does
not run top to bottom, cells near or over the time limit, edited or deleted read-only cells,
written answers left empty, and a saved notebook without outputs. It writes the one file to
upload, ``<assignment>-<student>.zip``, in the layout ``mtml collect`` reads.

Passing here is what the visible tests can say; the hidden tests and the trusted re-grade run
only on the instructor's side.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import pathlib
import re
import tempfile
import time
import zipfile

from ..i18n import N_
from ..i18n import translate as _
from .folder import STUBS, CourseError
from .manifest import MANIFEST, find_release, read_manifest
from .variants import check_student, student_id_warning

__all__ = [
    "CheckReport",
    "check_homework",
    "check_student",
    "locked_checksums",
    "print_report",
    "upload_name",
]

NEAR_LIMIT = 0.5  # a cell taking more than this share of its limit gets a warning
ANSWER_STUB = tuple(stubs["answer"] for stubs in STUBS.values())


def upload_name(assignment: str, student: str) -> str:
    return f"{assignment}-{check_student(student)}.zip"


def locked_checksums(notebook) -> dict[str, str]:
    """nbgrader's checksum of every read-only and test cell, by grade id."""
    from nbgrader.utils import compute_checksum

    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            found[meta["grade_id"]] = compute_checksum(cell)
    return found


@dataclasses.dataclass
class CheckReport:
    """What the check found; :meth:`lines` is what it prints."""

    assignment: str
    parts: list[tuple[str, float, str]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    upload: pathlib.Path | None = None

    @property
    def passed(self) -> float:
        return sum(points for _part, points, verdict in self.parts if verdict == "passed")

    @property
    def points(self) -> float:
        return sum(points for _part, points, _verdict in self.parts)


def _read(path: pathlib.Path):
    import nbformat

    if not path.exists():
        raise CourseError(
            _(
                "{path} is missing: the homework notebook must stay where the handout put it "
                "(a deleted notebook comes back with `make update FROM=<the handout's zip>`)."
            ).format(path=path)
        )
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise CourseError(
            _(
                "{path} is not a readable notebook ({error}): restore it from a backup, or take a "
                "fresh copy from the handout and redo your answers."
            ).format(path=path, error=f"{type(error).__name__}: {str(error)[:200]}")
        ) from None
    return notebook


def kernel_config(scratch: str):
    """A kernel manager's config: IPC sockets in ``scratch`` where there are any (the kernel then
    has no unencrypted TCP port to warn the student about), for nbclient's kernel here and the
    selftest's; pass it as ``config``, not a ready-made manager, which nbclient would not
    interrupt at the cell limit."""
    from traitlets.config import Config

    config = Config()
    if os.name != "nt":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(scratch, "k")
    return config


def _execute(notebook, timeout: int):
    """Run ``notebook`` as the autograder does; returns it executed and each cell's seconds."""
    from ..grading.nbgrader_step import TimedExecute

    # the kernel sees what the autograder's sees: TimedExecute starts it with MTML_AUTOGRADE=1
    with tempfile.TemporaryDirectory(prefix="mtml-check-") as scratch:
        executor = TimedExecute(
            timeout=timeout, interrupt_on_timeout=True, config=kernel_config(scratch)
        )
        notebook, _resources = executor.preprocess(notebook, {"metadata": {"path": scratch}})
    return notebook


def _cell_seconds(cell) -> float:
    import datetime

    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def _error(cell) -> dict | None:
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


_VERDICTS = {
    "passed": N_("visible tests passed"),
    "not yet": N_("not answered yet (NotImplementedError)"),
}


def _verdict(error: dict | None, unset: set[str] = frozenset()) -> str:
    """``unset``: the names a cell that raised NotImplementedError would have set; a test that
    fails only because one of them is missing waits for that part too."""
    if error is None:
        return "passed"
    if error.get("ename") == "NotImplementedError":
        return "not yet"
    missing = re.fullmatch(r"name '(\w+)' is not defined", str(error.get("evalue", "")))
    if error.get("ename") == "NameError" and missing and missing.group(1) in unset:
        return "not yet"
    return f"{error.get('ename')}: {str(error.get('evalue', ''))[:160]}"


def assigned_names(source: str) -> set[str]:
    """The names a cell's top-level statements assign (none when it does not parse)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        node.id
        for statement in tree.body
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }


def _review(report: CheckReport, saved, ran, entry: dict) -> None:
    """Parts, errors, time and edits of an executed notebook, into ``report``."""
    limit = int(entry["cell_timeout"])
    released = entry.get("locked", {})
    now = locked_checksums(saved)
    for grade_id in released:
        if grade_id not in now:
            report.warnings.append(
                _("read-only cell {cell} was deleted: the grader puts it back").format(
                    cell=grade_id
                )
            )
        elif now[grade_id] != released[grade_id]:
            report.warnings.append(
                _(
                    "read-only cell {cell} was edited: the grader restores the released version, "
                    "so your change is lost"
                ).format(cell=grade_id)
            )
    unset: set[str] = set()
    for index, cell in enumerate(ran.cells):
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id", f"cell {index + 1}")
        if cell.cell_type == "markdown":
            if meta.get("solution") and cell.source.strip() in ANSWER_STUB:
                report.warnings.append(_("written answer {cell} is empty").format(cell=name))
            continue
        seconds, error = _cell_seconds(cell), _error(cell)
        if _verdict(error, unset) == "not yet":
            unset |= assigned_names(cell.source)
        # nbgrader interrupts a cell at its limit: the cell's error is then a KeyboardInterrupt
        stopped = error is not None and (
            error.get("ename") == "CellTimeoutError"
            or (error.get("ename") == "KeyboardInterrupt" and seconds >= 0.9 * limit)
        )
        if stopped:
            report.warnings.append(
                f"{name}: {error['evalue']}"  # the reason, in the course's language already
                if error.get("ename") == "CellTimeoutError" and error.get("evalue")
                else _(
                    "{cell} ran past the grader's limit of {limit} s per cell and was stopped"
                ).format(cell=name, limit=limit)
            )
        elif seconds > NEAR_LIMIT * limit:
            report.warnings.append(
                _(
                    "{cell} took {seconds:.0f} s of the grader's {limit} s per cell: on a busier "
                    "machine it may be stopped"
                ).format(cell=name, seconds=seconds, limit=limit)
            )
        if meta.get("grade") and not meta.get("solution"):
            report.parts.append((name, float(meta.get("points", 0)), _verdict(error, unset)))
        elif error is not None and not stopped and _verdict(error, unset) != "not yet":
            report.warnings.append(
                _("the notebook does not run top to bottom: {cell} raised {error}").format(
                    cell=name, error=_verdict(error)
                )
            )
    unrun = sum(
        1 for c in saved.cells if c.cell_type == "code" and c.source.strip() and not c.outputs
    )
    if unrun:
        report.warnings.append(
            _(
                "{count} code cells of the saved notebook have no outputs: run all cells and save, "
                "so that what you upload shows what your answers describe"
            ).format(count=unrun)
        )


def check_homework(
    assignment: str,
    *,
    release: str | os.PathLike | None = None,
    student: str | None = None,
    out: str | os.PathLike | None = None,
) -> CheckReport:
    """Check homework ``assignment`` of the release that holds ``release`` (default: the working
    folder) and write ``<assignment>-<student>.zip`` into ``out`` (default: the release's folder).

    Raises:
        CourseError: outside a release, or for a missing or unreadable notebook.
        ValueError: for an assignment the release does not have, or a bad ``student``.
    """
    student = check_student(student or getpass.getuser())
    root = find_release(release or pathlib.Path.cwd())
    if root is None:
        raise CourseError(
            _(
                "no workbook release here ({manifest} not found in {folder} or above it): run the "
                "check in the folder the handout unpacked to."
            ).format(manifest=MANIFEST, folder=release or pathlib.Path.cwd())
        )
    known = read_manifest(root).get("assignments", {})
    if assignment not in known:
        raise ValueError(f"`assignment` must be one of {sorted(known)}; got {assignment!r}.")
    entry = known[assignment]
    path = root / entry["notebook"]
    saved = _read(path)
    report = CheckReport(assignment)
    started = time.monotonic()
    ran = _execute(_read(path), int(entry["cell_timeout"]))
    report.seconds = time.monotonic() - started
    _review(report, saved, ran, entry)
    if warning := student_id_warning(saved, student):
        report.warnings.append(warning)
    target = pathlib.Path(out or root) / upload_name(assignment, student)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as upload:
        upload.write(path, f"{assignment}/{path.name}")
    report.upload = target
    return report


def print_report(report: CheckReport) -> None:
    """The check's report, as ``mtml check`` prints it."""
    print(
        _("{assignment}: ran in {seconds:.0f} s").format(
            assignment=report.assignment, seconds=report.seconds
        )
    )
    for part, points, verdict in report.parts:
        shown = (
            _(_VERDICTS[verdict])
            if verdict in _VERDICTS
            else _("failed: {error}").format(error=verdict)
        )
        print(f"  {part} ({points:g}): {shown}")
    print(
        _(
            "visible tests: {passed:g} of {points:g} points (the hidden tests run after you submit)"
        ).format(passed=report.passed, points=report.points)
    )
    for warning in report.warnings:
        print(_("warning: {warning}").format(warning=warning))
    if report.upload:
        print(_("upload this file: {path}").format(path=report.upload))
