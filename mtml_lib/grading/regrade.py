r"""Grading that a submission cannot talk its way around.

nbgrader runs a submission's cells and its test cells in **one kernel**, so a
submission can rig the tests: replace ``torch.allclose`` or ``assert`` helpers with
functions that always succeed, or even install an IPython input transformer that
empties every later cell. No test that runs in that kernel can be trusted.

This module re-grades every autograded part outside the kernel, in two processes:

1. **untrusted**: inside the grading sandbox (:mod:`mtml_lib.grading.sandbox`), a fresh
   Python runs the submission's code cells, read from the submitted notebook (test cells
   excluded, one time limit per cell, output discarded), then calls the assignment's
   *probes* on the objects the submission defined. A probe returns plain data only
   (numbers, lists, strings), which leaves on standard output. Nothing else leaves.
2. **trusted**: the caller (which never executes submission code) reads that data once
   the sandbox is gone, compares it with the same probes' data on the instructor's
   solution, and applies the assignment's *checks*: plain Python comparisons of the two.
   Each check is worth points, so parts earn partial credit.

A submission that patches anything only changes what its own process computes; to
earn a check it must produce the data a correct solution produces, which means
solving the part. The probes and checks live in an instructor-only grader module
(``notebooks/homework/graders/<assignment>.py``) that is never released; its source
reaches the sandbox on standard input, and its file is deleted there before any
submission code runs. The library modules that implement what a part asks for
(``UNAVAILABLE``) are replaced by placeholders in the sandbox's view.

Example (a grader module defines ``PROBES``, ``CHECKS`` and optionally ``UNAVAILABLE``)::

    PROBES = {"double": lambda ns: [ns["double"](x) for x in (1, 2, 3)]}
    CHECKS = {"double": [(1, lambda got, ref: got == ref)]}
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass, field

from ..i18n import N_
from ..i18n import translate as _
from .sandbox import Outcome, Sandbox

UNTRUSTED = "mtml_lib.grading.untrusted"
__all__ = [
    "load_spec",
    "submission_cells",
    "run_probes",
    "well_formed",
    "score",
    "PartScore",
    "regrade",
]


def load_spec(path: str | os.PathLike) -> types.ModuleType:
    """Import a grader module (``PROBES``, ``CHECKS``, optional ``UNAVAILABLE`` and
    ``PREPARE``) from a file."""
    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(f"mtml_grader_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("PROBES", "CHECKS"):
        if not hasattr(module, name):
            raise ValueError(f"grader {str(path)!r} must define {name}.")
    return module


def submission_cells(notebook_path: str | os.PathLike) -> list[dict]:
    """The code cells of a notebook with their nbgrader role: ``{"id", "source", "test",
    "solution", "skip"}``.

    Test cells (nbgrader ``grade`` without ``solution``) are marked, and so are cells
    tagged ``grader-skip`` (long training runs whose outcome a probe checks itself).
    """
    notebook = json.loads(pathlib.Path(notebook_path).read_text(encoding="utf-8"))
    cells = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {})
        nbgrader = meta.get("nbgrader", {})
        source = (
            "".join(cell.get("source", ""))
            if isinstance(cell.get("source"), list)
            else cell.get("source", "")
        )
        cells.append(
            {
                "id": nbgrader.get("grade_id", f"cell-{index}"),
                "source": source,
                "test": bool(nbgrader.get("grade")) and not nbgrader.get("solution"),
                "solution": bool(nbgrader.get("solution")),
                "skip": "grader-skip" in meta.get("tags", []),
            }
        )
    return cells


# --- starting the untrusted side (mtml_lib.grading.untrusted runs it) ---------------------


def grader_files(grader: str | os.PathLike) -> dict[str, str]:
    """The grader module and its private helpers (``_*.py`` beside it), by file name."""
    grader = pathlib.Path(grader)
    files = {grader.name: grader.read_text(encoding="utf-8")}
    for helper in sorted(grader.parent.glob("_*.py")):
        files[helper.name] = helper.read_text(encoding="utf-8")
    return files


def run_probes(
    notebook: str | os.PathLike,
    grader: str | os.PathLike,
    *,
    sandbox: Sandbox | None = None,
    slot: int = 0,
    student: str = "",
    cell_timeout: int = 60,
    probe_timeout: int = 120,
    total_timeout: int = 900,
    parts: list[str] | None = None,
) -> dict:
    """Run a notebook's code and the grader's probes on the untrusted side; return the data.

    ``student`` is the id the submission is filed under (``""`` for the reference solution): the
    grader module sees it as ``STUDENT``, for the runs it makes at the student's own seed.

    With ``sandbox`` (a :class:`~mtml_lib.grading.sandbox.Sandbox` that is open), the run is
    confined there (its wall-clock limit applies); without, it is a plain child process in a
    temporary folder (``--no-sandbox``: unsafe against a determined student). The notebook and
    the grader travel on standard input, the probe data comes back on standard output. If the
    run dies or overruns, every part reports an error (``"stopped"`` says why, when known).
    ``parts`` limits the probes to those parts (all when ``None``).
    """
    request = {
        "notebook": pathlib.Path(notebook).read_text(encoding="utf-8"),
        "grader": grader_files(grader),
        "main": pathlib.Path(grader).name,
        "student": student,
        "cell_timeout": cell_timeout,
        "probe_timeout": probe_timeout,
        "parts": parts,
    }
    stdin = json.dumps(request).encode()
    if sandbox is not None:
        outcome = sandbox.run(UNTRUSTED, ["probes"], stdin=stdin, slot=slot)
    else:
        outcome = _unconfined(stdin, total_timeout)
    data = well_formed(outcome.output)
    if outcome.stopped:
        data["stopped"] = outcome.stopped
    return data


def well_formed(output: bytes) -> dict:
    """The probe data in what the untrusted side wrote, in the shape :func:`score` reads:
    cells map to strings, parts to ``{"data": ...}`` or ``{"error": str}``. Anything else
    (the submission may have written it) is dropped; unreadable output is a crash."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), dict):
        return {"cells": {}, "parts": {}, "crashed": True}
    cells = data.get("cells") if isinstance(data.get("cells"), dict) else {}
    parts = {}
    for part, result in data["parts"].items():
        if isinstance(result, dict) and "data" in result:
            parts[part] = {"data": result["data"]}
        elif isinstance(result, dict) and isinstance(result.get("error"), str):
            parts[part] = {"error": result["error"]}
    return {
        "cells": {str(k): v for k, v in cells.items() if isinstance(v, str)},
        "parts": parts,
    }


def _unconfined(stdin: bytes, total_timeout: int) -> Outcome:
    """The untrusted side as a plain child process (no sandbox)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
    env["MTML_AUTOGRADE"] = "1"
    with tempfile.TemporaryDirectory(prefix="mtml-grade-") as tmp:
        try:
            result = subprocess.run(
                [sys.executable, "-m", UNTRUSTED, "probes"],
                input=stdin,
                cwd=tmp,
                env=env,
                timeout=total_timeout,
                capture_output=True,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(b"", None, f"it ran past the {total_timeout} s time limit")
        return Outcome(result.stdout, result.returncode, None)


# --- the trusted side: compares data, never runs submission code ---------------------------


@dataclass
class PartScore:
    part: str
    points: float
    max_points: float
    messages: list[str] = field(default_factory=list)


def score(spec: types.ModuleType, student: dict, reference: dict) -> dict[str, PartScore]:
    """Apply the grader's checks to the student's probe data against the reference data.

    ``spec.CHECKS[part]`` is a list of ``(points, check)`` where ``check(student_data,
    reference_data)`` returns True/False (or ``(bool, message)``). ``spec.UNAVAILABLE``
    (optional) maps a part to the library modules that implement what it asks for: the
    sandbox hides them, and a part whose run ran into one says so in its feedback.
    """
    results = {}
    unavailable = getattr(spec, "UNAVAILABLE", {})
    errors = [*student.get("cells", {}).values()]
    errors += [r.get("error", "") for r in student.get("parts", {}).values()]
    refused = " ".join(e for e in errors if "not available while grading" in e)
    for part, checks in spec.CHECKS.items():
        total = float(sum(points for points, _ in checks))
        entry = PartScore(part, 0.0, total)
        got = student.get("parts", {}).get(part, {})
        ref = reference.get("parts", {}).get(part, {})
        for module in unavailable.get(part, []):
            if module in refused:
                entry.messages.append(
                    _(
                        "{module} is not available while grading: this part asks you to write "
                        "what it holds yourself"
                    ).format(module=module)
                )
        if "data" not in got:
            reason = got.get("error") or student.get("stopped") or _("the part did not run")
            entry.messages.append(_("no result: {reason}").format(reason=reason))
            entry.messages += _limits_hit(student)
        elif "data" not in ref:
            raise RuntimeError(f"the reference solution fails part {part!r}: {ref.get('error')}")
        else:
            for points, check in checks:
                try:
                    verdict = check(got["data"], ref["data"])
                except Exception as error:  # noqa: BLE001 - malformed student data fails the check
                    verdict = (
                        False,
                        _("{check}: unreadable result ({error})").format(
                            check=check.__name__, error=type(error).__name__
                        ),
                    )
                passed, message = (
                    verdict if isinstance(verdict, tuple) else (bool(verdict), check.__name__)
                )
                if passed:
                    entry.points += points
                else:
                    entry.messages.append(_("failed: {message}").format(message=message))
        results[part] = entry
    return results


# How a cell that ran into one of the sandbox's limits fails, and the limit in words.
_LIMIT_ERRORS = {
    "MemoryError": N_("the memory limit"),
    "[Errno 27]": N_("the file size limit"),
    "[Errno 28]": N_("the limit on its writable space"),
    "[Errno 11]": N_("the limit on processes and threads"),
    "timeout": N_("the time limit of a cell"),
}


def _limits_hit(student: dict) -> list[str]:
    """Feedback lines for the cells that stopped at one of the grading limits."""
    lines = []
    for cell, outcome in student.get("cells", {}).items():
        limit = next((v for k, v in _LIMIT_ERRORS.items() if k in str(outcome)), None)
        if limit:
            lines.append(
                _("cell {cell} stopped at {limit} ({outcome})").format(
                    cell=cell, limit=_(limit), outcome=str(outcome)[:80]
                )
            )
    return lines


def regrade(
    notebook: str | os.PathLike, grader: str | os.PathLike, reference: dict, **options
) -> dict[str, PartScore]:
    """Probe a submitted notebook on the untrusted side (``options`` go to :func:`run_probes`)
    and score it against ``reference`` data."""
    return score(load_spec(grader), run_probes(notebook, grader, **options), reference)
