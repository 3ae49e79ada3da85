"""The lab notebooks' exercise solutions, taken from the instructor notebooks themselves.

Tests run the self-checks on the very code the notebooks hold, and on edited copies of it
(one plausible mistake each), so a solution and its check cannot drift apart.
"""

from __future__ import annotations

import json
import pathlib
import re

import torch
import torch.nn.functional as F
from torch import nn

from mtml_lib import tasks
from mtml_lib.data import digits

ROOT = pathlib.Path(__file__).resolve().parents[2]


def solution_source(notebook: str, name: str) -> str:
    """The source of the code cell of ``notebooks/<notebook>`` that defines ``name``."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and (f"def {name}(" in source or f"class {name}(" in source):
            return source
    raise LookupError(f"no cell of {notebook} defines {name}")


def load_solution(notebook: str, name: str, *, edits: tuple[tuple[str, str], ...] = ()):
    """Execute that cell (with each ``(old, new)`` of ``edits`` applied) and return ``name``."""
    source = solution_source(notebook, name)
    for old, new in edits:
        assert old in source, f"{old!r} is not in the solution of {name}"
        source = source.replace(old, new)
    return load_source(source, name, origin=f"{notebook}:{name}")


def load_source(source: str, name: str, *, origin: str = "variant"):
    """Execute ``source`` as a notebook cell would (with the set-up cells' torch, nn, F, digits
    and T imported) and return ``name``."""
    namespace = {"torch": torch, "nn": nn, "F": F, "digits": digits, "T": tasks}
    exec(compile(source, f"<{origin}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


# Checks whose argument is not a mechanism the student writes (answers, a prediction).
NOT_MECHANISMS = {"check_prediction", "check_regime_answers"}


def checked_exercises() -> set[tuple[str, str]]:
    """(notebook, name) of every lab exercise a self-check is called on."""
    found = set()
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            for check, name in re.findall(r"\b(check_\w+)\((\w+)", "".join(cell["source"])):
                if check not in NOT_MECHANISMS:
                    found.add((path.name, name))
    return found


def stub(*args, **kwargs):
    """What a student's cell does before it is written."""
    raise NotImplementedError()
