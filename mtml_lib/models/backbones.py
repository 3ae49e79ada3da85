"""Plain building blocks: a multi-layer perceptron.

Example:
    >>> import torch
    >>> net = MLP(in_features=3, hidden=(8, 8), out_features=2)
    >>> tuple(net(torch.zeros(5, 3)).shape)
    (5, 2)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._validation import check_int

__all__ = ["MLP", "normalize_hidden"]


def normalize_hidden(hidden: int | Sequence[int], *, param: str = "hidden", allow_empty: bool = False) -> tuple[int, ...]:
    """Turn ``64`` or ``(64, 64)`` into a tuple of positive layer widths."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if isinstance(hidden, str) or not isinstance(hidden, Sequence):
        raise TypeError(f"`{param}` must be an int or a sequence of ints; got {hidden!r}.")
    widths = tuple(check_int(f"{param}[{i}]", h, minimum=1) for i, h in enumerate(hidden))
    if not widths and not allow_empty:
        raise ValueError(f"`{param}` must name at least one hidden layer; got {hidden!r}.")
    return widths


class MLP(nn.Module):
    """``Linear -> ReLU -> ... -> Linear``: ``in_features -> *hidden -> out_features``.

    Args:
        in_features: input size.
        hidden: hidden widths (an int for one layer, a sequence for several, ``()`` for none).
        out_features: output size.
        final_activation: apply a ReLU after the last layer too (for trunks and experts).
    """

    def __init__(self, *, in_features: int, hidden: int | Sequence[int], out_features: int,
                 final_activation: bool = False):
        super().__init__()
        widths = (check_int("in_features", in_features, minimum=1),
                  *normalize_hidden(hidden, allow_empty=True),
                  check_int("out_features", out_features, minimum=1))
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2 or final_activation:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
