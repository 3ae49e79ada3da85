"""Interactive explorers for demonstrating a concept live (ipywidgets, imported lazily).

Each explorer is an :class:`~mtml_lib.viz.explorer.Explorer` over a ``draw_*`` function
of the control values. The drawing functions only draw: what they train or sample comes
from :mod:`mtml_lib.experiments`, the data and model packages.

Example:
    >>> explorer = task_explorer()
    >>> explorer.params["family"]
    'sinusoid regression'
"""

from .meta_widgets import draw_episode, draw_predictions, episode_explorer, prediction_explorer
from .multitask_widgets import (
    conditioning_explorer,
    correlation_explorer,
    draw_conditioning,
    draw_correlation_run,
    draw_gradients,
    gradient_explorer,
)
from .task_widgets import FAMILIES, draw_task, task_explorer

__all__ = [
    "FAMILIES",
    "draw_task",
    "task_explorer",
    "draw_conditioning",
    "conditioning_explorer",
    "draw_correlation_run",
    "correlation_explorer",
    "draw_gradients",
    "gradient_explorer",
    "draw_episode",
    "episode_explorer",
    "draw_predictions",
    "prediction_explorer",
]
