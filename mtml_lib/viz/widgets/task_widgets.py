"""Notebook 01's explorer: a task family's p(x) and p(y|x), sampled as the controls move."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from ...data import digits
from ...data.sinusoids import X_RANGE, sinusoid_task
from ...i18n import N_
from ...i18n import translate as _
from ..explorer import Explorer
from ..plots import plot_regression_task, show_images

__all__ = ["FAMILIES", "draw_task", "task_explorer"]


FAMILIES = (N_("sinusoid regression"), N_("digits: permuted inputs"), N_("digits: attributes"))


def draw_task(
    *,
    family: str,
    amplitude: float = 2.0,
    phase: float = 0.0,
    task: int = 0,
    n: int = 20,
    seed: int = 0,
):
    """Draw one task of a family: samples from :math:`p(x)` and :math:`p(y \\mid x)`.

    * ``sinusoid regression``: a histogram of x (p(x) is shared by every sinusoid)
      and the samples with the mean function (p(y|x) depends on amplitude and phase);
    * ``digits: permuted inputs``: ``n`` (at most 10) images as task ``task`` sees them
      (each task permutes the pixels its own way: a different p(x));
    * ``digits: attributes``: the same images under attribute ``task``'s labels
      (the same p(x), a different p(y|x)).
    """
    if family == "sinusoid regression":
        sin = sinusoid_task(amplitude=amplitude, phase=phase)
        figure, (ax_x, ax_y) = plt.subplots(1, 2, figsize=(8, 2.8))
        x, _labels = sin.sample(max(n, 200), generator=seed)
        ax_x.hist(x[:, 0].numpy(), bins=20, range=X_RANGE, color="tab:gray")
        ax_x.set(title=_("p(x): shared by all sinusoid tasks"), xlabel="x", ylabel="count")
        plot_regression_task(sin, ax=ax_y, n=n, generator=seed)
        ax_y.set(
            title=f"p(y|x): y = {amplitude:.1f} sin(x - {phase:.2f})",  # notation only
            ylim=(-5.5, 5.5),
        )
    elif family in FAMILIES[1:]:
        count = max(1, min(n, 10))
        figure, axes = plt.subplots(1, count, figsize=(0.9 * count, 1.4))
        if family == "digits: permuted inputs":
            view = digits.multitask_classification(num_tasks=task + 1)[task]
            x, y = view.sample(count, generator=seed)
            titles = [str(int(label)) for label in y]
            figure.suptitle(
                _("task {task}: {name} (label: the digit)").format(task=task, name=view.name),
                fontsize=10,
                y=1.12,
            )
        else:
            names = list(digits.ATTRIBUTES)[1:]
            view = digits.multilabel(attributes=[names[task % len(names)]])[0]
            x, y = view.sample(count, generator=seed)
            titles = [_("yes") if int(label) else _("no") for label in y]
            figure.suptitle(
                _("task {task}: is the digit '{name}'?").format(task=task, name=view.name),
                fontsize=10,
                y=1.12,
            )
        show_images(x, axes=axes, titles=titles)
    else:
        raise ValueError(f"`family` must be one of {list(FAMILIES)}; got {family!r}.")
    return figure


def task_explorer(*, seed: int = 0) -> Explorer:
    """Pick a task family and its parameters;
    the samples of :math:`p(x)` and :math:`p(y \\mid x)` update.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {
            "family": FAMILIES[0],
            "amplitude": 2.0,
            "phase": 0.0,
            "task": 0,
            "n": 20,
        }
    else:
        controls = {
            "family": widgets.Dropdown(
                options=[(_(family), family) for family in FAMILIES],
                value=FAMILIES[0],
                description=_("family"),
            ),
            "amplitude": widgets.FloatSlider(
                value=2.0, min=0.1, max=5.0, step=0.1, description=_("amplitude")
            ),
            "phase": widgets.FloatSlider(
                value=0.0, min=0.0, max=3.14, step=0.05, description=_("phase")
            ),
            "task": widgets.IntSlider(value=0, min=0, max=3, description=_("task")),
            "n": widgets.IntSlider(value=20, min=1, max=60, description=_("samples")),
        }

    def visible(values: dict) -> set[str]:
        if values["family"] == FAMILIES[0]:
            return {"family", "amplitude", "phase", "n"}
        return {"family", "task", "n"}

    return Explorer(
        lambda **v: draw_task(seed=seed, **v), controls, visible=visible, title=_("Task explorer")
    )
