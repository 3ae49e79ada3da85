"""Real Omniglot, from a copy already on disk, as a :class:`~mtml_lib.data.fewshot.FewShotDataset`.

Nothing is downloaded. Point :func:`load_omniglot` at a folder in one of the usual layouts:

* the official one: ``images_background/`` and/or ``images_evaluation/``, each holding
  ``<alphabet>/<character>/*.png`` (105x105 drawings);
* one flat level of ``<alphabet>/<character>/*.png`` (e.g. a resized 28x28 copy).

Strokes are dark on a light background in the files; they are inverted so that ink is 1,
and resized to ``size`` x ``size`` with antialiasing. Every character keeps the same
number of drawings (the smallest count found, 20 for Omniglot).

Set the environment variable ``MTML_OMNIGLOT`` to the folder and the notebooks use it.

Example:
    >>> omniglot = load_omniglot("/data/omniglot")  # doctest: +SKIP
    >>> omniglot.num_classes, omniglot.instances  # doctest: +SKIP
    (1623, 20)
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_int
from .fewshot import FewShotDataset

__all__ = ["ENV_VAR", "load_omniglot", "find_omniglot"]

ENV_VAR = "MTML_OMNIGLOT"
_PARTS = ("images_background", "images_evaluation")


def find_omniglot() -> pathlib.Path | None:
    """The folder named by ``MTML_OMNIGLOT``, if that variable is set (None otherwise)."""
    value = os.environ.get(ENV_VAR, "").strip()
    return pathlib.Path(value) if value else None


def _alphabet_folders(root: pathlib.Path) -> list[pathlib.Path]:
    parts = [root / p for p in _PARTS if (root / p).is_dir()]
    bases = parts or [root]
    return sorted(a for base in bases for a in base.iterdir() if a.is_dir())


def _read(path: pathlib.Path, size: int) -> torch.Tensor:
    import matplotlib.image

    image = np.asarray(matplotlib.image.imread(path), dtype=np.float32)
    if image.ndim == 3:
        image = image[..., :3].mean(axis=-1)
    if image.max() > 1.0:
        image = image / 255.0
    ink = torch.from_numpy(1.0 - image)[None, None]  # dark strokes -> 1
    if ink.shape[-1] != size or ink.shape[-2] != size:
        ink = F.interpolate(
            ink, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        )
    return ink[0, 0].clamp(0, 1)


def load_omniglot(path: str | os.PathLike, *, size: int = 28) -> FewShotDataset:
    """Load Omniglot (or any folder in its layout) from ``path``.

    Args:
        path: the folder holding ``images_background``/``images_evaluation``, or alphabets directly.
        size: output side length in pixels.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: no ``<alphabet>/<character>/*.png`` was found, or a character has fewer than 2
        drawings.
    """
    size = check_int("size", size, minimum=4)
    root = pathlib.Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"`path` must be a folder holding Omniglot; {str(root)!r} does not exist."
        )
    characters, alphabets, names = [], [], []
    for alphabet in _alphabet_folders(root):
        for character in sorted(c for c in alphabet.iterdir() if c.is_dir()):
            files = sorted(character.glob("*.png"))
            if files:
                characters.append(files)
                alphabets.append(alphabet.name)
                names.append(f"{alphabet.name}/{character.name}")
    if not characters:
        raise ValueError(
            "`path` must hold <alphabet>/<character>/*.png folders (optionally under "
            f"{list(_PARTS)}); found no PNG drawings under {str(root)!r}."
        )
    instances = min(len(files) for files in characters)
    if instances < 2:
        raise ValueError(
            "every character needs at least 2 drawings; "
            f"{names[[len(f) for f in characters].index(instances)]!r} "
            f"has {instances}."
        )
    images = torch.stack(
        [torch.stack([_read(f, size) for f in files[:instances]]) for files in characters]
    )
    return FewShotDataset(images, alphabets=alphabets, characters=names, name="Omniglot")
