"""The multi-task ranker and its position shallow tower."""

import pytest
import torch

from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.data.recsys import RecommendationSimulator, evaluate_ranking
from mtml_lib.models.ranking import RankingModel
from mtml_lib.training import fit


@pytest.fixture(scope="module")
def simulator():
    return RecommendationSimulator(num_users=200, num_items=150, generator=0)


def test_ranking_model_adds_the_position_logit_only_in_training(simulator):
    torch.manual_seed(0)
    model = RankingModel(
        in_features=simulator.num_features,
        num_positions=10,
        num_tasks=3,
        backbone="mmoe",
        shallow_tower=True,
        position_dropout=0.0,
    )
    x, _ = simulator.tasks()[0].sample(8, generator=0)
    click = torch.zeros(8, dtype=torch.long)
    with torch.no_grad():
        model.shallow.weight.copy_(torch.arange(10.0).unsqueeze(0))  # logit = position index
        model.shallow.bias.zero_()
        with_position = model(x, click)
        with model.serving_mode():
            served = model(x, click)
        _, _, positions = simulator.decode(x)
        assert torch.allclose(with_position - served, positions.float().unsqueeze(1))
        # like: unbiased
        assert torch.equal(
            model(x, torch.full((8,), 2)), model.backbone(x[:, :-10], torch.full((8,), 2))
        )


def test_the_shallow_tower_removes_position_bias_on_a_small_run(simulator):
    tasks = simulator.tasks()
    data = MultiTaskDataset.sample(tasks, [8000, 2000, 2000], generator=0)
    biases = {}
    for shallow in (False, True):
        torch.manual_seed(0)
        model = RankingModel(
            in_features=simulator.num_features,
            num_positions=10,
            num_tasks=3,
            backbone="multihead",
            shallow_tower=shallow,
            hidden=(32,),
            head_hidden=(8,),
        )
        fit(
            model,
            data,
            steps=400,
            lr=3e-3,
            batch_size=128,
            device="cpu",
            generator=0,
            progress=False,
        )
        with model.serving_mode():
            biases[shallow] = evaluate_ranking(model, simulator, num_users=50)["promoted_bias"]
    assert biases[False] > 0.5  # promoted items look better than they are
    assert biases[True] < 0.5 * biases[False]


def test_ranking_trade_off_between_clicks_and_likes(simulator):
    data = MultiTaskDataset.sample(simulator.tasks(), [8000, 2000, 2000], generator=0)
    torch.manual_seed(0)
    model = RankingModel(
        in_features=simulator.num_features,
        num_positions=10,
        num_tasks=3,
        backbone="multihead",
        shallow_tower=True,
        hidden=(32,),
        head_hidden=(8,),
    )
    fit(model, data, steps=400, lr=3e-3, batch_size=128, device="cpu", generator=0, progress=False)
    with model.serving_mode():
        clicks_only = evaluate_ranking(model, simulator, num_users=50)
        with_likes = evaluate_ranking(model, simulator, num_users=50, like_weight=2.0)
    assert with_likes["top_k_like"] > clicks_only["top_k_like"]
    assert with_likes["top_k_true_ctr"] < clicks_only["top_k_true_ctr"]
