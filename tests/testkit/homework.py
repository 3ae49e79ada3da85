"""The homework's solutions and graders as the tests use them: a solution cell without its
markers, a submission made of the solution with some cells replaced, and one part of it probed
and scored by the trusted grader in this process (no sandbox: the code is the tests' own)."""

from __future__ import annotations

import os
import pathlib
import types

import nbformat

from mtml_lib.course.variants import STUDENT_ID_TAG
from mtml_lib.grading.regrade import PartScore, load_spec, score
from mtml_lib.grading.untrusted import probe_notebook

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOMEWORK = ROOT / "notebooks" / "homework"


def source_path(assignment: str) -> pathlib.Path:
    return HOMEWORK / "source" / assignment / f"{assignment}.ipynb"


def grader(assignment: str) -> types.ModuleType:
    return load_spec(HOMEWORK / "graders" / f"{assignment}.py")


def cell_key(cell) -> str | None:
    """A code cell's grade id, or ``"student-id"`` for the cell that holds STUDENT_ID."""
    if STUDENT_ID_TAG in cell.metadata.get("tags", []):
        return STUDENT_ID_TAG
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution(assignment: str, grade_id: str, *, source: pathlib.Path | None = None) -> str:
    """The instructor's answer in a cell, without the solution markers."""
    notebook = nbformat.read(source or source_path(assignment), as_version=4)
    text = next(c.source for c in notebook.cells if cell_key(c) == grade_id)
    return "\n".join(line for line in text.splitlines() if "### " not in line)


def student_id_cell(assignment: str, student: str) -> str:
    """The STUDENT_ID cell with ``student`` written in it."""
    text = solution(assignment, STUDENT_ID_TAG)
    assert 'STUDENT_ID = ""' in text
    return text.replace('STUDENT_ID = ""', f"STUDENT_ID = {student!r}")


def with_edits(text: str, edits) -> str:
    """``text`` with each ``(old, new)`` of ``edits`` applied (every ``old`` must be there)."""
    for old, new in edits:
        assert old in text, f"{old!r} is not in the cell"
        text = text.replace(old, new)
    return text


def write_submission(assignment: str, answers: dict[str, str], path: pathlib.Path) -> pathlib.Path:
    """The source notebook with the cells named in ``answers`` (by :func:`cell_key`) replaced."""
    notebook = nbformat.read(source_path(assignment), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell_key(cell) in answers:
            cell.source = answers[cell_key(cell)]
    nbformat.write(notebook, path)
    return path


def probe(assignment: str, parts, answers: dict[str, str], path: pathlib.Path, *, student=""):
    """Run a submission's code and the probes of ``parts`` here, as the untrusted side does."""
    spec = grader(assignment)
    spec.STUDENT = student
    chosen = types.SimpleNamespace(PROBES={part: spec.PROBES[part] for part in parts})
    saved = os.environ.get("MTML_AUTOGRADE")
    os.environ["MTML_AUTOGRADE"] = "1"
    try:
        notebook = write_submission(assignment, answers, path)
        return probe_notebook(notebook, chosen, cell_timeout=300, probe_timeout=600)
    finally:
        if saved is None:
            os.environ.pop("MTML_AUTOGRADE", None)
        else:
            os.environ["MTML_AUTOGRADE"] = saved


def part_score(assignment: str, part: str, data: dict, reference: dict) -> PartScore:
    """The trusted grader's score of one part."""
    return score(grader(assignment), data, reference)[part]


# Answers that are numbers, not runs, and a "memory learner" that is no learner: each earns
# nothing in its part (tests/course/test_pipeline.py, test_homework_catalogue.py).
COPIED_4 = """def run_experiment(steps, seed):
    return {"multihead": 0.05, "film": 0.04}
"""
COPIED_6 = """def recommender_experiment(steps, seed, like_weights):
    table = {0.0: [0.81, 0.5], 0.25: [0.81, 0.76], 1.0: [0.81, 0.77], 4.0: [0.8, 0.77]}
    pairs = {w: table.get(w, [0.81, 0.77]) for w in like_weights}
    return {"single": [0.81, 0.77], "shared-bottom": pairs, "mmoe": dict(pairs)}
"""
PIXEL_MEMORY = """
class PixelMemory(MANN):
    def forward(self, images, labels):  # the nearest support image's label: no memory at all
        B, rows, N, P = images.shape
        support = images[:, :-1].reshape(B, -1, P)
        shown = labels[:, :-1].reshape(B, -1, N)
        nearest = torch.cdist(images[:, -1], support).argmin(-1)
        out = labels.clone()
        out[:, -1] = torch.gather(shown, 1, nearest[..., None].expand(-1, -1, N))
        return out


def train(num_classes, steps, seed, k_shot=1):
    torch.manual_seed(seed)
    return PixelMemory(num_classes=num_classes, samples_per_class=k_shot + 1)
"""
