"""Self-checks for notebook 05 ("The meta-learning problem")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.episodes import EpisodeSampler
from ..data.fewshot import FewShotDataset
from . import run_check

__all__ = ["check_nearest_neighbour"]


def check_nearest_neighbour(
    student: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> None:
    """Exercise: ``student(support_x, support_y,
    query_x)`` returns the 1-NN label of every query, ``(B, N*Q)``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        data = FewShotDataset(torch.rand(12, 6, 28, 28, generator=g), alphabets=["a"] * 12)
        for n_way, k_shot in ((3, 1), (4, 3)):
            episode = EpisodeSampler(
                data, n_way=n_way, k_shot=k_shot, n_query=2, batch_size=5, generator=1
            ).sample()
            got = student(episode.support_x, episode.support_y, episode.query_x)
            assert isinstance(got, torch.Tensor), f"return a tensor; got {type(got).__name__}."
            assert tuple(got.shape) == tuple(episode.query_y.shape), (
                f"return one label per query, shape {tuple(episode.query_y.shape)}; got "
                f"{tuple(got.shape)}."
            )
            support = episode.support_x.flatten(2)
            query = episode.query_x.flatten(2)
            distance = ((query[:, :, None] - support[:, None]) ** 2).sum(-1)  # (B, NQ, NK)
            expected = episode.support_y.gather(1, distance.argmin(-1))
            wrong = int((got.long() != expected).sum())
            assert wrong == 0, (
                f"{wrong} of {expected.numel()} queries got another label than their nearest "
                "support image's (compare every query with every support image of the same "
                "episode)."
            )

    run_check("Exercise: nearest neighbour", check)
