r"""The in-context learner: a transformer over the support set and the queries.

References:
    Mishra et al., "A Simple Neural Attentive Meta-Learner", ICLR 2018.

Example:
    >>> InContextTransformer.attention_mask(2, 2, torch.device("cpu")).int()
    tensor([[0, 0, 1, 1],
            [0, 0, 1, 1],
            [0, 0, 0, 1],
            [0, 0, 1, 0]], dtype=torch.int32)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..._validation import check_int
from ..backbones import ConvEncoder
from .learner import BlackBoxClassifier

__all__ = ["InContextTransformer"]


class InContextTransformer(BlackBoxClassifier):
    """A transformer that learns in context from the support set.

    Every image becomes a token: its conv features plus an embedding of its label
    (queries get a learned "unknown label" embedding instead). Support tokens attend to
    the support set; each query token attends to the support set and to itself only, so
    one query's content never changes another's prediction.

    Args:
        n_way: N.
        features: token width.
        layers, heads: transformer size.
        channels: the image encoder's blocks.
    """

    def __init__(
        self,
        *,
        n_way: int,
        features: int = 64,
        layers: int = 2,
        heads: int = 4,
        channels: Sequence[int] = (32, 32, 64),
    ):
        super().__init__(n_way=n_way)
        self.encoder = ConvEncoder(channels=channels, out_features=features)
        self.labels = nn.Embedding(n_way + 1, features)  # index n_way: "label unknown" (queries)
        layer = nn.TransformerEncoderLayer(
            features,
            check_int("heads", heads, minimum=1),
            dim_feedforward=2 * features,
            dropout=0.0,
            batch_first=True,
        )
        self.transformer = nn.TransformerEncoder(
            layer, check_int("layers", layers, minimum=1), enable_nested_tensor=False
        )
        self.head = nn.Linear(features, n_way)

    @staticmethod
    def attention_mask(support: int, queries: int, device: torch.device) -> torch.Tensor:
        """``(S+Q, S+Q)`` bool, True where attention is *blocked*: every token sees the support
        set; a query also sees itself, never another query."""
        blocked = torch.ones(support + queries, support + queries, dtype=torch.bool, device=device)
        blocked[:, :support] = False
        blocked.diagonal()[support:] = False
        return blocked

    def forward(self, episode, *, generator: torch.Generator | None = None) -> torch.Tensor:
        self.check_episode(episode)
        B, S, Q = episode.support_x.shape[0], episode.support_x.shape[1], episode.query_x.shape[1]
        images = torch.cat([episode.support_x, episode.query_x], dim=1).flatten(0, 1)
        tokens = self.encoder(images).view(B, S + Q, -1)  # (B, S+Q, D)
        labels = torch.cat([episode.support_y, torch.full_like(episode.query_y, self.n_way)], dim=1)
        tokens = tokens + self.labels(labels)
        out = self.transformer(tokens, mask=self.attention_mask(S, Q, tokens.device))
        return self.head(out[:, S:])  # (B, Q, N)
