r"""What a task is: :math:`\mathcal{T}_i = \{p_i(x), p_i(y \mid x), \mathcal{L}_i\}`.

A :class:`Task` is literally the lecture's triple: a way to draw inputs
(``sample_x``, the input distribution :math:`p_i(x)`), a way to draw labels
given inputs (``sample_y``, :math:`p_i(y \mid x)`), and a loss
(:math:`\mathcal{L}_i`). Three regimes follow from which parts tasks share:

* **multi-task classification**: same loss, different :math:`p_i(x)` and
  :math:`p_i(y \mid x)` (:func:`mtml_lib.data.digits.multitask_classification`: digits seen
  through a different pixel permutation per task);
* **multi-label learning**: same loss and same :math:`p(x)`, different
  :math:`p_i(y \mid x)` (:func:`mtml_lib.data.digits.multilabel`: several attributes of the same
  digit images);
* **tasks with different losses** (:func:`mtml_lib.data.digits.mixed_losses`: classify the
  digit and regress the amount of ink on the same images).

Example:
    >>> from mtml_lib.data.digits import multilabel
    >>> tasks = multilabel(split="train")
    >>> [t.name for t in tasks]
    ['even', 'at_least_5', 'prime', 'closed_loop']
    >>> regime(tasks)
    'multi-label learning'
    >>> x, y = tasks[0].sample(8, generator=0)
    >>> tuple(x.shape), tuple(y.shape)
    ((8, 64), (8,))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ._validation import check_int, check_tensor
from .device import get_device
from .i18n import N_
from .metrics import auc
from .seeding import make_generator

__all__ = [
    "Loss",
    "CROSS_ENTROPY",
    "BINARY_CROSS_ENTROPY",
    "MSE",
    "Task",
    "shared_components",
    "regime",
]

SampleX = Callable[[int, torch.Generator], torch.Tensor]
SampleY = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class Loss:
    """A named loss :math:`\\mathcal{L}(f(x), y)` and the metric reported for it.

    Attributes:
        name: short name, e.g. ``"cross_entropy"``.
        kind: ``"classification"`` (targets are class indices), ``"binary"`` (one
            logit per example, targets 0/1; reported as ROC AUC) or ``"regression"``.
        fn: ``fn(prediction, target) -> scalar tensor`` (mean over the batch).
    """

    name: str
    kind: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = field(repr=False)

    def __call__(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(prediction, target)

    @property
    def metric_name(self) -> str:
        return {"classification": "accuracy", "binary": "auc"}.get(self.kind, "mse")

    @property
    def higher_is_better(self) -> bool:
        return self.kind in ("classification", "binary")

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> float:
        """Accuracy for classification, ROC AUC for binary, mean squared error for regression."""
        with torch.no_grad():
            if self.kind == "classification":
                return (prediction.argmax(dim=-1) == target).float().mean().item()
            if self.kind == "binary":
                return auc(prediction[:, 0], target)
            return F.mse_loss(prediction, target).item()


def _binary_cross_entropy(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(prediction[:, 0], target.to(prediction.dtype))


CROSS_ENTROPY = Loss("cross_entropy", "classification", F.cross_entropy)
BINARY_CROSS_ENTROPY = Loss("binary_cross_entropy", "binary", _binary_cross_entropy)
MSE = Loss("mse", "regression", F.mse_loss)


class Task:
    r"""One task :math:`\{p_i(x), p_i(y \mid x), \mathcal{L}_i\}`.

    Args:
        name: a short, readable name.
        sample_x: ``sample_x(n, generator) -> x`` of shape ``(n, *input_shape)``, drawn
            from :math:`p_i(x)` on the CPU with ``generator``.
        sample_y: ``sample_y(x, generator) -> y``, one label per row of ``x``, drawn from
            :math:`p_i(y \mid x)`. Class indices (``long``, shape ``(n,)``) for a
            classification loss; floats of shape ``(n, out_features)`` for regression.
        loss: the task's :class:`Loss`.
        out_features: the model output size the loss expects (classes, or regression outputs).

    Two tasks *share* a component when they hold the same object for it; see
    :func:`shared_components`.

    Example:
        >>> import torch
        >>> t = Task(name="double", sample_x=lambda n, g: torch.rand(n, 1, generator=g),
        ...          sample_y=lambda x, g: 2 * x, loss=MSE, out_features=1)
        >>> x, y = t.sample(4, generator=0)
        >>> torch.equal(y, 2 * x)
        True
    """

    def __init__(
        self, *, name: str, sample_x: SampleX, sample_y: SampleY, loss: Loss, out_features: int
    ):
        if not isinstance(name, str) or not name:
            raise TypeError(f"`name` must be a non-empty str; got {name!r}.")
        for param, fn in (("sample_x", sample_x), ("sample_y", sample_y)):
            if not callable(fn):
                raise TypeError(f"`{param}` must be callable; got {type(fn).__name__}.")
        if not isinstance(loss, Loss):
            raise TypeError(
                f"`loss` must be a mtml_lib.tasks.Loss such as CROSS_ENTROPY or MSE; got {loss!r}."
            )
        self.name = name
        self.sample_x = sample_x
        self.sample_y = sample_y
        self.loss = loss
        self.out_features = check_int("out_features", out_features, minimum=1)

    def __repr__(self) -> str:
        return f"Task({self.name!r}, loss={self.loss.name}, out_features={self.out_features})"

    def sample(
        self,
        n: int,
        *,
        generator: int | torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Draw a dataset :math:`\{(x_j, y_j)\}_{j=1}^n` with :math:`x \sim p_i(x)`, :math:`y \sim
        p_i(y \mid x)`.

        Args:
            n: number of examples (>= 1).
            generator: ``None``, an int seed or a CPU ``torch.Generator``. Draws happen
                on the CPU, so a seed gives the same data on every device.
            device: where the returned tensors live (``"auto"`` allowed).

        Returns:
            ``(x, y)`` on ``device``.
        """
        n = check_int("n", n, minimum=1)
        generator = make_generator(generator)
        x = self.sample_x(n, generator)
        y = self.sample_y(x, generator)
        check_tensor(f"{self.name}.sample_x(...)", x)
        check_tensor(f"{self.name}.sample_y(...)", y)
        if x.shape[0] != n or y.shape[0] != n:
            raise ValueError(
                f"task {self.name!r} returned {x.shape[0]} inputs and {y.shape[0]} labels; "
                f"expected {n} of each."
            )
        target = get_device(device)
        return x.to(target), y.to(target)

    def metric(self, prediction: torch.Tensor, target: torch.Tensor) -> float:
        """The task's evaluation metric (see :meth:`Loss.metric`)."""
        return self.loss.metric(prediction, target)


def shared_components(tasks: Sequence[Task]) -> dict[str, bool]:
    r"""Which of :math:`p(x)`, :math:`p(y \mid x)` and :math:`\mathcal{L}` all ``tasks`` share.

    Sharing means holding the same object: two tasks built from the same input
    sampler share :math:`p(x)`.

    Returns:
        ``{"p(x)": bool, "p(y|x)": bool, "loss": bool}``.
    """
    tasks = _check_tasks(tasks)
    first = tasks[0]
    return {
        "p(x)": all(t.sample_x is first.sample_x for t in tasks),
        "p(y|x)": all(t.sample_y is first.sample_y for t in tasks),
        "loss": all(t.loss == first.loss for t in tasks),
    }


def regime(tasks: Sequence[Task]) -> str:
    """Name the lecture's multi-task regime a set of tasks belongs to.

    Returns one of ``"multi-label learning"`` (same loss and p(x), only p(y|x)
    differs; the labels may be real-valued, as in scene understanding),
    ``"multi-task classification"`` / ``"multi-task regression"`` (same loss,
    different p(x)), ``"tasks with different losses"``, or ``"one task"`` when
    all three components are shared. The names are the catalog's messages: ``translate(name)``
    shows one in the edition's language.
    """
    shared = shared_components(tasks)
    if all(shared.values()):
        return N_("one task")
    if not shared["loss"]:
        return N_("tasks with different losses")
    if shared["p(x)"]:
        return N_("multi-label learning")
    return (
        N_("multi-task regression")
        if tasks[0].loss.kind == "regression"
        else N_("multi-task classification")
    )


def _check_tasks(tasks: Sequence[Task]) -> list[Task]:
    tasks = list(tasks)
    if not tasks:
        raise ValueError("`tasks` must hold at least one Task; got an empty sequence.")
    for i, t in enumerate(tasks):
        if not isinstance(t, Task):
            raise TypeError(f"`tasks[{i}]` must be a Task; got {type(t).__name__}.")
    return tasks
