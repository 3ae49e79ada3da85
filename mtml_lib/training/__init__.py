"""Training: the multi-task loop (:func:`fit`), meta-training (:func:`meta_train`) and
meta-testing (:func:`meta_test`), on one shared core (:mod:`mtml_lib.training.core`).

Each loop takes its options as a frozen dataclass (:class:`FitConfig`,
:class:`MetaTrainConfig`), or as keyword arguments that build one; its randomness comes
from a ``generator`` (and, for meta-training, the sampler's), never from global seeding. Every
loop builds its optimiser and sets its learning rate with :mod:`mtml_lib.training.optim`, from
the config's ``optimizer``, ``lr``, ``weight_decay``, ``schedule`` and ``warmup_steps``.
"""

from .config import FitConfig, MetaTrainConfig, TrainConfig
from .core import History
from .meta_loop import MetaHistory, meta_test, meta_train
from .multitask_loop import FitHistory, check_fit, evaluate_tasks, fit, task_losses
from .optim import OPTIMIZERS, SCHEDULES, learning_rate, make_optimizer

__all__ = [
    "TrainConfig",
    "History",
    "FitConfig",
    "FitHistory",
    "fit",
    "check_fit",
    "evaluate_tasks",
    "task_losses",
    "MetaTrainConfig",
    "MetaHistory",
    "meta_train",
    "meta_test",
    "OPTIMIZERS",
    "SCHEDULES",
    "learning_rate",
    "make_optimizer",
]
