"""The MMoE paper's correlated tasks and GradNorm's loss-scale toy."""

import pytest
import torch

from mtml_lib.data.synthetic import label_correlation, mmoe_correlated, mmoe_weight_vectors


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


def test_loss_scale_toy_follows_the_paper():
    from mtml_lib.data.synthetic import loss_scale_toy

    small, large = loss_scale_toy((1.0, 100.0), in_features=30, out_features=8, generator=0)
    x, y_small = small.sample(400, generator=1)
    assert torch.allclose(x.norm(dim=1), torch.ones(400), atol=1e-5)  # unit-length inputs
    y_large = large.sample_y(x, None)
    assert y_small.abs().max() <= 1.0 and y_large.abs().max() <= 100.0
    ratio = (y_large**2).mean() / (y_small**2).mean()
    assert 5e3 < ratio < 2e4  # losses differ by about sigma^2 = 1e4
    # Same family under the same seed; the tasks differ only through eps_i and sigma_i.
    again = loss_scale_toy((1.0, 100.0), in_features=30, out_features=8, generator=0)[0]
    assert torch.equal(again.sample_y(x, None), y_small)
    with pytest.raises(ValueError, match=r"`sigmas\[1\]` must be a number > 0.0; got -1.0"):
        loss_scale_toy((1.0, -1.0))
