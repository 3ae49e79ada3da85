"""Notebooks 05 and 06's explorers: N-way K-shot episodes, and a meta-trained learner's answers."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import torch

from ...data.episodes import EpisodeSampler
from ...i18n import N_
from ...i18n import translate as _
from ..explorer import Explorer
from ..plots import show_images

__all__ = ["draw_episode", "episode_explorer", "draw_predictions", "prediction_explorer"]

ANY = N_("any alphabet")  # the explorer's value for "draw from every alphabet"


def draw_episode(
    dataset,
    *,
    n_way: int = 5,
    k_shot: int = 1,
    alphabet: str = ANY,
    seed: int = 0,
    n_query: int = 2,
):
    """Draw one N-way K-shot episode: the support set D_tr
    (one row per label) and the query set D_test.
    """
    pool = (
        dataset
        if alphabet == ANY
        else dataset.subset(
            [c for c, a in enumerate(dataset.alphabets) if a == alphabet], name=alphabet
        )
    )
    n_way = min(n_way, pool.num_classes)
    episode = EpisodeSampler(
        pool,
        n_way=n_way,
        k_shot=k_shot,
        n_query=n_query,
        batch_size=1,
        generator=seed,
        device="cpu",
    ).sample()
    columns = k_shot + 1 + n_query
    figure, axes = plt.subplots(
        n_way, columns, figsize=(0.9 * columns, 0.95 * n_way + 0.4), squeeze=False
    )
    for label in range(n_way):
        support = episode.support_x[0][episode.support_y[0] == label]
        query = episode.query_x[0][episode.query_y[0] == label]
        show_images(support[:, 0], axes=axes[label, :k_shot])
        show_images(query[:, 0], axes=axes[label, k_shot + 1 :], cmap="Blues")
        axes[label, k_shot].axis("off")
        axes[label, 0].set_ylabel(
            _("label {label}").format(label=label), rotation=0, labelpad=22, fontsize=8
        )
    axes[0, 0].set_title(_("D_tr (support)"), fontsize=8, loc="left")
    axes[0, k_shot + 1].set_title(_("D_test (query)"), fontsize=8, loc="left")
    figure.suptitle(
        _("{n_way}-way {k_shot}-shot episode from {pool}").format(
            n_way=n_way, k_shot=k_shot, pool=pool.name
        ),
        fontsize=10,
    )
    return figure


def episode_explorer(dataset, *, seed: int = 0) -> Explorer:
    """Draw episodes from ``dataset``: pick N, K and an alphabet (or any), and a seed."""
    alphabets = [ANY, *dataset.alphabet_names]
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"n_way": 5, "k_shot": 1, "alphabet": alphabets[0], "seed": seed}
    else:
        controls = {
            "n_way": widgets.IntSlider(value=5, min=2, max=10, description=_("N (way)")),
            "k_shot": widgets.IntSlider(value=1, min=1, max=5, description=_("K (shot)")),
            "alphabet": widgets.Dropdown(  # the alphabets keep their names: data, as Omniglot's
                options=[(_(ANY), ANY), *((a, a) for a in alphabets[1:])],
                value=ANY,
                description=_("alphabet"),
            ),
            "seed": widgets.IntSlider(value=seed, min=0, max=99, description=_("seed")),
        }
    return Explorer(lambda **v: draw_episode(dataset, **v), controls, title=_("Episode explorer"))


def draw_predictions(
    learner, dataset, *, n_way: int, k_shot: int, episode: int = 0, n_query: int = 2
):
    """One episode of ``dataset``: the support set (one row per label) and the learner's answers on
    the
    queries (green: right, red: wrong)."""
    device = next(learner.parameters()).device
    batch = EpisodeSampler(
        dataset,
        n_way=n_way,
        k_shot=k_shot,
        n_query=n_query,
        batch_size=1,
        device=device,
        generator=episode,
    ).sample()
    was_training = learner.training
    learner.eval()
    with torch.no_grad():
        predicted = learner(batch).argmax(-1)[0].cpu()
    learner.train(was_training)
    batch = batch.to("cpu")
    columns = k_shot + 1 + n_query
    figure, axes = plt.subplots(
        n_way, columns, figsize=(0.9 * columns, 0.95 * n_way + 0.5), squeeze=False
    )
    right = 0
    for label in range(n_way):
        show_images(
            batch.support_x[0][batch.support_y[0] == label][:, 0], axes=axes[label, :k_shot]
        )
        axes[label, k_shot].axis("off")
        queries = (batch.query_y[0] == label).nonzero()[:, 0]
        show_images(
            batch.query_x[0][queries][:, 0],
            axes=axes[label, k_shot + 1 :],
            cmap="Greys",
            titles=[f"-> {int(predicted[q])}" for q in queries],
        )
        for ax, q in zip(axes[label, k_shot + 1 :], queries):
            correct = int(predicted[q]) == label
            right += correct
            for spine in ax.spines.values():
                spine.set(color="tab:green" if correct else "tab:red", linewidth=2.5)
        axes[label, 0].set_ylabel(
            _("label {label}").format(label=label), rotation=0, labelpad=22, fontsize=8
        )
    axes[0, 0].set_title(_("D_tr (support)"), fontsize=8, loc="left")
    figure.suptitle(
        _("episode {episode}: {right} of {queries} queries right").format(
            episode=episode, right=right, queries=n_way * n_query
        ),
        fontsize=10,
    )
    return figure


def prediction_explorer(learner, dataset, *, n_way: int, k_shot: int) -> Explorer:
    """Step through episodes of ``dataset`` and see the meta-trained ``learner``'s answers."""
    try:
        import ipywidgets as widgets
    except ImportError:
        controls: dict[str, Any] = {"episode": 0}
    else:
        controls = {"episode": widgets.IntSlider(value=0, min=0, max=99, description=_("episode"))}
    return Explorer(
        lambda **v: draw_predictions(learner, dataset, n_way=n_way, k_shot=k_shot, **v),
        controls,
        title=_("Prediction explorer"),
    )
