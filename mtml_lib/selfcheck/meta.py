"""Self-checks for notebook 05 ("The meta-learning problem")."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..data.episodes import EpisodeSampler
from ..data.fewshot import FewShotDataset
from . import run_check

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


def check_episode(student: Callable[..., tuple]) -> None:
    """Exercise: ``student(images, n_way, k_shot, n_query, generator)`` samples one N-way K-shot
    episode from ``images (C, I, H, W)``: ``(support_x, support_y, query_x, query_y)``.

    Checked by behaviour: every image is marked with its class and instance.
    """

    def check() -> None:
        classes, instances = 9, 6
        marks = torch.arange(classes * instances, dtype=torch.float32)
        images = marks.view(classes, instances, 1, 1).expand(-1, -1, 2, 2).contiguous()
        drawn_classes, labels_of_first = set(), set()
        for seed in range(6):
            got = student(images, 3, 2, 2, torch.Generator().manual_seed(seed))
            assert isinstance(got, tuple) and len(got) == 4, (
                "return (support_x, support_y, query_x, query_y)."
            )
            support_x, support_y, query_x, query_y = got
            for name, x, y, n in (
                ("support", support_x, support_y, 6),
                ("query", query_x, query_y, 6),
            ):
                assert tuple(x.shape) == (n, 2, 2) and tuple(y.shape) == (n,), (
                    f"{name}: images (N*{'K' if name == 'support' else 'Q'}, H, W) = ({n}, 2, 2) "
                    f"and labels ({n},); got {tuple(x.shape)} and {tuple(y.shape)}."
                )
            mark = lambda x: x[:, 0, 0].long()  # noqa: E731
            s_cls, q_cls = mark(support_x) // instances, mark(query_x) // instances
            balanced = [sorted(y.tolist()) == [0, 0, 1, 1, 2, 2] for y in (support_y, query_y)]
            assert all(balanced), (
                "each of the labels 0, 1, 2 should appear K times in the support set and Q times "
                "in the query set."
            )
            for label in range(3):
                cls = set(s_cls[support_y == label].tolist()) | set(
                    q_cls[query_y == label].tolist()
                )
                assert len(cls) == 1, (
                    f"label {label} is given to images of classes {sorted(cls)}: one class "
                    "per label."
                )
            assert len(set(s_cls.tolist())) == 3, "draw N different classes."
            used = set(mark(support_x).tolist()) & set(mark(query_x).tolist())
            assert not used and len(set(mark(support_x).tolist())) == 6, (
                "an image appears twice: draw K + Q different instances of each class, K for the "
                "support set and Q for the query set."
            )
            drawn_classes |= set(s_cls.tolist())
            labels_of_first.add(int(s_cls[support_y == 0][0]))
        assert len(drawn_classes) > 3 and len(labels_of_first) > 1, (
            "every episode draws the same classes: draw them at random with `generator`."
        )

    run_check("Exercise: an N-way K-shot episode", check)


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
        assert isinstance(got, tuple) and len(got) == 2, "return (mean accuracy, half-width)."
        assert abs(float(got[0]) - mean) < 1e-5, (
            f"the mean accuracy over the 21 episodes is {mean:.4f}; got {float(got[0]):.4f}. "
            "Call predict once per batch, in order, and compare with query_y."
        )
        assert abs(float(got[1]) - half) < 1e-5, (
            f"the half-width is {half:.4f}; got {float(got[1]):.4f}: 1.96 times the standard "
            "deviation of the per-episode accuracies over the square root of their number (21 "
            "episodes, not 3 batches)."
        )

    run_check("Exercise: meta-test with an interval", check)
