"""Baselines without meta-learning: nearest neighbour and per-episode training."""

import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.models.baselines import accuracy_per_episode, nearest_neighbour, train_from_scratch


def prototypes_dataset(noise=0.3, classes=10):
    """Each class is a random template plus noise:
    easy for anything that learns from the support set.
    """
    g = torch.Generator().manual_seed(0)
    templates = torch.rand(classes, 1, 28, 28, generator=g)
    return FewShotDataset(
        (templates + noise * torch.randn(classes, 8, 28, 28, generator=g)).clamp(0, 1),
        alphabets=["a"] * classes,
    )


def test_nearest_neighbour_against_brute_force():
    episode = EpisodeSampler(
        prototypes_dataset(noise=1.0), n_way=4, k_shot=2, n_query=3, batch_size=6, generator=0
    ).sample()
    logits = nearest_neighbour(episode)
    for b in range(6):
        for q in range(12):
            distances = [((episode.query_x[b, q] - s) ** 2).sum() for s in episode.support_x[b]]
            assert (
                logits[b, q].argmax() == episode.support_y[b, int(torch.stack(distances).argmin())]
            )
    embedded = nearest_neighbour(episode, embed=lambda x: x.flatten(1)[:, :10])
    assert embedded.shape == logits.shape


def test_train_from_scratch_learns_each_episode_alone():
    episode = EpisodeSampler(
        prototypes_dataset(), n_way=5, k_shot=2, n_query=3, batch_size=20, generator=0
    ).sample()
    accuracy = accuracy_per_episode(train_from_scratch(episode, steps=60, lr=0.05), episode.query_y)
    assert accuracy.shape == (20,) and accuracy.mean() > 0.6  # chance is 0.2
    # Each episode's classifier only ever sees its own support set: relabelling another episode
    # changes nothing.
    swapped = episode.to("cpu")
    swapped.support_y = swapped.support_y.clone()
    swapped.support_y[1] = (swapped.support_y[1] + 1) % 5
    again = train_from_scratch(swapped, steps=60, lr=0.05)
    assert torch.allclose(again[0], train_from_scratch(episode, steps=60, lr=0.05)[0], atol=1e-5)
