r"""Seed-batched replicas, in one place: R runs of one architecture trained as one batched model.

A claim about a model needs many seeds; training them one after another costs R times one run.
Everything replicas need lives in this package:

* :mod:`~mtml_lib.training.replicas.replica_data`: :class:`ReplicaData`, the datasets of the
  settings of one experiment stacked so that one
  :class:`~mtml_lib.data.multitask_data.MultiTaskBatch` serves every replica;
* :mod:`~mtml_lib.training.replicas.stacked_model`: :class:`StackedReplicas`, R copies of one
  architecture as one module (``torch.func.stack_module_state`` and a ``vmap``-ed forward pass);
* :mod:`~mtml_lib.training.replicas.replica_fit`: :func:`fit_replicas` and
  :func:`evaluate_replicas`, the multi-task loop of :func:`~mtml_lib.training.fit` for R replicas
  at once (its options, :class:`~mtml_lib.training.FitConfig`, and its optimiser factory are the
  single run's).

A single run is the case R = 1 of none of this: :func:`~mtml_lib.training.fit` is the loop beside
it, and :func:`fit_replicas` falls back to calling it once per replica where a method or model
cannot be batched.
"""

from .replica_data import ReplicaData
from .replica_fit import ReplicaHistory, evaluate_replicas, fit_replicas
from .stacked_model import StackedReplicas

__all__ = ["ReplicaData", "StackedReplicas", "ReplicaHistory", "fit_replicas", "evaluate_replicas"]
