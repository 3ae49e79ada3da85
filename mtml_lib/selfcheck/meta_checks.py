"""Self-checks for notebook 05 ("The meta-learning problem")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.episodes import EpisodeSampler
from ..data.fewshot import FewShotDataset
from ..i18n import translate as _
from ..models.baselines import nearest_neighbour
from ..training.meta_loop import meta_test
from . import run_check
from .guards import call_leaving_inputs, library_answer

__all__ = ["check_episode", "check_meta_test", "check_nearest_neighbour"]


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
            got = call_leaving_inputs(
                student,
                ("support_x", "support_y", "query_x"),
                episode.support_x,
                episode.support_y,
                episode.query_x,
                answers={"mtml_lib.models.baselines.nearest_neighbour": nearest_neighbour},
            )
            assert isinstance(got, torch.Tensor), _("return a tensor; got {name}.").format(
                name=type(got).__name__
            )
            assert tuple(got.shape) == tuple(episode.query_y.shape), _(
                "return one label per query, shape {shape}; got {got_shape}."
            ).format(shape=tuple(episode.query_y.shape), got_shape=tuple(got.shape))
            support = episode.support_x.flatten(2)
            query = episode.query_x.flatten(2)
            distance = ((query[:, :, None] - support[:, None]) ** 2).sum(-1)  # (B, NQ, NK)
            expected = episode.support_y.gather(1, distance.argmin(-1))
            wrong = int((got.long() != expected).sum())
            assert wrong == 0, _(
                "{wrong} of {numel} queries got another label than their nearest support image's "
                "(compare every query with every support image of the same episode)."
            ).format(wrong=wrong, numel=expected.numel())

    run_check(_("Exercise: nearest neighbour"), check)


def check_episode(student: Callable[..., tuple]) -> None:
    """Exercise: ``student(images, n_way, k_shot, n_query, generator)`` samples one N-way K-shot
    episode from ``images (C, I, H, W)``: ``(support_x, support_y, query_x, query_y)``.

    Checked by behaviour: every image is marked with its class and instance.
    """

    def check() -> None:
        classes, instances = 9, 6
        marks = torch.arange(classes * instances, dtype=torch.float32)
        images = marks.view(classes, instances, 1, 1).expand(-1, -1, 2, 2).contiguous()
        drawn_classes, labels_of_first, in_class_order = set(), set(), 0
        for seed in range(6):
            generator = torch.Generator().manual_seed(seed)
            answers = {"mtml_lib.data.episodes.EpisodeSampler": EpisodeSampler}
            got = call_leaving_inputs(
                student, ("images",), images, 3, 2, 2, generator, answers=answers
            )
            assert isinstance(got, tuple) and len(got) == 4, _(
                "return (support_x, support_y, query_x, query_y)."
            )
            support_x, support_y, query_x, query_y = got
            for name, x, y, n in (
                ("support", support_x, support_y, 6),
                ("query", query_x, query_y, 6),
            ):
                assert tuple(x.shape) == (n, 2, 2) and tuple(y.shape) == (n,), _(
                    "{name}: images (N*{value}, H, W) = ({n}, 2, 2) and labels ({n},); got "
                    "{x_shape} and {y_shape}."
                ).format(
                    name=name,
                    value="K" if name == "support" else "Q",
                    n=n,
                    x_shape=tuple(x.shape),
                    y_shape=tuple(y.shape),
                )
            mark = lambda x: x[:, 0, 0].long()  # noqa: E731
            s_cls, q_cls = mark(support_x) // instances, mark(query_x) // instances
            balanced = [sorted(y.tolist()) == [0, 0, 1, 1, 2, 2] for y in (support_y, query_y)]
            assert all(balanced), _(
                "each of the labels 0, 1, 2 should appear K times in the support set and Q times "
                "in the query set."
            )
            for label in range(3):
                cls = set(s_cls[support_y == label].tolist()) | set(
                    q_cls[query_y == label].tolist()
                )
                assert len(cls) == 1, _(
                    "label {label} is given to images of classes {value}: one class per label."
                ).format(label=label, value=sorted(cls))
            assert len(set(s_cls.tolist())) == 3, _("draw N different classes.")
            used = set(mark(support_x).tolist()) & set(mark(query_x).tolist())
            assert not used and len(set(mark(support_x).tolist())) == 6, _(
                "an image appears twice: draw K + Q different instances of each class, K for the "
                "support set and Q for the query set."
            )
            drawn_classes |= set(s_cls.tolist())
            labels_of_first.add(int(s_cls[support_y == 0][0]))
            by_label = [int(s_cls[support_y == label][0]) for label in range(3)]
            in_class_order += by_label == sorted(by_label)
        assert len(drawn_classes) > 3 and len(labels_of_first) > 1, _(
            "every episode draws the same classes: draw them at random with `generator`."
        )
        assert in_class_order < 6, _(
            "in every episode label 0 went to the lowest-numbered class drawn, label 1 to the "
            "next: the labels follow the classes' order, so a class keeps nearly the same label "
            "across episodes. Give label i to the i-th class in the order drawn (a random order)."
        )

    run_check(_("Exercise: an N-way K-shot episode"), check)


def check_meta_test(student: Callable[..., tuple]) -> None:
    """Exercise: ``student(predict, batches)`` meta-tests ``predict(support_x, support_y,
    query_x)`` on episode batches: the mean accuracy over episodes (every row of a batch is one
    episode) and the half-width of its 95% interval, ``1.96 * std / sqrt(n)``.
    """

    def check() -> None:
        g = torch.Generator().manual_seed(0)
        data = FewShotDataset(torch.rand(10, 5, 28, 28, generator=g), alphabets=["a"] * 10)
        sampler = EpisodeSampler(data, n_way=3, k_shot=1, n_query=4, batch_size=7, generator=2)
        batches = [sampler.sample() for _ in range(3)]
        noise = torch.Generator().manual_seed(5)

        def predict(support_x, support_y, query_x):  # right about half of the time
            guess = torch.randint(3, (query_x.shape[0], query_x.shape[1]), generator=noise)
            return guess

        with library_answer(student, {"mtml_lib.training.meta_loop.meta_test": meta_test}):
            got = student(predict, batches)
        noise.manual_seed(5)
        per_episode = torch.cat(
            [
                (predict(b.support_x, b.support_y, b.query_x) == b.query_y).float().mean(1)
                for b in batches
            ]
        )
        mean = float(per_episode.mean())
        half = 1.96 * float(per_episode.std()) / len(per_episode) ** 0.5
        assert isinstance(got, tuple) and len(got) == 2, _("return (mean accuracy, half-width).")
        assert abs(float(got[0]) - mean) < 1e-5, _(
            "the mean accuracy over the 21 episodes is {mean:.4f}; got {value:.4f}. Call predict "
            "once per batch, in order, and compare with query_y."
        ).format(mean=mean, value=float(got[0]))
        population = 1.96 * float(per_episode.std(correction=0)) / len(per_episode) ** 0.5
        if abs(float(got[1]) - population) < 1e-5:
            raise AssertionError(
                _(
                    "the half-width is {half:.4f}; got {value:.4f}, which divides by n: use the "
                    "sample standard deviation, which divides by n - 1 (torch.std's default; "
                    "numpy's std needs ddof=1)."
                ).format(half=half, value=float(got[1]))
            )
        assert abs(float(got[1]) - half) < 1e-5, _(
            "the half-width is {half:.4f}; got {value:.4f}: 1.96 times the standard deviation "
            "of the per-episode accuracies (the sample one, dividing by n - 1) over the square "
            "root of their number (21 episodes, not 3 batches)."
        ).format(half=half, value=float(got[1]))

    run_check(_("Exercise: meta-test with an interval"), check)
