r"""Loss weighting and gradient methods for :math:`\min_\theta \sum_i w_i \mathcal{L}_i(\theta)`,
one registry.

Each method lives in its own module with its paper; all follow
:class:`~mtml_lib.weighting.method.Weighting`'s ``combine(losses, shared_parameters)``.

============ ================== ==============================================
name         kind               what it does
============ ================== ==============================================
equal        loss weighting     :math:`w_i = 1`
static       loss weighting     given :math:`w_i`
uncertainty  loss weighting     learned noise :math:`\sigma_i` (Kendall et al. 2018)
gradnorm     loss weighting     learned :math:`w_i` balancing gradient norms (Chen et al. 2018)
dwa          loss weighting     :math:`w_i` from the rate of decrease (Liu et al. 2019)
random       loss weighting     random :math:`w` each step (Lin et al. 2022)
worst_case   loss weighting     chase the largest loss (min-max)
pcgrad       gradient           project away conflicts (Yu et al. 2020)
mgda         gradient           minimum-norm combination (Sener and Koltun 2018)
cagrad       gradient           conflict-averse direction (Liu et al. 2021)
============ ================== ==============================================

Example:
    >>> w = get_weighting("static", num_tasks=2, weights=[1.0, 0.5])
    >>> type(w).__name__
    'StaticWeighting'
"""

from __future__ import annotations

from .._validation import lookup
from .cagrad import CAGrad
from .dwa import DynamicWeightAverage
from .equal import EqualWeighting
from .gradnorm import GradNorm
from .method import GradientCombination, LossWeighting, Weighting, parameter_groups
from .mgda import MGDA
from .pcgrad import PCGrad
from .random_weighting import RandomWeighting
from .static import StaticWeighting
from .uncertainty import UncertaintyWeighting
from .worst_case import WorstCaseWeighting

__all__ = [
    "WEIGHTING",
    "get_weighting",
    "Weighting",
    "LossWeighting",
    "GradientCombination",
    "parameter_groups",
]

#: name -> class
WEIGHTING: dict[str, type[Weighting]] = {
    "equal": EqualWeighting,
    "static": StaticWeighting,
    "uncertainty": UncertaintyWeighting,
    "gradnorm": GradNorm,
    "dwa": DynamicWeightAverage,
    "random": RandomWeighting,
    "worst_case": WorstCaseWeighting,
    "pcgrad": PCGrad,
    "mgda": MGDA,
    "cagrad": CAGrad,
}


def get_weighting(name: str, *, num_tasks: int, **hyperparameters) -> Weighting:
    """Build the method ``name`` (a key of :data:`WEIGHTING`) for ``num_tasks`` tasks.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a bad hyperparameter.
    """
    return lookup(WEIGHTING, name, family="weighting method")(
        num_tasks=num_tasks, **hyperparameters
    )
