"""The sequence layout of memory-augmented learners (Santoro et al., 2016), apart from episodes.

``images (B, K+1, N, H*W)`` and one-hot ``labels (B, K+1, N, N)``: rows 0..K-1 hold one
support image of every class in label order, row K the query set in a random order.
:meth:`EpisodeBatch.sequence_layout <mtml_lib.data.episodes.EpisodeBatch.sequence_layout>` and
:meth:`EpisodeSampler.sample_sequences <mtml_lib.data.episodes.EpisodeSampler.sample_sequences>`
call these functions. They live in their own module because homework 2 asks students to write
this layout: the grading sandbox replaces this module, and only this module, with placeholders.
"""

from __future__ import annotations

import torch

from ..seeding import make_generator

__all__ = ["sequence_layout", "sample_sequences"]


def sequence_layout(
    batch, *, generator: torch.Generator | int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """An :class:`~mtml_lib.data.episodes.EpisodeBatch` in the sequence layout of a
    memory learner: ``images (B, K+1, N, H*W)`` and one-hot ``labels (B, K+1, N, N)``.

    Rows 0..K-1 hold one support image of every class, in label order; row K is the
    query set (one image per class, ``n_query`` must be 1) in a random order per
    episode, so a model cannot read a query's label from its position. The query
    labels are returned in full: a model must zero them at its input.
    """
    if batch.n_query != 1:
        raise ValueError(
            "the sequence layout has one query per class: `n_query` must be 1; got "
            f"{batch.n_query}."
        )
    B, N, K = batch.batch_size, batch.n_way, batch.k_shot
    pixels = batch.support_x.shape[-1] * batch.support_x.shape[-2]
    # (B, K, N, pixels): row k, class n
    support = batch.support_x.reshape(B, N, K, pixels).transpose(1, 2)
    support_labels = batch.support_y.reshape(B, N, K).transpose(1, 2)  # (B, K, N)
    generator = (
        make_generator(generator, device=batch.query_x.device)
        if not isinstance(generator, torch.Generator)
        else generator
    )
    # (B, N)
    order = torch.rand(B, N, generator=generator, device=batch.query_x.device).argsort(dim=1)
    query = batch.query_x.reshape(B, N, pixels).gather(1, order[..., None].expand(-1, -1, pixels))
    query_labels = batch.query_y.reshape(B, N).gather(1, order)
    images = torch.cat([support, query.unsqueeze(1)], dim=1)  # (B, K+1, N, pixels)
    labels = torch.cat([support_labels, query_labels.unsqueeze(1)], dim=1)  # (B, K+1, N)
    return images, torch.nn.functional.one_hot(labels, N).to(images.dtype)


def sample_sequences(sampler) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch of an :class:`~mtml_lib.data.episodes.EpisodeSampler` straight into the
    sequence layout (one query per class), in one gather.

    Same result as ``sample().sequence_layout()`` for a sampler with ``n_query=1``,
    without the intermediate copies.

    Returns:
        ``images (B, K+1, N, H*W)`` and one-hot ``labels (B, K+1, N, N)``; the last row
        is the query set in a random order.
    """
    if sampler.n_query != 1:
        raise ValueError(
            "the sequence layout has one query per class: `n_query` must be 1; got "
            f"{sampler.n_query}."
        )
    B, N, K = sampler.batch_size, sampler.n_way, sampler.k_shot
    H, W = sampler.images.shape[-2:]
    classes, instances = sampler._draw(K + 1)
    # query row order
    order = torch.rand(B, N, generator=sampler.generator, device=sampler.device).argsort(dim=1)
    row_classes = torch.cat(
        [classes[:, None, :].expand(B, K, N), classes.gather(1, order)[:, None, :]], dim=1
    )
    # (B, K+1, N)
    row_instances = torch.cat(
        [instances[:, :, :K].transpose(1, 2), instances[:, :, K].gather(1, order)[:, None, :]],
        dim=1,
    )
    images = sampler._gather(row_classes, row_instances).reshape(B, K + 1, N, H * W)
    labels = torch.cat(
        [torch.arange(N, device=sampler.device).expand(B, K, N), order[:, None, :]], dim=1
    )
    return images, torch.nn.functional.one_hot(labels, N).float()
