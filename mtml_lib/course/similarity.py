"""Which submissions share code: every submission's graded answers against every other's, against
the workbook's library and against earlier terms' submissions.

The comparison is copydetect's (a packaged detector, the winnowing of Schleimer, Wilkerson and
Aiken that MOSS uses): each answer is tokenised, names are replaced by placeholders (so a renamed
copy is still a copy), and its fingerprints are the hashes of every ``noise`` consecutive
tokens.
Two answers share the fingerprints they have in common; the order of the code does not matter,
as every shared run counts wherever it is. The released starter code of each part (the class and
function signatures a student is given) is boilerplate: its fingerprints are left out, so every
submission does not match every other on what the course handed out.

An answer is one graded cell (nbgrader's solution cells: code, and written answers compared as
text), compared only with the same part of others. Against the library, it is compared with every
module of ``mtml_lib``, which every student has installed and which holds a reference
implementation of most homework parts.

A pair is **flagged** when the share of an answer's fingerprinted tokens found in the other
reaches ``threshold`` and the shared run is at least ``min_tokens`` tokens long. A flag is a
reason to read both answers, not a finding of copying: the report shows the matched code side by
side.

:func:`similarity` writes ``similarity/<assignment>.html`` (the pairs ranked, the matched code
highlighted side by side) and ``similarity/<assignment>.csv`` (each student's closest match per
part) in the course folder; ``mtml grades --format course`` adds each student's closest match as a
column.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pathlib
import re
import time

from .._validation import check_int
from .similarity_report import Pair, Report, closest_csv, report_html

__all__ = ["Answer", "Pair", "Report", "answers_of", "similarity"]

LIBRARY = pathlib.Path(__file__).resolve().parents[1]
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)
_MARKERS = re.compile(r"^\s*###? (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Answer:
    """One graded answer: whose (a student, ``library:<module>`` or ``<term>:<student>``), which
    part, its text, and whether it is code."""

    owner: str
    part: str
    text: str
    code: bool = True


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def answers_of(notebook: str | os.PathLike, owner: str) -> list[Answer]:
    """The graded answers of a notebook: its nbgrader solution cells by ``grade_id`` (magics and
    solution markers removed)."""
    document = json.loads(pathlib.Path(notebook).read_text(encoding="utf-8"))
    answers = []
    for cell in document.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution") or not meta.get("grade_id"):
            continue
        code = cell.get("cell_type") == "code"
        text = _MARKERS.sub("", _MAGIC.sub("", _source(cell)) if code else _source(cell))
        answers.append(Answer(owner, meta["grade_id"], text, code))
    return answers


def _library_answers() -> list[Answer]:
    return [
        Answer(
            f"library:{'.'.join(path.relative_to(LIBRARY.parent).with_suffix('').parts)}",
            "*",
            path.read_text(encoding="utf-8"),
        )
        for path in sorted(LIBRARY.rglob("*.py"))
    ]


def _earlier_answers(folder: pathlib.Path, assignment: str) -> list[Answer]:
    """Answers of an earlier term: ``folder/<student>/<assignment>/*.ipynb`` (a course folder's
    ``submitted/`` kept from that term), owned by ``<folder name>:<student>``."""
    if not folder.is_dir():
        raise ValueError(f"earlier must be a folder of submissions; got {str(folder)!r}.")
    found = []
    for notebook in sorted(folder.glob(f"*/{assignment}/*.ipynb")):
        found += answers_of(notebook, f"{folder.name}:{notebook.parent.parent.name}")
    return found


class _Fingerprints:
    """copydetect's fingerprints of answers, the starter code of each part left out.

    A line of an answer that is a line of its part's starter code (a signature the release
    gave) becomes a comment, which the tokeniser drops: removing only the starter's own
    fingerprints would leave every run that starts in a given signature and ends one token
    into the answer, which every answer shares."""

    def __init__(self, noise: int, starters: dict[str, str]):
        from copydetect.detector import CodeFingerprint

        self._make = CodeFingerprint
        self.noise = noise
        self.given = {
            part: {line.strip() for line in text.splitlines() if line.strip()}
            for part, text in starters.items()
        }

    def without_starter(self, answer: Answer) -> str:
        given = self.given.get(answer.part, set())
        lines = []
        for line in answer.text.splitlines():
            if line.strip() in given:
                indent = line[: len(line) - len(line.lstrip())]
                line = f"{indent}# (given) {line.strip()}" if answer.code else ""
            lines.append(line)
        return "\n".join(lines)

    def of(self, answer: Answer):
        return self._make(
            f"{answer.owner}.{'py' if answer.code else 'txt'}",
            self.noise,
            1,  # every fingerprint kept (see similarity's docstring)
            filter=answer.code,
            language="python" if answer.code else None,
            fp=io.StringIO(self.without_starter(answer) if answer.part != "*" else answer.text),
        )


def _compare(one, other, part: str, a: str, b: str, threshold: float, min_tokens: int) -> Pair:
    from copydetect.detector import compare_files
    from copydetect.utils import highlight_overlap

    tokens, (share, other_share), (slices, other_slices) = compare_files(one, other)
    tokens = int(tokens)
    pair = Pair(part, a, b, float(share), float(other_share), tokens, False)
    pair.flagged = tokens >= min_tokens and pair.score >= threshold
    if pair.flagged:  # highlighted later, for the pairs the report shows side by side

        def mark() -> None:
            pair.marked, _ = highlight_overlap(
                one.raw_code, slices, "<mark>", "</mark>", escape_html=True
            )
            pair.other_marked, _ = highlight_overlap(
                other.raw_code, other_slices, "<mark>", "</mark>", truncate=8, escape_html=True
            )

        pair._mark = mark
    return pair


def _gathered(course: pathlib.Path, assignment: str) -> tuple[dict[str, str], list[Answer]]:
    """The release's starter code of each part, and every submission's answers to those parts."""
    from .folder import CourseError

    release = sorted((course / "release" / assignment).glob("*.ipynb"))
    if not release:
        raise CourseError(
            f"assignment {assignment!r} has no release in {course / 'release'}: run "
            f"`mtml release {assignment}` first (its starter code is left out of the comparison)."
        )
    starters = {a.part: a.text for nb in release for a in answers_of(nb, "release")}
    submitted = sorted((course / "submitted").glob(f"*/{assignment}/*.ipynb"))
    if not submitted:
        raise CourseError(f"no submissions of {assignment!r} in {course / 'submitted'}.")
    answers = [a for nb in submitted for a in answers_of(nb, nb.parent.parent.name)]
    return starters, [a for a in answers if a.part in starters]


def _pairs(prints: _Fingerprints, answers: list[Answer], others: list[Answer], compare) -> list:
    """Each answer against the same part of every other submission (once per pair), and every
    code answer against the library (part ``*``) and earlier terms' answers to its part."""
    mine = {(a.owner, a.part): (a, prints.of(a)) for a in answers}
    theirs = [(a, prints.of(a)) for a in others]
    owners: dict[str, list[str]] = {}
    for owner, part in sorted(mine):
        owners.setdefault(part, []).append(owner)
    pairs = []
    for owner, part in sorted(mine):
        answer, fingerprint = mine[(owner, part)]
        for other_owner in owners[part][owners[part].index(owner) + 1 :]:
            pairs.append(
                compare(fingerprint, mine[(other_owner, part)][1], part, owner, other_owner)
            )
        for other, other_print in theirs:
            if (other.part == "*" and answer.code) or other.part == part:
                pairs.append(compare(fingerprint, other_print, part, owner, other.owner))
    return pairs


def similarity(
    course: str | os.PathLike,
    assignment: str,
    *,
    earlier: list[str | os.PathLike] = (),
    threshold: float = 0.5,
    min_tokens: int = 40,
    noise: int = 35,
    library: bool = True,
    shown: int = 200,
    write: bool = True,
) -> Report:
    """Compare the submissions of ``assignment`` (``submitted/<student>/<assignment>/``) with one
    another, with the library and with ``earlier`` terms; write the report (``write``).

    Args:
        threshold: the share of an answer found in another that flags the pair (0 < t <= 1).
        min_tokens: the fewest shared tokens that can flag a pair (a two-line answer shares
            everything with any other two-line answer).
        noise: the shortest shared run of tokens that counts (copydetect's noise threshold).
        shown: the flagged pairs the report shows side by side (the highest ranked; the table
            lists every flagged pair).

    Every fingerprint is kept (a winnowing window of 1, copydetect's guarantee threshold equal
    to the noise threshold): answers are short, and a wider window picks fingerprints by the
    value of Python's string hash, which changes with every process, so the same submissions
    could be flagged in one run and not the next.
    """
    start = time.perf_counter()
    course = pathlib.Path(course)
    if not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1]; got {threshold!r}.")
    check_int("min_tokens", min_tokens, minimum=1)
    check_int("noise", noise, minimum=5)
    check_int("shown", shown, minimum=0)
    starters, answers = _gathered(course, assignment)
    others = _library_answers() if library else []
    for folder in earlier:
        others += [
            a for a in _earlier_answers(pathlib.Path(folder), assignment) if a.part in starters
        ]
    prints = _Fingerprints(noise, starters)
    pairs = _pairs(prints, answers, others, lambda *a: _compare(*a, threshold, min_tokens))
    pairs.sort(key=lambda p: (-p.flagged, -p.score, p.part, p.student, p.other))
    for pair in pairs[:shown]:
        if pair.flagged:
            pair._mark()
    for pair in pairs:
        pair._mark = None
    report = Report(
        assignment, sorted({a.owner for a in answers}), pairs, time.perf_counter() - start
    )
    if write:
        folder = course / "similarity"
        folder.mkdir(exist_ok=True)
        report.html_path = folder / f"{assignment}.html"
        report.csv_path = folder / f"{assignment}.csv"
        report.html_path.write_text(report_html(report), encoding="utf-8")
        report.csv_path.write_text(closest_csv(report), encoding="utf-8")
    return report
