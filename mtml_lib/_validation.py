"""Input checks shared by the public entry points.

Every message follows one template, after scikit-learn's parameter validation:
"`{param}` must be {constraint}; got {value!r}." Registries use
:func:`lookup`, which lists the valid names and suggests the nearest one.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import torch

__all__ = [
    "check_int",
    "check_float",
    "check_choice",
    "check_tensor",
    "lookup",
]

V = TypeVar("V")


def _message(param: str, constraint: str, value: Any) -> str:
    return f"`{param}` must be {constraint}; got {value!r}."


def check_int(
    param: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in range.

    Booleans are refused: ``True`` is an int to Python but never a size.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_message(param, "an integer", value))
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(_message(param, _range_text(minimum, maximum), value))
    if maximum is not None and value > maximum:
        raise ValueError(_message(param, _range_text(minimum, maximum), value))
    return value


def check_float(
    param: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """Return ``value`` as a finite float, or raise if it is not a number in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_message(param, "a real number", value))
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(_message(param, "a finite number", value))
    too_low = minimum is not None and (value <= minimum if strict_minimum else value < minimum)
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        low = None if minimum is None else (f"> {minimum}" if strict_minimum else f">= {minimum}")
        high = None if maximum is None else f"<= {maximum}"
        constraint = " and ".join(part for part in (low, high) if part)
        raise ValueError(_message(param, f"a number {constraint}", value))
    return value


def check_choice(param: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise raise, listing them."""
    choices = list(choices)
    if value not in choices:
        raise ValueError(_message(param, f"one of {choices}", value))
    return value


def check_tensor(
    param: str,
    value: Any,
    *,
    ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: torch.dtype | Sequence[torch.dtype] | None = None,
) -> torch.Tensor:
    """Check that ``value`` is a tensor of the expected rank, shape and dtype.

    ``shape`` may hold ``None`` for a free dimension, e.g. ``(None, 64)``.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(_message(param, "a torch.Tensor", type(value).__name__))
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and value.ndim != ndim:
        expected = _shape_text(shape) if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"`{param}` must have shape {expected}; got shape {tuple(value.shape)}.")
    if shape is not None and any(e is not None and e != a for e, a in zip(shape, value.shape)):
        raise ValueError(
            f"`{param}` must have shape {_shape_text(shape)}; got shape {tuple(value.shape)}."
        )
    if dtype is not None:
        allowed = (dtype,) if isinstance(dtype, torch.dtype) else tuple(dtype)
        if value.dtype not in allowed:
            names = " or ".join(str(d) for d in allowed)
            raise TypeError(_message(f"{param}.dtype", names, value.dtype))
    return value


def lookup(
    registry: Mapping[str, V], name: Any, *, param: str = "name", family: str = "entry"
) -> V:
    """Return ``registry[name]``; an unknown name raises a ValueError listing the valid ones."""
    if not isinstance(name, str):
        raise TypeError(_message(param, f"a {family} name (str)", name))
    if name in registry:
        return registry[name]
    valid = sorted(registry)
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(_message(param, f"a known {family}, one of {valid}", name) + hint)


def _range_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"an integer >= {minimum}"
    return f"an integer <= {maximum}"


def _shape_text(shape: Sequence[int | None]) -> str:
    return (
        "("
        + ", ".join("*" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )
