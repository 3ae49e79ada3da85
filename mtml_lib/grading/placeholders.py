"""Stand-ins for library modules inside the grading sandbox.

A graded part that asks students to write, say, uncertainty weighting must not be answerable
by calling the library's :class:`~mtml_lib.weighting.uncertainty.UncertaintyWeighting`. The
sandbox lays the source from :func:`placeholder_source` over such a module's file: the module
still imports (so the rest of the library, which names it in registries, works), but each of
its public names raises a clear :class:`ImportError` when it is used, and its code is not there.
"""

from __future__ import annotations

import importlib
import inspect

__all__ = ["placeholder_source"]


def placeholder_source(module_name: str) -> str:
    """Source of a stand-in for ``module_name``: every public name it defines, each raising a
    clear :class:`ImportError` when called, instantiated, subclassed or looked into."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    message = "{name} is not available while grading: a graded part asks you to write it yourself."
    lines = [
        f'"""Stand-in for {module_name} in the grading sandbox: its code is not here."""',
        "",
        "",
        "def _refuse(name):",
        f"    raise ImportError({message!r}.format(name=name))",
        "",
        "",
        "class _Unavailable:",
        "    def __init__(self, name):",
        "        object.__setattr__(self, '_name', name)",
        "",
        "    def __getattr__(self, attribute):",
        "        _refuse(self._name)",
        "",
        "    def __call__(self, *args, **kwargs):",
        "        _refuse(self._name)",
        "",
        "    __getitem__ = __iter__ = __len__ = __contains__ = __call__",
        "",
        "",
    ]
    for name in names:
        obj = getattr(module, name, None)
        if not name.isidentifier() or inspect.ismodule(obj):
            continue
        qualified = f"{module_name}.{name}"
        if inspect.isclass(obj):
            lines += [
                f"class {name}:",
                "    def __new__(cls, *args, **kwargs):",
                f"        _refuse({qualified!r})",
                "",
                "    def __init_subclass__(cls, **kwargs):",
                f"        _refuse({qualified!r})",
                "",
                "",
            ]
        elif callable(obj):
            lines += [f"def {name}(*args, **kwargs):", f"    _refuse({qualified!r})", "", ""]
        else:
            lines += [f"{name} = _Unavailable({qualified!r})", ""]
    return "\n".join(lines).rstrip() + "\n"
