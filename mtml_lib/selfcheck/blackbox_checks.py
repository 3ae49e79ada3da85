"""Self-checks for notebook 06 ("Black-box adaptation")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.episodes import EpisodeSampler
from ..data.fewshot import FewShotDataset
from ..data.sequence_layout import sequence_layout
from ..i18n import translate as _
from ..models.blackbox.learner import BlackBoxLearner
from ..models.blackbox.memory import LSTMMemory
from . import run_check
from .guards import call_leaving_inputs, library_answer, reject_library_modules

__all__ = ["check_sequence_input", "check_set_learner"]


def check_sequence_input(student: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
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
            ).sample_sequences()
            answers = {
                "mtml_lib.data.sequence_layout.sequence_layout": sequence_layout,
                "mtml_lib.models.blackbox.LSTMMemory": LSTMMemory,
            }
            got = call_leaving_inputs(
                student, ("images", "labels"), images, labels, answers=answers
            )
            B, rows, N, P = images.shape
            assert isinstance(got, torch.Tensor), _("return a tensor; got {name}.").format(
                name=type(got).__name__
            )
            assert tuple(got.shape) == (B, rows * N, P + N), _(
                "for images {images_shape} return a sequence of shape {value}; got {got_shape}."
            ).format(
                images_shape=tuple(images.shape),
                value=(B, rows * N, P + N),
                got_shape=tuple(got.shape),
            )
            assert torch.equal(got[..., :P], images.reshape(B, rows * N, P)), _(
                "the first 784 features of each step should be that step's image, row after row."
            )
            assert torch.equal(got[:, -N:, P:], torch.zeros(B, N, N)), _(
                "the query labels (last row) must be zeroed."
            )
            assert torch.equal(got[:, :-N, P:], labels[:, :-1].reshape(B, (rows - 1) * N, N)), _(
                "the support steps should carry their one-hot labels."
            )

    run_check(_("Exercise: the homework's input sequence"), check)


def check_set_learner(learner_class: type[torch.nn.Module]) -> None:
    """Exercise: ``learner_class(n_way, features, hidden)`` is a black-box learner: it encodes
    every support pair, averages the codes into h, and predicts each query from (x, h).

    ``forward(support_x (B, NK, D), support_y (B, NK), query_x (B, NQ, D))`` returns logits
    ``(B, NQ, N)``. The encoder and decoder are the modules ``self.encoder`` and ``self.decoder``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        answers = {"mtml_lib.models.blackbox.BlackBoxLearner": BlackBoxLearner}
        with library_answer(learner_class, answers):
            learner = learner_class(3, 5, 8)
        reject_library_modules(learner, answers)
        support_x, query_x = torch.randn(2, 6, 5, generator=g), torch.randn(2, 4, 5, generator=g)
        support_y = torch.tensor([[0, 1, 2, 0, 1, 2], [2, 2, 1, 1, 0, 0]])
        names = ("support_x", "support_y", "query_x")
        got = call_leaving_inputs(learner, names, support_x, support_y, query_x)
        assert tuple(got.shape) == (2, 4, 3), _(
            "logits (B, NQ, N) = (2, 4, 3); got {got_shape}."
        ).format(got_shape=tuple(got.shape))
        # The structure first (each with its own hint), then the exact computation.
        order = torch.randperm(6, generator=g)
        shuffled = learner(support_x[:, order], support_y[:, order], query_x)
        assert torch.allclose(got, shuffled, atol=1e-5), _(
            "the prediction should not depend on the order of the support set: average the codes."
        )
        alone = torch.cat(
            [learner(support_x, support_y, query_x[:, i : i + 1]) for i in range(4)], 1
        )
        assert torch.allclose(got, alone, atol=1e-5), _("each query is predicted on its own.")
        pairs = torch.cat([support_x, torch.nn.functional.one_hot(support_y, 3).float()], -1)
        h = learner.encoder(pairs).mean(1, keepdim=True)  # (B, 1, R)
        expected = learner.decoder(torch.cat([query_x, h.expand(-1, 4, -1)], -1))
        assert torch.allclose(got, expected, atol=1e-5), _(
            "encode each support pair [x, one_hot(y)] with self.encoder, average over the "
            "support set, and decode [query x, h] with self.decoder."
        )

    run_check(_("Exercise: a black-box learner's forward pass"), check)
