import builtins

import pytest

from mtml_lib.viz import widgets


def test_explorer_redraws_when_a_control_moves():
    explorer = widgets.task_explorer()
    assert explorer.draws == 1 and explorer.params["family"] == "sinusoid regression"
    explorer.controls["amplitude"].value = 4.0  # what a slider drag does in the browser
    assert explorer.draws == 2 and explorer.params["amplitude"] == 4.0
    assert "4.0 sin" in explorer.figure.axes[1].get_title()


def test_explorer_ignores_a_value_echoed_back_with_float_noise():
    explorer = widgets.task_explorer()
    # Chromium snaps 2.0 to its slider grid and sends back 2.0000000000000004: not a new value.
    explorer.controls["amplitude"].value = 2.0000000000000004
    assert explorer.controls["amplitude"].value != 2.0
    assert explorer.draws == 1
    explorer.controls["amplitude"].value = 2.1
    assert explorer.draws == 2 and explorer.params["amplitude"] == 2.1


def test_explorer_shows_only_the_controls_that_matter():
    explorer = widgets.task_explorer()
    assert explorer.controls["task"].layout.display == "none"
    explorer.controls["family"].value = "digits: permuted inputs"
    assert explorer.controls["task"].layout.display is None
    assert explorer.controls["amplitude"].layout.display == "none"
    explorer.controls["task"].value = 2
    assert "permutation_2" in explorer.figure.texts[0].get_text()


def test_explorer_bundle_has_the_widget_and_a_static_fallback():
    bundle = widgets.task_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"].startswith(b"\x89PNG")
    assert bundle["text/plain"].startswith("Explorer('Task explorer'")


def test_explorer_without_ipywidgets_is_a_picture(monkeypatch):
    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name.startswith("ipywidgets"):
            raise ImportError("no ipywidgets here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    explorer = widgets.task_explorer()
    assert explorer.widget is None
    assert set(explorer._repr_mimebundle_()) == {"text/plain", "image/png"}


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
    assert (
        "sum: hurts task 2" in explorer.figure.axes[0].get_title()
    )  # the default: a short, opposed g2
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
