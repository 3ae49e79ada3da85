"""The explorer widget: a row of controls and a plot redrawn whenever a control changes.

In JupyterLab an :class:`Explorer` shows as the live widget; where no widget frontend is
present (a static HTML export, a notebook viewer) it shows as a picture of its current
state, and without ipywidgets installed it still draws that picture. The drawing function
is an ordinary function of the control values, so it is tested without a browser.

Example:
    >>> import ipywidgets as widgets
    >>> import matplotlib.pyplot as plt
    >>> explorer = Explorer(lambda n: plt.figure(), {"n": widgets.IntSlider(value=3)})
    >>> explorer.params, explorer.draws
    ({'n': 3}, 1)
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt

__all__ = ["Explorer"]


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

    def __init__(
        self,
        draw: Callable[..., Any],
        controls: dict[str, Any],
        *,
        visible: Callable[[dict], set[str]] | None = None,
        title: str = "",
    ):
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
            # full width each; a narrow page wraps them onto more rows
            for control in controls.values():
                control.layout.flex = "0 0 auto"
            row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
            self.widget = widgets.VBox([*header, row, self.output])
            for control in controls.values():
                control.observe(self._on_change, names="value")
        self.redraw()

    def values(self) -> dict[str, Any]:
        return {name: getattr(c, "value", c) for name, c in self.controls.items()}

    def _on_change(self, change):
        # A browser snaps a float slider to its own step grid and sends the value back (2.0 comes
        # back as 2.0000000000000004): that is not a new value, and redrawing for it can mean
        # retraining a model.
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
        # drawn on demand below; left open, the inline backend would show it again
        plt.close(figure)
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
