"""What a student's feedback may show: nbgrader's feedback without the hidden tests.

nbgrader's autograder puts each test cell back as the instructor wrote it, hidden tests included,
so that they run; its feedback page then shows that source to the student, and a failed hidden
test's traceback shows the failing line. :class:`HideHiddenTests` (a preprocessor of nbgrader's
``GenerateFeedback``, set in the course's ``nbgrader_config.py``) removes each hidden region from
the test cells and keeps, of such a cell's outputs, only the trusted grade the re-grade wrote
under it (:func:`mtml_lib.grading.record.annotate`): its points and each failed check's message.
The verdict and the feedback text stay; the test's source goes.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..grading.record import TRUSTED_OUTPUTS

__all__ = ["HideHiddenTests"]


class HideHiddenTests(NbGraderPreprocessor):
    """Remove the hidden tests of every test cell, and the outputs they made."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    stand_in = Unicode("# (hidden tests: their verdict is below)").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or self.begin not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if self.begin in line:
                hidden = True
                indent = line[: len(line) - len(line.lstrip())]
                kept.append(indent + self.stand_in)
            elif self.end in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        trusted = int(cell.metadata.get("mtml", {}).get(TRUSTED_OUTPUTS, 0))
        cell.outputs = cell.outputs[len(cell.outputs) - trusted :] if trusted else []
        return cell, resources
