"""The similarity report (:mod:`mtml_lib.course.similarity`): the flagged pairs ranked with the
shared code side by side (HTML), each student's closest match (CSV), and the grade table's column
read back from it."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import os
import pathlib

__all__ = ["Pair", "Report", "closest_matches", "closest_csv", "read_closest", "report_html"]


@dataclasses.dataclass
class Pair:
    """Two answers of one part and what they share.

    ``share`` is the fraction of the first answer's fingerprinted tokens found in the second,
    ``other_share`` the reverse (for the library, the module's share is small by nature);
    ``tokens`` the shared tokens; ``marked``/``other_marked`` the texts as HTML with the shared
    code highlighted."""

    part: str
    student: str
    other: str
    share: float
    other_share: float
    tokens: int
    flagged: bool
    marked: str = ""
    other_marked: str = ""
    _mark: object = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> str:
        if self.other.startswith("library:"):
            return "library"
        return "earlier term" if ":" in self.other else "student"

    @property
    def score(self) -> float:
        """What the pair is ranked by: the larger share for two students, the student's share
        against the library or an earlier term."""
        return max(self.share, self.other_share) if self.kind == "student" else self.share


@dataclasses.dataclass
class Report:
    assignment: str
    students: list[str]
    pairs: list[Pair]
    seconds: float
    html_path: pathlib.Path | None = None
    csv_path: pathlib.Path | None = None

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]


def closest_matches(report: Report) -> dict[str, Pair]:
    """Each student's highest-ranked pair (as either side of a student pair)."""
    best: dict[str, Pair] = {}
    for pair in report.pairs:
        sides = [pair.student] + ([pair.other] if pair.kind == "student" else [])
        for student in sides:
            if student not in best or pair.score > best[student].score:
                best[student] = pair
    return best


def closest_csv(report: Report) -> str:
    """``student, part, other, share, flagged``: each student's closest match."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "part", "other", "share", "shared_tokens", "flagged"])
    best = closest_matches(report)
    for student in report.students:
        pair = best.get(student)
        if pair is None:
            writer.writerow([student, "", "", "0", "0", "false"])
            continue
        other = pair.other if pair.student == student else pair.student
        writer.writerow(
            [student, pair.part, other, f"{pair.score:.2f}", pair.tokens, str(pair.flagged).lower()]
        )
    return out.getvalue()


def read_closest(course: str | os.PathLike, assignment: str) -> dict[str, str] | None:
    """The grade table's similarity column of an assignment: ``"0.93 with lee (mmoe), flagged"``
    per student, or ``None`` when no report was written."""
    path = pathlib.Path(course) / "similarity" / f"{assignment}.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["student"]: (
            f"{row['share']} with {row['other']} ({row['part']})"
            + (", flagged" if row["flagged"] == "true" else "")
            if row["other"]
            else "0"
        )
        for row in rows
    }


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; margin-bottom: 2em; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 85%; }
mark { background: #ffd27f; }
.flagged { color: #a00; font-weight: bold; }
"""


def report_html(report: Report) -> str:
    """The report: a summary, the flagged pairs ranked, each with the two answers side by side
    and the shared code highlighted, then every student's closest match."""
    e = html.escape
    flagged = report.flagged
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Similarity: {e(report.assignment)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Similarity of {e(report.assignment)}</h1>",
        f"<p>{len(report.students)} submissions; {len(report.pairs)} pairs of answers compared "
        f"in {report.seconds:.1f} s; <span class='flagged'>{len(flagged)} flagged</span>. "
        "A flag is a reason to read both answers, not a finding.</p>",
        "<h2>Flagged pairs</h2>",
    ]
    if not flagged:
        parts.append("<p>None.</p>")
    else:
        parts.append(
            "<table><tr><th>#</th><th>part</th><th>submission</th><th>matches</th>"
            "<th>kind</th><th>share</th><th>shared tokens</th></tr>"
        )
        for rank, pair in enumerate(flagged, start=1):
            link = f"<a href='#pair-{rank}'>{rank}</a>" if pair.marked else str(rank)
            parts.append(
                f"<tr><td>{link}</td><td>{e(pair.part)}</td>"
                f"<td>{e(pair.student)}</td><td>{e(pair.other)}</td><td>{pair.kind}</td>"
                f"<td>{pair.share:.0%} / {pair.other_share:.0%}</td><td>{pair.tokens}</td></tr>"
            )
        parts.append("</table>")
        for rank, pair in enumerate(flagged, start=1):
            if not pair.marked:
                continue
            parts += [
                f"<h3 id='pair-{rank}'>{rank}. {e(pair.part)}: {e(pair.student)} and "
                f"{e(pair.other)} ({pair.share:.0%} / {pair.other_share:.0%})</h3>",
                "<div class='pair'>",
                f"<div><b>{e(pair.student)}</b><pre>{pair.marked}</pre></div>",
                f"<div><b>{e(pair.other)}</b><pre>{pair.other_marked}</pre></div>",
                "</div>",
            ]
    parts.append(
        "<h2>Each submission's closest match</h2><table><tr><th>submission</th>"
        "<th>part</th><th>closest</th><th>share</th><th>flagged</th></tr>"
    )
    best = closest_matches(report)
    for student in report.students:
        pair = best.get(student)
        if pair is None:
            parts.append(f"<tr><td>{e(student)}</td><td></td><td></td><td>0%</td><td></td></tr>")
            continue
        other = pair.other if pair.student == student else pair.student
        parts.append(
            f"<tr><td>{e(student)}</td><td>{e(pair.part)}</td><td>{e(other)}</td>"
            f"<td>{pair.score:.0%}</td><td>{'yes' if pair.flagged else ''}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)
