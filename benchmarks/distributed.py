"""`mtml train` alone and under `torchrun`: meta-training throughput in episodes per second.

Each row is a whole `mtml train` run (a fresh process, a fresh checkpoint folder) of the same
config: one process with every core, one process with one thread, and two processes under
`torchrun --nproc_per_node=2` (gloo on the CPU, one thread each, as torchrun sets; each process
samples `batch_size` episodes, so a step sees twice as many). Throughput is training episodes
per second of training time (validation and meta-test excluded); the rows are run in
alternating rounds and the median is kept. On a CUDA device the rows are one process with
and without bfloat16 autocast (several GPUs: add `torchrun` rows by hand, see the README).
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
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(text: str, folder: pathlib.Path, *, processes: int, threads: int | None, device: str, autocast: bool) -> dict:
    folder.mkdir(parents=True)
    config = folder / "config.toml"
    config.write_text(text + f'device = "{device}"\nval_every = 0\ntest_episodes = 0\ncheckpoint_dir = "out"\n'
                      f"checkpoint_every = 100000\nautocast = {str(autocast).lower()}\n")
    env = dict(os.environ)
    env.pop("MTML_DEVICE", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    command = [str(BIN / "mtml"), "train", str(config), "--no-progress"]
    if processes > 1:
        command = [str(BIN / "torchrun"), f"--nproc_per_node={processes}", f"--master_port={_free_port()}",
                   "--no-python", *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads((folder / "out" / "results.json").read_text())


def main(device: str = "auto") -> list[list[str]]:
    device = get_device(device)
    if device.type == "cuda":
        variants = [("1 process, autocast off", 1, None, False), ("1 process, bf16 autocast", 1, None, True)]
    else:
        cores = os.cpu_count() or 1
        variants = [(f"1 process, {torch.get_num_threads()} threads", 1, None, True),
                    ("1 process, 1 thread", 1, 1, True),
                    (f"torchrun, 2 processes x 1 thread ({cores} cores)", 2, 1, True)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in CONFIGS.items():
            rates: dict[str, list[float]] = {label: [] for label, *_ in variants}
            for round_ in range(ROUNDS):
                for label, processes, threads, autocast in variants:
                    folder = pathlib.Path(tmp) / f"{len(rows)}-{round_}-{processes}-{threads}-{autocast}-{abs(hash(name))}"
                    results = _run(text, folder, processes=processes, threads=threads, device=device.type,
                                   autocast=autocast)
                    rates[label].append(results["steps"] * results["episodes_per_step"] / results["train_seconds"])
            base = statistics.median(rates[variants[0][0]])
            for label, processes, *_ in variants:
                rate = statistics.median(rates[label])
                rows.append([name, label, str(processes), f"{rate:,.0f}", f"{rate / base:.2f}x"])
    print_table(f"mtml train throughput ({device.type}; median of {ROUNDS} alternating rounds)",
                ["config", "run", "processes", "episodes/s", "vs first row"], rows)
    return rows


if __name__ == "__main__":
    main()
