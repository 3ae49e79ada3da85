r"""R models of one architecture as one module, for training many seeds at once.

:class:`StackedReplicas` stacks the replicas' parameters on a leading axis with
``torch.func.stack_module_state`` and runs all of them in one ``vmap``-ed forward pass
(``functional_call`` on a weightless skeleton of the architecture). The replicas share no
parameter: one backward pass through the sum of their losses gives each its own gradient.

Example:
    >>> import torch
    >>> from mtml_lib.models.conditioning import get_conditioning
    >>> sizes = {"in_features": 3, "out_features": 1, "num_tasks": 2, "hidden": 4}
    >>> models = [get_conditioning("multihead", **sizes) for _ in range(5)]
    >>> stack = StackedReplicas(models)
    >>> stack(torch.randn(5, 8, 3), torch.zeros(8, dtype=torch.long)).shape
    torch.Size([5, 8, 1])
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ...weighting import parameter_groups

__all__ = ["StackedReplicas"]


class StackedReplicas(nn.Module):
    """R models of one architecture as one module: parameters stacked on a leading replica axis.

    ``forward(x (R, B, ...), task_id (B,))`` runs replica r on ``x[r]`` (one vmapped pass) and
    returns ``(R, B, out)``. Replicas share no parameter.

    Args:
        models: R modules of the same architecture (e.g. built from R seeds).
    """

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("`models` must hold at least one model; got none.")
        shapes = {tuple((n, tuple(p.shape)) for n, p in m.named_parameters()) for m in models}
        if len(shapes) != 1 or len({type(m) for m in models}) != 1:
            raise ValueError(
                "`models` must share one architecture (the same parameters and shapes)."
            )
        params, buffers = stack_module_state(models)
        self.names, self.buffer_names = list(params), list(buffers)
        self.stacked = nn.ParameterList(nn.Parameter(params[n].detach()) for n in self.names)
        for i, name in enumerate(self.buffer_names):
            self.register_buffer(f"buffer_{i}", buffers[name])
        # The skeleton lives on the meta device and outside the module tree: it holds no weights.
        self.__dict__["skeleton"] = copy.deepcopy(models[0]).to("meta")
        shared = {id(p) for p in parameter_groups(models[0])[0]}
        self._shared = [
            i for i, (_, p) in enumerate(models[0].named_parameters()) if id(p) in shared
        ]

    @property
    def replicas(self) -> int:
        return self.stacked[0].shape[0]

    def _state(self) -> tuple[dict, dict]:
        params = dict(zip(self.names, self.stacked, strict=True))
        buffers = {n: getattr(self, f"buffer_{i}") for i, n in enumerate(self.buffer_names)}
        return params, buffers

    def forward(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.replicas:
            raise ValueError(
                f"`x` must hold one batch per replica, ({self.replicas}, B, ...); got "
                f"shape {tuple(x.shape)}."
            )

        def one(params, buffers, rows):
            return functional_call(self.skeleton, (params, buffers), (rows, task_id))

        return vmap(one, randomness="different")(*self._state(), x)

    def train(self, mode: bool = True) -> StackedReplicas:
        """Training or evaluation mode, for the stack and the skeleton that runs each replica (so
        that dropout and the like behave as in one model)."""
        super().train(mode)
        self.skeleton.train(mode)
        return self

    def unstack(self) -> list[nn.Module]:
        """Each replica as a module of the architecture on its own (copies of its weights, in the
        stack's mode and on its device)."""
        params, buffers = self._state()
        models = []
        for r in range(self.replicas):
            model = copy.deepcopy(self.skeleton).to_empty(device=self.stacked[0].device)
            model.load_state_dict({n: t[r].detach().clone() for n, t in (params | buffers).items()})
            models.append(model.train(self.training))
        return models

    def shared_parameters(self) -> list[nn.Parameter]:
        """The stacked versions of the parameters the architecture shares between tasks."""
        return [self.stacked[i] for i in self._shared]

    def task_specific_parameters(self) -> list[nn.Parameter]:
        """The stacked versions of the architecture's other parameters (each a task's own)."""
        shared = set(self._shared)
        return [p for i, p in enumerate(self.stacked) if i not in shared]
