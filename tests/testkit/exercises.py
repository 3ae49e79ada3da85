"""The lab notebooks' exercise solutions, taken from the instructor notebooks themselves.

Tests run the self-checks on the very code the notebooks hold, and on edited copies of it
(one plausible mistake each), so a solution and its check cannot drift apart.
"""

from __future__ import annotations

import json
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]


def solution_source(notebook: str, name: str) -> str:
    """The source of the code cell of ``notebooks/<notebook>`` that defines ``name``."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and (f"def {name}(" in source or f"class {name}(" in source):
            return source
    raise LookupError(f"no cell of {notebook} defines {name}")


def load_solution(notebook: str, name: str, *, edit: tuple[str, str] | None = None):
    """Execute that cell (optionally with ``edit = (old, new)`` applied) and return ``name``."""
    source = solution_source(notebook, name)
    if edit is not None:
        old, new = edit
        assert old in source, f"{old!r} is not in the solution of {name}"
        source = source.replace(old, new)
    namespace = {"torch": torch, "nn": nn, "F": F}
    exec(compile(source, f"<{notebook}:{name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def stub(*args, **kwargs):
    """What a student's cell does before it is written."""
    raise NotImplementedError()
