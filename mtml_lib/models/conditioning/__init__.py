r"""How a model is conditioned on the task: every choice of :math:`f_\theta(y \mid x, z_i)`.

The task descriptor :math:`z_i` is the task index (one-hot, or a learned
embedding). Choosing how :math:`z_i` enters the network is choosing what the
tasks share:

============== ============================================================== =====================
name           equation (h: hidden activation, t: the task of the row)        task-specific part
============== ============================================================== =====================
independent    :math:`y = f_{\theta_t}(x)`, T separate networks                 everything
shared         :math:`y = f_\theta(x)`, :math:`z` ignored                       nothing
concat         :math:`h_1 = \sigma(W [x; z_t] + b)`                             z-columns of W (*)
additive       :math:`h_1 = \sigma(W_x x + b + W_z z_t)`                        :math:`W_z z_t`
multihead      :math:`y = g_{\phi_t}(f_\theta(x))`                              the heads
multiplicative :math:`h_l = \sigma(W_l h_{l-1} + b_l) \odot a_{l,t}`            the gates
film           :math:`h_l = \sigma(\gamma_{l,t} \odot (W_l h_{l-1} + b_l)           gammas, betas
               + \beta_{l,t})`
mmoe           :math:`y = g_t(\sum_e \mathrm{softmax}(W^g_t x)_e\, f_e(x))`     gates and towers
moe            as mmoe with one gate shared by all tasks                        towers
============== ============================================================== =====================

With a one-hot :math:`z_t`, additive's :math:`W_z z_t` is a learned bias per task.

(*) the z-columns sit inside the first layer's weight matrix, so
:meth:`ConditionedModel.shared_parameters` counts that whole matrix as shared (and
:func:`count_parameters` counts no task-specific parameter for concat); each column still
only ever receives gradient from its own task.

Concatenation and addition are the same function class:
:math:`W[x; z] = W_x x + W_z z`; :func:`concat_to_additive` and
:func:`additive_to_concat` convert one's weights into the other's.

Every model maps ``x (B, in_features)`` and ``task_id (B,)`` (a LongTensor;
tasks may be mixed within a batch) to ``(B, out_features)``, and says which of
its parameters are shared (:meth:`ConditionedModel.shared_parameters`) and which
belong to single tasks (:meth:`ConditionedModel.task_specific_parameters`).

One module per family: :mod:`.shared` (independent, shared), :mod:`.concat` (concat,
additive and the conversions between them), :mod:`.multihead`, :mod:`.multiplicative`
(gates, FiLM) and :mod:`.moe` (MMoE, MoE); :mod:`.base` holds the contract.

Example:
    >>> import torch
    >>> model = get_conditioning("multihead", in_features=64, out_features=2, num_tasks=4,
    ...                          hidden=(32,))
    >>> model(torch.randn(6, 64), torch.tensor([0, 1, 2, 3, 0, 1])).shape
    torch.Size([6, 2])
    >>> count_parameters(model, which="task_specific")
    264

References:
    Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
    Mixture-of-Experts", KDD 2018. Perez et al., "FiLM: Visual Reasoning with a
    General Conditioning Layer", AAAI 2018.
"""

from __future__ import annotations

import functools

from ..._validation import lookup
from .concat import Additive, Concat, additive_to_concat, concat_to_additive
from .conditioned import ConditionedModel, count_parameters
from .moe import MixtureOfExperts
from .multihead import MultiHead
from .multiplicative import FiLM, Multiplicative
from .shared import Independent, Shared

__all__ = [
    "CONDITIONING",
    "get_conditioning",
    "ConditionedModel",
    "Independent",
    "Shared",
    "Concat",
    "Additive",
    "MultiHead",
    "Multiplicative",
    "FiLM",
    "MixtureOfExperts",
    "count_parameters",
    "concat_to_additive",
    "additive_to_concat",
]

# Partials rather than wrapper functions: they keep the class's signature (which config errors
# list).
_moe = functools.partial(MixtureOfExperts, multi_gate=False)
_mmoe = functools.partial(MixtureOfExperts, multi_gate=True)


#: name -> constructor; see the module docstring for the equations.
CONDITIONING = {
    "independent": Independent,
    "shared": Shared,
    "concat": Concat,
    "additive": Additive,
    "multihead": MultiHead,
    "multiplicative": Multiplicative,
    "film": FiLM,
    "mmoe": _mmoe,
    "moe": _moe,
}


def get_conditioning(
    name: str, *, in_features: int, out_features: int, num_tasks: int, **kwargs
) -> ConditionedModel:
    """Build the conditioning choice ``name`` (a key of :data:`CONDITIONING`).

    Args:
        name: ``independent``, ``shared``, ``concat``, ``additive``, ``multihead``,
            ``multiplicative``, ``film``, ``mmoe`` or ``moe``.
        in_features, out_features, num_tasks: sizes.
        **kwargs: the choice's own options (``hidden``, ``embedding_dim``, ``num_experts``, ...).

    Raises:
        ValueError: unknown ``name`` (the message lists the valid ones) or bad sizes.
    """
    constructor = lookup(CONDITIONING, name, family="conditioning choice")
    return constructor(
        in_features=in_features, out_features=out_features, num_tasks=num_tasks, **kwargs
    )
