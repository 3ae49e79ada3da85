r"""Black-box meta-learners: a network reads :math:`\mathcal{D}^{tr}_i` and predicts for :math:`\mathcal{D}^{test}_i`.

Black-box adaptation writes the learner itself as a network:
:math:`\phi_i = f_\theta(\mathcal{D}^{tr}_i)`, then :math:`\hat y = g_{\phi_i}(x)` for every
query :math:`x`. Meta-training optimises :math:`\theta` over many tasks so that this
"learned learning" works on new ones. One registry, one call:

================ =====================================================================
name             what :math:`f_\theta` is
================ =====================================================================
lstm_memory      the classic homework model: images with their one-hot labels (query labels
                 zeroed) read in sequence by two stacked LSTMs; the memory is :math:`\phi_i`
cnp              conditional neural process for classification: encode (x, y) pairs, average
                 per class, score each query against each class representation
transformer      in-context learner: image features plus a label embedding, a transformer
                 over the support set and the queries (queries attend to the support and to
                 themselves, never to each other)
hypernetwork     a set encoder that outputs the weights of a linear head per class:
                 :math:`\phi_i` made explicit as parameters
cnp_regression   conditional neural process for regression (sinusoids): mean of encoded
                 context pairs, decoded to a Gaussian (mean and :math:`\sigma`) per target
================ =====================================================================

Classification learners take an :class:`~mtml_lib.data.episodes.EpisodeBatch` and return
query logits ``(B, N*Q, n_way)``; :meth:`BlackBoxLearner.loss` gives the meta-training
loss (cross-entropy on the queries only) and the accuracy of every episode.

Example:
    >>> import torch
    >>> from mtml_lib.data.fewshot import FewShotDataset
    >>> from mtml_lib.data.episodes import EpisodeSampler
    >>> data = FewShotDataset(torch.rand(8, 4, 28, 28), alphabets=["a"] * 8)
    >>> episode = EpisodeSampler(data, n_way=3, k_shot=1, n_query=2, batch_size=2, generator=0).sample()
    >>> learner = get_blackbox_learner("transformer", n_way=3)
    >>> learner(episode).shape
    torch.Size([2, 6, 3])

References:
    Santoro et al., "Meta-Learning with Memory-Augmented Neural Networks", ICML 2016.
    Garnelo et al., "Conditional Neural Processes", ICML 2018.
    Mishra et al., "A Simple Neural Attentive Meta-Learner", ICLR 2018.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int, check_tensor, lookup
from .backbones import MLP, ConvEncoder

__all__ = [
    "BlackBoxLearner",
    "LSTMMemory",
    "CNPClassifier",
    "InContextTransformer",
    "HyperNetwork",
    "CNPRegressor",
    "BLACKBOX",
    "get_blackbox_learner",
]


class BlackBoxLearner(nn.Module):
    """Base class of the classification learners: episode checks and the meta-training loss."""

    task = "classification"

    def __init__(self, *, n_way: int):
        super().__init__()
        self.n_way = check_int("n_way", n_way, minimum=2)

    @staticmethod
    def check_type(episode) -> None:
        for name in ("support_x", "support_y", "query_x", "query_y", "n_way"):
            if not hasattr(episode, name):
                raise TypeError(f"`episode` must be an EpisodeBatch (with {name}); got {type(episode).__name__}.")

    def check_episode(self, episode) -> None:
        self.check_type(episode)
        if episode.n_way != self.n_way:
            raise ValueError(f"`episode.n_way` must match the learner's n_way ({self.n_way}); got {episode.n_way}.")
        B = episode.support_x.shape[0]
        check_tensor("episode.support_x", episode.support_x, shape=(B, None, 1, None, None))
        check_tensor("episode.query_x", episode.query_x, shape=(B, None, 1, None, None))
        check_tensor("episode.support_y", episode.support_y, shape=(B, episode.support_x.shape[1]))
        check_tensor("episode.query_y", episode.query_y, shape=(B, episode.query_x.shape[1]))

    def loss(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy on the query predictions only, and the accuracy of each episode ``(B,)``."""
        logits = self(episode)  # (B, NQ, N)
        loss = F.cross_entropy(logits.reshape(-1, self.n_way).float(), episode.query_y.reshape(-1))
        accuracy = (logits.argmax(-1) == episode.query_y).float().mean(1)
        return loss, accuracy.detach()


def _one_hot(labels: torch.Tensor, n_way: int, dtype: torch.dtype) -> torch.Tensor:
    return F.one_hot(labels, n_way).to(dtype)


def _class_means(features: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """Mean of ``features (B, S, D)`` over the examples of each class: ``(B, N, D)``."""
    one_hot = _one_hot(labels, n_way, features.dtype)  # (B, S, N)
    return one_hot.transpose(1, 2) @ features / one_hot.sum(1).clamp_min(1).unsqueeze(-1)


class LSTMMemory(BlackBoxLearner):
    """The classic black-box homework model (MANN-style memory in an LSTM).

    Each time step reads an image concatenated with its one-hot label; query labels
    are zeroed. Two stacked LSTMs (``image + N -> hidden -> N``) carry the memory;
    the outputs at the query steps are the predictions.

    :meth:`forward_homework` takes the homework's own layout: ``images (B, K+1, N, 784)``
    and ``labels (B, K+1, N, N)``, the last row being the queries. :meth:`forward` reads
    an episode batch: the support set row by row (one image of every class per row),
    then the queries in a random order, so that a query's position says nothing about its
    label; the logits are returned in the episode's query order.

    Args:
        n_way: N.
        hidden: width of the first LSTM (128 in the homework).
        image_size: pixels per image (784 for 28x28).
    """

    def __init__(self, *, n_way: int, hidden: int = 128, image_size: int = 784):
        super().__init__(n_way=n_way)
        self.image_size = check_int("image_size", image_size, minimum=1)
        self.lstm1 = nn.LSTM(image_size + n_way, check_int("hidden", hidden, minimum=1), batch_first=True)
        self.lstm2 = nn.LSTM(hidden, n_way, batch_first=True)

    def forward_sequence(self, images: torch.Tensor, label_inputs: torch.Tensor) -> torch.Tensor:
        """``images (B, T, P)``, ``label_inputs (B, T, N)`` -> logits at every step ``(B, T, N)``."""
        hidden, _ = self.lstm1(torch.cat([images, label_inputs], dim=-1))
        out, _ = self.lstm2(hidden)
        return out

    def forward_homework(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The homework's interface: ``(B, K+1, N, P)``, ``(B, K+1, N, N)`` -> predictions ``(B, K+1, N, N)``."""
        B, rows, N, P = images.shape
        if N != self.n_way or P != self.image_size:
            raise ValueError(f"`images` must have shape (B, K+1, {self.n_way}, {self.image_size}); got {tuple(images.shape)}.")
        check_tensor("labels", labels, shape=(B, rows, N, N))
        label_inputs = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)  # the query labels are hidden
        out = self.forward_sequence(images.reshape(B, rows * N, P), label_inputs.reshape(B, rows * N, N))
        return out.reshape(B, rows, N, N)

    def forward(self, episode) -> torch.Tensor:
        self.check_episode(episode)
        B, N, K = episode.support_x.shape[0], self.n_way, episode.support_x.shape[1] // self.n_way
        NQ = episode.query_x.shape[1]
        support = episode.support_x.reshape(B, N, K, -1).transpose(1, 2).reshape(B, N * K, -1)  # row by row
        support_labels = episode.support_y.reshape(B, N, K).transpose(1, 2).reshape(B, N * K)
        order = torch.rand(B, NQ, device=episode.query_x.device).argsort(dim=1)  # queries in a random order
        query = episode.query_x.reshape(B, NQ, -1).gather(1, order[..., None].expand(-1, -1, support.shape[-1]))
        images = torch.cat([support, query], dim=1)  # (B, NK + NQ, P)
        label_inputs = torch.cat([_one_hot(support_labels, N, images.dtype),
                                  images.new_zeros(B, NQ, N)], dim=1)
        shuffled = self.forward_sequence(images, label_inputs)[:, N * K:]  # (B, NQ, N) in the shuffled order
        return torch.empty_like(shuffled).scatter_(1, order[..., None].expand(-1, -1, N), shuffled)


class CNPClassifier(BlackBoxLearner):
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

    def forward(self, episode) -> torch.Tensor:
        self.check_episode(episode)
        B, S, Q = episode.support_x.shape[0], episode.support_x.shape[1], episode.query_x.shape[1]
        support = self.encoder(episode.support_x.flatten(0, 1)).view(B, S, -1)  # (B, S, D)
        query = self.encoder(episode.query_x.flatten(0, 1)).view(B, Q, -1)  # (B, Q, D)
        pairs = self.pair(torch.cat([support, _one_hot(episode.support_y, self.n_way, support.dtype)], dim=-1))
        classes = _class_means(pairs, episode.support_y, self.n_way)  # (B, N, D)
        grid = torch.cat([classes[:, None].expand(-1, Q, -1, -1), query[:, :, None].expand(-1, -1, self.n_way, -1)], -1)
        return self.decoder(grid).squeeze(-1)  # (B, Q, N)


class InContextTransformer(BlackBoxLearner):
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

    def __init__(self, *, n_way: int, features: int = 64, layers: int = 2, heads: int = 4,
                 channels: Sequence[int] = (32, 32, 64)):
        super().__init__(n_way=n_way)
        self.encoder = ConvEncoder(channels=channels, out_features=features)
        self.labels = nn.Embedding(n_way + 1, features)  # index n_way: "label unknown" (queries)
        layer = nn.TransformerEncoderLayer(features, check_int("heads", heads, minimum=1), dim_feedforward=2 * features,
                                           dropout=0.0, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, check_int("layers", layers, minimum=1), enable_nested_tensor=False)
        self.head = nn.Linear(features, n_way)

    @staticmethod
    def attention_mask(support: int, queries: int, device: torch.device) -> torch.Tensor:
        """``(S+Q, S+Q)`` bool, True where attention is *blocked*: every token sees the support
        set; a query also sees itself, never another query."""
        blocked = torch.ones(support + queries, support + queries, dtype=torch.bool, device=device)
        blocked[:, :support] = False
        blocked.diagonal()[support:] = False
        return blocked

    def forward(self, episode) -> torch.Tensor:
        self.check_episode(episode)
        B, S, Q = episode.support_x.shape[0], episode.support_x.shape[1], episode.query_x.shape[1]
        images = torch.cat([episode.support_x, episode.query_x], dim=1).flatten(0, 1)
        tokens = self.encoder(images).view(B, S + Q, -1)  # (B, S+Q, D)
        labels = torch.cat([episode.support_y, torch.full_like(episode.query_y, self.n_way)], dim=1)
        tokens = tokens + self.labels(labels)
        out = self.transformer(tokens, mask=self.attention_mask(S, Q, tokens.device))
        return self.head(out[:, S:])  # (B, Q, N)


class HyperNetwork(BlackBoxLearner):
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

    def __init__(self, *, n_way: int, features: int = 64, channels: Sequence[int] = (32, 32, 64)):
        super().__init__(n_way=n_way)
        self.encoder = ConvEncoder(channels=channels, out_features=features)
        self.generator = MLP(in_features=features, hidden=(features,), out_features=features + 1)

    def check_episode(self, episode) -> None:
        self.check_type(episode)
        if episode.n_way < 2:
            raise ValueError(f"`episode.n_way` must be at least 2; got {episode.n_way}.")
        expected, self.n_way = self.n_way, episode.n_way  # any way will do
        try:
            super().check_episode(episode)
        finally:
            self.n_way = expected

    def task_parameters(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`\\phi_i` of every episode: weights ``(B, N, D)`` and biases ``(B, N)``."""
        B, S = episode.support_x.shape[:2]
        support = self.encoder(episode.support_x.flatten(0, 1)).view(B, S, -1)
        generated = self.generator(_class_means(support, episode.support_y, episode.n_way))  # (B, N, D+1)
        return generated[..., :-1], generated[..., -1]

    def loss(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(episode)  # (B, NQ, N)
        loss = F.cross_entropy(logits.reshape(-1, episode.n_way).float(), episode.query_y.reshape(-1))
        return loss, (logits.argmax(-1) == episode.query_y).float().mean(1).detach()

    def forward(self, episode) -> torch.Tensor:
        self.check_episode(episode)
        weights, bias = self.task_parameters(episode)
        B, Q = episode.query_x.shape[:2]
        query = self.encoder(episode.query_x.flatten(0, 1)).view(B, Q, -1)
        return query @ weights.transpose(1, 2) + bias[:, None, :]  # (B, Q, N)


class CNPRegressor(nn.Module):
    """Conditional neural process for regression (Garnelo et al., 2018).

    Context pairs are encoded, :math:`r_j = e([x_j; y_j])`, averaged into one
    representation :math:`r`, and decoded at every target :math:`x^\\star` into a Gaussian:
    mean and :math:`\\sigma = 0.1 + 0.9\\,\\mathrm{softplus}(\\cdot)`. Trained by the Gaussian
    negative log-likelihood of the targets.

    Args:
        hidden: width of the encoder and decoder layers.
    """

    task = "regression"

    def __init__(self, *, hidden: int = 128, n_way: int | None = None):
        super().__init__()
        hidden = check_int("hidden", hidden, minimum=1)
        self.encoder = MLP(in_features=2, hidden=(hidden, hidden), out_features=hidden)
        self.decoder = MLP(in_features=hidden + 1, hidden=(hidden, hidden), out_features=2)

    def forward(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, sigma)``, each ``(B, Q, 1)``, for an episode of :class:`~mtml_lib.data.episodes.RegressionEpisode`."""
        for name in ("support_x", "support_y", "query_x"):
            if not hasattr(episode, name):
                raise TypeError(f"`episode` must be a RegressionEpisode (with {name}); got {type(episode).__name__}.")
        check_tensor("episode.support_x", episode.support_x, shape=(None, None, 1))
        check_tensor("episode.query_x", episode.query_x, shape=(episode.support_x.shape[0], None, 1))
        r = self.encoder(torch.cat([episode.support_x, episode.support_y], dim=-1)).mean(dim=1)  # (B, H)
        Q = episode.query_x.shape[1]
        out = self.decoder(torch.cat([r[:, None].expand(-1, Q, -1), episode.query_x], dim=-1))  # (B, Q, 2)
        return out[..., :1], 0.1 + 0.9 * F.softplus(out[..., 1:])

    def loss(self, episode) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian negative log-likelihood of the targets, and the mean squared error of each task ``(B,)``."""
        mean, sigma = self(episode)
        nll = -torch.distributions.Normal(mean.float(), sigma.float()).log_prob(episode.query_y.float()).mean()
        return nll, ((mean - episode.query_y) ** 2).mean(dim=(1, 2)).detach()


#: name -> class
BLACKBOX = {
    "lstm_memory": LSTMMemory,
    "cnp": CNPClassifier,
    "transformer": InContextTransformer,
    "hypernetwork": HyperNetwork,
    "cnp_regression": CNPRegressor,
}


def get_blackbox_learner(name: str, *, n_way: int | None = None, **kwargs) -> nn.Module:
    """Build the black-box learner ``name`` (a key of :data:`BLACKBOX`).

    Args:
        name: ``lstm_memory``, ``cnp``, ``transformer``, ``hypernetwork`` or ``cnp_regression``.
        n_way: N, required for the classification learners.
        **kwargs: the learner's own options (``hidden``, ``features``, ``layers``, ...).
    """
    constructor = lookup(BLACKBOX, name, family="black-box learner")
    if constructor is CNPRegressor:
        return constructor(n_way=n_way, **kwargs)
    if n_way is None:
        raise ValueError(f"`n_way` must be given for the classification learner {name!r}; got None.")
    return constructor(n_way=n_way, **kwargs)
