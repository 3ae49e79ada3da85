"""Combining episode sources: several samplers drawn in turn, and batches joined into one.

* :class:`SamplerCycle`: e.g. 1- to 4-shot episodes in turn, for a learner that must handle any
  number of shots; its generators are saved and restored as one (checkpoints);
* :func:`concat_episodes`: one batch from several (e.g. every process's episodes of one step).
"""

from __future__ import annotations

from dataclasses import fields

import torch

__all__ = ["SamplerCycle", "concat_episodes"]


class _JointGenerator:
    """The generators of several samplers, saved and restored as one (for checkpoints)."""

    def __init__(self, cycle: SamplerCycle):
        self.cycle = cycle

    def get_state(self):
        return {
            "turn": self.cycle.turn,
            "states": [s.generator.get_state() for s in self.cycle.samplers],
        }

    def set_state(self, state) -> None:
        self.cycle.turn = state["turn"]
        for sampler, saved in zip(self.cycle.samplers, state["states"]):
            sampler.generator.set_state(saved)


class SamplerCycle:
    """Draws from several samplers in turn: e.g. 1- to 4-shot episodes, for a learner that must
    handle any number of shots.

    Example:
        >>> import torch
        >>> from mtml_lib.data.fewshot import FewShotDataset
        >>> from mtml_lib.data.episodes import EpisodeSampler
        >>> data = FewShotDataset(torch.rand(6, 6, 28, 28), alphabets=["a"] * 6)
        >>> cycle = SamplerCycle([EpisodeSampler(data, n_way=2, k_shot=k, n_query=1, batch_size=3,
        ...                                      generator=k)
        ...                       for k in (1, 2)])
        >>> [cycle.sample().k_shot for _ in range(3)]
        [1, 2, 1]
    """

    def __init__(self, samplers):
        self.samplers = list(samplers)
        if not self.samplers:
            raise ValueError("`samplers` must hold at least one sampler; got none.")
        self.turn = 0
        self.generator = _JointGenerator(self)
        self.device = self.samplers[0].device

    def sample(self):
        sampler = self.samplers[self.turn % len(self.samplers)]
        self.turn += 1
        return sampler.sample()


def concat_episodes(batches):
    """One batch holding the episodes of ``batches`` (all of one
    type and one N-way K-shot spec), in order.
    """
    batches = list(batches)
    if not batches:
        raise ValueError("`batches` must hold at least one episode batch; got none.")
    kind = type(batches[0])
    if any(type(b) is not kind for b in batches):
        raise TypeError(
            f"`batches` must all be of one type; got {sorted({type(b).__name__ for b in batches})}."
        )
    values = []
    for f in fields(kind):
        parts = [getattr(b, f.name) for b in batches]
        if isinstance(parts[0], torch.Tensor):
            values.append(torch.cat(parts))
        elif len(set(parts)) > 1:
            raise ValueError(f"`batches` must share their {f.name}; got {parts}.")
        else:
            values.append(parts[0])
    return kind(*values)
