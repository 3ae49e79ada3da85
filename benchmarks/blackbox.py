"""Black-box meta-learners on Glyphs and sinusoids: accuracy (or MSE), wall time and speed.

Every row meta-trains a fresh learner for a fixed number of steps on the alphabet-level
meta-training split and meta-tests it on held-out alphabets (600 episodes, 95% interval;
1,000 for the LSTM rows). Wall time is the whole meta-training run, validation excluded
(there is none). Settings:

* the notebook's setting (5-way 1-shot, 32 episodes of 2 queries per class, encoder
  channels 16-32-32) for every image learner, and longer runs;
* 20-way 1-shot: the 5-way learner tested at 20 ways, and a learner trained at 20 ways;
* the classic homework's LSTM memory learner at 1-shot 2-, 3- and 4-way (batch 128, Adam 1e-3,
  as in the homework; its 25,000 steps took 12-21 minutes on a laptop);
* CNP regression on sinusoids, with 5 and 10 context points.

Run a subset with ``python -m benchmarks blackbox`` and the environment variable
``MTML_BENCH_ROWS`` (comma-separated row names, e.g. ``hypernetwork-5w1s,lstm-2w``).
"""

from __future__ import annotations

import os
import time

import torch

from mtml_lib.data.episodes import EpisodeSampler
from mtml_lib.data.glyphs import load_glyphs
from mtml_lib.data.mixing import SamplerCycle
from mtml_lib.data.sinusoids import SinusoidEpisodeSampler
from mtml_lib.device import get_device
from mtml_lib.models.blackbox import get_blackbox
from mtml_lib.training import meta_test, meta_train

from ._timing import print_table

CHANNELS = (16, 32, 32)
# name: (learner, train way, train shot, queries, batch, steps, [(test way, test shot), ...],
# options)
ROWS = {
    "hypernetwork-5w1s": (
        "hypernetwork",
        5,
        1,
        2,
        32,
        400,
        [(5, 1), (20, 1)],
        {"channels": CHANNELS},
    ),
    "hypernetwork-5w1s-long": (
        "hypernetwork",
        5,
        1,
        2,
        32,
        1500,
        [(5, 1), (20, 1)],
        {"channels": CHANNELS},
    ),
    "transformer-5w1s-long": ("transformer", 5, 1, 2, 32, 1500, [(5, 1)], {"channels": CHANNELS}),
    "cnp-5w1s-long": ("cnp", 5, 1, 2, 32, 1500, [(5, 1)], {"channels": CHANNELS}),
    "hypernetwork-20w1s": ("hypernetwork", 20, 1, 2, 16, 1000, [(20, 1)], {"channels": CHANNELS}),
    "lstm-2w": ("lstm_memory", 2, 1, 1, 128, 3000, [(2, 1)], {}),
    "lstm-3w": ("lstm_memory", 3, 1, 1, 128, 8000, [(3, 1)], {}),
    "lstm-4w": ("lstm_memory", 4, 1, 1, 128, 15000, [(4, 1)], {}),
    "cnp-sinusoid": ("cnp_regression", None, (5, 10), 20, 25, 6000, [5, 10], {}),
}


def _run(name: str, spec, splits, device: torch.device) -> list[list[str]]:
    learner_name, way, shot, queries, batch, steps, tests, options = spec
    train, _, test = splits
    torch.manual_seed(0)
    learner = get_blackbox(learner_name, n_way=way, **options)
    if learner_name == "cnp_regression":
        sampler = SamplerCycle(
            [
                SinusoidEpisodeSampler(
                    k_shot=k, n_query=queries, batch_size=batch, device=device, generator=k
                )
                for k in shot
            ]
        )
    else:
        sampler = EpisodeSampler(
            train,
            n_way=way,
            k_shot=shot,
            n_query=queries,
            batch_size=batch,
            device=device,
            generator=0,
        )
    started = time.perf_counter()
    meta_train(learner, sampler, steps=steps, lr=1e-3, device=device, generator=0, progress=False)
    seconds = time.perf_counter() - started
    rows = []
    for setting in tests:
        if learner_name == "cnp_regression":
            tasks = SinusoidEpisodeSampler(
                k_shot=setting, n_query=100, batch_size=600, device=device, generator=100
            )
            mean, half = meta_test(learner, tasks, episodes=600)
            label, value = f"sinusoid K={setting}", f"MSE {mean:.3f} ± {half:.3f}"
        else:
            test_way, test_shot = setting
            episodes = 1000 if learner_name == "lstm_memory" else 600
            sampler = EpisodeSampler(
                test,
                n_way=test_way,
                k_shot=test_shot,
                n_query=1 if learner_name == "lstm_memory" else 5,
                batch_size=200,
                device=device,
                generator=1,
            )
            mean, half = meta_test(learner, sampler, episodes=episodes)
            label, value = (
                f"{test_way}-way {test_shot}-shot",
                f"{100 * mean:.1f}% ± {100 * half:.1f}",
            )
        rows.append(
            [
                name,
                learner_name,
                label,
                value,
                str(steps),
                f"{seconds:.0f}",
                f"{steps / seconds:.1f}",
            ]
        )
    return rows


def main(device: str = "auto") -> list[list[str]]:
    device = get_device(device)
    wanted = [r for r in os.environ.get("MTML_BENCH_ROWS", "").split(",") if r] or list(ROWS)
    unknown = sorted(set(wanted) - set(ROWS))
    if unknown:
        raise ValueError(f"MTML_BENCH_ROWS names unknown rows {unknown}; valid: {sorted(ROWS)}.")
    splits = load_glyphs().split(by="alphabet")
    rows = []
    for name in wanted:
        rows += _run(name, ROWS[name], splits, device)
        print(" | ".join(rows[-1]), flush=True)
    print_table(
        f"Black-box learners, meta-trained from scratch ({device.type}, {torch.get_num_threads()} "
        "threads)",
        ["row", "learner", "test setting", "held-out result", "steps", "seconds", "steps/s"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
