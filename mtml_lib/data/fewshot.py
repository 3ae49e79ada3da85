"""The dataset type of few-shot learning: classes of characters, a few instances each.

:func:`mtml_lib.data.glyphs.load_glyphs` and :func:`mtml_lib.data.omniglot.load_omniglot`
both return a :class:`FewShotDataset`; :mod:`mtml_lib.data.episodes` samples
N-way K-shot tasks from it.

Example:
    >>> import torch
    >>> data = FewShotDataset(torch.zeros(6, 4, 28, 28), alphabets=["a", "a", "b", "b", "c", "c"])
    >>> train, val, test = data.split(by="alphabet", fractions=(1, 1, 1), seed=0)
    >>> sorted(set(train.alphabets) | set(val.alphabets) | set(test.alphabets))
    ['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validation import check_choice, check_tensor
from ..device import get_device
from ..i18n import translate as _

__all__ = ["FewShotDataset"]


class FewShotDataset:
    """``images (num_classes, instances, height, width)`` in [0, 1], with the alphabet of every
    class.

    Args:
        images: float tensor in [0, 1] (uint8 in [0, 255] is converted).
        alphabets: one alphabet name per class.
        characters: one readable name per class (default: ``alphabet/index``).
        name: a label for printing.
    """

    def __init__(
        self,
        images: torch.Tensor,
        *,
        alphabets: Sequence[str],
        characters: Sequence[str] | None = None,
        name: str = "few-shot dataset",
    ):
        check_tensor("images", images, ndim=4)
        if images.dtype == torch.uint8:
            images = images.float() / 255.0
        if not images.is_floating_point():
            raise TypeError(f"`images.dtype` must be float or uint8; got {images.dtype}.")
        if len(alphabets) != images.shape[0]:
            raise ValueError(
                f"`alphabets` must name one alphabet per class ({images.shape[0]}); got "
                f"{len(alphabets)}."
            )
        if characters is None:
            characters = [f"{a}/{i}" for i, a in enumerate(alphabets)]
        if len(characters) != images.shape[0]:
            raise ValueError(
                f"`characters` must name every class ({images.shape[0]}); got {len(characters)}."
            )
        self.images = images
        self.alphabets = list(alphabets)
        self.characters = list(characters)
        self.name = name

    def __repr__(self) -> str:
        # the description is a message of the catalog: a Korean edition shows it in Korean
        description = _(
            "{classes} classes in {alphabets} alphabets, {instances} instances each"
        ).format(
            classes=self.num_classes, alphabets=len(self.alphabet_names), instances=self.instances
        )
        size = f"{self.images.shape[-2]}x{self.images.shape[-1]}"
        return f"FewShotDataset({self.name!r}: {description}, {size})"

    @property
    def num_classes(self) -> int:
        return self.images.shape[0]

    @property
    def instances(self) -> int:
        return self.images.shape[1]

    @property
    def alphabet_names(self) -> list[str]:
        """The alphabets, in order of first appearance."""
        return list(dict.fromkeys(self.alphabets))

    @property
    def device(self) -> torch.device:
        return self.images.device

    def subset(
        self, classes: Sequence[int] | torch.Tensor, *, name: str | None = None
    ) -> FewShotDataset:
        """The dataset restricted to the given class indices (in that order)."""
        index = torch.as_tensor(
            list(classes) if not isinstance(classes, torch.Tensor) else classes, dtype=torch.long
        )
        return FewShotDataset(
            self.images[index.to(self.images.device)],
            alphabets=[self.alphabets[i] for i in index.tolist()],
            characters=[self.characters[i] for i in index.tolist()],
            name=name or self.name,
        )

    def to(self, device: str | torch.device) -> FewShotDataset:
        target = get_device(device)
        return FewShotDataset(
            self.images.to(target),
            alphabets=self.alphabets,
            characters=self.characters,
            name=self.name,
        )

    def split(
        self, *, by: str = "alphabet", fractions: Sequence[float] = (0.6, 0.15, 0.25), seed: int = 0
    ) -> tuple[FewShotDataset, FewShotDataset, FewShotDataset]:
        """Disjoint ``(meta_train, meta_val, meta_test)`` datasets.

        Args:
            by: ``"alphabet"``: whole alphabets go to one split (test classes come from
                scripts never seen in training, like Vinyals et al.'s Omniglot split);
                ``"class"``: characters are shuffled across splits.
            fractions: relative sizes of the three splits (in alphabets or classes).
            seed: the shuffle.
        """
        check_choice("by", by, ("alphabet", "class"))
        if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
            raise ValueError(
                f"`fractions` must be three non-negative numbers, not all zero; got {fractions!r}."
            )
        groups = self.alphabet_names if by == "alphabet" else list(range(self.num_classes))
        if len(groups) < 3:
            raise ValueError(
                f"splitting by {by} needs at least 3 {by}s; this dataset has {len(groups)}."
            )
        order = torch.randperm(len(groups), generator=torch.Generator().manual_seed(seed)).tolist()
        total = sum(fractions)
        n_train = max(1, round(len(groups) * fractions[0] / total))
        n_val = max(1, round(len(groups) * fractions[1] / total))
        n_train = min(n_train, len(groups) - n_val - 1)
        parts = [order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]]
        names = ("meta-train", "meta-val", "meta-test")
        if by == "alphabet":
            chosen = [{groups[i] for i in part} for part in parts]
            classes = [
                [c for c, a in enumerate(self.alphabets) if a in members] for members in chosen
            ]
        else:
            classes = [sorted(part) for part in parts]
        return tuple(self.subset(c, name=f"{self.name} {n}") for c, n in zip(classes, names))
