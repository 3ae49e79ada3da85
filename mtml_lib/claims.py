"""The register of claims: the printed checks that back every result sentence of the notebooks.

A notebook states a result only next to a check its run prints. Each check has an id, the
notebook's number and its own number (``"06.3"``; the appendix's are ``"A.1"``, ...):

    >>> claim("06.3", "the hypernetwork beats pixel nearest neighbour", True)
    [06.3] the hypernetwork beats pixel nearest neighbour: True

The prose cites a check by its id in square brackets, in both editions: ``... by far [06.3].``
or ``[06.3, 06.4]`` for checks that hold, ``[06.5: False]`` for one the prose reports as not
holding (a difference not shown, say). The course's tests read the stored outputs with
:func:`printed_claims` and fail when a cited id was not printed, or was printed with the other
value; the README's "How the notebooks back their claims" lists every id per notebook
(``tools/claims.py`` writes it).
"""

from __future__ import annotations

import re

import numpy as np
import torch

__all__ = [
    "CLAIM_ID",
    "claim",
    "printed_claims",
    "printed_statements",
    "cited_ids",
    "without_citations",
]

CLAIM_ID = re.compile(r"(?:\d\d|A)\.\d+")
_LINE = re.compile(rf"^\[(?P<id>{CLAIM_ID.pattern})\] (?P<statement>.*): (?P<holds>True|False)$")
_CITED = rf"(?:{CLAIM_ID.pattern})(?:: (?:True|False))?"
_CITATION = re.compile(rf"\[({_CITED}(?:, {_CITED})*)\]")


def claim(claim_id: str, statement: str, holds) -> None:
    """Print the check ``[claim_id] statement: True`` (or ``False``).

    Args:
        claim_id: the check's id in the register, e.g. ``"06.3"``.
        statement: what the run shows when the check holds, without a closing colon.
        holds: a bool (NumPy's and a one-element torch bool tensor are read as one).

    Raises:
        ValueError: for an id not of the form ``NN.k`` or ``A.k``, or an empty statement.
        TypeError: for a ``holds`` that is not a truth value (a number, a string, a tensor of
            several elements), which would print something the register cannot read.
    """
    if not isinstance(claim_id, str) or not CLAIM_ID.fullmatch(claim_id):
        raise ValueError(
            f"`claim_id` must be a notebook number, a dot and a number (e.g. '06.3', 'A.1'); "
            f"got {claim_id!r}."
        )
    if not isinstance(statement, str) or not statement.strip() or "\n" in statement:
        raise ValueError(f"`statement` must be one non-empty line; got {statement!r}.")
    print(f"[{claim_id}] {statement.rstrip(':')}: {_truth(holds)}")


def _truth(holds) -> bool:
    if isinstance(holds, bool):
        return holds
    if isinstance(holds, np.bool_):
        return bool(holds)
    if isinstance(holds, torch.Tensor) and holds.dtype == torch.bool and holds.numel() == 1:
        return bool(holds)
    raise TypeError(
        f"`holds` must be a truth value (a bool); got {type(holds).__name__} {holds!r}."
    )


def printed_claims(text: str) -> dict[str, bool]:
    """``{id: holds}`` for every check printed in ``text`` (a cell's or a notebook's output).

    Raises:
        ValueError: when one id is printed twice (a register id names one check).
    """
    found: dict[str, bool] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        if match["id"] in found:
            raise ValueError(f"claim id {match['id']} is printed twice; each check needs its own.")
        found[match["id"]] = match["holds"] == "True"
    return found


def printed_statements(text: str) -> dict[str, str]:
    """``{id: statement}`` for every check printed in ``text``."""
    return {m["id"]: m["statement"] for m in map(_LINE.match, text.splitlines()) if m}


def cited_ids(text: str) -> list[tuple[str, bool]]:
    """``[(id, the value cited)]`` for every check ``text`` cites, in order: ``[06.3]`` cites
    06.3 as holding, ``[06.5: False]`` as not holding."""
    cited = []
    for group in _CITATION.findall(re.sub(r"\s+", " ", text)):  # a citation may wrap
        for item in group.split(", "):
            claim_id, _, value = item.partition(": ")
            cited.append((claim_id, value != "False"))
    return cited


def without_citations(text: str) -> str:
    """``text`` with its citations removed (what is left is the prose and its own figures)."""
    return _CITATION.sub("", re.sub(r"\s+", " ", text))
