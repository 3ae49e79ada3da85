"""Baselines without meta-learning: nearest neighbour, pretrain and fine-tune."""

import pytest
import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.fewshot import FewShotDataset
from mtml_lib.models.baselines import (
    accuracy_per_episode,
    nearest_neighbour,
    pretrain_encoder,
    train_from_scratch,
)


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


def test_train_from_scratch_on_features_fits_the_embedded_support():
    episode = EpisodeSampler(
        prototypes_dataset(), n_way=5, k_shot=2, n_query=3, batch_size=8, generator=0
    ).sample()
    seen = []

    def embed(images):
        seen.append(images.shape)
        return images.flatten(1)[:, :50]

    logits = train_from_scratch(episode, steps=60, lr=0.05, embed=embed)
    assert logits.shape == (8, 15, 5)
    assert seen == [(8 * 10, 1, 28, 28), (8 * 15, 1, 28, 28)]  # support, then query, at once
    # fitting on features equals fitting on the features as if they were pixels
    flat = episode.to("cpu")
    flat.support_x = embed(episode.support_x.flatten(0, 1)).reshape(8, 10, 1, 1, 50)
    flat.query_x = embed(episode.query_x.flatten(0, 1)).reshape(8, 15, 1, 1, 50)
    torch.testing.assert_close(logits, train_from_scratch(flat, steps=60, lr=0.05))


def test_pretraining_learns_features_that_separate_its_classes():
    """Through heavy noise, where pixels and an untrained encoder are near chance, the pretrained
    features tell the classes apart; the encoder comes back ready to embed (evaluation mode), and
    the generator fixes its weights and batches."""
    from mtml_lib.models.backbones import ConvEncoder

    data = prototypes_dataset(noise=2.0, classes=10)
    episode = EpisodeSampler(
        data, n_way=5, k_shot=1, n_query=3, batch_size=40, generator=1
    ).sample()

    def accuracy(embed=None):
        logits = nearest_neighbour(episode, embed=embed)
        return float(accuracy_per_episode(logits, episode.query_y).mean())

    torch.manual_seed(0)
    untrained = ConvEncoder(channels=(4, 8), out_features=16).eval()
    encoder = pretrain_encoder(data, channels=(4, 8), features=16, steps=40, lr=1e-2, generator=0)
    assert not encoder.training
    assert accuracy() < 0.4 and accuracy(untrained) < 0.4  # chance is 0.2
    assert accuracy(encoder) > 0.9
    again = pretrain_encoder(data, channels=(4, 8), features=16, steps=40, lr=1e-2, generator=0)
    for a, b in zip(encoder.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    ("options", "match"),
    [({"steps": 0}, "`steps`"), ({"batch_size": 0}, "`batch_size`"), ({"lr": 0.0}, "`lr`")],
)
def test_pretrain_encoder_refuses_bad_settings(options, match):
    with pytest.raises(ValueError, match=match):
        pretrain_encoder(prototypes_dataset(), **options)
