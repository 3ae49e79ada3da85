"""Library pieces of notebook 04: the MMoE generator, metrics,
the recommendation simulator, the ranking model.
"""

import math

import pytest
import torch

from mtml_lib.data.multitask import MultiTaskDataset
from mtml_lib.data.recsys import RecommendationSimulator, evaluate_ranking
from mtml_lib.data.synthetic import label_correlation, mmoe_correlated, mmoe_weight_vectors
from mtml_lib.metrics import auc, best_grouping, delta_m, grouping_score, partitions, task_affinity
from mtml_lib.models.ranking import RankingModel
from mtml_lib.training import fit

# --- the MMoE generator --------------------------------------------------------------


@pytest.mark.parametrize("p", [1.0, 0.9, 0.5, 0.0, -0.5, -1.0])
def test_weight_vectors_have_cosine_p_and_norm_c(p):
    w = mmoe_weight_vectors(p, scale=0.3, generator=4)
    assert torch.allclose(w.norm(dim=0), torch.tensor([0.3, 0.3]), atol=1e-6)
    assert abs(torch.nn.functional.cosine_similarity(w[:, 0], w[:, 1], dim=0).item() - p) < 1e-5


def test_labels_follow_the_documented_formula():
    tasks = mmoe_correlated(0.5, in_features=20, noise=0.0, generator=1)
    w = mmoe_weight_vectors(0.5, in_features=20, generator=1)
    generator = torch.Generator().manual_seed(1)
    torch.randn(20, 2, generator=generator, dtype=torch.double)  # the basis draw
    alpha, beta = torch.randn(5, generator=generator), torch.randn(5, generator=generator)
    x = torch.randn(50, 20)
    for k, task in enumerate(tasks):
        projection = x @ w[:, k]
        expected = projection + torch.sin(alpha * projection[:, None] + beta).sum(1)
        assert torch.allclose(task.sample_y(x, None)[:, 0], expected, atol=1e-5)
    noisy = mmoe_correlated(0.5, in_features=20, noise=0.1, generator=1)[0]
    residual = noisy.sample_y(x, torch.Generator().manual_seed(0)) - tasks[0].sample_y(x, None)
    assert 0.07 < residual.std().item() < 0.13


def test_label_correlation_moves_with_p_and_runs_reproduce():
    corr = [
        label_correlation(mmoe_correlated(p, generator=0))[0, 1].item() for p in (1.0, 0.5, 0.0)
    ]
    assert corr[0] > 0.99 and corr[0] > corr[1] > corr[2]
    a = mmoe_correlated(0.3, generator=7)[1].sample(10, generator=2)
    b = mmoe_correlated(0.3, generator=7)[1].sample(10, generator=2)
    assert torch.equal(a[1], b[1])


def test_more_tasks_with_a_cosine_matrix():
    cosines = torch.tensor([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 1.0]])
    w = mmoe_weight_vectors(cosines, generator=0)
    assert torch.allclose(
        torch.nn.functional.normalize(w, dim=0).T @ torch.nn.functional.normalize(w, dim=0),
        cosines,
        atol=1e-5,
    )
    assert len(mmoe_correlated(cosines)) == 3
    with pytest.raises(ValueError, match="positive semi-definite"):
        mmoe_weight_vectors(torch.tensor([[1.0, 1.5], [1.5, 1.0]]))
    with pytest.raises(
        ValueError, match=r"`correlation` must be a number >= -1.0 and <= 1.0; got 1.2"
    ):
        mmoe_correlated(1.2)


# --- metrics --------------------------------------------------------------------------


def test_delta_m_sign_convention():
    # accuracy up 10% on task 1 (higher is better), MSE up 10% on task 2 (lower is better): they
    # cancel.
    assert delta_m([0.88, 1.1], [0.8, 1.0], higher_is_better=[True, False]) == pytest.approx(0.0)
    assert delta_m([0.9], [1.0], higher_is_better=[False]) == pytest.approx(
        0.1
    )  # lower MSE: positive
    assert delta_m([1.2], [1.0], higher_is_better=[False]) == pytest.approx(
        -0.2
    )  # negative transfer
    with pytest.raises(ValueError, match="one entry per task"):
        delta_m([1.0], [1.0, 2.0], higher_is_better=[True])
    with pytest.raises(ValueError, match="non-zero"):
        delta_m([1.0], [0.0], higher_is_better=[True])


def test_auc_against_the_pairwise_definition():
    g = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 5, (60,), generator=g).float()  # many ties
    labels = torch.randint(0, 2, (60,), generator=g)
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]).float() + 0.5 * (pos[:, None] == neg[None, :]).float()
    assert auc(scores, labels) == pytest.approx(pairs.mean().item())
    assert math.isnan(auc(torch.ones(3), torch.ones(3)))


def test_task_affinity_is_a_one_step_lookahead():
    theta = torch.nn.Parameter(torch.tensor([1.0, 1.0]))

    def losses():  # task 0 and 1 both want theta[0] = 0; task 2 wants theta[0] = 2
        return torch.stack([theta[0] ** 2, theta[0] ** 2 + theta[1] ** 2, (theta[0] - 2) ** 2])

    before = losses().detach()
    z = task_affinity(losses, [theta], lr=0.1)
    # by hand: a step on task 0 moves theta[0] from 1 to 0.8
    after = torch.tensor([0.8**2, 0.8**2 + 1.0, 1.2**2])
    assert torch.allclose(z[0], 1 - after / before)
    assert z[0, 1] > 0 and z[0, 2] < 0 and z[2, 0] < 0
    assert torch.equal(theta.detach(), torch.tensor([1.0, 1.0]))  # restored


def test_partitions_and_best_grouping():
    assert len(list(partitions(range(4)))) == 15  # Bell(4)
    assert (
        all(len(p) <= 2 for p in partitions(range(5), 2))
        and len(list(partitions(range(5), 2))) == 16
    )
    affinity = torch.tensor(
        [
            [0.0, 0.5, -0.2, -0.3],
            [0.4, 0.0, -0.1, -0.2],
            [-0.3, -0.2, 0.0, 0.6],
            [-0.1, -0.3, 0.5, 0.0],
        ]
    )
    assert best_grouping(affinity, max_groups=2) == [[0, 1], [2, 3]]
    assert grouping_score(affinity, [[0, 1], [2, 3]]) == pytest.approx(0.4 + 0.5 + 0.5 + 0.6)
    with pytest.raises(ValueError, match="square"):
        best_grouping(torch.zeros(2, 3), max_groups=2)


# --- the recommendation simulator and the ranking model ------------------------------


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
        assert torch.equal(
            model(x, torch.full((8,), 2)), model.backbone(x[:, :-10], torch.full((8,), 2))
        )  # like: unbiased


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
