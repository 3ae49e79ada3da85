r"""Glyphs: an Omniglot-like few-shot dataset rendered from the fonts inside matplotlib.

Omniglot has 1,623 handwritten characters from 50 alphabets, 20 drawers each. Glyphs
plays the same game with what every matplotlib installation ships, so nothing is
downloaded:

* **alphabets** are Unicode scripts and symbol blocks (Latin, Greek, Cyrillic,
  Armenian, Georgian, Hebrew, Arabic, N'Ko, Lao, Canadian syllabics, Ogham, Tifinagh,
  Lisu, Braille, box drawing, arrows, mathematical operators, ...);
* **characters** are the classes: a code point counts when at least ``min_fonts`` of
  the 12 DejaVu fonts (Sans, Serif, Mono, each regular / bold / oblique / bold-oblique)
  draw it, it is not a decomposition of another character (no accented forms), and
  its rendering differs from every character kept before it (Latin A, Greek Alpha
  and Cyrillic A are one class; so are shapes that become identical once scaled to
  the box, like ``o`` and ``O``);
* **20 instances per character**, the "drawers": the fonts that have the character in
  turn, each with a seeded random affine jitter (rotation, shear, scale, translation)
  and stroke-width variation;
* images are 28x28 grayscale in [0, 1], ink = 1, the glyph scaled to fill a 24x24 box.

The dataset is generated once (a few seconds), cached with a checksum, and verified
on every load: a missing, truncated or corrupt cache, or one made from other fonts
or settings, is regenerated. Generation is deterministic given the seed and fonts.

Example:
    >>> glyphs = load_glyphs()  # doctest: +SKIP
    >>> glyphs.num_classes >= 1200, glyphs.images.shape[1:]  # doctest: +SKIP
    (True, torch.Size([20, 28, 28]))
"""

from __future__ import annotations

import math
import os
import pathlib
import time
import unicodedata

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_int
from .cache import cache_dir as resolve_cache_dir
from .cache import load_verified, save_verified
from .fewshot import FewShotDataset

__all__ = ["ALPHABETS", "FONT_FILES", "load_glyphs", "generate_glyphs", "cache_path"]

VERSION = 2
INSTANCES = 20
SIZE = 28
_CANVAS = 56  # rendered at twice the final size, then averaged down (antialiasing)
_BOX = 48  # the glyph's longer side fills this many canvas pixels (24 of 28 in the end)

FONT_FILES = [
    f"DejaVu{family}{style}.ttf"
    for family in ("Sans", "Serif", "SansMono")
    for style in (
        "",
        "-Bold",
        "-Oblique" if family != "Serif" else "-Italic",
        "-BoldOblique" if family != "Serif" else "-BoldItalic",
    )
]

#: alphabet -> code point ranges (inclusive).
ALPHABETS: dict[str, list[tuple[int, int]]] = {
    "Latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F)],
    "IPA": [(0x250, 0x2AF)],
    "Greek": [(0x370, 0x3FF)],
    "Cyrillic": [(0x400, 0x4FF)],
    "Armenian": [(0x531, 0x58F)],
    "Hebrew": [(0x5D0, 0x5EA)],
    "Arabic": [(0x620, 0x64A)],
    "N'Ko": [(0x7C0, 0x7FF)],
    "Lao": [(0xE80, 0xEFF)],
    "Georgian": [(0x10A0, 0x10FF)],
    "Canadian syllabics": [(0x1400, 0x167F)],
    "Ogham": [(0x1680, 0x169F)],
    "Tifinagh": [(0x2D30, 0x2D7F)],
    "Lisu": [(0xA4D0, 0xA4FF)],
    "Phonetic extensions": [(0x1D00, 0x1D7F)],
    "Braille": [(0x2800, 0x28FF)],
    "Box drawing": [(0x2500, 0x257F)],
    "Block elements": [(0x2580, 0x259F)],
    "Arrows": [(0x2190, 0x21FF)],
    "Supplemental arrows": [(0x2900, 0x297F)],
    "Mathematical operators": [(0x2200, 0x22FF)],
    "Supplemental math operators": [(0x2A00, 0x2AFF)],
    "Letterlike symbols": [(0x2100, 0x214F)],
    "Currency": [(0x20A0, 0x20CF)],
    "Geometric shapes": [(0x25A0, 0x25FF)],
    "Miscellaneous symbols": [(0x2600, 0x26FF)],
    "Dingbats": [(0x2700, 0x27BF)],
    "Miscellaneous technical": [(0x2300, 0x23FF)],
    "Yijing hexagrams": [(0x4DC0, 0x4DFF)],
}


def _font_dir() -> pathlib.Path:
    import matplotlib

    return pathlib.Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _fonts():
    from matplotlib.ft2font import FT2Font

    fonts = []
    for name in FONT_FILES:
        path = _font_dir() / name
        if path.exists():
            font = FT2Font(str(path))
            font.set_size(64, 72)
            fonts.append(font)
    if len(fonts) < 2:
        raise RuntimeError(
            f"Glyphs needs matplotlib's DejaVu fonts; found {len(fonts)} of them in {_font_dir()}."
        )
    return fonts


def _fonts_fingerprint() -> list[tuple[str, int]]:
    return [
        (name, (_font_dir() / name).stat().st_size)
        for name in FONT_FILES
        if (_font_dir() / name).exists()
    ]


def _render(font, codepoint: int) -> np.ndarray | None:
    """The glyph cropped to its ink, float in [0, 1], or None if it draws nothing."""
    from matplotlib.ft2font import LoadFlags

    font.set_text(chr(codepoint), 0.0, flags=LoadFlags.NO_HINTING)
    font.draw_glyphs_to_bitmap(antialiased=True)
    image = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    rows, cols = np.nonzero(image > 0.05)
    if rows.size == 0:
        return None
    return image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _fit(glyph: np.ndarray) -> torch.Tensor:
    """Scale the glyph so its longer side is ``_BOX`` pixels and
    centre it on the canvas: ``(_CANVAS, _CANVAS)``.
    """
    h, w = glyph.shape
    scale = _BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = F.interpolate(
        torch.from_numpy(glyph)[None, None],
        size=(new_h, new_w),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0, 0]
    canvas = torch.zeros(_CANVAS, _CANVAS)
    top, left = (_CANVAS - new_h) // 2, (_CANVAS - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized.clamp(0, 1)
    return canvas


def _downsample(canvases: torch.Tensor) -> torch.Tensor:
    """``(..., 56, 56)`` -> ``(..., 28, 28)`` by 2x2 averaging."""
    shape = canvases.shape[:-2]
    return F.avg_pool2d(canvases.reshape(-1, 1, _CANVAS, _CANVAS), 2).reshape(*shape, SIZE, SIZE)


def _candidates(codepoint_range: list[tuple[int, int]]) -> list[int]:
    out = []
    for low, high in codepoint_range:
        for cp in range(low, high + 1):
            ch = chr(cp)
            if unicodedata.category(ch)[0] in "CZM" or unicodedata.decomposition(ch):
                continue  # controls, spaces, combining marks, accented and compatibility forms
            out.append(cp)
    return out


def _jitter(canvases: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random stroke width and affine distortion, one draw per canvas:
    ``(n, 56, 56)`` -> ``(n, 56, 56)``.
    """
    n = canvases.shape[0]
    x = canvases.unsqueeze(1)  # (n, 1, H, W)
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
    # Hairlines would vanish: thin strokes are never eroded.
    eroded = torch.where(eroded.amax(dim=(2, 3), keepdim=True) > 0.8, eroded, x)
    stroke = torch.multinomial(
        torch.tensor([0.25, 0.5, 0.25]), n, replacement=True, generator=generator
    )
    x = torch.where(
        (stroke == 0).view(n, 1, 1, 1),
        eroded,
        torch.where((stroke == 2).view(n, 1, 1, 1), dilated, x),
    )
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    shear = (torch.rand(n, generator=generator) * 2 - 1) * 0.15
    scale = 0.88 + 0.2 * torch.rand(n, generator=generator)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * 0.08
    cos, sin = torch.cos(angle), torch.sin(angle)
    # The grid maps output to input coordinates: rotation, then shear, then zoom (1/scale).
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / scale, (-sin + shear * cos) / scale
    theta[:, 1, 0], theta[:, 1, 1] = sin / scale, (cos + shear * sin) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


def generate_glyphs(
    *,
    seed: int = 0,
    min_fonts: int = 2,
    max_per_alphabet: int = 55,
    min_per_alphabet: int = 14,
    max_overlap: float = 0.85,
) -> dict:
    """Render the dataset (no cache). Returns the payload :func:`load_glyphs` caches.

    Args:
        seed: chooses the characters of large alphabets and every jitter.
        min_fonts: how many fonts must have a character for it to count.
        max_per_alphabet: larger alphabets keep a seeded random subset (Omniglot's largest has 55).
        min_per_alphabet: smaller alphabets are left out.
        max_overlap: a character whose ink (in its regular rendering, at 28x28) overlaps a kept
            character's by more than this intersection-over-union is a duplicate of it.
    """
    started = time.perf_counter()
    fonts = _fonts()
    generator = torch.Generator().manual_seed(seed)
    # the ink (0/1) of every kept character, rows 0 .. count-1
    signatures = torch.zeros(1024, SIZE * SIZE)
    count = 0
    canvases, alphabets, characters, codepoints = [], [], [], []
    for alphabet, ranges in ALPHABETS.items():
        kept_canvases, kept = [], []
        for cp in _candidates(ranges):
            renders = [
                g for g in (_render(f, cp) for f in fonts if f.get_char_index(cp)) if g is not None
            ]
            if len(renders) < min_fonts:
                continue
            fitted = torch.stack([_fit(g) for g in renders])  # (fonts, 56, 56)
            ink = (_downsample(fitted[0]) > 0.5).float().reshape(-1)  # (784,)
            intersection = signatures[:count] @ ink  # (count,)
            union = signatures[:count].sum(1) + ink.sum() - intersection
            # a twin of one kept before
            if count and (intersection / union.clamp_min(1)).max() > max_overlap:
                continue
            if count == signatures.shape[0]:
                signatures = torch.cat([signatures, torch.zeros_like(signatures)])
            signatures[count] = ink
            count += 1
            kept_canvases.append(fitted)
            kept.append(cp)
        if len(kept) < min_per_alphabet:
            continue
        if len(kept) > max_per_alphabet:
            chosen = sorted(
                torch.randperm(len(kept), generator=generator)[:max_per_alphabet].tolist()
            )
            kept_canvases, kept = [kept_canvases[i] for i in chosen], [kept[i] for i in chosen]
        for fitted, cp in zip(kept_canvases, kept):
            order = torch.randperm(fitted.shape[0], generator=generator)
            drawers = order[torch.arange(INSTANCES) % fitted.shape[0]]  # the fonts in turn
            canvases.append(_downsample(_jitter(fitted[drawers], generator)))  # (20, 28, 28)
            alphabets.append(alphabet)
            characters.append(chr(cp))
            codepoints.append(cp)
    # (classes, 20, 28, 28)
    images = (torch.stack(canvases).clamp(0, 1) * 255).round().to(torch.uint8)
    return {
        "images": images,
        "alphabets": alphabets,
        "characters": characters,
        "codepoints": codepoints,
        "seconds": time.perf_counter() - started,
    }


def _key(seed: int) -> dict:
    return {"version": VERSION, "seed": seed, "fonts": _fonts_fingerprint()}


def cache_path(*, cache_dir: str | os.PathLike | None = None, seed: int = 0) -> pathlib.Path:
    """Where the Glyphs cache for ``seed`` lives."""
    return resolve_cache_dir(cache_dir) / f"glyphs-v{VERSION}-seed{seed}.pt"


def load_glyphs(*, cache_dir: str | os.PathLike | None = None, seed: int = 0) -> FewShotDataset:
    """The Glyphs dataset: from the verified cache, or generated (and cached) when the cache is
    missing, damaged or stale.

    Args:
        cache_dir: where to cache (default: ``MTML_CACHE_DIR`` or the user cache folder).
        seed: selects the dataset (characters of large alphabets and every jitter).

    Returns:
        A :class:`~mtml_lib.data.fewshot.FewShotDataset` with ``images (classes, 20, 28, 28)`` in
        [0, 1].
    """
    seed = check_int("seed", seed, minimum=0)
    path = cache_path(cache_dir=cache_dir, seed=seed)
    key = _key(seed)
    payload = load_verified(path, key=key)
    if payload is None:
        payload = {**generate_glyphs(seed=seed), "key": key}
        save_verified(path, payload)
    return FewShotDataset(
        payload["images"],
        alphabets=payload["alphabets"],
        characters=payload["characters"],
        name="Glyphs",
    )
