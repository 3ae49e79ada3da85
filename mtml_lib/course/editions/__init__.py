"""The editions of the workbook, in one place: one source, an edition per language.

* :mod:`~mtml_lib.course.editions.twins`: the markdown, translated cells ("twins") beside the
  English ones, and :func:`select_edition`, which builds an edition of a notebook;
* :mod:`~mtml_lib.course.editions.code_cells`: the code cells' comments and the text the code
  shows, translated from the catalogs kept beside the notebooks;
* :mod:`~mtml_lib.course.editions.nbgrader_preprocessor`: nbgrader's side, the preprocessor that
  gives a homework release its course's language (imported by the course's
  ``nbgrader_config.py`` only, so nothing else loads nbgrader for it).

The messages the library itself prints (checks, widgets, plots) are in :mod:`mtml_lib.i18n`'s
catalog, chosen at run time by :func:`mtml_lib.i18n.set_language`.
"""

from .code_cells import MissingTranslation, catalog
from .twins import select_edition

__all__ = ["select_edition", "catalog", "MissingTranslation"]
