"""nbgrader's autograder with its kernel in the grading sandbox.

``nbgrader autograde`` runs a submission in a Jupyter kernel as the instructor, in the course
folder. :class:`SandboxedExecute` replaces nbgrader's ``Execute`` step: the whole notebook
runs inside :class:`~mtml_lib.grading.sandbox.Sandbox` (nbgrader's own ``Execute`` there, with
the same per-cell time limit), and only the code cells' *outputs* come back, copied onto the
notebook nbgrader holds; sources and metadata stay the trusted ones. nbgrader's in-kernel
scores then come from those outputs as before (and a submission can still fool them: the
trusted re-grade replaces them).

The sandbox's settings travel from :func:`mtml_lib.course.pipeline.autograde` in the
``MTML_SANDBOX`` environment variable (see :func:`settings`).
"""

from __future__ import annotations

import json
import os
from typing import Any

import nbformat
from nbclient.util import run_sync
from nbgrader.preprocessors import Execute
from traitlets import Bool, Instance, Unicode

from ..i18n import get_language
from .regrade import UNTRUSTED
from .sandbox import Limits, Sandbox
from .time_limit import ENAME, MOST, CellTimeLimit, kernel_arguments, stopped_message

ENV_VAR = "MTML_SANDBOX"


def settings(
    limits: Limits, *, hide: list[str], readonly: dict[str, str], threads: int, slot: int
) -> str:
    """The value of ``MTML_SANDBOX`` for one nbgrader process."""
    return json.dumps(
        {
            "limits": limits.__dict__,
            "hide": hide,
            "readonly": readonly,
            "threads": threads,
            "slot": slot,
        }
    )


class SandboxedExecute(Execute):
    """nbgrader's ``Execute``, run inside the grading sandbox."""

    def preprocess(self, nb, resources):
        config = json.loads(os.environ[ENV_VAR])
        request = json.dumps(
            {"notebook": nbformat.writes(nb), "timeout": self.timeout, "language": get_language()}
        )
        with Sandbox(
            Limits(**config["limits"]),
            hide=config["hide"],
            readonly=config["readonly"],
            threads=config["threads"],
        ) as sandbox:
            outcome = sandbox.run(
                UNTRUSTED, ["execute"], stdin=request.encode(), slot=config["slot"]
            )
        try:
            executed = json.loads(outcome.output)["cells"]
        except (ValueError, KeyError, TypeError):
            executed = None
        if not isinstance(executed, list) or len(executed) != len(nb.cells):
            reason = outcome.stopped or "the notebook did not run to its end in the sandbox"
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = [_error("SandboxStopped", reason)]
            return nb, resources
        for mine, theirs in zip(nb.cells, executed):
            if mine.cell_type == "code" and isinstance(theirs, dict):
                mine.outputs = [o for o in map(_clean, theirs.get("outputs") or []) if o]
                count = theirs.get("execution_count")
                mine.execution_count = count if isinstance(count, int) else None
        return nb, resources


def _error(name: str, value: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=name, evalue=value, traceback=[f"{name}: {value}"])


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _clean(output: Any) -> nbformat.NotebookNode | None:
    """A well-formed copy of one output written by the untrusted side, or None."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") in ("stdout", "stderr"):
        text = _text(output.get("text"))
        return (
            None if text is None else nbformat.v4.new_output(kind, name=output["name"], text=text)
        )
    if kind == "error":
        trace = output.get("traceback")
        if not (isinstance(trace, list) and all(isinstance(t, str) for t in trace)):
            trace = []
        return nbformat.v4.new_output(
            kind,
            ename=str(output.get("ename", "")),
            evalue=str(output.get("evalue", "")),
            traceback=trace,
        )
    if kind in ("display_data", "execute_result") and isinstance(output.get("data"), dict):
        data = {}
        for mime, value in output["data"].items():
            if isinstance(value, dict) and mime.endswith("json"):
                data[str(mime)] = value
            elif _text(value) is not None:
                data[str(mime)] = _text(value)
        extra = {"execution_count": None} if kind == "execute_result" else {}
        return nbformat.v4.new_output(kind, data=data, **extra)
    return None


class TimedExecute(Execute):
    """nbgrader's ``Execute`` for a shared machine (:mod:`mtml_lib.grading.time_limit`): each
    cell's limit grows with the load (a :class:`CellTimeLimit` on ``timeout``); each notebook's
    kernel starts with the threads the load leaves free and runs the homework as the grader does
    (``budget``); a stopped cell's ``KeyboardInterrupt`` gives way to what stopped it, in
    ``language`` (default: the language in use)."""

    limit = Instance(CellTimeLimit, allow_none=True)
    language = Unicode(None, allow_none=True)
    budget = Bool(True, help="start each kernel with time_limit.kernel_arguments()")

    def _get_timeout(self, cell):
        # nbclient asks before each cell; the base is this step's `timeout` (`mtml autograde
        # --cell-timeout`), the growth a configured CellTimeLimit's (the course's), and another
        # configured timeout_func is left to work as it does
        configured = self.timeout_func
        if not self.timeout or not (configured is None or isinstance(configured, CellTimeLimit)):
            return super()._get_timeout(cell)
        most = configured.most if configured is not None else MOST
        if self.limit is None or (self.limit.base, self.limit.most) != (self.timeout, most):
            self.limit = CellTimeLimit(self.timeout, most=most)
        return self.limit(cell)

    async def async_start_new_kernel(self, **kwargs):
        if self.budget:  # the load of the moment this notebook's kernel starts
            self.extra_arguments = kernel_arguments()
        return await super().async_start_new_kernel(**kwargs)

    # nbclient's blocking twin is bound to its own coroutine: bind it to this one
    start_new_kernel = run_sync(async_start_new_kernel)

    def on_cell_executed(self, **kwargs):
        cell, reply = kwargs["cell"], kwargs["execute_reply"]
        content = reply.get("content", {})
        if content.get("status") != "error" or content.get("ename") != ENAME or not self.limit:
            return super().on_cell_executed(**kwargs)
        scaled = self.limit.last or self.limit.scaled()
        text = stopped_message(scaled, self.limit.most, self.language)
        # the interrupt's traceback and nbgrader's bare timeout error give way to the reason
        interrupted = (ENAME, "KeyboardInterrupt")
        cell.outputs = [
            o
            for o in cell.outputs
            if not (o.get("output_type") == "error" and o.get("ename") in interrupted)
        ]
        cell.outputs.append(stopped_output(text))
        return None


def stopped_output(text: str) -> nbformat.NotebookNode:
    """The error output of a cell stopped for time, saying ``text``."""
    return nbformat.v4.new_output("error", ename=ENAME, evalue=text, traceback=[f"{ENAME}: {text}"])
