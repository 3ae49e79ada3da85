"""Plotting helpers. Each takes a matplotlib ``ax`` (or a row of axes), draws,
labels it, and returns it, so notebooks compose figures freely.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_metric_bars({"a": [0.5, 0.9]}, ["t1", "t2"], ax=plt.figure().gca())
    >>> ax.get_ylabel()
    'metric'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..i18n import translate as _

__all__ = ["plot_regression_task", "show_images", "plot_metric_bars", "plot_loss_curves", "smooth"]


def _new_ax(ax):
    return ax if ax is not None else plt.figure().gca()


def plot_regression_task(
    task, *, ax=None, n: int = 40, generator=0, label: str | None = None, color=None
):
    """Samples of a 1-D regression task (dots) and its mean function :math:`E[y \\mid x]` (line)."""
    ax = _new_ax(ax)
    x, y = (t[:, 0].numpy() for t in task.sample(n, generator=generator))
    grid_x, grid_y = (t[:, 0].numpy() for t in task.sample(400, generator=generator))
    order = grid_x.argsort()
    (line,) = ax.plot(grid_x[order], grid_y[order], color=color, label=label or task.name, lw=1.5)
    ax.scatter(x, y, s=12, color=line.get_color(), alpha=0.8)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax


def show_images(
    images,
    *,
    axes,
    titles: Sequence[str] | None = None,
    size: int | None = None,
    cmap: str = "gray_r",
):
    """Draw flat ``(N, size*size)`` or ``(N, H,
    W)`` images into ``axes`` (one each), without ticks.
    """
    images = torch.as_tensor(images).detach().cpu()
    if images.ndim == 2:
        side = size or int(round(images.shape[1] ** 0.5))
        images = images.view(-1, side, side)
    axes = np.ravel(axes)
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i < len(images):
            ax.imshow(
                images[i].reshape(images.shape[-2], images.shape[-1]).numpy(),
                cmap=cmap,
                vmin=0,
                vmax=1,
            )
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
        else:
            ax.axis("off")
    return axes


def plot_metric_bars(
    results: Mapping[str, Sequence[float]],
    task_names: Sequence[str],
    *,
    ax=None,
    ylabel: str = "metric",
    errors: Mapping[str, Sequence[float]] | None = None,
    chance=None,
):
    """Grouped bars: one group per task, one bar per entry of ``results`` (e.g. per model)."""
    ax = _new_ax(ax)
    width = 0.8 / max(1, len(results))
    positions = np.arange(len(task_names))
    for j, (name, values) in enumerate(results.items()):
        err = None if errors is None else errors.get(name)
        ax.bar(
            positions + (j - (len(results) - 1) / 2) * width,
            values,
            width,
            yerr=err,
            label=name,
            capsize=3,
        )
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1, label=_("chance"))
    ax.set_xticks(positions, task_names, rotation=0)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return ax


def smooth(values, window: int) -> np.ndarray:
    """Moving average over ``window`` points (shorter at the start)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or values.size == 0:
        return values
    kernel = np.ones(min(window, values.size))
    return (
        np.convolve(values, kernel, mode="full")[: values.size]
        / np.convolve(np.ones_like(values), kernel, mode="full")[: values.size]
    )


def plot_loss_curves(
    history,
    *,
    ax=None,
    tasks: Sequence[int] | None = None,
    window: int = 20,
    label_prefix: str = "",
    normalize: bool = False,
    log: bool = False,
    **line_kwargs,
):
    """Per-task training losses of a :class:`~mtml_lib.training.History`, smoothed.

    ``normalize=True`` divides each curve by its first value (:math:`L_i(t)/L_i(0)`),
    which puts tasks of very different loss scales on one axis.
    """
    ax = _new_ax(ax)
    losses = history.losses.numpy()
    sampled = history.sampled.numpy()
    for i in tasks if tasks is not None else range(losses.shape[1]):
        steps = np.nonzero(sampled[:, i])[0]
        curve = smooth(losses[steps, i], window)
        if normalize and curve.size:
            curve = curve / curve[0]
        ax.plot(steps + 1, curve, label=f"{label_prefix}{history.task_names[i]}", **line_kwargs)
    ax.set_xlabel("step")
    ax.set_ylabel("loss / initial loss" if normalize else "training loss")
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return ax
