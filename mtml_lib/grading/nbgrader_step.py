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
from nbgrader.preprocessors import Execute

from .regrade import UNTRUSTED
from .sandbox import Limits, Sandbox

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
        request = json.dumps({"notebook": nbformat.writes(nb), "timeout": self.timeout})
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
