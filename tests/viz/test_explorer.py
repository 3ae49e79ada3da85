"""The explorer widget: redraws, fallbacks, and what it ignores."""

import builtins

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
