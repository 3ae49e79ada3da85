r"""Few-shot classifiers that involve no meta-learning: what a meta-learner must beat.

Both work on whole batches of episodes (:class:`~mtml_lib.data.episodes.EpisodeBatch`)
and return query logits ``(B, N*Q, N)``:

* :func:`nearest_neighbour`: label each query with the label of its closest support
  image (Euclidean, in pixel space or in the space of an ``embed`` function);
* :func:`train_from_scratch`: fit a fresh classifier on each episode's support set
  :math:`\mathcal{D}^{tr}` alone, as if the task were the only one in the world. All
  B classifiers train together in one batched kernel (independent networks, as in
  notebook 02);
* :func:`pretrain_encoder` then :func:`train_from_scratch` with ``embed``: *pretrain and
  fine-tune* (Chen et al., "A Closer Look at Few-shot Classification", ICLR 2019): learn
  features by classifying every meta-training class at once, no episodes, then fit a
  fresh linear classifier on each episode's support features.

Example:
    >>> import torch
    >>> from mtml_lib.data.fewshot import FewShotDataset
    >>> from mtml_lib.data.episodes import EpisodeSampler
    >>> data = FewShotDataset(torch.rand(10, 5, 28, 28), alphabets=["a"] * 10)
    >>> sampler = EpisodeSampler(data, n_way=3, k_shot=1, n_query=2, batch_size=4, generator=0)
    >>> episode = sampler.sample()
    >>> nearest_neighbour(episode).shape
    torch.Size([4, 6, 3])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from .._validation import check_float, check_int
from ..seeding import make_generator
from ..training.optim import make_optimizer
from .backbones import ConvEncoder
from .batched import StackedMLP

__all__ = ["nearest_neighbour", "train_from_scratch", "pretrain_encoder", "accuracy_per_episode"]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(*x.shape[:2], -1)  # (B, S, pixels)


@torch.no_grad()
def nearest_neighbour(
    episode, *, embed: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> torch.Tensor:
    """1-nearest-neighbour query logits: 0 for the nearest support image's label, -inf elsewhere.

    Args:
        episode: an episode batch.
        embed: maps images ``(M, 1, H, W)`` to features ``(M, D)``; None compares pixels.
    """
    B, N = episode.batch_size, episode.n_way
    if embed is None:
        support, query = _flat(episode.support_x), _flat(episode.query_x)
    else:
        support = embed(episode.support_x.flatten(0, 1)).reshape(B, episode.support_x.shape[1], -1)
        query = embed(episode.query_x.flatten(0, 1)).reshape(B, episode.query_x.shape[1], -1)
    distances = torch.cdist(query, support)  # (B, NQ, NK)
    nearest = episode.support_y.gather(1, distances.argmin(dim=2))  # (B, NQ)
    logits = torch.full((B, query.shape[1], N), float("-inf"), device=query.device)
    return logits.scatter_(2, nearest.unsqueeze(2), 0.0)


def train_from_scratch(
    episode,
    *,
    hidden: Sequence[int] = (),
    steps: int = 100,
    lr: float = 0.1,
    generator: int | torch.Generator | None = 0,
    embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Train one model per episode on its support set only; return its query predictions.

    For a classification episode: query logits ``(B, N*Q, N)`` of a classifier trained
    with cross-entropy. For a regression episode (sinusoids): predictions ``(B, Q, 1)``
    of a regressor trained with the squared error.

    Args:
        episode: an episode batch (:class:`EpisodeBatch` or :class:`RegressionEpisode`).
        hidden: hidden widths of each model (``()``: a linear model on the inputs).
        steps: full-batch Adam steps on the support set.
        lr: Adam's learning rate.
        generator: seeds the classifiers' initial weights.
        embed: maps images ``(M, 1, H, W)`` to features ``(M, D)`` (held fixed; e.g. a
            :func:`pretrain_encoder`); None fits on the pixels.
    """
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_minimum=True)
    if embed is None:
        support, query = _flat(episode.support_x), _flat(episode.query_x)  # (B, S, P)
    else:
        with torch.no_grad():
            support, query = (
                embed(x.flatten(0, 1)).reshape(*x.shape[:2], -1)
                for x in (episode.support_x, episode.query_x)
            )
    regression = not hasattr(episode, "n_way")
    B = episode.batch_size
    outputs = 1 if regression else episode.n_way
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=make_generator(generator))))
        nets = StackedMLP(
            num_tasks=B, in_features=support.shape[-1], hidden=hidden, out_features=outputs
        )
    nets = nets.to(support.device)
    optimizer = make_optimizer(nets.parameters(), lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            optimizer.zero_grad()
            # (B, S, out): episode b's model on episode b's support
            predictions = nets.forward_padded(support)
            if regression:
                loss = F.mse_loss(predictions, episode.support_y)
            else:
                loss = F.cross_entropy(
                    predictions.reshape(-1, outputs), episode.support_y.reshape(-1)
                )
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return nets.forward_padded(query)


def pretrain_encoder(
    dataset,
    *,
    channels: Sequence[int] = (32, 32, 64),
    features: int = 64,
    steps: int = 500,
    lr: float = 1e-3,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
    generator: int | torch.Generator | None = 0,
) -> ConvEncoder:
    """Train a :class:`~mtml_lib.models.backbones.ConvEncoder` and a linear head to classify every
    class of ``dataset`` at once (plain supervised learning, no episodes); return the encoder, in
    evaluation mode, without its head.

    Args:
        dataset: a :class:`~mtml_lib.data.fewshot.FewShotDataset` (the meta-training classes).
        channels, features: the encoder's size (as the black-box learners').
        steps: Adam steps of ``batch_size`` images drawn at random.
        lr: Adam's learning rate.
        device: where to train.
        generator: seeds the initial weights and the batches.
    """
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_minimum=True)
    generator = make_generator(generator)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
        encoder = ConvEncoder(channels=channels, out_features=features)
        head = torch.nn.Linear(features, dataset.num_classes)
    encoder, head = encoder.to(device).train(), head.to(device)
    images = dataset.images.flatten(0, 1).unsqueeze(1)  # (classes * instances, 1, H, W)
    labels = torch.arange(dataset.num_classes).repeat_interleave(dataset.instances)
    optimizer = make_optimizer([*encoder.parameters(), *head.parameters()], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            rows = torch.randint(len(images), (batch_size,), generator=generator)
            x, y = images[rows].to(device), labels[rows].to(device)
            loss = F.cross_entropy(head(encoder(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return encoder.eval()


def accuracy_per_episode(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of correct query predictions in each episode: ``(B,)``."""
    return (logits.argmax(dim=-1) == labels).float().mean(dim=1)
