"""What `compile=True` buys in meta-training: one training step, eager against `torch.compile`.

For two learners (the hypernetwork on Glyphs 5-way 1-shot, 32 episodes a step; the regression
CNP on sinusoids, 25 tasks a step) the same step `meta_train` takes (`training.meta_loop._Step`: the
batch, the query loss, backward, Adam) is built twice, eager and compiled. The compilation time
is the first call's; the per-step times are measured side by side afterwards.
"""

from __future__ import annotations

import time

import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.glyphs import load_glyphs
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
from mtml_lib.device import get_device, synchronize
from mtml_lib.models.blackbox import get_blackbox
from mtml_lib.seeding import make_generator
from mtml_lib.training.config import MetaTrainConfig
from mtml_lib.training.meta_loop import _Step

from ._timing import print_table, time_side_by_side


def _samplers(device):
    train, _, _ = load_glyphs().split(by="alphabet")
    return {
        "hypernetwork": lambda: EpisodeSampler(
            train, n_way=5, k_shot=1, n_query=2, batch_size=32, device=device, generator=0
        ),
        "cnp_regression": lambda: SinusoidEpisodeSampler(
            k_shot=10, n_query=10, batch_size=25, device=device, generator=0
        ),
    }


def _step(name, make_sampler, device, compile):
    torch.manual_seed(0)
    learner = get_blackbox(name, **({"n_way": 5} if name == "hypernetwork" else {})).to(device)
    config = MetaTrainConfig(steps=1, device=device, compile=compile, progress=False)
    step = _Step(learner, make_sampler(), config, make_generator(0, device=device), device, None)
    synchronize(device)
    began = time.perf_counter()
    step(0)  # the first call compiles
    synchronize(device)
    return (lambda: step(0)), time.perf_counter() - began


def main(device: str = "auto") -> list[list[str]]:
    device = get_device(device)
    rows = []
    for name, make_sampler in _samplers(device).items():
        torch._dynamo.reset()
        (eager, _), (compiled, first) = (
            _step(name, make_sampler, device, c) for c in (False, True)
        )
        eager_s, compiled_s = time_side_by_side(
            [eager, compiled], device=device, warmup=3, rounds=8, calls=3
        )
        rows.append(
            [
                name,
                f"{1e3 * eager_s:.1f}",
                f"{1e3 * compiled_s:.1f}",
                f"{eager_s / compiled_s:.2f}x",
                f"{first:.1f}",
            ]
        )
    print_table(
        f"meta-training step, eager against torch.compile ({device.type})",
        ["learner", "eager ms", "compiled ms", "speed-up", "compile s"],
        rows,
    )
    for name, _, _, ratio, first in rows:
        print(
            f"compile: {name} steps {ratio} as fast as eager on {device.type} "
            f"(after {first} s of compiling)"
        )
    return rows
