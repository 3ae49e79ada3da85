"""mtml_lib: the tested library behind the multi-task and meta-learning workbook.

One package per lecture concept:

* :mod:`mtml_lib.tasks`: what a task is, :math:`\\{p_i(x), p_i(y \\mid x), \\mathcal{L}_i\\}`;
* :mod:`mtml_lib.data`: task families, digits, Glyphs and Omniglot, episodes, multi-task datasets;
* :mod:`mtml_lib.models.conditioning`: how a model is conditioned on the task;
* :mod:`mtml_lib.weighting`: the multi-task objective's weighting and gradient methods;
* :mod:`mtml_lib.metrics`: negative transfer (:math:`\\Delta_m`), gradient conflict, task affinity;
* :mod:`mtml_lib.models.blackbox`: black-box meta-learners;
* :mod:`mtml_lib.training`: multi-task training, meta-training and meta-testing on one core;
* :mod:`mtml_lib.experiments`: the workbook's experiments; :mod:`mtml_lib.viz`: plots and explorers.

The entry points the notebooks use are importable from here: ``from mtml_lib import fit``.

Example:
    >>> from mtml_lib import get_weighting
    >>> type(get_weighting("equal", num_tasks=2)).__name__
    'EqualWeighting'
"""

__version__ = "0.3.0"

from .device import get_device
from .metrics import confidence_interval, delta_m, gradient_cosine, task_affinity
from .models.blackbox import get_blackbox
from .models.conditioning import get_conditioning
from .seeding import make_generator, seed_everything
from .tasks import Task
from .training import FitConfig, MetaTrainConfig, evaluate_tasks, fit, meta_test, meta_train
from .weighting import get_weighting

__all__ = [
    "__version__",
    "get_device",
    "seed_everything",
    "make_generator",
    "Task",
    "get_conditioning",
    "get_weighting",
    "get_blackbox",
    "fit",
    "FitConfig",
    "evaluate_tasks",
    "meta_train",
    "MetaTrainConfig",
    "meta_test",
    "delta_m",
    "gradient_cosine",
    "task_affinity",
    "confidence_interval",
]
