"""What a Korean student reads in an executed notebook, and the English left in it.

A notebook run for the check gets a first cell (:data:`RECORDER`) that records the text of every
figure before the inline backend shows and closes it: titles, legends, texts drawn on the axes
(the figures reach the notebook as images, whose text no scan can read). :func:`english_left`
then reads the printed output, the text of displayed values and widgets, and those figure texts,
and lists the English words left: Latin-script words that are neither names of the notebook's
code (variables, functions, keys such as registry names) nor the field's notation (:data:`KEPT`).
"""

from __future__ import annotations

import functools
import html
import io
import json
import pathlib
import re
import tokenize

import nbformat

import mtml_lib
from mtml_lib.course.editions.code_cells import KEPT_WORDS as KEPT_CODE
from mtml_lib.course.editions.code_cells import as_python

FIGURE_TEXTS = "MTML_FIGURE_TEXTS"
WIDGET = "application/vnd.jupyter.widget-view+json"  # a widget's text/plain is not what shows
GLOSS = re.compile(r"(?<=[\uac00-\ud7a3])\([^()]*\)")
QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
RECORDER = f'''\
import json as _json, os as _os
def _record_figure_texts():  # runs before the inline backend shows and closes the figures
    import matplotlib.pyplot as _plt
    texts = []
    for number in _plt.get_fignums():
        figure = _plt.figure(number)
        texts += [figure._suptitle.get_text()] if figure._suptitle is not None else []
        for ax in figure.axes:
            texts += [ax.get_title(loc=where) for where in ("left", "center", "right")]
            legend = ax.get_legend()
            texts += [t.get_text() for t in legend.get_texts()] if legend is not None else []
            texts += [t.get_text() for t in ax.texts]
    with open(_os.environ["{FIGURE_TEXTS}"], "a", encoding="utf-8") as file:
        file.writelines(_json.dumps(t, ensure_ascii=False) + "\\n" for t in texts if t.strip())
get_ipython().events.register("post_execute", _record_figure_texts)
'''

# What stays English on purpose, and why (besides the words every edition keeps in its code,
# mtml_lib.course.editions.code_cells.KEPT_WORDS: the field's notation, the names of methods and
# datasets).
KEPT = {
    # notation the outputs use: "5-way 1-shot", subscripts, a method's name
    "notation": "way shot N-way K-shot z_i tau cross-stitch Meta-SGD Nelder-Mead",
    # the recommender's objectives and the MMoE paper's one-gate MoE, named as the texts name them
    "names": "click watch like one-gate",
    # Python's values, printed as Python prints them
    "python": "True False None nan inf",
}
KEPT_WORDS = {w.lower() for words in KEPT.values() for w in words.split()} | set(KEPT_CODE)
WORD = re.compile(r"[A-Za-z][A-Za-z_]*(?:-[A-Za-z]+)*")


def code_names(sources) -> set[str]:
    """The names of code: identifiers, and string literals that are names (no spaces: a
    registry name such as ``"shared-bottom"``, a key, a task's name)."""
    names: set[str] = set()
    for source in sources:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(as_python(source)).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        for token in tokens:
            if token.type == tokenize.NAME:
                names.add(token.string.lower())
            elif token.type == tokenize.STRING and not re.search(r"\s", token.string):
                names |= {w.lower() for w in WORD.findall(token.string.strip("'\"fbr"))}
    return names


@functools.cache
def library_names() -> frozenset[str]:
    """The names of the library's code, and of Glyphs' alphabets and splits (data: Unicode's
    names of the scripts, as Omniglot's alphabets keep their names)."""
    from mtml_lib.data.glyphs import load_glyphs

    root = pathlib.Path(mtml_lib.__file__).parent
    names = code_names(path.read_text(encoding="utf-8") for path in root.rglob("*.py"))
    glyphs = load_glyphs()
    names |= {w.lower() for name in glyphs.alphabet_names for w in WORD.findall(name)}
    return frozenset(names)


# Errors whose message is the interpreter's, not the workbook's: a cell that uses what an unsolved
# homework part would have defined stops with "NameError: name 'results' is not defined", which
# Python writes in English whatever the edition (the part's own stub says in Korean what to do).
INTERPRETER = {"NameError"}


def shown_texts(notebook, figure_texts: list[str]) -> list[str]:
    """Everything a student reads in an executed notebook: printed output, displayed values,
    errors, the widgets' labels and text, the figures' titles, legends and texts."""
    texts = list(figure_texts)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":  # a quoted string printed is a value's repr: data
                texts.append(QUOTED.sub("''", output.text))
            elif output.output_type == "error" and output.ename not in INTERPRETER:
                texts.append(f"{output.ename}: {output.evalue}")
            elif "text/plain" in output.get("data", {}) and WIDGET not in output.data:
                # a displayed value: its repr's quoted strings are data (keys, names), not prose
                plain = QUOTED.sub("''", output.data["text/plain"])
                if not re.fullmatch(r"<Figure size .*>", plain.strip()):
                    texts.append(plain)
    widgets = notebook.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}
    )
    for model in widgets.get("state", {}).values():
        state = model.get("state", {})
        shown = [str(state.get(k, "")) for k in ("description", "value", "placeholder")]
        texts += [html.unescape(re.sub(r"<[^>]+>", " ", text)) for text in shown]
        texts += [str(label) for label in state.get("_options_labels", [])]
    return texts


def english_left(path, figure_texts_file) -> list[str]:
    """The English words a Korean student reads in the executed notebook ``path`` (with the
    figure texts :data:`RECORDER` wrote to ``figure_texts_file``), each with some context."""
    notebook = nbformat.read(path, as_version=4)
    figures = []
    if figure_texts_file.exists():
        lines = figure_texts_file.read_text(encoding="utf-8").splitlines()
        figures = [json.loads(line) for line in lines]
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    allowed = code_names(cells) | library_names() | KEPT_WORDS
    found = []
    for text in shown_texts(notebook, figures):
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours of a traceback
        text = GLOSS.sub("", text)  # "한국어(English)": the English term beside its Korean form
        for match in WORD.finditer(text):
            word = match.group()
            parts = {word.lower(), *(p for p in word.lower().split("-") if len(p) > 1)}
            # a progress bar cuts a name short: "closed_loo" is the task closed_loop
            cut = "_" in word and any(n.startswith(word.lower()) for n in allowed)
            if len(word) == 1 or word.lower() in allowed or parts <= allowed or cut:
                continue
            found.append(f"{word!r} in {text[max(0, match.start() - 30) : match.end() + 30]!r}")
    return found


def inject_recorder(path) -> None:
    """Put :data:`RECORDER` first in the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(RECORDER))
    nbformat.write(notebook, path)
