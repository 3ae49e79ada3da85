"""Plots (take an ax, return the ax) and widgets (ipywidgets imported lazily)."""
