"""Code cells in an edition's language: comments and shown strings translated, the same program."""

import ast
import pathlib

import nbformat
import pytest

from mtml_lib.course.editions.code_cells import MissingTranslation, catalog, messages, translated
from mtml_lib.course.editions.twins import select_edition
from mtml_lib.i18n import shown

ROOT = pathlib.Path(__file__).resolve().parents[2]
LABS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HOMEWORK = sorted((ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb"))

CELL = """%matplotlib inline
# Parameters: every knob of this notebook. The defaults finish
# in under a minute on a 2-core CPU.
SEED = 0  # the first seed of every run
x = y  # (B, N, D)
import torch.nn.functional as F  # noqa: F401 - for your answers
LABELS = {shown("with z"): 1}


def f(out):
    ### BEGIN SOLUTION
    z = 1  # inside the solution: the instructor's
    print("the answer is printed")
    ### END SOLUTION
    assert out.shape == (6, 2), f"one row per input: expected (6, 2), got {tuple(out.shape)}"
    print(f"{'choice':>8} {'yes' if z else 'no'}", "done")
    ax.set_title("test accuracy")
"""
KOREAN = {
    "Parameters: every knob of this notebook. The defaults finish in under a minute on a 2-core "
    "CPU.": "파라미터: 이 노트북의 모든 손잡이. 기본값으로는 2코어 CPU에서 1분 안에 끝납니다.",
    "the first seed of every run": "모든 실행의 첫 시드",
    "for your answers": "여러분의 답을 위해",
    "with z": "z 있음",
    "one row per input: expected (6, 2), got {tuple(out.shape)}": "입력마다 행 하나: 기대 (6, 2), "
    "받음 {tuple(out.shape)}",
    "{'choice':>8} {'yes' if z else 'no'}": "{'선택':>8} {'예' if z else '아니오'}",
    "done": "끝",
    "test accuracy": "테스트 정확도",
}


def test_the_messages_are_comments_and_shown_strings_outside_solutions():
    assert messages(CELL) == [
        "Parameters: every knob of this notebook. The defaults finish in under a minute on a "
        "2-core CPU.",
        "the first seed of every run",
        "for your answers",
        # the strings a call shows, in the order of the cell
        "with z",
        "one row per input: expected (6, 2), got {tuple(out.shape)}",
        "{'choice':>8} {'yes' if z else 'no'}",
        "done",
        "test accuracy",
    ]


def test_a_cell_in_korean_is_the_same_program():
    korean = translated(CELL, KOREAN.get)
    assert "# 파라미터: 이 노트북의 모든 손잡이." in korean
    assert "SEED = 0  # 모든 실행의 첫 시드" in korean
    assert "x = y  # (B, N, D)" in korean  # a shape is notation
    assert "# noqa: F401 - 여러분의 답을 위해" in korean  # the pragma stays a pragma
    assert "z = 1  # inside the solution: the instructor's\n    print(\"the answer" in korean
    assert 'f"입력마다 행 하나: 기대 (6, 2), 받음 {tuple(out.shape)}"' in korean
    assert "%matplotlib inline" in korean
    # the same program: only the string constants differ
    english, translated_ = (
        ast.parse(s.replace("%matplotlib inline", "pass")) for s in (CELL, korean)
    )
    assert same_program(english, translated_)


def test_a_message_the_catalog_lacks_is_an_error_naming_it():
    with pytest.raises(MissingTranslation, match="'test accuracy'"):
        translated(CELL, {k: v for k, v in KOREAN.items() if k != "test accuracy"}.get)


def test_shown_is_the_identity():
    assert shown("with z") == "with z"


def _blank_strings(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        elif isinstance(
            node, ast.JoinedStr
        ):  # its fields, in any order (a translation may move them)
            fields = [v for v in node.values if isinstance(v, ast.FormattedValue)]
            for value in fields:
                value.format_spec = None
            node.values = sorted(fields, key=ast.dump)
    return ast.dump(tree)


def same_program(a: ast.AST, b: ast.AST) -> bool:
    return _blank_strings(a) == _blank_strings(b)


@pytest.mark.parametrize("path", LABS + HOMEWORK, ids=lambda p: p.name)
def test_every_notebook_builds_in_korean_and_computes_the_same(path):
    """The Korean edition, built with the real catalogs (strict: a comment or a shown string the
    catalog lacks is an error), differs from the English one in strings and comments only."""
    folder = "homework" if path in HOMEWORK else "labs"
    locale = path.parents[2] / "graders" / "locale" if path in HOMEWORK else path.parent / "locale"
    notebook = nbformat.read(path, as_version=4)
    english = select_edition(notebook, "en")
    korean = select_edition(notebook, "ko", code=catalog(locale, folder, "ko"))
    for a, b in zip(english.cells, korean.cells, strict=True):
        if a.cell_type != "code":
            continue
        magic = "pass  # a magic"
        a_tree, b_tree = (
            ast.parse(
                "\n".join(
                    magic if ln.lstrip()[:1] in "%!" and ln.strip() else ln for ln in s.splitlines()
                )
            )
            for s in (a.source, b.source)
        )
        assert same_program(a_tree, b_tree), a.source[:200]
