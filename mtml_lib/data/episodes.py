r"""Few-shot episodes: a task :math:`\mathcal{T}_i` with its :math:`\mathcal{D}^{tr}_i` (support)
and
:math:`\mathcal{D}^{test}_i` (query), sampled a whole batch at a time.

An **N-way K-shot** classification episode picks N classes, relabels them 0..N-1 in a
random order, and takes K support and ``n_query`` query images of each. (The episodes
of one batch use distinct classes while there are enough of them: the classes are
shuffled once and dealt out N at a time.)
:class:`EpisodeSampler` draws ``batch_size`` episodes at once by index gathering on
the data's device: no per-image Python work, no DataLoader workers. With
``rotations=True`` each class of an episode is also turned by a random multiple of 90
degrees (one angle per class, as new classes, as in many Omniglot papers).

Shapes of an :class:`EpisodeBatch` (B episodes, N classes, K shots, Q queries per class):

* ``support_x (B, N*K, 1, 28, 28)``, ``support_y (B, N*K)``: class after class, K images each;
* ``query_x (B, N*Q, 1, 28, 28)``, ``query_y (B, N*Q)``.

:meth:`EpisodeBatch.sequence_layout` gives the sequence layout of memory learners instead.
Regression meta-learning uses the same vocabulary:
:class:`~mtml_lib.data.sinusoids.SinusoidEpisodeSampler` returns K context (support) and Q
target (query) points per sinusoid task.

Example:
    >>> import torch
    >>> from mtml_lib.data.fewshot import FewShotDataset
    >>> data = FewShotDataset(torch.rand(10, 20, 28, 28), alphabets=["a"] * 10)
    >>> sampler = EpisodeSampler(data, n_way=5, k_shot=1, n_query=2, batch_size=4, generator=0)
    >>> episode = sampler.sample()
    >>> tuple(episode.support_x.shape), tuple(episode.query_y.shape)
    ((4, 5, 1, 28, 28), (4, 10))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from .._validation import check_int
from ..device import get_device
from ..seeding import make_generator
from .fewshot import FewShotDataset

__all__ = [
    "EpisodeBatch",
    "EpisodeSampler",
]


@dataclass
class EpisodeBatch:
    """A batch of N-way K-shot episodes (shapes in the module docstring)."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    n_way: int
    k_shot: int
    n_query: int

    @property
    def batch_size(self) -> int:
        return self.support_x.shape[0]

    def to(self, device: str | torch.device) -> EpisodeBatch:
        target = get_device(device)
        return EpisodeBatch(
            *(
                getattr(self, f.name).to(target)
                if isinstance(getattr(self, f.name), torch.Tensor)
                else getattr(self, f.name)
                for f in fields(self)
            )
        )

    def sequence_layout(
        self, *, generator: torch.Generator | int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The sequence layout of a memory learner: ``images (B, K+1, N, H*W)`` and one-hot
        ``labels (B, K+1, N, N)`` (see :func:`mtml_lib.data.sequence_layout.sequence_layout`)."""
        from .sequence_layout import sequence_layout

        return sequence_layout(self, generator=generator)


class EpisodeSampler:
    """Samples batches of N-way K-shot episodes from a
    :class:`~mtml_lib.data.fewshot.FewShotDataset`.

    Args:
        dataset: the classes to draw from (one split: meta-train, meta-val or meta-test).
        n_way: N, classes per episode.
        k_shot: K, support images per class.
        n_query: Q, query images per class.
        batch_size: B, episodes per :meth:`sample`.
        device: where the images are kept and episodes are made (default: the dataset's device).
        generator: seed or generator of the draws. A seed makes a generator on ``device``,
            so sampling never leaves the device; the same seed gives other episodes on a
            GPU than on the CPU.
        rotations: also turn each class by a random multiple of 90 degrees (4x as many classes).

    Raises:
        ValueError: ``n_way`` larger than the classes available, or ``k_shot + n_query``
            larger than the instances per class.
    """

    def __init__(
        self,
        dataset: FewShotDataset,
        *,
        n_way: int,
        k_shot: int,
        n_query: int,
        batch_size: int,
        device: str | torch.device | None = None,
        generator: int | torch.Generator | None = None,
        rotations: bool = False,
    ):
        if not isinstance(dataset, FewShotDataset):
            raise TypeError(f"`dataset` must be a FewShotDataset; got {type(dataset).__name__}.")
        self.n_way = check_int("n_way", n_way, minimum=2)
        self.k_shot = check_int("k_shot", k_shot, minimum=1)
        self.n_query = check_int("n_query", n_query, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.rotations = bool(rotations)
        self.num_classes = dataset.num_classes * (4 if self.rotations else 1)
        if self.n_way > self.num_classes:
            raise ValueError(
                f"`n_way` must be at most the number of classes in {dataset.name!r} "
                f"({self.num_classes}{', rotations included' if self.rotations else ''}); got "
                f"{self.n_way}."
            )
        if self.k_shot + self.n_query > dataset.instances:
            raise ValueError(
                f"`k_shot + n_query` must be at most the {dataset.instances} instances per class "
                f"of {dataset.name!r}; got {self.k_shot} + {self.n_query}."
            )
        self.device = get_device(device) if device is not None else dataset.device
        images = dataset.images.to(self.device)  # (C, I, H, W)
        # Pixels that are exact multiples of 1/255 (Glyphs, PNG files) are kept as bytes: the
        # random gather of an episode then moves a quarter of the memory.
        as_bytes = (images * 255).round()
        self._bytes = bool(torch.equal(as_bytes / 255, images))
        self.images = as_bytes.to(torch.uint8) if self._bytes else images
        H, W = self.images.shape[-2:]
        if self.rotations and H != W:
            raise ValueError(f"rotations need square images; got {H}x{W}.")
        # A quarter turn is a fixed permutation of the pixels: rotate by gathering with it.
        # (The rotation table is built for every sampler; it is tiny.)
        pixels = torch.arange(H * W, device=self.device).view(H, W)
        # (4, H*W)
        self._turns = torch.stack([pixels.rot90(k, (0, 1)).reshape(-1) for k in range(4)])
        self.dataset = dataset
        self.generator = (
            generator
            if isinstance(generator, torch.Generator)
            else make_generator(generator, device=self.device)
        )
        if self.generator.device.type != self.device.type:
            raise ValueError(
                f"`generator` must live on the sampler's device ({self.device.type}); "
                f"got a generator on {self.generator.device.type}."
            )

    def __repr__(self) -> str:
        return (
            f"EpisodeSampler({self.dataset.name!r}, {self.n_way}-way {self.k_shot}-shot, "
            f"{self.n_query} queries, batch "
            f"{self.batch_size}{', rotations' if self.rotations else ''})"
        )

    def _draw(self, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``classes (B, N)`` (random order: position = label) and ``instances (B, N,
        per_class)``.
        """
        B, N, C = self.batch_size, self.n_way, self.num_classes
        g, dev = self.generator, self.device
        # Shuffle the classes and cut each shuffle into episodes of N: every episode gets N
        # distinct classes in a random order (position = label), with a few sorts of C
        # numbers per batch instead of one per episode. Episodes of one batch share no class.
        per_shuffle = C // N
        shuffles = -(-B // per_shuffle)
        order = torch.rand(shuffles, C, generator=g, device=dev).argsort(dim=1)[
            :, : per_shuffle * N
        ]
        classes = order.reshape(shuffles * per_shuffle, N)[:B]  # (B, N)
        instances = (
            torch.rand(B, N, self.images.shape[1], generator=g, device=dev)
            .topk(per_class, dim=2)
            .indices
        )
        return classes, instances

    def _gather(self, classes: torch.Tensor, instances: torch.Tensor) -> torch.Tensor:
        """Images of ``classes (...)`` and ``instances (...)``,
        rotated per class: ``(..., H, W)``.
        """
        C, per_class, H, W = self.images.shape
        base = classes // 4 if self.rotations else classes
        # one index into the (class, instance) table
        rows = (base * per_class + instances).reshape(-1)
        images = (
            self.images.view(C * per_class, H * W).index_select(0, rows).view(*classes.shape, H * W)
        )
        if self.rotations:
            images = images.gather(-1, self._turns[classes % 4])  # one angle per class
        images = images.view(*classes.shape, H, W)
        return images.float().div_(255) if self._bytes else images

    def sample(self) -> EpisodeBatch:
        """One batch of episodes, on the sampler's device."""
        B, N, K, Q = self.batch_size, self.n_way, self.k_shot, self.n_query
        H, W = self.images.shape[-2:]
        classes, instances = self._draw(K + Q)
        support_classes = classes[:, :, None].expand(B, N, K)
        query_classes = classes[:, :, None].expand(B, N, Q)
        labels = torch.arange(N, device=self.device).view(1, N, 1)  # position in `classes` = label
        return EpisodeBatch(
            support_x=self._gather(support_classes, instances[:, :, :K]).reshape(B, N * K, 1, H, W),
            support_y=labels.expand(B, N, K).reshape(B, N * K),
            query_x=self._gather(query_classes, instances[:, :, K:]).reshape(B, N * Q, 1, H, W),
            query_y=labels.expand(B, N, Q).reshape(B, N * Q),
            n_way=N,
            k_shot=K,
            n_query=Q,
        )

    def sample_sequences(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch straight into the sequence layout (see
        :func:`mtml_lib.data.sequence_layout.sample_sequences`)."""
        from .sequence_layout import sample_sequences

        return sample_sequences(self)
