"""The recommendation simulator: position bias in the logs, exact ground truth."""

import pytest
import torch

from mtml_lib.data.recsys import RecommendationSimulator


@pytest.fixture(scope="module")
def simulator():
    return RecommendationSimulator(num_users=200, num_items=150, generator=0)


def test_position_bias_is_in_the_logs_not_in_the_truth(simulator):
    g = torch.Generator().manual_seed(0)
    users, items, positions = simulator.log_impressions(4000, g)
    clicks = simulator._clicks(users, items, positions, g)
    relevance = simulator.click_probability(users, items)
    ctr = torch.stack([clicks[positions == j].mean() for j in range(10)])
    rel = torch.stack([relevance[positions == j].mean() for j in range(10)])
    # Clicks per unit of true relevance fall with the position: that is the examination bias.
    ratio = ctr / rel
    assert ratio[0] > 0.9 and ratio[-1] < 0.2 and (ratio[1:] < ratio[:-1] + 0.03).all()
    # The truth has no position argument at all, and promotion does not change it.
    assert (
        abs(
            relevance[simulator.promoted[items]].mean()
            - relevance[~simulator.promoted[items]].mean()
        )
        < 0.1
    )
    # But promoted items are shown higher.
    assert (
        positions[simulator.promoted[items]].float().mean()
        < positions[~simulator.promoted[items]].float().mean() - 2
    )


def test_tasks_decode_their_inputs_exactly(simulator):
    click, watch, like = simulator.tasks()
    x, y = click.sample(300, generator=1)
    users, items, positions = simulator.decode(x)
    assert torch.equal(simulator.features(users, items, positions), x)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    xw, yw = watch.sample(200, generator=2)
    assert yw.shape == (200, 1) and 0.5 < yw.mean() < 3.5
    with pytest.raises(ValueError, match="not in this simulator"):
        like.sample_y(torch.randn(2, simulator.num_features), None)
