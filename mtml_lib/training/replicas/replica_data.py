r"""The datasets of K settings of one task family, stacked so that one batch serves R replicas.

Example:
    >>> import torch
    >>> from mtml_lib.data.multitask_data import MultiTaskDataset
    >>> from mtml_lib.data.sinusoids import related_sinusoids
    >>> tasks = [related_sinusoids(2, relatedness=r) for r in (1.0, -1.0)]
    >>> data = ReplicaData([MultiTaskDataset.sample(t, 30, generator=0) for t in tasks])
    >>> batch = data.batch(4, torch.tensor([0, 0, 1]), torch.Generator().manual_seed(0))
    >>> tuple(batch.x.shape), batch.task_id.tolist(), tuple(batch.ys[0].shape)
    ((3, 8, 1), [0, 0, 0, 0, 1, 1, 1, 1], (3, 4, 1))
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...data.multitask_data import MultiTaskBatch, MultiTaskDataset

__all__ = ["ReplicaData"]


class ReplicaData:
    """The datasets of K settings of one task family, stacked so that a batch serves R replicas.

    Every dataset must have the same tasks' kinds and sizes (e.g. one task family at K
    correlations); replica r reads setting ``settings[r]``.

    Args:
        datasets: K :class:`~mtml_lib.data.multitask_data.MultiTaskDataset` of one device.
    """

    def __init__(self, datasets: Sequence[MultiTaskDataset]):
        datasets = list(datasets)
        if not datasets or not all(isinstance(d, MultiTaskDataset) for d in datasets):
            raise TypeError("`data` must be a MultiTaskDataset or a non-empty list of them.")
        first = datasets[0]
        for k, d in enumerate(datasets):
            same = d.sizes == first.sizes and [t.loss for t in d.tasks] == [
                t.loss for t in first.tasks
            ]
            if not same:
                raise ValueError(
                    f"`data[{k}]` must have the tasks' losses and sizes of `data[0]` "
                    f"({first.sizes}); got {d.sizes}."
                )
        self.tasks, self.sizes, self.device = first.tasks, first.sizes, first.device
        self.xs = [
            torch.stack([d.xs[i] for d in datasets]) for i in range(first.num_tasks)
        ]  # (K, n, ...)
        self.ys = [torch.stack([d.ys[i] for d in datasets]) for i in range(first.num_tasks)]
        self.num_settings = len(datasets)

    def batch(
        self, batch_size: int, settings: torch.Tensor, generator: torch.Generator
    ) -> MultiTaskBatch:
        """Each replica's own ``batch_size`` examples of every task, with replacement: a
        :class:`~mtml_lib.data.multitask_data.MultiTaskBatch` with a replica axis, ``x (R, T*B,
        ...)`` task after task and one ``(R, B, ...)`` label tensor per task."""
        R, rows_of, xs, ys = settings.shape[0], [], [], []
        for i, n in enumerate(self.sizes):
            rows = torch.randint(n, (R, batch_size), generator=generator).to(self.device)  # (R, B)
            flat = (settings[:, None] * n + rows).reshape(-1)  # into the (K * n, ...) table
            for source, out in ((self.xs[i], xs), (self.ys[i], ys)):
                picked = source.reshape(-1, *source.shape[2:]).index_select(0, flat)
                out.append(picked.reshape(R, batch_size, *source.shape[2:]))  # (R, B, ...)
            rows_of.append(torch.full((batch_size,), i, dtype=torch.long))
        tasks = torch.arange(len(self.tasks))
        widths = tuple(t.out_features for t in self.tasks)
        task_id = torch.cat(rows_of).to(self.device)
        return MultiTaskBatch(torch.cat(xs, dim=1), task_id, ys, tasks, batch_size, widths)
