"""Fonts for an edition's script in the figures: matplotlib's default font (DejaVu Sans) has no
Hangul, so the Korean edition's titles and legends would be drawn as empty boxes.

:func:`use_fonts_for` keeps DejaVu Sans first and adds a Korean font after it: matplotlib (3.6 and
later) draws each character with the first font of the list that has it, so Latin text and
notation look as in the English edition and Hangul comes from the Korean font. It takes the first
of :data:`KOREAN_FONTS` installed (every desktop system has one: Malgun Gothic on Windows, Apple SD
Gothic Neo on macOS; on Linux, Noto Sans CJK from the ``fonts-noto-cjk`` package).
"""

from __future__ import annotations

import re
import warnings

__all__ = ["KOREAN_FONTS", "use_fonts_for"]

KOREAN_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "UnDotum",
    "Baekmuk Gulim",
)
_FILES = re.compile(r"(?i)cjk|nanum|malgun|gothic|undotum|baekmuk")


def _installed() -> str | None:
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in names), None)


def use_fonts_for(language: str) -> str | None:
    """Make the figures able to draw ``language``'s script; returns the font added (``None`` for
    a language DejaVu Sans covers, or when no font for it is installed, with a warning)."""
    if language != "ko":
        return None
    from matplotlib import font_manager, rcParams

    found = _installed()
    if found is None:  # matplotlib's font list may predate the font: read the system's files
        for path in font_manager.findSystemFonts():
            if _FILES.search(path):
                font_manager.fontManager.addfont(path)
        found = _installed()
    if found is None:
        warnings.warn(
            "no Korean font is installed, so the figures' Hangul shows as boxes: install one "
            "(Linux: the fonts-noto-cjk package) and restart the kernel",
            stacklevel=3,
        )
        return None
    rcParams["font.family"] = ["DejaVu Sans", found]
    return found
