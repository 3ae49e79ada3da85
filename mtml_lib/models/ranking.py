r"""A multi-task ranking model with a shallow tower for position bias.

Zhao et al., "Recommending What Video to Watch Next: A Multitask Ranking System",
RecSys 2019: a shared-bottom or MMoE model predicts every objective from the user and
item features; a *shallow tower* fed the position the item was shown at produces a
logit that is **added** to the biased objectives' logits during training and
**dropped** at serving, when there is no position. Trained this way, the main model
need not explain the clicks that the position caused, and learns relevance instead.
Some training rows have their position dropped (10% in the paper) so that the main
model does not lean on the shallow tower.

Example:
    >>> import torch
    >>> model = RankingModel(in_features=28, num_positions=10, num_tasks=3, backbone="mmoe",
    ...                      shallow_tower=True)
    >>> x = torch.zeros(4, 28); x[:, 18] = 1.0  # position 0
    >>> model(x, torch.tensor([0, 0, 1, 2])).shape
    torch.Size([4, 1])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from .._validation import check_float, check_int
from .conditioning import ConditionedModel, get_conditioning

__all__ = ["RankingModel"]


class RankingModel(ConditionedModel):
    """Backbone over the features, plus an optional position shallow tower.

    The last ``num_positions`` columns of an input row are the position one-hot;
    the rest are the features the backbone sees.

    Args:
        in_features: width of an input row, position one-hot included.
        num_positions: width of the position one-hot.
        num_tasks: number of objectives (one tower each).
        backbone: a name of :data:`~mtml_lib.models.conditioning.CONDITIONING`:
            ``"multihead"`` (shared bottom with a tower per objective) or ``"mmoe"``.
        shallow_tower: add the position logit during training.
        biased_tasks: the objectives whose labels carry position bias (click: 0).
        position_dropout: share of training rows whose position logit is dropped.
        **backbone_kwargs: the backbone's options (``hidden``, ``num_experts``,
        ``gate_dropout``...).
    """

    def __init__(
        self,
        *,
        in_features: int,
        num_positions: int,
        num_tasks: int,
        out_features: int = 1,
        backbone: str = "mmoe",
        shallow_tower: bool = False,
        biased_tasks: Sequence[int] = (0,),
        position_dropout: float = 0.1,
        **backbone_kwargs,
    ):
        super().__init__(in_features=in_features, out_features=out_features, num_tasks=num_tasks)
        self.num_positions = check_int(
            "num_positions", num_positions, minimum=1, maximum=in_features - 1
        )
        self.backbone = get_conditioning(
            backbone,
            in_features=in_features - num_positions,
            out_features=out_features,
            num_tasks=num_tasks,
            **backbone_kwargs,
        )
        self.shallow = nn.Linear(num_positions, out_features) if shallow_tower else None
        self.position_dropout = check_float(
            "position_dropout", position_dropout, minimum=0.0, maximum=1.0
        )
        self.register_buffer(
            "biased",
            torch.tensor(
                sorted(
                    {
                        check_int("biased_tasks", t, minimum=0, maximum=num_tasks - 1)
                        for t in biased_tasks
                    }
                ),
                dtype=torch.long,
            ),
        )
        self.serving = False
        self.task_specific_prefixes = tuple(
            f"backbone.{p}" for p in self.backbone.task_specific_prefixes
        ) + ("shallow",)

    @contextlib.contextmanager
    def serving_mode(self) -> Iterator[RankingModel]:
        """Inside the block the shallow tower is dropped, as at serving time."""
        previous, self.serving = self.serving, True
        try:
            yield self
        finally:
            self.serving = previous

    def position_logit(self, x: torch.Tensor, task_id: torch.Tensor) -> torch.Tensor:
        """The shallow tower's contribution for each row, ``(B,
        out_features)`` (0 where not applied).
        """
        logit = self.shallow(x[:, -self.num_positions :])
        applies = (task_id.unsqueeze(1) == self.biased).any(1, keepdim=True)  # vmap-able isin
        if self.training and self.position_dropout > 0:
            applies = applies & (
                torch.rand(applies.shape, device=x.device) >= self.position_dropout
            )
        return logit * applies.to(logit.dtype)

    def _forward(self, x, task_id):
        out = self.backbone(x[:, : -self.num_positions], task_id)
        if self.shallow is not None and not self.serving:
            out = out + self.position_logit(x, task_id)
        return out
