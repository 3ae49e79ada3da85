"""Code cells in an edition's language: the comments a student reads, and the text the code shows.

An edition's code is the source's code. What is translated, when an edition is built
(:func:`mtml_lib.course.editions.twins.select_edition`), is what a student reads and no program
reads:

* comments (a block of full-line comments is one message, re-wrapped in the translation; a comment
  after code is one message);
* the string literals the code shows (:data:`SHOWN`): what ``print`` prints, an ``assert``'s
  message, a check's statement (``claim(id, statement, holds)``), a figure's or a plot's title, a
  legend's label, a progress bar's description, a text drawn with ``ax.text`` or ``ax.annotate``,
  and a string
  marked with :func:`mtml_lib.i18n.shown` (shown later, through a variable). An f-string is one
  message whose fields stay fields (``{tuple(out.shape)}``); a translation may reword the string
  literals inside a field (``{'yes' if ok else 'no'}``) but not its code. Axis labels keep the
  field's notation and stay as they are.

Code inside solution blocks is the instructor's and stays as it is. Shape comments such as
``# (B, N, D)`` and lint pragmas have no words to translate.

The translations are catalogs kept beside the notebooks, never in the library: the labs' in
``notebooks/locale/<language>/LC_MESSAGES/labs.po``, the homework's in the course folder's
``graders/locale/<language>/LC_MESSAGES/homework.po``, since a homework's hidden tests are among
its messages (``tools/catalog.py`` extracts both with :func:`messages`).

Example:
    >>> source = "x = 1  # the first seed\\n"
    >>> translated(source, {"the first seed": "첫 시드"}.get)
    'x = 1  # 첫 시드\\n'
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from collections.abc import Callable

__all__ = [
    "KEPT_WORDS",
    "MissingTranslation",
    "as_python",
    "catalog",
    "messages",
    "solution_lines",
    "translated",
]

LINE_WIDTH = 100
_MARKER = re.compile(r"###\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)")
_PRAGMA = re.compile(
    r"^(?P<pragma>(noqa|type:\s*ignore|fmt:\s*\w+)\b[^-]*?)(\s+-\s+(?P<rest>.*))?$"
)
# a shape at the start of a comment, "(B, N, D)" or "(steps, seeds, tasks):", is notation
_SHAPE = re.compile(r"^(?P<shape>\((?:[^()]|\([^()]*\))*\)[:,]?\s*)(?P<rest>.*)$")
_WORDS = re.compile(r"[A-Za-z]{2,}[^A-Za-z]+[A-Za-z]{2,}")
_WORD = re.compile(r"[A-Za-z]{2,}")
# Words every edition keeps: the field's notation and units, and the names of methods, models and
# datasets as the literature writes them (a string of these alone is not translated).
_KEPT = """MSE AUC CTR CI Holm TOST ms it min cos sin lr log softmax ReLU cpu cuda mps GPU CPU
GradNorm PCGrad MGDA CAGrad DWA MMoE MoE CNP MAML LSTM MANN NTM FiLM Adam SGD Glyphs Omniglot
Nelder Mead Li et al Kendall Chen Zhao Santoro Fifty MLP g1 g2 D_tr D_test sigma rho"""
KEPT_WORDS = frozenset(word.lower() for word in _KEPT.split())
_CODE_NAME = re.compile(r"\b\w*_\w*\b")  # fit_replicas, lstm_memory: names, not words
_NOTATION = re.compile(r"-(?:way|shot)\b|\b(?:MSE|AUC|CTR|CI)\b")  # 5-way 1-shot, test MSE
# a string a field shows, not one it passes to code: not after "=", "[" or "(" (an argument, a key)
_QUOTED = re.compile(r"(?<![=\[(])'([^']*)'|(?<![=\[(])\"([^\"]*)\"")
# Where a string literal is shown: the positional arguments of these calls (by the called name:
# a function or a method; "*" for every positional argument) and these keyword arguments.
SHOWN = {
    "print": "*",
    "claim": (1,),
    "set_title": (0,),
    "suptitle": (0,),
    "text": (2,),
    "annotate": (0,),
    "tqdm": (),
    "trange": (),
    "shown": (0,),  # mtml_lib.i18n.shown: a string shown later, where no call above shows it
}
SHOWN_KEYWORDS = ("title", "label", "desc", "description")


_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)


def as_python(source: str) -> str:
    """``source`` with IPython's magics and shell escapes (``%matplotlib inline``) made ``pass``,
    every other line where it was, so that Python's parser reads the cell."""
    return _MAGIC.sub(r"\1pass", source)


class MissingTranslation(ValueError):
    """A message of a code cell that the edition's catalog does not translate."""


def solution_lines(lines: list[str]) -> set[int]:
    """The 1-based numbers of the lines inside solution blocks (the markers included)."""
    inside, found = False, set()
    for number, line in enumerate(lines, start=1):
        marker = _MARKER.search(line)
        solution = marker is not None and marker.group(2) == "SOLUTION"
        if solution and marker.group(1) == "BEGIN":
            inside = True
        if inside:
            found.add(number)
        if solution and marker.group(1) == "END":
            inside = False
    return found


def _comment_text(comment: str) -> tuple[str, str | None]:
    """``(kept, message)``: a comment's pragma (kept as it is) and the words to translate."""
    text = comment.lstrip("#").strip()
    match = _PRAGMA.match(text)
    if match:
        return match["pragma"].rstrip() + (" - " if match["rest"] else ""), match["rest"]
    match = _SHAPE.match(text)
    if match:
        return match["shape"], match["rest"]
    return "", text


def fields(template: str) -> list[str]:
    """The ``{...}`` fields of an f-string's text, in order (nested brackets and quotes kept
    whole; ``{{`` is a brace, not a field)."""
    found, depth, start, quote, i = [], 0, 0, "", 0
    while i < len(template):
        char = template[i]
        if quote:
            quote = "" if char == quote else quote
        elif depth and char in "'\"":
            quote = char
        elif char == "{":
            if depth == 0 and template[i : i + 2] == "{{":
                i += 2
                continue
            depth += 1
            start = i if depth == 1 else start
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(template[start + 1 : i])
        i += 1
    return found


def words_outside_code(template: str) -> str:
    """An f-string's text without the code of its fields: what a reader reads (the string
    literals inside a field are read, ``{'yes' if ok else 'no'}``)."""
    text = template
    for field in fields(template):
        quoted = " ".join(a or b for a, b in _QUOTED.findall(field))
        text = text.replace("{" + field + "}", " " + quoted + " ", 1)
    return text


def _translatable(message: str | None, *, shown: bool = False) -> bool:
    """Whether a message has words to translate: a comment two of them (one word is a name), a
    string the code shows one that is not kept (:data:`KEPT_WORDS`)."""
    if not message or _MARKER.search(message):
        return False
    text = _NOTATION.sub(" ", _CODE_NAME.sub(" ", words_outside_code(message)))
    if shown:
        return any(word.lower() not in KEPT_WORDS for word in _WORD.findall(text))
    return bool(_WORDS.search(text))


def _comments(source: str) -> list[dict]:
    """Every comment outside solution blocks: ``{"lines": [numbers], "column", "inline",
    "kept", "message"}``, consecutive full-line comments at one column as one block."""
    lines = source.splitlines()
    skip = solution_lines(lines)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(as_python(source)).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    found: list[dict] = []
    for token in tokens:
        if token.type != tokenize.COMMENT or token.start[0] in skip or _MARKER.search(token.string):
            continue
        number, column = token.start
        inline = bool(lines[number - 1][:column].strip())
        kept, message = _comment_text(token.string)
        previous = found[-1] if found else None
        if (
            not inline
            and not kept
            and previous is not None
            and not previous["inline"]
            and not previous["kept"]
            and previous["column"] == column
            and previous["lines"][-1] == number - 1
            and message
        ):
            previous["lines"].append(number)
            previous["message"] += " " + message
            continue
        found.append(
            {
                "lines": [number],
                "column": column,
                "inline": inline,
                "kept": kept,
                "message": message,
            }
        )
    return [c for c in found if _translatable(c["message"])]


def _template(node: ast.AST) -> str | None:
    """The message of a literal string node: its text, or an f-string's text with each field
    written back as ``{expression}`` (``None`` for anything else)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(value.value.replace("{", "{{").replace("}", "}}"))
        else:
            conversion = "" if value.conversion == -1 else "!" + chr(value.conversion)
            spec = "" if value.format_spec is None else ":" + _template(value.format_spec)
            parts.append("{" + ast.unparse(value.value) + conversion + spec + "}")
    return "".join(parts)


def _shown(node: ast.AST) -> list[ast.AST]:
    """The argument nodes of a statement or call that :data:`SHOWN` says are shown."""
    if isinstance(node, ast.Assert):
        return [node.msg] if node.msg is not None else []
    if not isinstance(node, ast.Call):
        return []
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    positions = SHOWN.get(name, ())
    shown = (
        list(node.args)
        if positions == "*"
        else [node.args[i] for i in positions if i < len(node.args)]
    )
    return shown + [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]


def _literals(source: str) -> list[tuple[ast.AST, str]]:
    """The shown string literals (:data:`SHOWN`) outside solution blocks, with their nodes."""
    try:
        tree = ast.parse(as_python(source))
    except SyntaxError:
        return []
    skip = solution_lines(source.splitlines())
    found = []
    for node in ast.walk(tree):
        for candidate in _shown(node):
            message = _template(candidate)
            if candidate.lineno not in skip and _translatable(message, shown=True):
                found.append((candidate, message))
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


def messages(source: str) -> list[str]:
    """The messages of a code cell to translate: its comments and the string literals it shows."""
    return [c["message"] for c in _comments(source)] + [m for _node, m in _literals(source)]


def _literal(node: ast.AST, text: str) -> str:
    """A string literal of ``text``, an f-string where ``node`` was one."""
    quote = "'" if '"' in text and "'" not in text else '"'
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n").replace(quote, "\\" + quote)
    return ("f" if isinstance(node, ast.JoinedStr) else "") + f"{quote}{escaped}{quote}"


def translated(source: str, translate: Callable[[str], str | None]) -> str:
    """``source`` with its messages (see :func:`messages`) replaced by their translations.

    Args:
        source: a code cell's text.
        translate: the translation of a message, or ``None`` (or the message itself) when the
            catalog has none.

    Raises:
        MissingTranslation: naming the first message the catalog lacks.
    """

    def lookup(message: str) -> str:
        text = translate(message)
        if not text or text == message:
            raise MissingTranslation(f"no translation of the code message {message!r}")
        return text

    lines = source.split("\n")
    # (line, start byte, end line, end byte, replacement), applied from the end of the cell
    edits: list[tuple[int, int, int, int, str]] = []
    for node, message in _literals(source):
        replacement = _literal(node, lookup(message))
        edits.append(
            (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, replacement)
        )
    for comment in _comments(source):
        text = lookup(comment["message"])
        first, last = comment["lines"][0], comment["lines"][-1]
        column = comment["column"]
        if comment["inline"]:
            line = lines[first - 1]
            start = len(line[:column].encode())
            edits.append((first, start, first, len(line.encode()), f"# {comment['kept']}{text}"))
            continue
        indent = " " * column
        width = max(40, LINE_WIDTH - column - 2)
        wrapped = textwrap.wrap(text, width) if len(comment["lines"]) > 1 else [text]
        block = "\n".join(
            f"{indent}# {comment['kept'] if i == 0 else ''}{w}" for i, w in enumerate(wrapped)
        )
        edits.append((first, 0, last, len(lines[last - 1].encode()), block))
    for line, start, end_line, end, replacement in sorted(edits, reverse=True):
        head = lines[line - 1].encode()[:start].decode()
        tail = lines[end_line - 1].encode()[end:].decode()
        lines[line - 1 : end_line] = (head + replacement + tail).split("\n")
    return "\n".join(lines)


def catalog(locale_dir, domain: str, language: str) -> Callable[[str], str | None]:
    """The translations of ``locale_dir/<language>/LC_MESSAGES/<domain>.mo``, for
    :func:`translated` (``None`` for a message it lacks; every message for English)."""
    import gettext

    if language == "en":
        return lambda message: message
    found = gettext.translation(domain, str(locale_dir), languages=[language], fallback=True)

    def lookup(message: str) -> str | None:
        text = found.gettext(message)
        return None if text == message else text

    return lookup
