r"""The hypernetwork: a set encoder that writes the task's classifier, :math:`\phi_i` made explicit.

Example:
    >>> learner = HyperNetwork(n_way=5, features=16, channels=(8,))
    >>> sum(p.numel() for p in learner.writer.parameters())
    561
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..backbones import MLP, ConvEncoder
from .learner import BlackBoxClassifier, class_means

__all__ = ["HyperNetwork"]


class HyperNetwork(BlackBoxClassifier):
    """A set encoder that writes the task's classifier: :math:`\\phi_i` made explicit.

    The support features of each class are averaged, and a small network maps that
    average to the weights and bias of the class's row of a linear classifier on the
    image features: :math:`\\phi_i = \\{(w_c, b_c)\\}_c = h_\\theta(\\mathcal{D}^{tr}_i)`.
    Nothing in :math:`\\theta` depends on N, so one learner serves episodes of any way
    (``n_way`` is only the default it was built for).

    Args:
        n_way: N.
        features: size of the image features.
        channels: the image encoder's blocks.
    """

    any_way = True

    def __init__(self, *, n_way: int, features: int = 64, channels: Sequence[int] = (32, 32, 64)):
        super().__init__(n_way=n_way)
        self.encoder = ConvEncoder(channels=channels, out_features=features)
        self.writer = MLP(in_features=features, hidden=(features,), out_features=features + 1)

    def task_parameters(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`\\phi_i` of every episode: weights ``(B, N, D)`` and biases ``(B, N)``."""
        B, S = episode.support_x.shape[:2]
        support = self.encoder(episode.support_x.flatten(0, 1)).view(B, S, -1)
        # (B, N, D+1)
        generated = self.writer(class_means(support, episode.support_y, episode.n_way))
        return generated[..., :-1], generated[..., -1]

    def forward(self, episode, *, generator: torch.Generator | None = None) -> torch.Tensor:
        self.check_episode(episode)
        weights, bias = self.task_parameters(episode)
        B, Q = episode.query_x.shape[:2]
        query = self.encoder(episode.query_x.flatten(0, 1)).view(B, Q, -1)
        return query @ weights.transpose(1, 2) + bias[:, None, :]  # (B, Q, N)
