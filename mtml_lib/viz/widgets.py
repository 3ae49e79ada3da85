"""Interactive explorers for demonstrating a concept live (ipywidgets, imported lazily).

An :class:`Explorer` is a row of controls and a plot that is redrawn whenever a
control changes. In JupyterLab it shows as the live widget; where no widget
frontend is present (a static HTML export, a notebook viewer) it shows as a
picture of its current state, and without ipywidgets installed it still draws
that picture. The drawing function is an ordinary function of the control
values, so it is tested without a browser.

Example:
    >>> explorer = task_explorer()
    >>> explorer.params["family"]
    'sinusoid regression'
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import torch

from ..data import digits
from ..data.synthetic import X_RANGE, related_sinusoids, sinusoid_task
from ..tasks import multilabel, multitask_classification
from .plots import plot_regression_task, show_images

__all__ = ["Explorer", "task_explorer", "draw_task", "conditioning_explorer", "draw_conditioning",
           "correlation_explorer", "draw_correlation_run", "CORRELATION_MODELS", "episode_explorer", "draw_episode",
           "gradient_explorer", "draw_gradients", "prediction_explorer", "draw_predictions"]


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return numbers and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


class Explorer:
    """Controls plus a figure that ``draw(**values)`` redraws on every change.

    Args:
        draw: ``draw(**values) -> matplotlib Figure``.
        controls: maps each argument of ``draw`` to an ipywidgets control, or,
            when ipywidgets is missing, to its fixed value.
        visible: optional ``visible(values) -> set of control names`` to show only
            the controls that matter for the current values.
        title: a heading shown above the controls.

    Attributes:
        params: the values of the last draw.
        figure: the last figure drawn.
        draws: how many times the figure has been drawn.
    """

    def __init__(self, draw: Callable[..., Any], controls: dict[str, Any], *,
                 visible: Callable[[dict], set[str]] | None = None, title: str = ""):
        self._draw = draw
        self._visible = visible
        self.title = title
        self.controls = controls
        self.draws = 0
        self.figure = None
        self.params: dict[str, Any] = {}
        try:
            import ipywidgets as widgets
        except ImportError:  # degrade to a static picture
            self.widget = None
            self.output = None
        else:
            self.output = widgets.Output()
            header = [widgets.HTML(f"<b>{title}</b>")] if title else []
            for control in controls.values():  # full width each; a narrow page wraps them onto more rows
                control.layout.flex = "0 0 auto"
            row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
            self.widget = widgets.VBox([*header, row, self.output])
            for control in controls.values():
                control.observe(self._on_change, names="value")
        self.redraw()

    def values(self) -> dict[str, Any]:
        return {name: getattr(c, "value", c) for name, c in self.controls.items()}

    def _on_change(self, change):
        # A browser snaps a float slider to its own step grid and sends the value back (2.0 comes back as
        # 2.0000000000000004): that is not a new value, and redrawing for it can mean retraining a model.
        values = self.values()
        if all(_same(value, self.params.get(name)) for name, value in values.items()):
            return
        self.redraw()

    def redraw(self):
        """Draw with the current control values; return the figure."""
        self.params = self.values()
        if self._visible is not None and self.widget is not None:
            shown = self._visible(self.params)
            for name, control in self.controls.items():
                control.layout.display = None if name in shown else "none"
        figure = self._draw(**self.params)
        plt.close(figure)  # drawn on demand below; left open, the inline backend would show it again
        self.figure = figure
        self.draws += 1
        if self.output is not None and _in_kernel():
            from IPython.display import display

            with self.output:
                self.output.clear_output(wait=True)
                display(figure)
        return figure

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({self.title!r}: {shown})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The live widget where a widget frontend exists; otherwise the richest
        # fallback a viewer understands, a picture of the current state.
        bundle = {"text/plain": repr(self), "image/png": _png(self.figure)}
        if self.widget is not None:
            widget_bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
            widget_bundle.pop("text/plain", None)
            bundle.update(widget_bundle)
        return bundle


FAMILIES = ("sinusoid regression", "digits: permuted inputs", "digits: attributes")


def draw_task(*, family: str, amplitude: float = 2.0, phase: float = 0.0, task: int = 0, n: int = 20, seed: int = 0):
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
        x, _ = sin.sample(max(n, 200), generator=seed)
        ax_x.hist(x[:, 0].numpy(), bins=20, range=X_RANGE, color="tab:gray")
        ax_x.set(title="p(x): shared by all sinusoid tasks", xlabel="x", ylabel="count")
        plot_regression_task(sin, ax=ax_y, n=n, generator=seed)
        ax_y.set(title=f"p(y|x): y = {amplitude:.1f} sin(x - {phase:.2f})", ylim=(-5.5, 5.5))
    elif family in FAMILIES[1:]:
        count = max(1, min(n, 10))
        figure, axes = plt.subplots(1, count, figsize=(0.9 * count, 1.4))
        if family == "digits: permuted inputs":
            view = multitask_classification(num_tasks=task + 1)[task]
            x, y = view.sample(count, generator=seed)
            titles = [str(int(label)) for label in y]
            figure.suptitle(f"task {task}: {view.name} (label: the digit)", fontsize=10, y=1.12)
        else:
            names = list(digits.ATTRIBUTES)[1:]
            view = multilabel(attributes=[names[task % len(names)]])[0]
            x, y = view.sample(count, generator=seed)
            titles = ["yes" if int(label) else "no" for label in y]
            figure.suptitle(f"task {task}: is the digit '{view.name}'?", fontsize=10, y=1.12)
        show_images(x, axes=axes, titles=titles)
    else:
        raise ValueError(f"`family` must be one of {list(FAMILIES)}; got {family!r}.")
    return figure


def task_explorer(*, seed: int = 0) -> Explorer:
    """Pick a task family and its parameters; the samples of :math:`p(x)` and :math:`p(y \\mid x)` update."""
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"family": FAMILIES[0], "amplitude": 2.0, "phase": 0.0, "task": 0, "n": 20}
    else:
        controls = {
            "family": widgets.Dropdown(options=FAMILIES, value=FAMILIES[0], description="family"),
            "amplitude": widgets.FloatSlider(value=2.0, min=0.1, max=5.0, step=0.1, description="amplitude"),
            "phase": widgets.FloatSlider(value=0.0, min=0.0, max=3.14, step=0.05, description="phase"),
            "task": widgets.IntSlider(value=0, min=0, max=3, description="task"),
            "n": widgets.IntSlider(value=20, min=1, max=60, description="samples"),
        }

    def visible(values: dict) -> set[str]:
        if values["family"] == FAMILIES[0]:
            return {"family", "amplitude", "phase", "n"}
        return {"family", "task", "n"}

    return Explorer(lambda **v: draw_task(seed=seed, **v), controls, visible=visible, title="Task explorer")


def draw_conditioning(*, choice: str, relatedness: float, num_tasks: int = 4, n_train: int = 20, steps: int = 300,
                      seed: int = 0, device: str = "auto"):
    """Train conditioning ``choice`` on :func:`~mtml_lib.data.synthetic.related_sinusoids`
    and plot its predictions for one task of each group against the truth.

    The figure's title gives the average test MSE against the true functions.
    """

    import numpy as np

    from ..data.multitask import MultiTaskDataset
    from ..models.conditioning import get_conditioned_model
    from ..training import fit

    train = MultiTaskDataset.sample(related_sinusoids(num_tasks, relatedness=relatedness), n_train, generator=seed)
    truth = related_sinusoids(num_tasks, relatedness=relatedness, noise=0.0)
    test = MultiTaskDataset.sample(truth, 400, generator=seed + 1)
    torch.manual_seed(seed)
    model = get_conditioned_model(choice, in_features=1, out_features=1, num_tasks=num_tasks)
    history = fit(model, train, "equal", steps=steps, lr=3e-3, device=device, generator=seed, eval_data=test,
                  progress=False)
    grid = torch.linspace(-math.pi, math.pi, 200)[:, None]
    model.eval()
    figure, axes = plt.subplots(1, 2, figsize=(9, 2.8), sharey=True)
    with torch.no_grad():
        for ax, task in zip(axes, (0, 1)):
            device_ = next(model.parameters()).device
            prediction = model(grid.to(device_), torch.full((200,), task, device=device_)).cpu()
            ax.plot(grid[:, 0].numpy(), truth[task].sample_y(grid, None)[:, 0].numpy(), color="gray", lw=2,
                    label="true function")
            ax.scatter(train.xs[task][:, 0].numpy(), train.ys[task][:, 0].numpy(), s=12, color="black",
                       label="training data")
            ax.plot(grid[:, 0].numpy(), prediction[:, 0].numpy(), color="tab:red", label=f"{choice} model")
            ax.set(title=f"task {train.task_names[task]}", xlabel="x")
    axes[0].set_ylabel("y")
    axes[0].legend(fontsize=7, loc="lower left")
    figure.suptitle(f"{choice}, relatedness {relatedness:+.2f}: mean test MSE {np.mean(history.final_metrics):.3f}",
                    fontsize=10, y=1.03)
    return figure


def conditioning_explorer(*, seed: int = 0, num_tasks: int = 4, n_train: int = 20, steps: int = 300,
                          device: str = "auto") -> Explorer:
    """Pick a conditioning choice and how related the tasks are; a small model trains and is plotted."""
    from ..models.conditioning import CONDITIONING

    choices = sorted(CONDITIONING)
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"choice": "multihead", "relatedness": 0.0}
    else:
        controls = {
            "choice": widgets.Dropdown(options=choices, value="multihead", description="choice"),
            "relatedness": widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.25, description="relatedness",
                                               continuous_update=False),
        }
    return Explorer(lambda **v: draw_conditioning(num_tasks=num_tasks, n_train=n_train, steps=steps, seed=seed,
                                                  device=device, **v),
                    controls, title="Conditioning explorer (each change trains a model: about a second)")


#: The models of notebook 04's negative-transfer study: name -> (registry name, options).
CORRELATION_MODELS = {
    "shared-bottom": ("multihead", {"hidden": (80,), "head_hidden": (8,)}),
    "one-gate MoE": ("moe", {"hidden": (8,), "num_experts": 8, "tower_hidden": (8,)}),
    "MMoE": ("mmoe", {"hidden": (8,), "num_experts": 8, "tower_hidden": (8,)}),
    "independent": ("independent", {"hidden": (40, 8)}),
}


def draw_correlation_run(*, correlation: float, model: str, seed: int = 0, n_train: int = 5000, steps: int = 600,
                         device: str = "auto"):
    """Train one model of :data:`CORRELATION_MODELS` on :func:`~mtml_lib.data.synthetic.mmoe_correlated`
    tasks with correlation ``correlation`` and plot both tasks' training and test losses."""
    from ..data.multitask import MultiTaskDataset
    from ..data.synthetic import mmoe_correlated
    from ..models.conditioning import get_conditioned_model
    from ..training import fit
    from .plots import plot_loss_curves

    tasks = mmoe_correlated(correlation, scale=1.0, generator=0)
    train = MultiTaskDataset.sample(tasks, n_train, generator=seed)
    test = MultiTaskDataset.sample(tasks, 1000, generator=seed + 100)
    name, options = CORRELATION_MODELS[model]
    torch.manual_seed(seed)
    net = get_conditioned_model(name, in_features=train.in_features, out_features=1, num_tasks=2, **options)
    history = fit(net, train, "equal", steps=steps, lr=3e-3, batch_size=128, device=device, generator=seed,
                  eval_data=test, eval_every=max(1, steps // 10), progress=False)
    figure, ax = plt.subplots(figsize=(7, 3))
    plot_loss_curves(history, ax=ax, window=25, label_prefix="train ", log=True)
    tests = torch.tensor(history.eval_metrics)
    for k in range(2):
        ax.plot(history.eval_steps, tests[:, k].numpy(), "o--", label=f"test {history.task_names[k]}")
    ax.legend(fontsize=7)
    ax.set_title(f"{model}, p = {correlation:+.2f}, seed {seed}: final test MSE "
                 f"{tests[-1].mean().item():.3f}", fontsize=10)
    return figure


def correlation_explorer(*, device: str = "auto", n_train: int = 5000, steps: int = 600) -> Explorer:
    """Pick the task correlation, a model and a seed; the model trains (a second or two) and its curves are drawn."""
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"correlation": 0.5, "model": "MMoE", "seed": 0}
    else:
        controls = {
            "correlation": widgets.FloatSlider(value=0.5, min=-1.0, max=1.0, step=0.1, description="p",
                                               continuous_update=False),
            "model": widgets.Dropdown(options=list(CORRELATION_MODELS), value="MMoE", description="model"),
            "seed": widgets.IntSlider(value=0, min=0, max=9, description="seed", continuous_update=False),
        }
    return Explorer(lambda **v: draw_correlation_run(n_train=n_train, steps=steps, device=device, **v), controls,
                    title="Negative transfer explorer (each change trains a model)")


def draw_episode(dataset, *, n_way: int = 5, k_shot: int = 1, alphabet: str = "any alphabet", seed: int = 0,
                 n_query: int = 2):
    """Draw one N-way K-shot episode: the support set D_tr (one row per label) and the query set D_test."""
    from ..data.episodes import EpisodeSampler

    pool = dataset if alphabet == "any alphabet" else dataset.subset(
        [c for c, a in enumerate(dataset.alphabets) if a == alphabet], name=alphabet)
    n_way = min(n_way, pool.num_classes)
    episode = EpisodeSampler(pool, n_way=n_way, k_shot=k_shot, n_query=n_query, batch_size=1, generator=seed,
                             device="cpu").sample()
    columns = k_shot + 1 + n_query
    figure, axes = plt.subplots(n_way, columns, figsize=(0.9 * columns, 0.95 * n_way + 0.4), squeeze=False)
    for label in range(n_way):
        support = episode.support_x[0][episode.support_y[0] == label]
        query = episode.query_x[0][episode.query_y[0] == label]
        show_images(support[:, 0], axes=axes[label, :k_shot])
        show_images(query[:, 0], axes=axes[label, k_shot + 1:], cmap="Blues")
        axes[label, k_shot].axis("off")
        axes[label, 0].set_ylabel(f"label {label}", rotation=0, labelpad=22, fontsize=8)
    axes[0, 0].set_title("support" if k_shot == 1 else "support set", fontsize=8, loc="left")
    axes[0, 0].set_title("D_tr (support)", fontsize=8, loc="left")
    axes[0, k_shot + 1].set_title("D_test (query)", fontsize=8, loc="left")
    figure.suptitle(f"{n_way}-way {k_shot}-shot episode from {pool.name}", fontsize=10)
    return figure


def episode_explorer(dataset, *, seed: int = 0) -> Explorer:
    """Draw episodes from ``dataset``: pick N, K and an alphabet (or any), and a seed."""
    alphabets = ["any alphabet", *dataset.alphabet_names]
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"n_way": 5, "k_shot": 1, "alphabet": alphabets[0], "seed": seed}
    else:
        controls = {
            "n_way": widgets.IntSlider(value=5, min=2, max=10, description="N (way)"),
            "k_shot": widgets.IntSlider(value=1, min=1, max=5, description="K (shot)"),
            "alphabet": widgets.Dropdown(options=alphabets, value=alphabets[0], description="alphabet"),
            "seed": widgets.IntSlider(value=seed, min=0, max=99, description="seed"),
        }
    return Explorer(lambda **v: draw_episode(dataset, **v), controls, title="Episode explorer")


def draw_gradients(*, angle: float = 150.0, ratio: float = 0.5, c: float = 0.5):
    """Two task gradients (``g1`` of length 1, ``g2`` at ``angle`` degrees, ``ratio`` times as long)
    and the update four methods make of them: the sum, PCGrad, MGDA and CAGrad."""
    from ..weighting.cagrad import cagrad
    from ..weighting.mgda import min_norm_weights
    from ..weighting.pcgrad import pcgrad

    theta = math.radians(angle)
    g = torch.tensor([[1.0, 0.0], [ratio * math.cos(theta), ratio * math.sin(theta)]])
    updates = {"sum": g.sum(0), "PCGrad": pcgrad(g), "MGDA": min_norm_weights(g) @ g, f"CAGrad (c={c:.2f})": cagrad(g, c)[0]}
    figure, ax = plt.subplots(figsize=(5.2, 4))
    for vector, label, color in ((g[0], "g1", "tab:blue"), (g[1], "g2", "tab:orange")):
        ax.annotate("", xy=vector.tolist(), xytext=(0, 0), arrowprops=dict(arrowstyle="->", lw=2, color=color))
        ax.text(*(1.1 * vector).tolist(), label, color=color)
    verdicts = []
    for (name, u), color in zip(updates.items(), ("black", "tab:green", "tab:red", "tab:purple")):
        ax.annotate("", xy=u.tolist(), xytext=(0, 0), arrowprops=dict(arrowstyle="->", lw=1.5, color=color, ls="--"))
        ax.plot([], [], color=color, ls="--", label=name)
        hurts = [i + 1 for i in range(2) if float(u @ g[i]) < -1e-9]
        verdicts.append(f"{name}: " + (f"hurts task {hurts[0]}" if hurts else "helps both"))
    reach = 1.2 * max(1.0, ratio, *(float(u.norm()) for u in updates.values()))
    ax.set(xlim=(-reach, reach), ylim=(-0.4 * reach, reach), aspect="equal",
           title=f"cos(g1, g2) = {math.cos(theta):+.2f}\n" + "; ".join(verdicts))
    ax.title.set_fontsize(8)
    ax.axhline(0, color="lightgray", lw=0.8)
    ax.axvline(0, color="lightgray", lw=0.8)
    ax.legend(fontsize=7, loc="lower left")
    return figure


def gradient_explorer() -> Explorer:
    """Move the angle and the length ratio of two task gradients; see what each method makes of them."""
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"angle": 150.0, "ratio": 0.5, "c": 0.5}
    else:
        controls = {
            "angle": widgets.FloatSlider(value=150.0, min=0.0, max=180.0, step=5.0, description="angle (deg)"),
            "ratio": widgets.FloatSlider(value=0.5, min=0.1, max=3.0, step=0.1, description="|g2| / |g1|"),
            "c": widgets.FloatSlider(value=0.5, min=0.0, max=0.9, step=0.1, description="CAGrad c"),
        }
    return Explorer(draw_gradients, controls, title="Gradient combination explorer")


def draw_predictions(learner, dataset, *, n_way: int, k_shot: int, episode: int = 0, n_query: int = 2):
    """One episode of ``dataset``: the support set (one row per label) and the learner's answers on the
    queries (green: right, red: wrong)."""
    from ..data.episodes import EpisodeSampler

    device = next(learner.parameters()).device
    batch = EpisodeSampler(dataset, n_way=n_way, k_shot=k_shot, n_query=n_query, batch_size=1, device=device,
                           generator=episode).sample()
    was_training = learner.training
    learner.eval()
    with torch.no_grad():
        predicted = learner(batch).argmax(-1)[0].cpu()
    learner.train(was_training)
    batch = batch.to("cpu")
    columns = k_shot + 1 + n_query
    figure, axes = plt.subplots(n_way, columns, figsize=(0.9 * columns, 0.95 * n_way + 0.5), squeeze=False)
    right = 0
    for label in range(n_way):
        show_images(batch.support_x[0][batch.support_y[0] == label][:, 0], axes=axes[label, :k_shot])
        axes[label, k_shot].axis("off")
        queries = (batch.query_y[0] == label).nonzero()[:, 0]
        show_images(batch.query_x[0][queries][:, 0], axes=axes[label, k_shot + 1:], cmap="Greys",
                    titles=[f"-> {int(predicted[q])}" for q in queries])
        for ax, q in zip(axes[label, k_shot + 1:], queries):
            correct = int(predicted[q]) == label
            right += correct
            for spine in ax.spines.values():
                spine.set(color="tab:green" if correct else "tab:red", linewidth=2.5)
        axes[label, 0].set_ylabel(f"label {label}", rotation=0, labelpad=22, fontsize=8)
    axes[0, 0].set_title("support" if k_shot == 1 else "support set", fontsize=8, loc="left")
    figure.suptitle(f"episode {episode}: {right} of {n_way * n_query} queries right", fontsize=10)
    return figure


def prediction_explorer(learner, dataset, *, n_way: int, k_shot: int) -> Explorer:
    """Step through episodes of ``dataset`` and see the meta-trained ``learner``'s answers."""
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"episode": 0}
    else:
        controls = {"episode": widgets.IntSlider(value=0, min=0, max=99, description="episode")}
    return Explorer(lambda **v: draw_predictions(learner, dataset, n_way=n_way, k_shot=k_shot, **v), controls,
                    title="Prediction explorer")
