r"""The memory learner: Santoro et al.'s model (MANN-style memory in an LSTM).

References:
    Santoro et al., "Meta-Learning with Memory-Augmented Neural Networks", ICML 2016.

Example:
    >>> import torch
    >>> learner = LSTMMemory(n_way=3, hidden=16)
    >>> images, labels = torch.rand(2, 2, 3, 784), torch.eye(3).expand(2, 2, 3, 3)
    >>> learner.forward_layout(images, labels).shape
    torch.Size([2, 2, 3, 3])
"""

from __future__ import annotations

import torch
from torch import nn

from ..._validation import check_int, check_tensor
from .learner import BlackBoxClassifier, one_hot

__all__ = ["LSTMMemory"]


class LSTMMemory(BlackBoxClassifier):
    """Santoro et al.'s memory-augmented model (MANN-style memory in an LSTM).

    Each time step reads an image concatenated with its one-hot label; query labels
    are zeroed. Two stacked LSTMs (``image + N -> hidden -> N``) carry the memory;
    the outputs at the query steps are the predictions.

    :meth:`forward_layout` takes the sequence layout of homework 2: ``images (B, K+1, N, 784)``
    and ``labels (B, K+1, N, N)``, the last row being the queries. :meth:`forward` reads
    an episode batch: the support set row by row (one image of every class per row),
    then the queries in a random order (drawn from ``generator``), so that a query's position
    says nothing about its label; the logits are returned in the episode's query order.

    Args:
        n_way: N.
        hidden: width of the first LSTM (128 in Santoro et al.'s setting).
        image_size: pixels per image (784 for 28x28).
    """

    def __init__(self, *, n_way: int, hidden: int = 128, image_size: int = 784):
        super().__init__(n_way=n_way)
        self.image_size = check_int("image_size", image_size, minimum=1)
        self.lstm1 = nn.LSTM(
            image_size + n_way, check_int("hidden", hidden, minimum=1), batch_first=True
        )
        self.lstm2 = nn.LSTM(hidden, n_way, batch_first=True)

    def forward_sequence(self, images: torch.Tensor, label_inputs: torch.Tensor) -> torch.Tensor:
        """``images (B, T, P)``, ``label_inputs (B, T,
        N)`` -> logits at every step ``(B, T, N)``.
        """
        hidden, _ = self.lstm1(torch.cat([images, label_inputs], dim=-1))
        out, _ = self.lstm2(hidden)
        return out

    def forward_layout(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The sequence layout (:mod:`mtml_lib.data.sequence_layout`): ``(B, K+1, N, P)``,
        ``(B, K+1, N, N)`` -> predictions ``(B, K+1, N, N)``.
        """
        B, rows, N, P = images.shape
        if self.n_way != N or self.image_size != P:
            raise ValueError(
                f"`images` must have shape (B, K+1, {self.n_way}, {self.image_size}); got "
                f"{tuple(images.shape)}."
            )
        check_tensor("labels", labels, shape=(B, rows, N, N))
        # the query labels are hidden
        label_inputs = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)
        out = self.forward_sequence(
            images.reshape(B, rows * N, P), label_inputs.reshape(B, rows * N, N)
        )
        return out.reshape(B, rows, N, N)

    def forward(self, episode, *, generator: torch.Generator | None = None) -> torch.Tensor:
        self.check_episode(episode)
        B, N, K = episode.support_x.shape[0], self.n_way, episode.support_x.shape[1] // self.n_way
        NQ = episode.query_x.shape[1]
        # row by row
        support = episode.support_x.reshape(B, N, K, -1).transpose(1, 2).reshape(B, N * K, -1)
        support_labels = episode.support_y.reshape(B, N, K).transpose(1, 2).reshape(B, N * K)
        order = torch.rand(
            B, NQ, generator=generator, device=generator.device if generator else None
        )
        # (B, NQ): the queries in a random order
        order = order.to(episode.query_x.device).argsort(dim=1)
        query = episode.query_x.reshape(B, NQ, -1).gather(
            1, order[..., None].expand(-1, -1, support.shape[-1])
        )
        images = torch.cat([support, query], dim=1)  # (B, NK + NQ, P)
        label_inputs = torch.cat(
            [one_hot(support_labels, N, images.dtype), images.new_zeros(B, NQ, N)], dim=1
        )
        shuffled = self.forward_sequence(images, label_inputs)[
            :, N * K :
        ]  # (B, NQ, N) in the shuffled order
        return torch.empty_like(shuffled).scatter_(1, order[..., None].expand(-1, -1, N), shuffled)
