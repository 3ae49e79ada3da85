"""The notebooks' explorers, driven without a browser."""

import pytest

from mtml_lib.viz import widgets


@pytest.mark.parametrize("family", widgets.FAMILIES)
def test_every_family_draws(family):
    figure = widgets.draw_task(family=family, task=3, n=5)
    assert figure.axes


def test_unknown_family():
    with pytest.raises(ValueError, match="`family` must be one of"):
        widgets.draw_task(family="audio")


def test_conditioning_explorer_retrains_on_change():
    explorer = widgets.conditioning_explorer(steps=20)
    assert explorer.params == {"choice": "multihead", "relatedness": 0.0}
    explorer.controls["choice"].value = "shared"
    explorer.controls["relatedness"].value = -1.0
    assert explorer.draws == 3
    assert (
        explorer.figure.texts[0].get_text().startswith("shared, relatedness -1.00: mean test MSE")
    )


def test_correlation_explorer_trains_the_chosen_model():
    explorer = widgets.correlation_explorer(n_train=200, steps=20)
    explorer.controls["model"].value = "shared-bottom"
    explorer.controls["correlation"].value = -0.5
    assert explorer.draws == 3
    assert (
        explorer.figure.axes[0]
        .get_title()
        .startswith("shared-bottom, p = -0.50, seed 0: final test MSE")
    )


def test_episode_explorer_draws_the_chosen_episode():
    import torch

    from mtml_lib.data.fewshot import FewShotDataset

    data = FewShotDataset(torch.rand(12, 6, 28, 28), alphabets=["x"] * 6 + ["y"] * 6)
    explorer = widgets.episode_explorer(data)
    assert explorer.params["alphabet"] == "any alphabet"
    explorer.controls["alphabet"].value = "y"
    explorer.controls["n_way"].value = 3
    assert explorer.draws == 3
    assert explorer.figure.texts[0].get_text() == "3-way 1-shot episode from y"


def test_gradient_explorer_redraws_and_reports_conflict():
    explorer = widgets.gradient_explorer()
    # the default: a short, opposed g2
    assert "sum: hurts task 2" in explorer.figure.axes[0].get_title()
    explorer.controls["angle"].value = 30.0
    assert explorer.draws == 2 and "sum: helps both" in explorer.figure.axes[0].get_title()


def test_prediction_explorer_shows_the_learners_answers():
    import torch

    from mtml_lib.data.fewshot import FewShotDataset
    from mtml_lib.models.blackbox import get_blackbox

    data = FewShotDataset(torch.rand(8, 5, 28, 28), alphabets=["a"] * 8)
    learner = get_blackbox("hypernetwork", n_way=3, features=8, channels=(4,))
    explorer = widgets.prediction_explorer(learner, data, n_way=3, k_shot=1)
    explorer.controls["episode"].value = 5
    assert explorer.draws == 2
    assert explorer.figure.texts[0].get_text().startswith("episode 5:")
