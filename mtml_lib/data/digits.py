"""Multi-task views of scikit-learn's bundled 8x8 digits (1,797 images, no download).

The images are split once, by a fixed seed, into disjoint ``train`` and ``test``
pools. On top of a pool, a task is an *empirical* distribution: :math:`p(x)`
draws rows of the pool uniformly, and :math:`p(y \\mid x)` looks the drawn row
up and returns its label (every image in the set is unique, so the lookup is
exact). Views change either side:

* :func:`attribute_labels`: other labels for the same images (multi-label tasks);
* :func:`input_transforms`: per-task pixel permutations or rotations (other p(x)).

The lecture's three multi-task regimes are built on them: :func:`multitask_classification`
(a different p(x) per task, same loss), :func:`multilabel` (same p(x) and loss) and
:func:`mixed_losses` (different losses on the same images).

scikit-learn is imported only when the digits are first loaded.

Example:
    >>> pool = load_digits_pool(split="test")
    >>> tuple(pool.images.shape), pool.images.max().item() <= 1.0
    ((450, 64), True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .._validation import check_choice, check_int, lookup
from ..tasks import CROSS_ENTROPY, MSE, Task

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
    "multitask_classification",
    "multilabel",
    "mixed_losses",
]

NUM_TEST = 450  # of 1,797 images; the rest are the train pool


@dataclass(frozen=True)
class DigitsPool:
    """Images ``(N, 64)`` float32 in [0, 1] and their digits ``(N,)`` long."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]


@functools.cache
def _all_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    images = torch.as_tensor(bunch.data, dtype=torch.float32) / 16.0
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    return images, labels


@functools.cache
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


def input_transforms(
    num_tasks: int, *, kind: str = "permute", seed: int = 0
) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """One input transform per task: the identity for task 0, then a fixed pixel
    permutation (``kind="permute"``) or a rotation by 90 degrees per task (``"rotate"``).

    Each transform maps images ``(N, 64)`` to ``(N, 64)``.
    """
    check_choice("kind", kind, ("permute", "rotate"))
    num_tasks = check_int(
        "num_tasks", num_tasks, minimum=1, maximum=4 if kind == "rotate" else None
    )
    generator = torch.Generator().manual_seed(seed)
    transforms: list[Callable[[torch.Tensor], torch.Tensor]] = [lambda x: x.clone()]
    for i in range(1, num_tasks):
        if kind == "permute":
            perm = torch.randperm(64, generator=generator)
            transforms.append(lambda x, perm=perm: x[:, perm])
        else:
            transforms.append(
                lambda x, k=i: torch.rot90(x.view(-1, 8, 8), k, dims=(1, 2)).reshape(-1, 64)
            )
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
) -> tuple[
    Callable[[int, torch.Generator], torch.Tensor],
    Callable[[torch.Tensor, torch.Generator], torch.Tensor],
]:
    """An empirical task over a pool: ``(sample_x, sample_y)``.

    ``sample_y(x)`` finds each row of ``x`` in ``images`` (exact match) and returns
    its label; a row outside the pool raises a ValueError (it has no label under
    this distribution).
    """
    if len(images) != len(labels):
        raise ValueError(
            f"`labels` must have one entry per image ({len(images)}); got {len(labels)}."
        )
    index = {row.tobytes(): i for i, row in enumerate(images.contiguous().numpy())}

    def sample_y(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        rows = x.detach().to("cpu", torch.float32).contiguous().numpy()
        try:
            positions = [index[row.tobytes()] for row in rows]
        except KeyError:
            raise ValueError(
                "`x` holds an input outside this task's pool, so p(y|x) has no label for it."
            ) from None
        return labels[torch.tensor(positions, dtype=torch.long)]

    return uniform_sampler(images), sample_y


# --- The lecture's three multi-task regimes on these digits -------------------------------


def multitask_classification(
    *, num_tasks: int = 3, split: str = "train", transform: str = "permute", seed: int = 0
) -> list[Task]:
    r"""Multi-task classification: classify digits seen through a different input transform per
    task.

    Task 0 sees the images as they are; task ``i > 0`` sees them through its own
    fixed pixel permutation (``transform="permute"``, "permuted MNIST") or a
    rotation by ``90 * i`` degrees (``"rotate"``, at most 4 tasks). Each task
    has its own :math:`p_i(x)` and :math:`p_i(y \mid x)`; all share the
    cross-entropy loss.

    Args:
        num_tasks: number of tasks (>= 1).
        split: ``"train"`` or ``"test"`` (disjoint images, see :mod:`mtml_lib.data.digits`).
        transform: ``"permute"`` or ``"rotate"``.
        seed: seeds the permutations (the same seed gives the same tasks for both splits).
    """
    num_tasks = check_int(
        "num_tasks", num_tasks, minimum=1, maximum=4 if transform == "rotate" else None
    )
    check_choice("transform", transform, ("permute", "rotate"))
    pool = load_digits_pool(split=split)
    views = input_transforms(num_tasks, kind=transform, seed=seed)
    tasks = []
    for i, view in enumerate(views):
        sample_x, sample_y = empirical_task(view(pool.images), pool.labels)
        name = (
            "identity"
            if i == 0
            else (f"rotate_{90 * i}" if transform == "rotate" else f"permutation_{i}")
        )
        tasks.append(
            Task(
                name=name, sample_x=sample_x, sample_y=sample_y, loss=CROSS_ENTROPY, out_features=10
            )
        )
    return tasks


def multilabel(
    *,
    attributes: Sequence[str] = ("even", "at_least_5", "prime", "closed_loop"),
    split: str = "train",
) -> list[Task]:
    r"""Multi-label learning: several binary attributes of the same digit images.

    All tasks share one :math:`p(x)` (the same images) and the cross-entropy
    loss; each has its own :math:`p_i(y \mid x)` (see
    :data:`ATTRIBUTES` for the attributes).
    """
    if isinstance(attributes, str) or len(attributes) == 0:
        raise ValueError(
            f"`attributes` must be a non-empty sequence of attribute names; got {attributes!r}."
        )
    pool = load_digits_pool(split=split)
    sample_x = uniform_sampler(pool.images)  # one p(x) object for every task
    tasks = []
    for name in attributes:
        labels = attribute_labels(name, pool.labels)
        _, sample_y = empirical_task(pool.images, labels)
        tasks.append(
            Task(
                name=name,
                sample_x=sample_x,
                sample_y=sample_y,
                loss=CROSS_ENTROPY,
                out_features=attribute_classes(name),
            )
        )
    return tasks


def mixed_losses(*, split: str = "train") -> list[Task]:
    r"""Tasks with different losses on the same images: classify the digit
    (cross-entropy, 10 classes) and regress the amount of ink in the image
    (squared error, one standardised output).
    """
    pool = load_digits_pool(split=split)
    sample_x = uniform_sampler(pool.images)
    _, digit_y = empirical_task(pool.images, pool.labels)
    _, ink_y = empirical_task(pool.images, ink(pool.images).unsqueeze(1))
    return [
        Task(
            name="digit", sample_x=sample_x, sample_y=digit_y, loss=CROSS_ENTROPY, out_features=10
        ),
        Task(name="ink", sample_x=sample_x, sample_y=ink_y, loss=MSE, out_features=1),
    ]
