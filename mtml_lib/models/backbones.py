"""Plain building blocks: a multi-layer perceptron and a small convolutional image encoder.

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

__all__ = ["MLP", "ConvEncoder", "normalize_hidden"]


def normalize_hidden(
    hidden: int | Sequence[int], *, param: str = "hidden", allow_empty: bool = False
) -> tuple[int, ...]:
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

    def __init__(
        self,
        *,
        in_features: int,
        hidden: int | Sequence[int],
        out_features: int,
        final_activation: bool = False,
    ):
        super().__init__()
        widths = (
            check_int("in_features", in_features, minimum=1),
            *normalize_hidden(hidden, allow_empty=True),
            check_int("out_features", out_features, minimum=1),
        )
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2 or final_activation:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvEncoder(nn.Module):
    """Images ``(M, 1, H, W)`` -> features ``(M, out_features)``.

    Blocks of ``3x3 conv -> batch norm -> ReLU -> 2x2 max-pool`` (the standard few-shot
    encoder, narrower so that a laptop CPU can meta-train it), then a linear layer.

    Args:
        channels: output channels of each block (one block per entry).
        out_features: size of the feature vector.
        image_size: side of the square input images.
    """

    def __init__(
        self,
        *,
        channels: Sequence[int] = (32, 32, 64),
        out_features: int = 64,
        image_size: int = 28,
    ):
        super().__init__()
        widths = (1, *normalize_hidden(channels, param="channels"))
        blocks: list[nn.Module] = []
        side = check_int("image_size", image_size, minimum=2)
        for a, b in zip(widths[:-1], widths[1:]):
            blocks += [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2)]
            side //= 2
        if side < 1:
            raise ValueError(
                f"`channels` has too many blocks ({len(widths) - 1}) for {image_size}x{image_size} "
                "images."
            )
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(
            widths[-1] * side * side, check_int("out_features", out_features, minimum=1)
        )
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(x).flatten(1))  # (M, out_features)
