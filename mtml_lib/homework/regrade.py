r"""Grading that a submission cannot talk its way around.

nbgrader runs a submission's cells and its test cells in **one kernel**, so a
submission can rig the tests: replace ``torch.allclose`` or ``assert`` helpers with
functions that always succeed, or even install an IPython input transformer that
empties every later cell. No test that runs in that kernel can be trusted.

This module re-grades every autograded part outside the kernel, in two processes:

1. **untrusted**: a fresh Python runs the submission's code cells, read from the
   submitted ``.ipynb`` file (test cells excluded, one time limit per cell, output
   discarded), then calls the assignment's *probes* on the objects the submission
   defined. A probe returns plain data only (numbers, lists, strings), which is
   written to a JSON file. Nothing else leaves that process.
2. **trusted**: the caller (which never executes submission code) reads that data,
   runs the same probes on the instructor's solution notebook for reference data,
   and applies the assignment's *checks*: plain Python comparisons of the two. Each
   check is worth points, so parts earn partial credit.

A submission that patches anything only changes what its own process computes; to
earn a check it must produce the data a correct solution produces, which means
solving the part. The probes and checks live in an instructor-only grader module
(``notebooks/homework/graders/<assignment>.py``) that is never released.

Limits, by design: the submission can still *call* correct code it has access to
(the workbook's library implements many of the mechanisms; each grader's static
checks refuse solution cells that import the library's version of what they
implement); a student who has the instructor repository has the solutions anyway.

Example (a grader module defines ``PROBES``, ``CHECKS`` and optionally ``FORBIDDEN``)::

    PROBES = {"double": lambda ns: [ns["double"](x) for x in (1, 2, 3)]}
    CHECKS = {"double": [(1, lambda got, ref: got == ref)]}
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass, field
from typing import Any

__all__ = ["load_spec", "submission_cells", "run_probes", "score", "PartScore", "regrade"]

_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


def load_spec(path: str | os.PathLike) -> types.ModuleType:
    """Import a grader module (``PROBES``, ``CHECKS``,
    optional ``FORBIDDEN``, ``SETUP``) from a file.
    """
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


# --- the untrusted side: runs in its own interpreter --------------------------------------


def _child(notebook: str, grader: str, out: str, cell_timeout: int, probe_timeout: int) -> None:
    """Entry point of the untrusted process (started by :func:`run_probes`)."""
    import signal

    # not an Exception: a submission's `except Exception` cannot swallow it
    class Timeout(BaseException):
        pass

    def alarm(signum, frame):
        raise Timeout()

    signal.signal(signal.SIGALRM, alarm)
    sink = open(os.devnull, "w")  # noqa: SIM115 - the process's output for the rest of its life
    sys.stdout = sys.stderr = sink  # a submission that prints megabytes prints them nowhere
    spec = load_spec(grader)  # imported before any submission code runs
    namespace: dict[str, Any] = {"__name__": "__main__"}
    results: dict[str, Any] = {"cells": {}, "parts": {}}
    for cell in submission_cells(notebook):
        if cell["test"] or cell["skip"]:
            continue
        source = _MAGIC.sub("", cell["source"])
        signal.alarm(cell_timeout)
        try:
            exec(compile(source, f"<cell {cell['id']}>", "exec"), namespace)
            results["cells"][cell["id"]] = "ok"
        except Timeout:
            results["cells"][cell["id"]] = "timeout"
        # A failing cell is recorded, the rest still runs.
        except BaseException as error:  # noqa: BLE001
            results["cells"][cell["id"]] = f"{type(error).__name__}"
        finally:
            signal.alarm(0)
    for part, probe in spec.PROBES.items():
        signal.alarm(probe_timeout)
        try:
            results["parts"][part] = {"data": _plain(probe(namespace))}
        except Timeout:
            results["parts"][part] = {"error": "timeout"}
        except BaseException as error:  # noqa: BLE001
            results["parts"][part] = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
        finally:
            signal.alarm(0)
    pathlib.Path(out).write_text(json.dumps(results))


def _plain(value: Any) -> Any:
    """Convert probe output to JSON-able plain data (tensors and arrays become nested lists)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"a probe must return plain data; got {type(value).__name__}.")


def run_probes(
    notebook: str | os.PathLike,
    grader: str | os.PathLike,
    *,
    cell_timeout: int = 60,
    probe_timeout: int = 120,
    total_timeout: int = 900,
) -> dict:
    """Run a notebook's code and the grader's probes in a fresh, separate Python; return the data.

    The child runs in a temporary working folder holding only a copy of the notebook.
    If it dies or overruns ``total_timeout``, every part reports an error.
    """
    notebook, grader = pathlib.Path(notebook).resolve(), pathlib.Path(grader).resolve()
    with tempfile.TemporaryDirectory(prefix="mtml-grade-") as tmp:
        copy = pathlib.Path(tmp) / notebook.name
        copy.write_bytes(notebook.read_bytes())
        out = pathlib.Path(tmp) / "probes.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
        env["MTML_AUTOGRADE"] = "1"
        code = (
            "import sys; from mtml_lib.homework.regrade import _child; "
            f"_child({str(copy)!r}, {str(grader)!r}, {str(out)!r}, {cell_timeout}, {probe_timeout})"
        )
        # an overrun reports every part as failed
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=tmp,
                env=env,
                timeout=total_timeout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        if not out.exists():
            return {"cells": {}, "parts": {}, "crashed": True}
        return json.loads(out.read_text())


# --- the trusted side: compares data, never runs submission code ---------------------------


@dataclass
class PartScore:
    part: str
    points: float
    max_points: float
    messages: list[str] = field(default_factory=list)


def score(
    spec: types.ModuleType, student: dict, reference: dict, *, sources: dict[str, str] | None = None
) -> dict[str, PartScore]:
    """Apply the grader's checks to the student's probe data against the reference data.

    ``spec.CHECKS[part]`` is a list of ``(points, check)`` where ``check(student_data,
    reference_data)`` returns True/False (or ``(bool, message)``). ``spec.FORBIDDEN``
    (optional) maps a part to regular expressions that the concatenated source of the
    solution cells must not match (e.g. importing the library's own implementation).
    """
    results = {}
    forbidden = getattr(spec, "FORBIDDEN", {})
    solution_source = "\n".join((sources or {}).values())
    for part, checks in spec.CHECKS.items():
        total = float(sum(points for points, _ in checks))
        entry = PartScore(part, 0.0, total)
        got = student.get("parts", {}).get(part, {})
        ref = reference.get("parts", {}).get(part, {})
        banned = [p for p in forbidden.get(part, []) if re.search(p, solution_source)]
        if banned:
            entry.messages.append(
                f"the solution uses what this part asks you to implement ({banned[0]!r}): 0 points"
            )
        elif "data" not in got:
            entry.messages.append(f"no result: {got.get('error', 'the part did not run')}")
        elif "data" not in ref:
            raise RuntimeError(f"the reference solution fails part {part!r}: {ref.get('error')}")
        else:
            for points, check in checks:
                try:
                    verdict = check(got["data"], ref["data"])
                except Exception as error:  # noqa: BLE001 - malformed student data fails the check
                    verdict = (
                        False,
                        f"{check.__name__}: unreadable result ({type(error).__name__})",
                    )
                passed, message = (
                    verdict if isinstance(verdict, tuple) else (bool(verdict), check.__name__)
                )
                if passed:
                    entry.points += points
                else:
                    entry.messages.append(f"failed: {message}")
        results[part] = entry
    return results


def regrade(
    notebook: str | os.PathLike, grader: str | os.PathLike, reference: dict, **timeouts
) -> dict[str, PartScore]:
    """Probe a submitted notebook in a separate process and score it against ``reference`` data."""
    spec = load_spec(grader)
    student = run_probes(notebook, grader, **timeouts)
    sources = {c["id"]: c["source"] for c in submission_cells(notebook) if c["solution"]}
    return score(spec, student, reference, sources=sources)


if __name__ == "__main__":  # pragma: no cover - used through run_probes
    _child(*sys.argv[1:4], int(sys.argv[4]), int(sys.argv[5]))
