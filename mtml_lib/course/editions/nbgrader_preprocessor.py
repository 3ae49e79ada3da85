"""nbgrader's side of the editions: the preprocessor that gives a release its course's language.

Imported by the course's ``nbgrader_config.py`` only, inside nbgrader's process: the rest of
:mod:`mtml_lib.course` and :mod:`mtml_lib.grading` (the grading sandbox's processes included)
never loads nbgrader for it.
"""

from __future__ import annotations

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .code_cells import catalog
from .twins import select_edition

__all__ = ["SelectEdition", "generate_preprocessors"]


class SelectEdition(NbGraderPreprocessor):
    """nbgrader preprocessor: the notebook in the course's language (twins resolved, dropped;
    comments and test messages translated from the course's ``homework`` catalog)."""

    language = Unicode("en", help="the edition's language (mtml_lib.i18n.LANGUAGES)").tag(
        config=True
    )
    locale_dir = Unicode(
        "", help="the folder of the course's catalogs (its graders/locale), for the code cells"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        code = catalog(self.locale_dir, "homework", self.language) if self.locale_dir else None
        return nbformat.from_dict(select_edition(nb, self.language, code=code)), resources


def generate_preprocessors() -> list:
    """nbgrader's assignment preprocessors with :class:`SelectEdition` first."""
    from nbgrader.converters.generate_assignment import GenerateAssignment

    return [SelectEdition, *GenerateAssignment.class_traits()["preprocessors"].default()]
