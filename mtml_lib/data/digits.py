"""Multi-task views of scikit-learn's bundled 8x8 digits (1,797 images, no download).

The images are split once, by a fixed seed, into disjoint ``train`` and ``test``
pools. On top of a pool, a task is an *empirical* distribution: :math:`p(x)`
draws rows of the pool uniformly, and :math:`p(y \\mid x)` looks the drawn row
up and returns its label (every image in the set is unique, so the lookup is
exact). Views change either side:

* :func:`attribute_labels`: other labels for the same images (multi-label tasks);
* :func:`input_transforms`: per-task pixel permutations or rotations (other p(x)).

scikit-learn is imported only when the digits are first loaded.

Example:
    >>> pool = load_digits_pool(split="test")
    >>> tuple(pool.images.shape), pool.images.max().item() <= 1.0
    ((450, 64), True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._validation import check_choice, check_int, lookup

__all__ = [
    "DigitsPool",
    "load_digits_pool",
    "ATTRIBUTES",
    "attribute_labels",
    "attribute_classes",
    "input_transforms",
    "ink",
    "uniform_sampler",
    "empirical_task",
]

NUM_TEST = 450  # of 1,797 images; the rest are the train pool


@dataclass(frozen=True)
class DigitsPool:
    """Images ``(N, 64)`` float32 in [0, 1] and their digits ``(N,)`` long."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]


@functools.lru_cache(maxsize=None)
def _all_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    images = torch.as_tensor(bunch.data, dtype=torch.float32) / 16.0
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    return images, labels


@functools.lru_cache(maxsize=None)
def load_digits_pool(*, split: str = "train") -> DigitsPool:
    """The ``"train"`` (1,347 images), ``"test"`` (450) or ``"all"`` (1,797) pool.

    The split is fixed (a seeded permutation), so train and test never share an image.
    """
    check_choice("split", split, ("train", "test", "all"))
    images, labels = _all_digits()
    if split == "all":
        return DigitsPool(images, labels)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    rows = order[:NUM_TEST] if split == "test" else order[NUM_TEST:]
    return DigitsPool(images[rows], labels[rows])


def _in(*digits: int) -> Callable[[torch.Tensor], torch.Tensor]:
    members = torch.tensor(digits)
    return lambda d: torch.isin(d, members).long()


#: Binary (and one 10-class) attributes of a digit, for multi-label tasks.
ATTRIBUTES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "digit": lambda d: d.clone(),
    "even": _in(0, 2, 4, 6, 8),
    "at_least_5": lambda d: (d >= 5).long(),
    "prime": _in(2, 3, 5, 7),
    "closed_loop": _in(0, 6, 8, 9),
}


def attribute_labels(name: str, digits: torch.Tensor) -> torch.Tensor:
    """Labels of attribute ``name`` (a key of :data:`ATTRIBUTES`) for the given digits."""
    return lookup(ATTRIBUTES, name, param="attribute", family="digit attribute")(digits)


def attribute_classes(name: str) -> int:
    """Number of classes of attribute ``name`` (10 for ``"digit"``, else 2)."""
    lookup(ATTRIBUTES, name, param="attribute", family="digit attribute")
    return 10 if name == "digit" else 2


def input_transforms(num_tasks: int, *, kind: str = "permute", seed: int = 0) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """One input transform per task: the identity for task 0, then a fixed pixel
    permutation (``kind="permute"``) or a rotation by 90 degrees per task (``"rotate"``).

    Each transform maps images ``(N, 64)`` to ``(N, 64)``.
    """
    check_choice("kind", kind, ("permute", "rotate"))
    num_tasks = check_int("num_tasks", num_tasks, minimum=1, maximum=4 if kind == "rotate" else None)
    generator = torch.Generator().manual_seed(seed)
    transforms: list[Callable[[torch.Tensor], torch.Tensor]] = [lambda x: x.clone()]
    for i in range(1, num_tasks):
        if kind == "permute":
            perm = torch.randperm(64, generator=generator)
            transforms.append(lambda x, perm=perm: x[:, perm])
        else:
            transforms.append(lambda x, k=i: torch.rot90(x.view(-1, 8, 8), k, dims=(1, 2)).reshape(-1, 64))
    return transforms


def ink(images: torch.Tensor) -> torch.Tensor:
    """The amount of ink in each image (mean intensity), standardised over the whole digits set."""
    reference = _all_digits()[0].mean(dim=1)
    return (images.mean(dim=1) - reference.mean()) / reference.std()


def uniform_sampler(images: torch.Tensor) -> Callable[[int, torch.Generator], torch.Tensor]:
    """:math:`p(x)`: draw rows of ``images`` uniformly, with replacement."""

    def sample_x(n: int, generator: torch.Generator) -> torch.Tensor:
        return images[torch.randint(len(images), (n,), generator=generator)]

    return sample_x


def empirical_task(
    images: torch.Tensor, labels: torch.Tensor
) -> tuple[Callable[[int, torch.Generator], torch.Tensor], Callable[[torch.Tensor, torch.Generator], torch.Tensor]]:
    """An empirical task over a pool: ``(sample_x, sample_y)``.

    ``sample_y(x)`` finds each row of ``x`` in ``images`` (exact match) and returns
    its label; a row outside the pool raises a ValueError (it has no label under
    this distribution).
    """
    if len(images) != len(labels):
        raise ValueError(f"`labels` must have one entry per image ({len(images)}); got {len(labels)}.")
    index = {row.tobytes(): i for i, row in enumerate(images.contiguous().numpy())}

    def sample_y(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        rows = x.detach().to("cpu", torch.float32).contiguous().numpy()
        try:
            positions = [index[row.tobytes()] for row in rows]
        except KeyError:
            raise ValueError("`x` holds an input outside this task's pool, so p(y|x) has no label for it.") from None
        return labels[torch.tensor(positions, dtype=torch.long)]

    return uniform_sampler(images), sample_y
