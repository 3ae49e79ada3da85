r"""Sinusoid regression, the meta-learning field's running example: as tasks, and as episodes.

* MAML's family (Finn et al., 2017): amplitude ``A ~ U[0.1, 5]``, phase ``~ U[0, pi]``,
  inputs ``x ~ U[-5, 5]``, ``y = A sin(x - phase)``; one :class:`~mtml_lib.tasks.Task` per
  sinusoid (:func:`sinusoid_task`, :func:`sinusoid_tasks`), or whole batches of K-shot
  episodes (:class:`SinusoidEpisodeSampler`, :class:`RegressionEpisode`).
* Related sinusoids (:func:`related_sinusoids`): two groups of tasks whose targets have a
  chosen correlation, from identical (1) through unrelated (0) to conflicting (-1).

Example:
    >>> task = sinusoid_task(amplitude=2.0, phase=0.0)
    >>> x, y = task.sample(5, generator=0)
    >>> bool(torch.allclose(y, 2.0 * torch.sin(x)))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from .._validation import check_float, check_int
from ..device import get_device
from ..seeding import make_generator
from ..tasks import MSE, Task

__all__ = [
    "AMPLITUDE_RANGE",
    "PHASE_RANGE",
    "X_RANGE",
    "uniform_inputs",
    "sinusoid_task",
    "sinusoid_tasks",
    "sample_sinusoid_batch",
    "related_sinusoids",
    "RegressionEpisode",
    "SinusoidEpisodeSampler",
]

AMPLITUDE_RANGE = (0.1, 5.0)
PHASE_RANGE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)


def _uniform(
    shape: tuple[int, ...], low: float, high: float, generator: torch.Generator
) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


def uniform_inputs(x_range: tuple[float, float] = X_RANGE):
    """:math:`p(x) = U[low, high]` for 1-D inputs: ``sample_x(n, generator) -> (n, 1)``."""
    low, high = (check_float("x_range[0]", x_range[0]), check_float("x_range[1]", x_range[1]))
    if not low < high:
        raise ValueError(f"`x_range` must be (low, high) with low < high; got {x_range!r}.")

    def sample_x(n: int, generator: torch.Generator) -> torch.Tensor:
        return _uniform((n, 1), low, high, generator)

    return sample_x


def sinusoid_task(
    *, amplitude: float, phase: float, x_range: tuple[float, float] = X_RANGE, sample_x=None
) -> Task:
    """One sinusoid regression task ``y = amplitude * sin(x - phase)``, ``x ~ U[x_range]``.

    Inputs and targets have shape ``(n, 1)``; the loss is the squared error.
    Pass ``sample_x`` (from :func:`uniform_inputs`) to share one :math:`p(x)` between tasks.
    """
    amplitude = check_float("amplitude", amplitude)
    phase = check_float("phase", phase)
    sample_x = sample_x if sample_x is not None else uniform_inputs(x_range)

    def sample_y(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return amplitude * torch.sin(x - phase)

    return Task(
        name=f"sin(A={amplitude:.2f}, phase={phase:.2f})",
        sample_x=sample_x,
        sample_y=sample_y,
        loss=MSE,
        out_features=1,
    )


def sinusoid_tasks(num_tasks: int, *, generator: int | torch.Generator | None = None) -> list[Task]:
    """``num_tasks`` sinusoid tasks with amplitude and phase drawn from MAML's ranges.

    The tasks share one :math:`p(x)` and the loss; only :math:`p(y \\mid x)` differs.
    """
    num_tasks = check_int("num_tasks", num_tasks, minimum=1)
    generator = make_generator(generator)
    amplitudes = _uniform((num_tasks,), *AMPLITUDE_RANGE, generator)
    phases = _uniform((num_tasks,), *PHASE_RANGE, generator)
    sample_x = uniform_inputs()
    return [
        sinusoid_task(amplitude=a.item(), phase=p.item(), sample_x=sample_x)
        for a, p in zip(amplitudes, phases)
    ]


def sample_sinusoid_batch(
    batch_size: int,
    num_points: int,
    *,
    generator: int | torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, torch.Tensor]:
    """A batch of sinusoid tasks, each with ``num_points`` (x, y) pairs, drawn at once.

    Returns:
        ``{"x": (B, P, 1), "y": (B, P, 1), "amplitude": (B,), "phase": (B,)}`` on ``device``.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    num_points = check_int("num_points", num_points, minimum=1)
    generator = make_generator(generator)
    amplitude = _uniform((batch_size,), *AMPLITUDE_RANGE, generator)
    phase = _uniform((batch_size,), *PHASE_RANGE, generator)
    x = _uniform((batch_size, num_points, 1), *X_RANGE, generator)
    y = amplitude[:, None, None] * torch.sin(x - phase[:, None, None])  # (B, P, 1)
    target = get_device(device)
    return {
        "x": x.to(target),
        "y": y.to(target),
        "amplitude": amplitude.to(target),
        "phase": phase.to(target),
    }


def related_sinusoids(
    num_tasks: int, *, relatedness: float, noise: float = 0.3, amplitude_step: float = 0.1
) -> list[Task]:
    """Tasks in two groups whose targets have correlation ``relatedness`` over a period.

    Even-numbered tasks are ``y = A_i sin(x)``, odd-numbered ones
    ``y = A_i sin(x - arccos(relatedness))``, with ``x ~ U[-pi, pi]`` (one period)
    and ``A_i = 1 + amplitude_step * (i // 2)``. Over a period the correlation of
    ``sin(x)`` and ``sin(x - d)`` is ``cos(d)``, so ``relatedness`` 1 makes the
    groups identical, 0 unrelated (sine against cosine) and -1 conflicting
    (each wants the negative of the other). All tasks share p(x) and the loss.

    Args:
        num_tasks: T (>= 2).
        relatedness: in [-1, 1].
        noise: standard deviation of Gaussian label noise (0 for the true functions).
        amplitude_step: how much the amplitude grows from one pair of tasks to the next.
    """
    num_tasks = check_int("num_tasks", num_tasks, minimum=2)
    relatedness = check_float("relatedness", relatedness, minimum=-1.0, maximum=1.0)
    noise = check_float("noise", noise, minimum=0.0)
    amplitude_step = check_float("amplitude_step", amplitude_step, minimum=0.0)
    shift = math.acos(relatedness)
    sample_x = uniform_inputs((-math.pi, math.pi))
    tasks = []
    for i in range(num_tasks):
        amplitude, phase = 1.0 + amplitude_step * (i // 2), (0.0 if i % 2 == 0 else shift)

        def sample_y(
            x: torch.Tensor, generator: torch.Generator, a=amplitude, p=phase
        ) -> torch.Tensor:
            y = a * torch.sin(x - p)
            return y + noise * torch.randn(x.shape, generator=generator) if noise > 0 else y

        group = "A" if i % 2 == 0 else "B"
        tasks.append(
            Task(
                name=f"{group}{i // 2}",
                sample_x=sample_x,
                sample_y=sample_y,
                loss=MSE,
                out_features=1,
            )
        )
    return tasks


@dataclass
class RegressionEpisode:
    """A batch of regression tasks: ``support_x, support_y (B, K, 1)``, ``query_x, query_y (B, Q,
    1)``,
    and the tasks' parameters (``amplitude``, ``phase``: ``(B,)``)."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    amplitude: torch.Tensor
    phase: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.support_x.shape[0]

    def to(self, device: str | torch.device) -> RegressionEpisode:
        target = get_device(device)
        return RegressionEpisode(*(getattr(self, f.name).to(target) for f in fields(self)))


class SinusoidEpisodeSampler:
    """Batches of sinusoid tasks (MAML's ranges) with K support and Q query points each.

    Args:
        k_shot: K context points per task.
        n_query: Q target points per task.
        batch_size: tasks per :meth:`sample`.
        device: where the points are drawn.
        generator: seed or generator (on ``device``).
    """

    def __init__(
        self,
        *,
        k_shot: int,
        n_query: int,
        batch_size: int,
        device: str | torch.device = "cpu",
        generator: int | torch.Generator | None = None,
    ):
        self.k_shot = check_int("k_shot", k_shot, minimum=1)
        self.n_query = check_int("n_query", n_query, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.device = get_device(device)
        self.generator = (
            generator
            if isinstance(generator, torch.Generator)
            else make_generator(generator, device=self.device)
        )

    def sample(self) -> RegressionEpisode:
        B, K, Q, g, dev = self.batch_size, self.k_shot, self.n_query, self.generator, self.device

        def uniform(shape, low, high):
            return low + (high - low) * torch.rand(shape, generator=g, device=dev)

        amplitude, phase = uniform((B,), *AMPLITUDE_RANGE), uniform((B,), *PHASE_RANGE)
        x = uniform((B, K + Q, 1), *X_RANGE)
        y = amplitude[:, None, None] * torch.sin(x - phase[:, None, None])  # (B, K+Q, 1)
        return RegressionEpisode(x[:, :K], y[:, :K], x[:, K:], y[:, K:], amplitude, phase)
