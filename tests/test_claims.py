"""The register of claims: every printed check has an id, and every id the prose cites was printed
with the value the prose gives it, in both editions and in the homework's answer keys."""

import functools
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from mtml_lib.claims import cited_ids, claim, printed_claims, printed_statements
from mtml_lib.course.editions.twins import twin_language, twins

ROOT = pathlib.Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
APPENDIX = ROOT / "notebooks" / "appendix_kernels.ipynb"
HOMEWORK = sorted((ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))

from claims import NOTEBOOKS, stored_output  # noqa: E402


def prefix(path):
    return "A" if path == APPENDIX else path.name[:2]


@functools.cache
def register():
    """{id: holds} over every notebook's stored run (read once)."""
    found = {}
    for path in NOTEBOOKS:
        found |= printed_claims(stored_output(path))
    return found


def markdown(path):
    return [
        (i, "".join(cell["source"]), twin_language(cell))
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"])
        if cell["cell_type"] == "markdown"
    ]


# --- the function


def test_a_claim_prints_its_id_statement_and_value(capsys):
    claim("06.3", "the hypernetwork beats pixels", True)
    claim("A.1", "kernels agree", np.bool_(False))
    claim("02.10", "one tensor", torch.tensor(True))
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "[06.3] the hypernetwork beats pixels: True",
        "[A.1] kernels agree: False",
        "[02.10] one tensor: True",
    ]
    assert printed_claims(out) == {"06.3": True, "A.1": False, "02.10": True}
    assert printed_statements(out)["06.3"] == "the hypernetwork beats pixels"


@pytest.mark.parametrize(
    "claim_id, statement, holds, error, words",
    [
        ("6.3", "s", True, ValueError, "`claim_id`"),
        ("06-3", "s", True, ValueError, "'06-3'"),
        ("06.3", "", True, ValueError, "`statement`"),
        ("06.3", "two\nlines", True, ValueError, "one non-empty line"),
        ("06.3", "s", 0.93, TypeError, "float 0.93"),
        ("06.3", "s", "True", TypeError, "`holds`"),
        ("06.3", "s", torch.tensor([True, False]), TypeError, "`holds`"),
    ],
)
def test_bad_input_is_refused_by_name(claim_id, statement, holds, error, words):
    with pytest.raises(error, match=re.escape(words)):
        claim(claim_id, statement, holds)


def test_one_id_printed_twice_is_refused():
    with pytest.raises(ValueError, match="06.3 is printed twice"):
        printed_claims("[06.3] a: True\n[06.3] b: True\n")


def test_citations_are_read_with_the_value_they_cite():
    text = "far better [06.3]; not shown [06.5: False, 06.6]; not a citation: [x] [1.2] [06.7:]"
    assert cited_ids(text) == [("06.3", True), ("06.5", False), ("06.6", True)]


# --- the register over the stored runs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_printed_check_has_an_id_of_its_notebook(path):
    text = stored_output(path)
    ids = printed_claims(text)  # raises on an id printed twice
    assert ids, f"{path.name} prints no check"
    assert all(cid.split(".")[0] == prefix(path) for cid in ids), sorted(ids)
    unregistered = [
        line
        for line in text.splitlines()
        if re.search(r": (True|False)$", line) and not re.match(r"^\[[^\]]+\] ", line)
    ]
    assert not unregistered, f"checks printed without an id: {unregistered}"


@pytest.mark.parametrize("path", NOTEBOOKS + HOMEWORK, ids=lambda p: p.name)
def test_every_cited_check_was_printed_with_the_cited_value(path):
    printed = register()
    wrong = []
    for index, text, language in markdown(path):
        for cid, value in cited_ids(text):
            if cid not in printed:
                wrong.append(f"cell {index} ({language or 'en'}) cites {cid}, which no run prints")
            elif printed[cid] != value:
                wrong.append(
                    f"cell {index} ({language or 'en'}) cites [{cid}] as {value}; "
                    f"the run printed {printed[cid]}"
                )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", NOTEBOOKS + HOMEWORK, ids=lambda p: p.name)
def test_both_editions_cite_the_same_checks(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    different = []
    for english, translations in twins(notebook):
        for language, twin in translations.items():
            en = cited_ids("".join(cells[english]["source"]))
            other = cited_ids("".join(cells[twin]["source"]))
            if en != other:
                different.append(f"cell {english}: {en} but its {language} twin {other}")
    assert not different, "\n".join(different)


def test_the_labs_cite_their_checks():
    """Each lab's prose cites checks of its own run (the register is used, not only printed)."""
    for path in LABS:
        cited = {cid for _, text, _ in markdown(path) for cid, _ in cited_ids(text)}
        own = set(printed_claims(stored_output(path)))
        assert len(cited & own) >= len(own) // 2, (path.name, sorted(own - cited))


def test_the_readme_lists_the_register_as_the_runs_print_it():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "claims.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
