"""`mtml train` alone and under `torchrun`: throughput of meta-training (episodes per second) and of
multi-task training (examples per second).

Each row is a whole `mtml train` run (a fresh process, a fresh checkpoint folder) of the same
config: one process with every core, one process with one thread, and two processes under
`torchrun --nproc_per_node=2` (gloo on the CPU, one thread each, as torchrun sets; each process
samples `batch_size` episodes or examples per task, so a step sees twice as many). Throughput is
training episodes (or examples) per second of training time (validation, evaluation and meta-test
excluded); the rows are run in alternating rounds and the median is kept. The multi-task configs
cover both ways gradients cross processes: equal weighting (the model in DistributedDataParallel)
and PCGrad (per-task gradients averaged before they are combined). On a CUDA device the rows are
one process with and without bfloat16 autocast for meta-training (several GPUs: add `torchrun`
rows by hand, see the README); multi-task training has no autocast, so its CUDA row is one process.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile

import torch

from mtml_lib.device import get_device

from ._timing import print_table

BIN = pathlib.Path(sys.executable).parent
ROUNDS = 2
# Notebook 04's negative-transfer model on its tasks (p = 0), with one weighting method or another.
MMOE = """\
[tasks]
family = "mmoe"
correlation = 0.0
scale = 1.0
n_train = 20000
n_test = 100
[model]
name = "mmoe"
hidden = [16]
num_experts = 8
tower_hidden = [8]
[weighting]
name = "{method}"
[train]
steps = 600
lr = 3e-3
batch_size = 128
"""
CONFIGS = {
    "hypernetwork, Glyphs 5-way 1-shot": """\
[data]
dataset = "glyphs"
[episodes]
n_way = 5
k_shot = 1
n_query = 2
batch_size = 32
[learner]
name = "hypernetwork"
channels = [16, 32, 32]
[train]
steps = 150
""",
    "CNP, sinusoids K=10": """\
[data]
dataset = "sinusoid"
[episodes]
k_shot = 10
n_query = 20
batch_size = 25
[learner]
name = "cnp_regression"
[train]
steps = 1500
""",
    "MMoE + equal, MMoE tasks": MMOE.format(method="equal"),
    "MMoE + PCGrad, MMoE tasks": MMOE.format(method="pcgrad"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(text: str, *, device: str, autocast: bool) -> str:
    """A benchmark config with the keys every run shares: no validation or meta-test (a multi-task
    run
    evaluates once, at the end, outside the timed steps), no checkpoint until the end."""
    extra = f'device = "{device}"\ncheckpoint_dir = "out"\ncheckpoint_every = 100000\n'
    if "[tasks]" not in text:
        extra += f"eval_every = 0\ntest_episodes = 0\nautocast = {str(autocast).lower()}\n"
    return text + extra


def _run(
    text: str,
    folder: pathlib.Path,
    *,
    processes: int,
    threads: int | None,
    device: str,
    autocast: bool,
) -> dict:
    folder.mkdir(parents=True)
    config = folder / "config.toml"
    config.write_text(config_text(text, device=device, autocast=autocast), encoding="utf-8")
    env = dict(os.environ)
    env.pop("MTML_DEVICE", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    command = [str(BIN / "mtml"), "train", str(config), "--no-progress"]
    if processes > 1:
        command = [
            str(BIN / "torchrun"),
            f"--nproc_per_node={processes}",
            f"--master_port={_free_port()}",
            "--no-python",
            *command,
        ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))


def main(device: str = "auto") -> list[list[str]]:
    device = get_device(device)
    if device.type == "cuda":
        variants = [
            ("1 process, autocast off", 1, None, False),
            ("1 process, bf16 autocast", 1, None, True),
        ]
    else:
        cores = os.cpu_count() or 1
        variants = [
            (f"1 process, {torch.get_num_threads()} threads", 1, None, True),
            ("1 process, 1 thread", 1, 1, True),
            (f"torchrun, 2 processes x 1 thread ({cores} cores)", 2, 1, True),
        ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in CONFIGS.items():
            multitask = "[tasks]" in text
            # no autocast to compare
            runs = variants[:1] if multitask and device.type == "cuda" else variants
            rates: dict[str, list[float]] = {label: [] for label, *_ in runs}
            for round_ in range(ROUNDS):
                for label, processes, threads, autocast in runs:
                    folder = (
                        pathlib.Path(tmp)
                        / f"{len(rows)}-{round_}-{processes}-{threads}-{autocast}-{abs(hash(name))}"
                    )
                    results = _run(
                        text,
                        folder,
                        processes=processes,
                        threads=threads,
                        device=device.type,
                        autocast=autocast,
                    )
                    per_step = results["examples_per_step" if multitask else "episodes_per_step"]
                    rates[label].append(results["steps"] * per_step / results["train_seconds"])
            base = statistics.median(rates[runs[0][0]])
            for label, processes, *_ in runs:
                rate = statistics.median(rates[label])
                unit = "examples" if multitask else "episodes"
                rows.append(
                    [name, label, str(processes), f"{rate:,.0f} {unit}", f"{rate / base:.2f}x"]
                )
    print_table(
        f"mtml train throughput ({device.type}; median of {ROUNDS} alternating rounds)",
        ["config", "run", "processes", "per second", "vs first row"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
