"""The message catalogs: the language switch, every message the code shows in every catalog with
its placeholders, and the compiled catalogs current."""

import ast
import importlib.util
import pathlib
import re
import string

import pytest
import torch

from mtml_lib import i18n
from mtml_lib.course.editions import code_cells as code


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.set_language("en")


def test_the_language_switch_and_the_fallback():
    assert i18n.translate("[ok] {title}") == "[ok] {title}"
    i18n.set_language("ko")
    assert i18n.get_language() == "ko"
    assert i18n.translate("[ok] {title}") == "[통과] {title}"
    assert i18n.translate("a message no catalog has") == "a message no catalog has"
    with pytest.raises(ValueError, match=r"`language` must be one of \['en', 'ko'\]; got 'fr'"):
        i18n.set_language("fr")


def test_the_environment_chooses_when_nothing_was_set(monkeypatch):
    monkeypatch.setitem(i18n._state, "language", None)
    monkeypatch.setenv("MTML_LANG", "ko")
    assert i18n.get_language() == "ko"
    monkeypatch.setitem(i18n._state, "language", None)
    monkeypatch.setenv("MTML_LANG", "de")
    with pytest.raises(ValueError, match="`MTML_LANG` must be one of"):
        i18n.get_language()


# --- the catalogs: complete, compiled, every placeholder kept ----------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRADERS = sorted((ROOT / "notebooks" / "homework" / "graders").glob("hw*.py"))
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != "en"]


def _tool():
    """tools/catalog.py: Babel's extraction, the catalogs as Babel reads them, compilation."""
    spec = importlib.util.spec_from_file_location("catalog_tool", ROOT / "tools" / "catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalog_tool = _tool()


def fields(text):
    return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)


CODE_DOMAINS = ("labs", "homework")  # f-strings of code cells: their fields are code


def code_fields(text):
    """An f-string's fields with their string literals blanked, in any order: a translation may
    reorder the fields and reword what a field shows (``{'yes' if ok else 'no'}``), never its
    code."""
    blank = re.compile(r"'[^']*'|\"[^\"]*\"")
    return sorted(blank.sub("''", field) for field in code.fields(text))


CATALOGS = [(d, lang) for d in catalog_tool.CATALOGS for lang in TRANSLATED]


@pytest.mark.parametrize(("domain", "language"), CATALOGS)
def test_every_translation_keeps_its_placeholders_and_has_hangul(domain, language):
    entries = [m for m in catalog_tool.load(language, domain) if m.id]
    assert entries
    for message in entries:
        assert message.string and not message.fuzzy, message.id
        if domain in CODE_DOMAINS:
            assert code_fields(message.string) == code_fields(message.id), message.id
        else:
            assert fields(message.string) == fields(message.id), message.id
        assert re.search("[\uac00-\ud7a3]", message.string), message.id


@pytest.mark.parametrize(("domain", "language"), CATALOGS)
def test_the_catalog_holds_every_marked_message_and_nothing_else(domain, language):
    marked = {m.id for m in catalog_tool.template(domain) if m.id}
    # the library: hints, questions, widget labels, checks; the graders: their checks' feedback
    assert len(marked) > {"mtml": 150, "graders": 30, "labs": 250, "homework": 40}[domain]
    held = {m.id for m in catalog_tool.load(language, domain) if m.id}
    missing, unused = sorted(marked - held), sorted(held - marked)
    assert not missing, f"not in the catalog (python tools/catalog.py adds them): {missing[:5]}"
    assert not unused, f"in the catalog but used nowhere: {unused[:5]}"


@pytest.mark.parametrize(("domain", "language"), CATALOGS)
def test_gettext_reads_the_current_compilation_of_the_catalog(domain, language):
    """The .mo file gettext loads is the .po file compiled (python tools/catalog.py)."""
    compiled = catalog_tool.compiled(catalog_tool.load(language, domain))
    assert compiled == catalog_tool.po_path(language, domain).with_suffix(".mo").read_bytes()


def test_no_grader_message_is_in_the_library_catalog():
    """The graders' feedback says what their hidden checks look at: it stays in the course
    folder, and the catalog students receive with the library holds none of it."""
    graders = {m.id for m in catalog_tool.template("graders") if m.id}
    # a grader may reuse a message the library itself shows (a self-check's hint), nothing more
    own = graders - {m.id for m in catalog_tool.template() if m.id}
    assert len(own) >= 30
    for language in TRANSLATED:
        assert not own & {m.id for m in catalog_tool.load(language) if m.id}


def _is_marked(node) -> bool:
    """``_("...")`` or ``_("...").format(...)``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        node = node.func.value
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and isinstance(node.args[0], ast.Constant)
    )


def shown_messages(path):
    """What a self-check or a grader shows a student: hints, titles, the checks' messages (a
    grader's check returns ``(passed, message)``; its probes and helpers return data)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            yield node.lineno, node.msg
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("run_check", "AssertionError") and node.args:
                yield node.lineno, node.args[0]
        elif (
            path.parent.name == "graders"
            and isinstance(node, ast.FunctionDef)
            and not node.name.startswith(("probe", "_"))
        ):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Return)
                    and isinstance(inner.value, ast.Tuple)
                    and len(inner.value.elts) == 2
                ):
                    yield inner.lineno, inner.value.elts[1]


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "mtml_lib" / "selfcheck").glob("*.py")) + GRADERS,
    ids=lambda p: p.name,
)
def test_every_hint_title_and_grader_message_goes_through_the_catalog(path):
    unmarked = [line for line, node in shown_messages(path) if not _is_marked(node)]
    assert not unmarked, f"{path.name}: messages not marked with _() on lines {unmarked}"


def test_a_wrong_answer_gets_its_hint_in_korean(capsys):
    from torch import nn

    from mtml_lib.selfcheck.conditioning_checks import check_film_layer
    from mtml_lib.selfcheck.predict import ask

    class Shared(nn.Module):  # one gamma and beta for every task
        def __init__(self, num_tasks, features):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(num_tasks, features))
            self.beta = nn.Parameter(torch.zeros(num_tasks, features))

        def forward(self, h, task_id):
            return self.gamma[0] * h + self.beta[0]

    i18n.set_language("ko")
    check_film_layer(Shared)
    ask("03-scales")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "[오답] 연습: FiLM 층: 태스크가 다르면 다른 gamma와 beta를 써야 합니다(task_id로 "
        "인덱싱하세요)."
    )
    assert out[1].startswith("예측한 뒤 실행하기: 두 회귀 태스크가 네트워크를 공유합니다.")
    assert out[2] == "  (a) 자기 네트워크가 따로 있을 때만큼 잘 학습한다"


def test_the_homework_feedback_speaks_the_courses_language():
    import types

    from mtml_lib.grading.regrade import score

    graders = i18n.translator(ROOT / "notebooks" / "homework" / "graders" / "locale", "graders")
    spec = types.SimpleNamespace(
        CHECKS={"part": [(1, lambda got, ref: (False, graders("predict with gradients off")))]}
    )
    student = {"parts": {"part": {"data": 1}}}
    with i18n.language("ko"):
        result = score(spec, student, {"parts": {"part": {"data": 1}}})["part"]
    assert result.messages == ["실패: 그래디언트를 끄고 예측하기"]
    assert i18n.get_language() == "en"  # restored after the block
