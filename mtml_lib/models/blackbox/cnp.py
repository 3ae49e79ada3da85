r"""Conditional neural processes: a set encoder averaged over :math:`\mathcal{D}^{tr}_i`, then a
decoder.

:class:`CNPClassifier` for N-way episodes, :class:`CNPRegressor` for regression (sinusoids),
with a Gaussian output.

References:
    Garnelo et al., "Conditional Neural Processes", ICML 2018.

Example:
    >>> import torch
    >>> from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
    >>> episode = SinusoidEpisodeSampler(k_shot=5, n_query=10, batch_size=3, generator=0).sample()
    >>> mean, sigma = CNPRegressor(hidden=16)(episode)
    >>> tuple(mean.shape), bool((sigma >= 0.1).all())
    ((3, 10, 1), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._validation import check_int, check_tensor
from ..backbones import MLP, ConvEncoder
from .learner import BlackBoxClassifier, BlackBoxLearner, _require, class_means, one_hot

__all__ = ["CNPClassifier", "CNPRegressor"]


class CNPClassifier(BlackBoxClassifier):
    """Conditional neural process for classification (Garnelo et al., 2018, Omniglot form).

    Each support pair is encoded, :math:`h_j = e([\\text{conv}(x_j); \\text{onehot}(y_j)])`;
    the pairs of each class are averaged into :math:`r_c` (invariant to the order of the
    support set); a decoder scores every query against every class, logit
    :math:`= d([r_c; \\text{conv}(x^\\star)])`.

    Args:
        n_way: N.
        features: size of the image features and of the class representations.
        channels: the image encoder's blocks.
    """

    def __init__(self, *, n_way: int, features: int = 64, channels: Sequence[int] = (32, 32, 64)):
        super().__init__(n_way=n_way)
        self.encoder = ConvEncoder(channels=channels, out_features=features)
        self.pair = MLP(in_features=features + n_way, hidden=(features,), out_features=features)
        self.decoder = MLP(in_features=2 * features, hidden=(features,), out_features=1)

    def forward(self, episode, *, generator: torch.Generator | None = None) -> torch.Tensor:
        self.check_episode(episode)
        B, S, Q = episode.support_x.shape[0], episode.support_x.shape[1], episode.query_x.shape[1]
        support = self.encoder(episode.support_x.flatten(0, 1)).view(B, S, -1)  # (B, S, D)
        query = self.encoder(episode.query_x.flatten(0, 1)).view(B, Q, -1)  # (B, Q, D)
        pairs = self.pair(
            torch.cat([support, one_hot(episode.support_y, self.n_way, support.dtype)], dim=-1)
        )
        classes = class_means(pairs, episode.support_y, self.n_way)  # (B, N, D)
        grid = torch.cat(
            [
                classes[:, None].expand(-1, Q, -1, -1),
                query[:, :, None].expand(-1, -1, self.n_way, -1),
            ],
            -1,
        )
        return self.decoder(grid).squeeze(-1)  # (B, Q, N)


class CNPRegressor(BlackBoxLearner):
    """Conditional neural process for regression (Garnelo et al., 2018).

    Context pairs are encoded, :math:`r_j = e([x_j; y_j])`, averaged into one
    representation :math:`r`, and decoded at every target :math:`x^\\star` into a Gaussian:
    mean and :math:`\\sigma = 0.1 + 0.9\\,\\mathrm{softplus}(\\cdot)`. Trained by the Gaussian
    negative log-likelihood of the targets.

    Args:
        hidden: width of the encoder and decoder layers.
    """

    task = "regression"

    def __init__(self, *, hidden: int = 128):
        super().__init__()
        hidden = check_int("hidden", hidden, minimum=1)
        self.encoder = MLP(in_features=2, hidden=(hidden, hidden), out_features=hidden)
        self.decoder = MLP(in_features=hidden + 1, hidden=(hidden, hidden), out_features=2)

    def check_episode(self, episode) -> None:
        _require(episode, ("support_x", "support_y", "query_x", "query_y"), "a RegressionEpisode")
        B = episode.support_x.shape[0]
        check_tensor("episode.support_x", episode.support_x, shape=(B, None, 1))
        check_tensor(
            "episode.support_y", episode.support_y, shape=(B, episode.support_x.shape[1], 1)
        )
        check_tensor("episode.query_x", episode.query_x, shape=(B, None, 1))

    def forward(
        self, episode, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, sigma)``, each ``(B, Q, 1)``, for an episode of
        :class:`~mtml_lib.data.episodes.RegressionEpisode`.
        """
        self.check_episode(episode)
        # (B, H)
        r = self.encoder(torch.cat([episode.support_x, episode.support_y], dim=-1)).mean(dim=1)
        Q = episode.query_x.shape[1]
        # (B, Q, 2)
        out = self.decoder(torch.cat([r[:, None].expand(-1, Q, -1), episode.query_x], dim=-1))
        return out[..., :1], 0.1 + 0.9 * F.softplus(out[..., 1:])

    def loss(
        self, episode, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian negative log-likelihood of the targets,
        and the mean squared error of each task ``(B,)``.
        """
        mean, sigma = self(episode)
        nll = (
            -torch.distributions.Normal(mean.float(), sigma.float())
            .log_prob(episode.query_y.float())
            .mean()
        )
        return nll, ((mean - episode.query_y) ** 2).mean(dim=(1, 2)).detach()
