"""Sinusoid tasks (MAML's ranges, related sinusoids) and sinusoid episodes."""

import math

import pytest
import torch

from mtml_lib import tasks as T
from mtml_lib.data.sinusoids import (
    SinusoidEpisodeSampler,
    sample_sinusoid_batch,
    sinusoid_task,
    sinusoid_tasks,
)


def test_sinusoid_family_uses_mamls_ranges():
    tasks = sinusoid_tasks(200, generator=0)
    assert T.shared_components(tasks)["p(x)"]
    batch = sample_sinusoid_batch(500, 10, generator=0)
    assert batch["x"].shape == (500, 10, 1)
    assert batch["amplitude"].min() >= 0.1 and batch["amplitude"].max() <= 5.0
    assert batch["phase"].min() >= 0 and batch["phase"].max() <= math.pi
    expected = batch["amplitude"][:, None, None] * torch.sin(
        batch["x"] - batch["phase"][:, None, None]
    )
    assert torch.allclose(batch["y"], expected)
    with pytest.raises(ValueError, match="`x_range` must be \\(low, high\\) with low < high"):
        sinusoid_task(amplitude=1.0, phase=0.0, x_range=(1.0, -1.0))


@pytest.mark.parametrize("relatedness", [1.0, 0.3, 0.0, -0.6, -1.0])
def test_related_sinusoids_have_the_requested_correlation(relatedness):
    from mtml_lib.data.sinusoids import related_sinusoids

    a, b = related_sinusoids(2, relatedness=relatedness, noise=0.0)
    x = torch.linspace(-math.pi, math.pi, 20001)[:-1, None]  # one full period, evenly spaced
    ya, yb = a.sample_y(x, None)[:, 0], b.sample_y(x, None)[:, 0]
    correlation = torch.corrcoef(torch.stack([ya, yb]))[0, 1]
    assert abs(correlation.item() - relatedness) < 1e-3
    assert T.regime([a, b]) == "multi-label learning"


def test_related_sinusoids_noise_and_errors():
    from mtml_lib.data.sinusoids import related_sinusoids

    noisy, clean = (
        related_sinusoids(4, relatedness=0.5, noise=0.3),
        related_sinusoids(4, relatedness=0.5, noise=0.0),
    )
    x, y = noisy[3].sample(5000, generator=0)
    residual = y - clean[3].sample_y(x, None)
    assert abs(residual.std().item() - 0.3) < 0.02
    with pytest.raises(
        ValueError, match=r"`relatedness` must be a number >= -1.0 and <= 1.0; got 1.5"
    ):
        related_sinusoids(4, relatedness=1.5)
    with pytest.raises(ValueError, match="`num_tasks` must be an integer >= 2"):
        related_sinusoids(1, relatedness=0.0)


def test_sinusoid_episodes(device):
    sampler = SinusoidEpisodeSampler(
        k_shot=5, n_query=10, batch_size=100, device=device, generator=0
    )
    episode = sampler.sample()
    assert episode.support_x.shape == (100, 5, 1) and episode.query_y.shape == (100, 10, 1)
    x = torch.cat([episode.support_x, episode.query_x], 1)
    y = torch.cat([episode.support_y, episode.query_y], 1)
    assert torch.allclose(
        y, episode.amplitude[:, None, None] * torch.sin(x - episode.phase[:, None, None])
    )
    assert (
        x.min() >= -5
        and x.max() <= 5
        and episode.amplitude.min() >= 0.1
        and episode.phase.max() <= math.pi
    )
