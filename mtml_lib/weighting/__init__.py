r"""Loss weighting and gradient methods for :math:`\min_\theta \sum_i w_i \mathcal{L}_i(\theta)`, one registry.

Each method lives in its own module with its paper; all follow
:class:`~mtml_lib.weighting.base.Weighting`'s ``combine(losses, shared_parameters)``.

Example:
    >>> w = get_weighting("static", num_tasks=2, weights=[1.0, 0.5])
    >>> type(w).__name__
    'StaticWeighting'
"""

from __future__ import annotations

from .._validation import lookup
from .base import GradientCombination, LossWeighting, Weighting
from .equal import EqualWeighting
from .static import StaticWeighting

__all__ = ["WEIGHTING", "get_weighting", "Weighting", "LossWeighting", "GradientCombination"]

#: name -> class
WEIGHTING: dict[str, type[Weighting]] = {
    "equal": EqualWeighting,
    "static": StaticWeighting,
}


def get_weighting(name: str, *, num_tasks: int, **hyperparameters) -> Weighting:
    """Build the method ``name`` (a key of :data:`WEIGHTING`) for ``num_tasks`` tasks.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a bad hyperparameter.
    """
    return lookup(WEIGHTING, name, family="weighting method")(num_tasks=num_tasks, **hyperparameters)
