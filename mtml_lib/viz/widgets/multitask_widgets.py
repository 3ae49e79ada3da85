"""Notebooks 02 to 04's explorers: conditioning choices, negative transfer, gradient combinations.

Each drawing function only draws; what it trains comes from :mod:`mtml_lib.experiments`."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from ...experiments import negative_transfer
from ...experiments.sinusoid_conditioning import fit_related_sinusoids
from ...i18n import translate as _
from ...models.conditioning import CONDITIONING
from ...weighting.cagrad import cagrad
from ...weighting.mgda import min_norm_weights
from ...weighting.pcgrad import pcgrad
from ..explorer import Explorer
from ..plots import plot_loss_curves

__all__ = [
    "draw_conditioning",
    "conditioning_explorer",
    "draw_correlation_run",
    "correlation_explorer",
    "draw_gradients",
    "gradient_explorer",
]


def draw_conditioning(
    *,
    choice: str,
    relatedness: float,
    num_tasks: int = 4,
    n_train: int = 20,
    steps: int = 300,
    seed: int = 0,
    device: str = "auto",
):
    """Train conditioning ``choice`` on :func:`~mtml_lib.data.synthetic.related_sinusoids`
    and plot its predictions for one task of each group against the truth.

    The figure's title gives the average test MSE against the true functions.
    """
    run = fit_related_sinusoids(
        choice,
        relatedness=relatedness,
        num_tasks=num_tasks,
        n_train=n_train,
        steps=steps,
        seed=seed,
        device=device,
    )
    model, train, truth, history = run.model, run.train, run.truth, run.history
    grid = torch.linspace(-math.pi, math.pi, 200)[:, None]
    model.eval()
    figure, axes = plt.subplots(1, 2, figsize=(9, 2.8), sharey=True)
    with torch.no_grad():
        for ax, task in zip(axes, (0, 1)):
            device_ = next(model.parameters()).device
            prediction = model(grid.to(device_), torch.full((200,), task, device=device_)).cpu()
            ax.plot(
                grid[:, 0].numpy(),
                truth[task].sample_y(grid, None)[:, 0].numpy(),
                color="gray",
                lw=2,
                label=_("true function"),
            )
            ax.scatter(
                train.xs[task][:, 0].numpy(),
                train.ys[task][:, 0].numpy(),
                s=12,
                color="black",
                label=_("training data"),
            )
            ax.plot(
                grid[:, 0].numpy(),
                prediction[:, 0].numpy(),
                color="tab:red",
                label=_("{choice} model").format(choice=choice),
            )
            ax.set(title=_("task {name}").format(name=train.task_names[task]), xlabel="x")
    axes[0].set_ylabel("y")
    axes[0].legend(fontsize=7, loc="lower left")
    figure.suptitle(
        _("{choice}, relatedness {relatedness:+.2f}: mean test MSE {mse:.3f}").format(
            choice=choice, relatedness=relatedness, mse=np.mean(history.final_metrics)
        ),
        fontsize=10,
        y=1.03,
    )
    return figure


def conditioning_explorer(
    *, seed: int = 0, num_tasks: int = 4, n_train: int = 20, steps: int = 300, device: str = "auto"
) -> Explorer:
    """Pick a conditioning choice and how related the tasks are;
    a small model trains and is plotted.
    """
    choices = sorted(CONDITIONING)
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"choice": "multihead", "relatedness": 0.0}
    else:
        controls = {
            "choice": widgets.Dropdown(options=choices, value="multihead", description=_("choice")),
            "relatedness": widgets.FloatSlider(
                value=0.0,
                min=-1.0,
                max=1.0,
                step=0.25,
                description=_("relatedness"),
                continuous_update=False,
            ),
        }
    return Explorer(
        lambda **v: draw_conditioning(
            num_tasks=num_tasks, n_train=n_train, steps=steps, seed=seed, device=device, **v
        ),
        controls,
        title=_("Conditioning explorer (each change trains a model: about a second)"),
    )


def draw_correlation_run(
    *,
    correlation: float,
    model: str,
    seed: int = 0,
    n_train: int = 5000,
    steps: int = 600,
    device: str = "auto",
):
    """Train one model of :data:`~mtml_lib.experiments.negative_transfer.MODELS` on the correlated
    tasks
    with correlation ``correlation`` and plot both tasks' training and test losses."""
    train, test = negative_transfer.correlated_data(
        correlation, seed=seed, n_train=n_train, n_test=1000
    )
    _model, history = negative_transfer.train_model(
        model, train, test, seed=seed, steps=steps, device=device, eval_every=max(1, steps // 10)
    )
    figure, ax = plt.subplots(figsize=(7, 3))
    plot_loss_curves(history, ax=ax, window=25, label_prefix=_("train "), log=True)
    tests = torch.tensor(history.eval_metrics)
    for k in range(2):
        ax.plot(
            history.eval_steps,
            tests[:, k].numpy(),
            "o--",
            label=_("test {name}").format(name=history.task_names[k]),
        )
    ax.legend(fontsize=7)
    ax.set_title(
        _("{model}, p = {correlation:+.2f}, seed {seed}: final test MSE {mse:.3f}").format(
            model=model, correlation=correlation, seed=seed, mse=tests[-1].mean().item()
        ),
        fontsize=10,
    )
    return figure


def correlation_explorer(
    *, device: str = "auto", n_train: int = 5000, steps: int = 600
) -> Explorer:
    """Pick the task correlation, a model and a seed;
    the model trains (a second or two) and its curves are drawn.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"correlation": 0.5, "model": "MMoE", "seed": 0}
    else:
        controls = {
            "correlation": widgets.FloatSlider(
                value=0.5, min=-1.0, max=1.0, step=0.1, description="p", continuous_update=False
            ),
            "model": widgets.Dropdown(
                options=list(negative_transfer.MODELS), value="MMoE", description=_("model")
            ),
            "seed": widgets.IntSlider(
                value=0, min=0, max=9, description=_("seed"), continuous_update=False
            ),
        }
    return Explorer(
        lambda **v: draw_correlation_run(n_train=n_train, steps=steps, device=device, **v),
        controls,
        title=_("Negative transfer explorer (each change trains a model)"),
    )


def draw_gradients(*, angle: float = 150.0, ratio: float = 0.5, c: float = 0.5):
    """Two task gradients (``g1`` of length 1, ``g2`` at ``angle`` degrees, ``ratio`` times as long)
    and the update four methods make of them: the sum, PCGrad, MGDA and CAGrad."""
    theta = math.radians(angle)
    g = torch.tensor([[1.0, 0.0], [ratio * math.cos(theta), ratio * math.sin(theta)]])
    updates = {
        "sum": g.sum(0),
        "PCGrad": pcgrad(g),
        "MGDA": min_norm_weights(g) @ g,
        f"CAGrad (c={c:.2f})": cagrad(g, c)[0],
    }
    figure, ax = plt.subplots(figsize=(5.2, 4))
    for vector, label, color in ((g[0], "g1", "tab:blue"), (g[1], "g2", "tab:orange")):
        ax.annotate(
            "",
            xy=vector.tolist(),
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "lw": 2, "color": color},
        )
        ax.text(*(1.1 * vector).tolist(), label, color=color)
    verdicts = []
    for (name, u), color in zip(updates.items(), ("black", "tab:green", "tab:red", "tab:purple")):
        ax.annotate(
            "",
            xy=u.tolist(),
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "lw": 1.5, "color": color, "ls": "--"},
        )
        ax.plot([], [], color=color, ls="--", label=name)
        hurts = [i + 1 for i in range(2) if float(u @ g[i]) < -1e-9]
        verdict = _("hurts task {task}").format(task=hurts[0]) if hurts else _("helps both")
        verdicts.append(f"{name}: {verdict}")
    reach = 1.2 * max(1.0, ratio, *(float(u.norm()) for u in updates.values()))
    ax.set(
        xlim=(-reach, reach),
        ylim=(-0.4 * reach, reach),
        aspect="equal",
        title=f"cos(g1, g2) = {math.cos(theta):+.2f}\n" + "; ".join(verdicts),
    )
    ax.title.set_fontsize(8)
    ax.axhline(0, color="lightgray", lw=0.8)
    ax.axvline(0, color="lightgray", lw=0.8)
    ax.legend(fontsize=7, loc="lower left")
    return figure


def gradient_explorer() -> Explorer:
    """Move the angle and the length ratio of two task gradients;
    see what each method makes of them.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"angle": 150.0, "ratio": 0.5, "c": 0.5}
    else:
        controls = {
            "angle": widgets.FloatSlider(
                value=150.0, min=0.0, max=180.0, step=5.0, description=_("angle (deg)")
            ),
            "ratio": widgets.FloatSlider(
                value=0.5, min=0.1, max=3.0, step=0.1, description="|g2| / |g1|"
            ),
            "c": widgets.FloatSlider(value=0.5, min=0.0, max=0.9, step=0.1, description="CAGrad c"),
        }
    return Explorer(draw_gradients, controls, title=_("Gradient combination explorer"))
