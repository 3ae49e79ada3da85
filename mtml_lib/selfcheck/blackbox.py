"""Self-checks for notebook 06 ("Black-box adaptation")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.episodes import EpisodeSampler
from ..data.fewshot import FewShotDataset
from . import run_check

__all__ = ["check_homework_input"]


def check_homework_input(student: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Exercise: ``student(images, labels)`` builds the
    LSTM's input sequence ``(B, (K+1)*N, P+N)``.
    """

    def check() -> None:
        data = FewShotDataset(
            torch.rand(8, 5, 28, 28, generator=torch.Generator().manual_seed(0)),
            alphabets=["a"] * 8,
        )
        for n_way, k_shot in ((2, 1), (3, 2)):
            images, labels = EpisodeSampler(
                data, n_way=n_way, k_shot=k_shot, n_query=1, batch_size=4, generator=1
            ).sample_homework()
            got = student(images.clone(), labels.clone())
            B, rows, N, P = images.shape
            assert isinstance(got, torch.Tensor), f"return a tensor; got {type(got).__name__}."
            assert tuple(got.shape) == (B, rows * N, P + N), (
                f"for images {tuple(images.shape)} return a sequence of shape "
                f"{(B, rows * N, P + N)}; got {tuple(got.shape)}."
            )
            assert torch.equal(got[..., :P], images.reshape(B, rows * N, P)), (
                "the first 784 features of each step should be that step's image, row after row."
            )
            assert torch.equal(got[:, -N:, P:], torch.zeros(B, N, N)), (
                "the query labels (last row) must be zeroed."
            )
            assert torch.equal(got[:, :-N, P:], labels[:, :-1].reshape(B, (rows - 1) * N, N)), (
                "the support steps should carry their one-hot labels."
            )

    run_check("Exercise: the homework's input sequence", check)
