r"""A synthetic recommendation system for the multi-task ranking case study.

Modelled on the setting of Zhao et al., "Recommending What Video to Watch Next: A
Multitask Ranking System", RecSys 2019: several objectives of two kinds, and
position bias in the logged feedback.

* **Users and items** have latent vectors :math:`p_u, q_i \in \mathbb{R}^k`; the model
  sees noisy copies of them as features (fixed per user and item).
* **Engagement**: a user clicks an item with probability
  :math:`\sigma(p_u^\top q_i / \sqrt{k} + b\,c_i + \text{bias})`, where :math:`c_i` is the
  item's *clickbait*; after a click, the user watches for a (log) time that grows with
  satisfaction.
* **Satisfaction**: after a click, the user likes the item with probability
  :math:`\sigma(p_u^\top q_i / \sqrt{k} - b\,c_i + \text{bias})`. Clickbait raises clicks
  and lowers likes: the two kinds of objective partly conflict.
* **Logging and position bias**: each logged impression is a slate of items for one
  user, ordered by the production system's score (a noisy relevance estimate) plus a
  boost for *promoted* items (an observable item feature that has nothing to do with
  relevance). A user examines position :math:`j` (0-based) with probability
  :math:`1/(1+j)^\eta` and clicks only what they examine. Promoted items therefore
  collect extra clicks because of *where* they were shown.

The true click and like probabilities are known, so what a ranking model learns
about relevance, and how much of the position bias it absorbs, can be measured
(:func:`evaluate_ranking`).

Each objective is a :class:`~mtml_lib.tasks.Task`: ``click`` over all logged
impressions, ``watch_time`` and ``like`` over clicked impressions (a different
:math:`p(x)`, as in any funnel). An input row is
``[user features, item features (latent, clickbait, promoted), position one-hot]``.

Example:
    >>> sim = RecommendationSimulator(num_users=50, num_items=40, generator=0)
    >>> click, watch, like = sim.tasks()
    >>> x, y = click.sample(6, generator=0)
    >>> tuple(x.shape), y.tolist() == [float(v) for v in y.tolist()]
    ((6, 28), True)
"""

from __future__ import annotations

import math

import torch

from .._validation import check_float, check_int
from ..seeding import make_generator
from ..tasks import BINARY_CROSS_ENTROPY, MSE, Task

__all__ = ["RecommendationSimulator", "evaluate_ranking"]


class RecommendationSimulator:
    """Users, items, their ground truth, and a logging policy with position bias.

    Args:
        num_users, num_items: population sizes.
        latent_dim: k.
        slate_size: items per logged impression (positions 0 .. slate_size - 1).
        promoted_fraction: share of items the logging policy promotes.
        promotion_boost: how far promotion lifts an item in the logged ranking.
        position_decay: :math:`\\eta` of the examination probability :math:`1/(1+j)^\\eta`.
        clickbait: :math:`b`, how strongly clickbait raises clicks and lowers likes.
        feature_noise: standard deviation of the noise in the observed features.
        generator: seeds the population (users, items, features).
    """

    def __init__(
        self,
        *,
        num_users: int = 400,
        num_items: int = 300,
        latent_dim: int = 8,
        slate_size: int = 10,
        promoted_fraction: float = 0.2,
        promotion_boost: float = 3.0,
        position_decay: float = 1.0,
        clickbait: float = 1.5,
        feature_noise: float = 0.3,
        generator: int | torch.Generator | None = 0,
    ):
        self.num_users = check_int("num_users", num_users, minimum=2)
        self.num_items = check_int("num_items", num_items, minimum=2)
        self.latent_dim = check_int("latent_dim", latent_dim, minimum=1)
        self.slate_size = check_int("slate_size", slate_size, minimum=1, maximum=num_items)
        promoted_fraction = check_float(
            "promoted_fraction", promoted_fraction, minimum=0.0, maximum=1.0
        )
        self.promotion_boost = check_float("promotion_boost", promotion_boost, minimum=0.0)
        self.position_decay = check_float("position_decay", position_decay, minimum=0.0)
        self.clickbait_strength = check_float("clickbait", clickbait, minimum=0.0)
        noise = check_float("feature_noise", feature_noise, minimum=0.0)
        g = make_generator(generator)
        k = self.latent_dim
        self.user_latent = torch.randn(num_users, k, generator=g)
        self.item_latent = torch.randn(num_items, k, generator=g)
        self.clickbait = torch.randn(num_items, generator=g)
        self.promoted = torch.rand(num_items, generator=g) < promoted_fraction
        # (U, k)
        self.user_features = self.user_latent + noise * torch.randn(num_users, k, generator=g)
        # (I, k + 2)
        self.item_features = torch.cat(
            [
                self.item_latent + noise * torch.randn(num_items, k, generator=g),
                (self.clickbait + noise * torch.randn(num_items, generator=g)).unsqueeze(1),
                self.promoted.float().unsqueeze(1),
            ],
            dim=1,
        )
        self._user_index = {row.tobytes(): u for u, row in enumerate(self.user_features.numpy())}
        self._item_index = {row.tobytes(): i for i, row in enumerate(self.item_features.numpy())}

    # --- ground truth --------------------------------------------------------------

    @property
    def num_features(self) -> int:
        """Width of an input row, position one-hot included."""
        return self.user_features.shape[1] + self.item_features.shape[1] + self.slate_size

    def affinity(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """:math:`p_u^\\top q_i / \\sqrt{k}` for each (user, item) pair."""
        return (self.user_latent[users] * self.item_latent[items]).sum(-1) / math.sqrt(
            self.latent_dim
        )

    def click_logit(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """The true click logit, free of position: what a debiased ranker should learn."""
        return (
            1.5 * self.affinity(users, items)
            + self.clickbait_strength * self.clickbait[items]
            - 0.5
        )

    def click_probability(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.click_logit(users, items))

    def like_probability(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Probability of a like after a click (satisfaction)."""
        return torch.sigmoid(
            1.5 * self.affinity(users, items) - self.clickbait_strength * self.clickbait[items]
        )

    def examination(self, positions: torch.Tensor) -> torch.Tensor:
        """Probability that a user looks at position ``j`` (0-based): :math:`1/(1+j)^\\eta`."""
        return (1.0 + positions.float()) ** (-self.position_decay)

    # --- logging -------------------------------------------------------------------

    def log_impressions(
        self, num_slates: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``num_slates`` logged slates: ``(users, items, positions)``, each ``(num_slates *
        slate_size,)``.

        The logging policy shows ``slate_size`` random candidates ordered by a noisy
        relevance estimate plus the promotion boost.
        """
        num_slates = check_int("num_slates", num_slates, minimum=1)
        S = self.slate_size
        users = torch.randint(self.num_users, (num_slates,), generator=generator).repeat_interleave(
            S
        )
        items = (
            torch.rand(num_slates, self.num_items, generator=generator)
            .argsort(dim=1)[:, :S]
            .reshape(-1)
        )
        score = (
            self.click_logit(users, items)
            + torch.randn(users.shape, generator=generator)
            + self.promotion_boost * self.promoted[items].float()
        )
        order = score.view(num_slates, S).argsort(dim=1, descending=True)
        positions = order.argsort(dim=1).reshape(-1)  # rank of each item within its slate
        return users, items, positions

    def features(
        self, users: torch.Tensor, items: torch.Tensor, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Input rows ``(N, num_features)``;
        without ``positions`` the one-hot is all zeros (serving).
        """
        one_hot = torch.zeros(len(users), self.slate_size)
        if positions is not None:
            one_hot[torch.arange(len(users)), positions] = 1.0
        return torch.cat([self.user_features[users], self.item_features[items], one_hot], dim=1)

    def decode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Recover ``(users, items, positions)`` from input rows (exact:
        features are fixed per entity).
        """
        x = x.detach().to("cpu", torch.float32)
        k, item_width = self.user_features.shape[1], self.item_features.shape[1]
        try:
            users = [self._user_index[row.tobytes()] for row in x[:, :k].contiguous().numpy()]
            items = [
                self._item_index[row.tobytes()]
                for row in x[:, k : k + item_width].contiguous().numpy()
            ]
        except KeyError:
            raise ValueError(
                "`x` holds a row whose user or item is not in this simulator."
            ) from None
        positions = x[:, k + item_width :].argmax(dim=1)
        return torch.tensor(users), torch.tensor(items), positions

    def _clicks(self, users, items, positions, generator) -> torch.Tensor:
        p = self.examination(positions) * self.click_probability(users, items)
        return (torch.rand(p.shape, generator=generator) < p).float()

    # --- the objectives as tasks ---------------------------------------------------

    def tasks(self) -> list[Task]:
        """``[click, watch_time, like]``.

        * ``click``: all logged impressions; label 1 if clicked (position bias included).
        * ``watch_time``: clicked impressions; label log watch time, mean ``1 + 2 * like
        probability``.
        * ``like``: clicked impressions; label 1 if liked.
        """

        def all_impressions(n: int, g: torch.Generator) -> torch.Tensor:
            users, items, positions = self.log_impressions(math.ceil(n / self.slate_size), g)
            return self.features(users, items, positions)[:n]

        def clicked_impressions(n: int, g: torch.Generator) -> torch.Tensor:
            rows, found = [], 0
            while found < n:  # rejection: keep what was clicked
                users, items, positions = self.log_impressions(
                    max(1, math.ceil(2 * n / self.slate_size)), g
                )
                clicked = self._clicks(users, items, positions, g).bool()
                rows.append(self.features(users[clicked], items[clicked], positions[clicked]))
                found += int(clicked.sum())
            return torch.cat(rows)[:n]

        def click_label(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
            users, items, positions = self.decode(x)
            return self._clicks(users, items, positions, g)

        def watch_label(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
            users, items, _ = self.decode(x)
            mean = 1.0 + 2.0 * self.like_probability(users, items)
            return (mean + 0.3 * torch.randn(mean.shape, generator=g)).unsqueeze(1)

        def like_label(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
            users, items, _ = self.decode(x)
            return (
                torch.rand(len(users), generator=g) < self.like_probability(users, items)
            ).float()

        return [
            Task(
                name="click",
                sample_x=all_impressions,
                sample_y=click_label,
                loss=BINARY_CROSS_ENTROPY,
                out_features=1,
            ),
            Task(
                name="watch_time",
                sample_x=clicked_impressions,
                sample_y=watch_label,
                loss=MSE,
                out_features=1,
            ),
            Task(
                name="like",
                sample_x=clicked_impressions,
                sample_y=like_label,
                loss=BINARY_CROSS_ENTROPY,
                out_features=1,
            ),
        ]


@torch.no_grad()
def evaluate_ranking(
    model,
    simulator: RecommendationSimulator,
    *,
    num_users: int = 100,
    top_k: int = 10,
    like_weight: float = 0.0,
    generator: int | torch.Generator | None = 0,
) -> dict[str, float]:
    """Serve ``model`` (no position: the one-hot is zero) to users over every item and compare with
    the truth.

    ``model(x, task_id)`` must return one logit per row; task 0 is click, task 2 is like.
    Items are ranked by ``click logit + like_weight * like logit``: 0 ranks for
    engagement only, larger values trade clicks for satisfaction.

    Returns:
        * ``promoted_bias``: how much higher the model scores promoted items than the others
          (mean click logit), minus the true difference. Promotion does not change true
          relevance, so a debiased model has about 0; position bias makes it positive.
        * ``click_rank_correlation``: mean over users of the Spearman correlation between
          the model's click score and the true click probability.
        * ``top_k_true_ctr`` / ``oracle_top_k_ctr``: mean true (position-free) click
          probability of the model's top-k items per user, and of the best possible top-k.
        * ``top_k_like``: mean like probability of the model's top-k (satisfaction).
    """
    generator = make_generator(generator)
    device = next(model.parameters()).device
    users = torch.randperm(simulator.num_users, generator=generator)[:num_users]
    grid_users = users.repeat_interleave(simulator.num_items)
    grid_items = torch.arange(simulator.num_items).repeat(len(users))
    x = simulator.features(grid_users, grid_items).to(device)
    was_training = model.training
    model.eval()
    click = model(x, torch.zeros(len(x), dtype=torch.long, device=device))[:, 0].cpu()
    like_logit = model(x, torch.full((len(x),), 2, dtype=torch.long, device=device))[:, 0].cpu()
    model.train(was_training)
    truth = simulator.click_logit(grid_users, grid_items)
    promoted = simulator.promoted[grid_items]
    bias = (click[promoted].mean() - click[~promoted].mean()) - (
        truth[promoted].mean() - truth[~promoted].mean()
    )
    scores = (click + like_weight * like_logit).view(len(users), -1)
    click, truth = click.view(len(users), -1), truth.view(len(users), -1)
    true_ctr = torch.sigmoid(truth)
    like = simulator.like_probability(grid_users, grid_items).view(len(users), -1)
    ranks = lambda t: t.argsort(dim=1).argsort(dim=1).float()  # noqa: E731
    spearman = torch.nn.functional.cosine_similarity(
        ranks(click) - ranks(click).mean(1, keepdim=True),
        ranks(truth) - ranks(truth).mean(1, keepdim=True),
        dim=1,
    )
    top = scores.topk(top_k, dim=1).indices
    return {
        "promoted_bias": float(bias),
        "click_rank_correlation": float(spearman.mean()),
        "top_k_true_ctr": float(true_ctr.gather(1, top).mean()),
        "oracle_top_k_ctr": float(true_ctr.topk(top_k, dim=1).values.mean()),
        "top_k_like": float(like.gather(1, top).mean()),
    }
