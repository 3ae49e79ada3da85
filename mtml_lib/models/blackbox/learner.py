r"""The contract every black-box learner follows: :class:`BlackBoxLearner`.

A black-box learner reads a task's :math:`\mathcal{D}^{tr}_i` and predicts for its
:math:`\mathcal{D}^{test}_i` in one forward pass, :math:`\hat y = g(x;
f_\theta(\mathcal{D}^{tr}_i))`.
Every learner has :meth:`BlackBoxLearner.loss`, the meta-training loss of a batch of
episodes together with each episode's metric, which is all that meta-training and
meta-testing (:mod:`mtml_lib.training.meta_loop`) need. :class:`BlackBoxClassifier` is the
base of the N-way classifiers (cross-entropy on the queries, accuracy per episode); a
regression learner (:class:`~mtml_lib.models.blackbox.cnp.CNPRegressor`) is a
``BlackBoxLearner`` with ``task = "regression"``.

A learner whose prediction is random (the memory learner reads its queries in a random
order) draws from the ``generator`` it is given, never from torch's global stream.

Example:
    >>> BlackBoxClassifier(n_way=5).metric_name
    'accuracy'
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..._validation import check_choice, check_int, check_tensor

__all__ = ["BlackBoxLearner", "BlackBoxClassifier", "one_hot", "class_means"]


class BlackBoxLearner(nn.Module):
    """Base class of every black-box learner.

    Subclasses set ``task`` (``"classification"`` or ``"regression"``) and implement
    :meth:`check_episode`, ``forward(episode, *, generator=None)`` and :meth:`loss`.
    """

    task = "classification"

    @property
    def metric_name(self) -> str:
        """``"accuracy"`` (classification) or ``"mse"`` (regression)."""
        return (
            "accuracy"
            if check_choice("task", self.task, ("classification", "regression"))
            == ("classification")
            else "mse"
        )

    @property
    def higher_is_better(self) -> bool:
        return self.task == "classification"

    def check_episode(self, episode) -> None:
        """Raise a ``TypeError``/``ValueError`` naming what is wrong with ``episode``."""
        raise NotImplementedError

    def loss(
        self, episode, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The meta-training loss (a scalar) and the metric of every episode ``(B,)``, detached."""
        raise NotImplementedError


def _require(episode, names: tuple[str, ...], kind: str) -> None:
    for name in names:
        if not hasattr(episode, name):
            raise TypeError(
                f"`episode` must be {kind} (with {name}); got {type(episode).__name__}."
            )


class BlackBoxClassifier(BlackBoxLearner):
    """Base class of the N-way classification learners: episode checks and the loss.

    ``forward(episode)`` returns query logits ``(B, N*Q, N)``; :meth:`loss` is the
    cross-entropy on the queries only, and the accuracy of each episode.

    Args:
        n_way: N, the ways the learner is built for.

    Attributes:
        any_way: True for a learner with nothing in :math:`\theta` that depends on N, which
            therefore takes episodes of any way (``n_way`` is then only its default).
    """

    task = "classification"
    any_way = False

    def __init__(self, *, n_way: int):
        super().__init__()
        self.n_way = check_int("n_way", n_way, minimum=2)

    def check_episode(self, episode) -> None:
        _require(
            episode, ("support_x", "support_y", "query_x", "query_y", "n_way"), "an EpisodeBatch"
        )
        if episode.n_way < 2 or (episode.n_way != self.n_way and not self.any_way):
            need = "at least 2" if self.any_way else f"the learner's n_way ({self.n_way})"
            raise ValueError(f"`episode.n_way` must be {need}; got {episode.n_way}.")
        B = episode.support_x.shape[0]
        check_tensor("episode.support_x", episode.support_x, shape=(B, None, 1, None, None))
        check_tensor("episode.query_x", episode.query_x, shape=(B, None, 1, None, None))
        check_tensor("episode.support_y", episode.support_y, shape=(B, episode.support_x.shape[1]))
        check_tensor("episode.query_y", episode.query_y, shape=(B, episode.query_x.shape[1]))

    def loss(
        self, episode, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy on the query predictions only,
        and the accuracy of each episode ``(B,)``.
        """
        logits = self(episode, generator=generator)  # (B, NQ, N)
        loss = F.cross_entropy(
            logits.reshape(-1, episode.n_way).float(), episode.query_y.reshape(-1)
        )
        accuracy = (logits.argmax(-1) == episode.query_y).float().mean(1)
        return loss, accuracy.detach()


def one_hot(labels: torch.Tensor, n_way: int, dtype: torch.dtype) -> torch.Tensor:
    """``labels (...)`` -> one-hot ``(..., n_way)`` of ``dtype``."""
    return F.one_hot(labels, n_way).to(dtype)


def class_means(features: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """Mean of ``features (B, S, D)`` over the examples of each class: ``(B, N, D)``."""
    indicator = one_hot(labels, n_way, features.dtype)  # (B, S, N)
    return indicator.transpose(1, 2) @ features / indicator.sum(1).clamp_min(1).unsqueeze(-1)
