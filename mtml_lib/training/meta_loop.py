r"""Meta-training and meta-testing of black-box learners.

:func:`meta_train` runs the outer loop of meta-learning: sample a batch of tasks
(episodes), let the learner adapt to each :math:`\mathcal{D}^{tr}_i` and predict
:math:`\mathcal{D}^{test}_i`, and update :math:`\theta` on the query loss. The whole step
stays on the device (episodes are made there, losses are logged there and read back
only for the progress bar); bfloat16 autocast is used on GPUs that support it.
Evaluation on meta-validation episodes keeps the best weights, and a checkpoint lets an
interrupted run resume with the same result (the loop is shared with multi-task training,
:mod:`mtml_lib.training.core`).

Under ``torchrun`` (see :mod:`mtml_lib.distributed`) the same call trains data-parallel with
``DistributedDataParallel``: every process samples its own episodes (give each rank its own
sampler seed), gradients are averaged, so one step sees ``world_size x batch_size`` episodes;
the progress bar, evaluation and checkpoints are rank 0's.

:func:`meta_test` gives the mean query accuracy (or squared error) over ``episodes``
episodes and its 95% confidence interval.

Example:
    >>> from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
    >>> from mtml_lib.models.blackbox import get_blackbox
    >>> learner = get_blackbox("cnp_regression", hidden=16)
    >>> sampler = SinusoidEpisodeSampler(k_shot=5, n_query=10, batch_size=8, generator=0)
    >>> history = meta_train(learner, sampler, steps=5, device="cpu", progress=False)
    >>> history.metric_name, tuple(history.losses.shape)
    ('mse', (5,))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .. import distributed
from .._validation import check_int
from ..device import autocast, get_device
from ..models.blackbox import BlackBoxLearner
from ..seeding import make_generator
from ..stats import Estimate
from .config import MetaTrainConfig, make_config
from .core import History, Loop, check_streams_differ
from .optim import apply_schedule, make_optimizer

__all__ = ["MetaTrainConfig", "MetaHistory", "meta_train", "meta_test"]


@dataclass(kw_only=True)
class MetaHistory(History):
    """What a :func:`meta_train` run recorded (besides :class:`~mtml_lib.training.core.History`'s
    fields).

    Attributes:
        losses: ``(steps,)`` meta-training loss per step.
        metrics: ``(steps,)`` mean query accuracy (or squared error) of each step's episodes.
        metric_name: ``"accuracy"`` or ``"mse"``.
        eval_intervals: the 95% half-width of each evaluation (``eval_metrics`` holds the means).
    """

    losses: torch.Tensor
    metrics: torch.Tensor
    metric_name: str
    eval_intervals: list[float]

    def record_evaluation(self, step: int, result) -> None:
        mean, half_width = result
        super().record_evaluation(step, mean)
        self.eval_intervals.append(half_width)


def _check_learner(learner) -> BlackBoxLearner:
    if not isinstance(learner, BlackBoxLearner):
        raise TypeError(
            f"`learner` must be a BlackBoxLearner (see mtml_lib.models.blackbox); "
            f"got {type(learner).__name__}."
        )
    return learner


@torch.no_grad()
def meta_test(
    learner: BlackBoxLearner,
    sampler,
    *,
    episodes: int = 600,
    use_autocast: bool = True,
    generator: int | torch.Generator | None = 0,
) -> Estimate:
    """Meta-test ``learner`` on ``episodes`` episodes of ``sampler``.

    Args:
        learner: a black-box learner.
        sampler: makes the test episodes (``sampler.sample()``), on the learner's device
            or moved there.
        episodes: how many episodes to average over (the sampler's batches are cut to it).
        use_autocast: bfloat16 autocast on GPUs that support it.
        generator: the learner's own randomness (e.g. the memory learner's query order).

    Returns:
        An :class:`~mtml_lib.stats.Estimate`, which unpacks to ``(mean, half_width)``: mean
        query accuracy (classification) or mean squared error (regression) over the
        episodes, and its 95% confidence half-width; ``.values`` keeps each episode's, in the
        sampler's order, for paired comparisons on the same episodes
        (:func:`mtml_lib.stats.paired_test`).
    """
    learner = _check_learner(learner)
    episodes = check_int("episodes", episodes, minimum=2)
    device = next(learner.parameters()).device
    generator = make_generator(generator, device=device)
    was_training = learner.training
    learner.eval()
    values, seen = [], 0
    while seen < episodes:
        episode = sampler.sample()
        if episode.support_x.device != device:
            episode = episode.to(device)
        with autocast(device, enabled=use_autocast):
            _, metric = learner.loss(episode, generator=generator)
        values.append(metric.float())
        seen += metric.shape[0]
    learner.train(was_training)
    return Estimate(torch.cat(values)[:episodes].float().cpu())


class _Loss(nn.Module):
    """``learner.loss`` as a forward pass: what DistributedDataParallel synchronises, and what
    ``torch.compile`` compiles."""

    def __init__(self, learner: nn.Module):
        super().__init__()
        self.learner = learner

    def forward(self, episode, generator=None):
        return self.learner.loss(episode, generator=generator)


class _Step:
    """One meta-training step: a batch of episodes, the query loss, the optimiser step.

    The loss is computed through ``DistributedDataParallel`` under torchrun and through
    ``torch.compile`` on request (``config.compile``).
    """

    def __init__(
        self,
        learner: BlackBoxLearner,
        sampler,
        config: MetaTrainConfig,
        generator,
        device,
        callback,
    ):
        self.learner, self.sampler, self.config = learner, sampler, config
        self.generator, self.device, self.callback = generator, device, callback
        self.optimizer = make_optimizer(
            learner.parameters(), config.optimizer, lr=config.lr, weight_decay=config.weight_decay
        )
        forward: nn.Module = _Loss(learner)
        # gradients averaged over the ranks; rank 0's weights broadcast
        if distributed.current().active:
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            forward = DistributedDataParallel(forward, device_ids=ids)
        self.forward = torch.compile(forward) if config.compile else forward

    def __call__(self, i: int) -> dict[str, torch.Tensor]:
        episode = self.sampler.sample()
        if episode.support_x.device != self.device:
            episode = episode.to(self.device)
        with autocast(self.device, enabled=self.config.autocast):
            loss, metric = self.forward(episode, self.generator)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        apply_schedule(self.optimizer, self.config, i)
        self.optimizer.step()
        if self.callback is not None:
            self.callback(i, self.learner)
        return {"losses": loss.detach(), "metrics": metric.float().mean()}

    def postfix(self, logs: dict[str, list[torch.Tensor]]) -> dict[str, str]:
        if not logs.get("losses"):
            return {}
        recent = torch.stack(logs["metrics"][-50:]).mean().item()
        return {
            "loss": f"{logs['losses'][-1].item():.3f}",
            self.learner.metric_name: f"{recent:.3f}",
        }


def meta_train(
    learner: BlackBoxLearner,
    sampler,
    config: MetaTrainConfig | None = None,
    *,
    generator: int | torch.Generator | None = None,
    eval_sampler=None,
    callback: Callable[[int, nn.Module], None] | None = None,
    **options,
) -> MetaHistory:
    """Meta-train ``learner`` on episodes from ``sampler`` with Adam.

    Args:
        learner: a :class:`~mtml_lib.models.blackbox.BlackBoxLearner`.
        sampler: makes the training episodes (``sampler.sample()``); build it on the device
            so that episodes never leave it (episodes from elsewhere are moved, more slowly).
            Its generator is the run's data stream (under torchrun: one per rank).
        config: a :class:`~mtml_lib.training.config.MetaTrainConfig`; ``**options`` (its fields:
            ``steps``, ``lr``, ``eval_every``, ``eval_episodes``, ``compile``, ``checkpoint``,
            ...) build one or change it.
        generator: seed or generator of the learner's own randomness (e.g. the memory
            learner's query order), made on the device.
        eval_sampler: meta-validation episodes, evaluated every ``eval_every`` steps and at
            the end; with ``keep_best`` (the default) the best weights are kept.
        callback: called as ``callback(step, learner)`` after every step.

    Returns:
        A :class:`MetaHistory`.
    """
    config = make_config(MetaTrainConfig, config, **options)
    learner = _check_learner(learner)
    check_streams_differ(sampler.generator, name="the sampler's generator")
    device = get_device(config.device)
    learner.to(device).train()
    generator = make_generator(generator, device=device)
    step = _Step(learner, sampler, config, generator, device, callback)
    history = MetaHistory(
        losses=torch.zeros(0),
        metrics=torch.zeros(0),
        metric_name=learner.metric_name,
        eval_intervals=[],
    )
    validate = eval_sampler is not None and distributed.current().is_main
    loop = Loop(
        config.replace(
            description=config.description or type(learner).__name__,
            keep_best=config.keep_best and validate,
        ),
        model=learner,
        optimizer=step.optimizer,
        history=history,
        streams=[sampler.generator, generator],
        shared_streams=(eval_sampler.generator,) if validate else (),
        evaluate=_evaluator(learner, eval_sampler, config) if validate else None,
        device=device,
    )
    loop.run(step, start=loop.resume(), postfix=step.postfix)
    return history


def _evaluator(learner: BlackBoxLearner, eval_sampler, config: MetaTrainConfig):
    """``evaluate() -> ((mean, half-width), score)`` on the meta-validation episodes."""
    sign = 1.0 if learner.higher_is_better else -1.0

    def evaluate():
        mean, half = meta_test(
            learner,
            eval_sampler,
            episodes=config.eval_episodes,
            use_autocast=config.autocast,
            generator=0,
        )
        return (mean, half), sign * mean

    return evaluate
