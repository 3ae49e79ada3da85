r"""A fixed dataset :math:`\mathcal{D}_i` per task, held as tensors on the device.

:class:`MultiTaskDataset` draws :math:`\mathcal{D}_i` once from each task
(finite data, so over-fitting can happen as it does in practice) and serves the
mini-batches of the lecture's training loop:

1. sample a mini-batch of tasks :math:`\mathcal{B} \sim \{\mathcal{T}_i\}`
   (all of them, or ``tasks_per_step`` chosen uniformly or proportionally to
   :math:`|\mathcal{D}_i|`);
2. sample a mini-batch of examples :math:`\mathcal{D}_i^b \sim \mathcal{D}_i` for each.

Example:
    >>> from mtml_lib.data.digits import multilabel
    >>> data = MultiTaskDataset.sample(multilabel(), 100, generator=0)
    >>> batch = data.batch(8, generator=0)
    >>> tuple(batch.x.shape), batch.task_id.tolist()[:9]
    ((32, 64), [0, 0, 0, 0, 0, 0, 0, 0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from .._validation import check_choice, check_int
from ..device import get_device
from ..seeding import make_generator
from ..tasks import Task, _check_tasks

__all__ = ["MultiTaskDataset", "MultiTaskBatch", "sample_train_test", "TEST_OFFSET"]

#: The held-out set is drawn from ``seed + TEST_OFFSET`` (:func:`sample_train_test`).
TEST_OFFSET = 100


@dataclass
class MultiTaskBatch:
    """One training step's data, and the one statement of its layout: rows task after task.

    Every consumer (the loss of :func:`~mtml_lib.training.task_losses`, the replicas' loop, the
    recorders) reads a task's rows and columns through :meth:`task_outputs`; none works the
    layout out again.

    Attributes:
        x: ``(B, *input_shape)``, or ``(R, B, *input_shape)`` with one batch per replica: the
            rows of the sampled tasks, task after task, ``rows_per_task`` rows each.
        task_id: ``(B,)`` long, the task of each row.
        ys: one label tensor per task of the dataset, ``(rows_per_task, ...)`` (``(R,
            rows_per_task, ...)`` with replicas); an empty one for a task not in this batch.
        tasks: the indices of the tasks in this batch, ``(k,)``, in the order of their rows.
        rows_per_task: how many rows each sampled task has.
        widths: the output columns each task of the dataset reads (its ``out_features``): a
            model's output serves every task, and task i reads its first ``widths[i]`` columns.
    """

    x: torch.Tensor
    task_id: torch.Tensor
    ys: list[torch.Tensor]
    tasks: torch.Tensor
    rows_per_task: int
    widths: tuple[int, ...]

    def task_outputs(self, prediction: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
        """Each sampled task and its block of ``prediction`` ``(..., B, out_features)``: the
        task's rows and its first ``widths[i]`` columns (any leading axes, such as replicas,
        kept)."""
        n = self.rows_per_task
        if prediction.shape[-2] != n * self.tasks.numel():
            raise ValueError(
                f"`prediction` must have {n * self.tasks.numel()} rows ({self.tasks.numel()} tasks"
                f" of {n}) in its second-to-last axis; got shape {tuple(prediction.shape)}."
            )
        return [
            (i, prediction[..., j * n : (j + 1) * n, : self.widths[i]])
            for j, i in enumerate(self.tasks.tolist())
        ]

    def to(self, device: str | torch.device) -> MultiTaskBatch:
        """This batch on ``device``."""
        return replace(
            self,
            x=self.x.to(device),
            task_id=self.task_id.to(device),
            ys=[y.to(device) for y in self.ys],
        )


class MultiTaskDataset:
    """Per-task datasets ``(xs[i], ys[i])`` on one device.

    Args:
        tasks: the tasks (their losses and metrics are used by training and evaluation).
        xs, ys: one tensor of inputs and one of labels per task, all on one device.
    """

    def __init__(
        self, tasks: Sequence[Task], xs: Sequence[torch.Tensor], ys: Sequence[torch.Tensor]
    ):
        self.tasks = _check_tasks(tasks)
        if not (len(xs) == len(ys) == len(self.tasks)):
            raise ValueError(
                f"`xs` and `ys` must hold one tensor per task ({len(self.tasks)}); got {len(xs)} "
                f"and {len(ys)}."
            )
        shapes = {tuple(x.shape[1:]) for x in xs}
        if len(shapes) != 1:
            raise ValueError(
                f"every task's inputs must have the same shape per row; got {sorted(shapes)}."
            )
        for i, (x, y) in enumerate(zip(xs, ys)):
            if x.shape[0] != y.shape[0] or x.shape[0] == 0:
                raise ValueError(
                    f"task {i} must have as many labels as inputs (> 0); got {x.shape[0]} and "
                    f"{y.shape[0]}."
                )
        self.xs, self.ys = list(xs), list(ys)
        self.device = self.xs[0].device

    @classmethod
    def sample(
        cls,
        tasks: Sequence[Task],
        n_per_task: int | Sequence[int],
        *,
        generator: int | torch.Generator | None = None,
        device: str | torch.device = "cpu",
    ) -> MultiTaskDataset:
        """Draw :math:`\\mathcal{D}_i` of ``n_per_task`` examples (one int,
        or one per task) from each task.
        """
        tasks = _check_tasks(tasks)
        sizes = [n_per_task] * len(tasks) if isinstance(n_per_task, int) else list(n_per_task)
        if len(sizes) != len(tasks):
            raise ValueError(
                f"`n_per_task` must be an int or hold one size per task ({len(tasks)}); got "
                f"{n_per_task!r}."
            )
        generator = make_generator(generator)
        target = get_device(device)
        pairs = [
            t.sample(
                check_int(f"n_per_task[{i}]", n, minimum=1), generator=generator, device=target
            )
            for i, (t, n) in enumerate(zip(tasks, sizes))
        ]
        return cls(tasks, [x for x, _ in pairs], [y for _, y in pairs])

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def sizes(self) -> list[int]:
        return [x.shape[0] for x in self.xs]

    @property
    def in_features(self) -> int:
        return int(torch.tensor(self.xs[0].shape[1:]).prod())

    @property
    def out_features(self) -> int:
        """The model output size that serves every task (the largest task needs)."""
        return max(t.out_features for t in self.tasks)

    @property
    def widths(self) -> tuple[int, ...]:
        """The output columns each task reads (its ``out_features``)."""
        return tuple(t.out_features for t in self.tasks)

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def to(self, device: str | torch.device) -> MultiTaskDataset:
        target = get_device(device)
        return MultiTaskDataset(
            self.tasks, [x.to(target) for x in self.xs], [y.to(target) for y in self.ys]
        )

    def choose_tasks(
        self, tasks_per_step: int | None, sampling: str, generator: torch.Generator
    ) -> torch.Tensor:
        """Step 1: the task indices of one step, ``(k,)`` sorted
        (all tasks when ``tasks_per_step`` is None).
        """
        check_choice("task_sampling", sampling, ("uniform", "proportional"))
        if tasks_per_step is None or tasks_per_step == self.num_tasks:
            return torch.arange(self.num_tasks)
        k = check_int("tasks_per_step", tasks_per_step, minimum=1, maximum=self.num_tasks)
        probs = (
            torch.ones(self.num_tasks)
            if sampling == "uniform"
            else torch.tensor(self.sizes, dtype=torch.float)
        )
        return torch.multinomial(probs, k, replacement=False, generator=generator).sort().values

    def batch(
        self,
        batch_size: int,
        *,
        generator: torch.Generator | int | None = None,
        tasks_per_step: int | None = None,
        task_sampling: str = "uniform",
    ) -> MultiTaskBatch:
        """Steps 1 and 2: ``batch_size`` examples (with replacement) from each chosen task."""
        batch_size = check_int("batch_size", batch_size, minimum=1)
        generator = make_generator(generator)
        chosen = self.choose_tasks(tasks_per_step, task_sampling, generator)
        xs, ids = [], []
        ys = [y[:0] for y in self.ys]
        for i in chosen.tolist():
            rows = torch.randint(self.sizes[i], (batch_size,), generator=generator).to(self.device)
            xs.append(self.xs[i][rows])
            ys[i] = self.ys[i][rows]
            ids.append(torch.full((batch_size,), i, dtype=torch.long))
        task_id = torch.cat(ids).to(self.device)
        return MultiTaskBatch(torch.cat(xs), task_id, ys, chosen, batch_size, self.widths)


def sample_train_test(
    tasks: Sequence[Task],
    n_train: int | Sequence[int],
    n_test: int | Sequence[int],
    *,
    seed: int,
    test_tasks: Sequence[Task] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[MultiTaskDataset, MultiTaskDataset]:
    """A training set and a held-out set of ``tasks``: the one way the workbook draws them.

    The training set is drawn from ``seed``, the held-out set from ``seed + TEST_OFFSET``
    (independent draws of the same tasks). ``test_tasks`` gives other tasks for the held-out
    set, e.g. the same digit tasks on the disjoint test images.

    Example:
        >>> from mtml_lib.data.sinusoids import sinusoid_tasks
        >>> train, test = sample_train_test(sinusoid_tasks(2, generator=0), 50, 20, seed=0)
        >>> train.sizes, test.sizes
        ([50, 50], [20, 20])
    """
    sets = []
    for name, group, size, offset in (
        ("n_train", tasks, n_train, 0),
        ("n_test", test_tasks if test_tasks is not None else tasks, n_test, TEST_OFFSET),
    ):
        try:
            sets.append(
                MultiTaskDataset.sample(group, size, generator=seed + offset, device=device)
            )
        except ValueError as error:
            raise ValueError(str(error).replace("`n_per_task", f"`{name}")) from None
    return sets[0], sets[1]
