"""The negative-transfer experiment the notebook, its explorer and the configs share."""

import pytest
import torch

from mtml_lib.data.synthetic import mmoe_weight_vectors
from mtml_lib.experiments import negative_transfer
from mtml_lib.models.conditioning import count_parameters


def test_the_four_models_are_about_the_same_size():
    sizes = {
        label: count_parameters(negative_transfer.make_model(label, seed=0))
        for label in negative_transfer.MODELS
    }
    assert set(sizes) == {"shared-bottom", "one-gate MoE", "MMoE", "independent"}
    assert min(sizes.values()) >= 7_400 and max(sizes.values()) <= 9_400, sizes


def test_the_tasks_have_the_requested_cosine_and_the_data_reproduces():
    w = mmoe_weight_vectors(0.5, in_features=100, scale=1.0, generator=0)
    assert torch.nn.functional.cosine_similarity(w[:, 0], w[:, 1], dim=0).item() == pytest.approx(
        0.5
    )
    a, _ = negative_transfer.correlated_data(0.5, seed=3, n_train=50, n_test=20)
    b, test = negative_transfer.correlated_data(0.5, seed=3, n_train=50, n_test=20)
    assert torch.equal(a.xs[0], b.xs[0]) and not torch.equal(a.xs[0][:20], test.xs[0])


def test_a_model_trains_and_reports_each_tasks_test_error():
    train, test = negative_transfer.correlated_data(1.0, seed=0, n_train=500, n_test=200)
    _, history = negative_transfer.train_model(
        "shared-bottom", train, test, seed=0, steps=40, device="cpu"
    )
    assert (
        len(history.final_metrics) == 2 and history.losses[-5:].mean() < history.losses[:5].mean()
    )
    with pytest.raises(ValueError, match="`label` must be one of"):
        negative_transfer.make_model("MoME", seed=0)


def test_make_model_without_a_seed_draws_from_the_global_stream():
    from mtml_lib.seeding import seeded

    def first_weight(model):
        return next(model.parameters()).detach().clone()

    with seeded(3):
        drawn = first_weight(negative_transfer.make_model("MMoE", seed=None))
    assert torch.equal(drawn, first_weight(negative_transfer.make_model("MMoE", seed=3)))
    with seeded(4):
        other = first_weight(negative_transfer.make_model("MMoE", seed=None))
    assert not torch.equal(drawn, other)
