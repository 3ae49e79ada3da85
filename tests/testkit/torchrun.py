"""Helpers of the `mtml train` tests: configs, and runs under `torchrun` (gloo, CPU processes)."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from mtml_lib.runs import ConfigError, load_config

BIN = pathlib.Path(sys.executable).parent


def config_error(tmp_path: pathlib.Path, text: str) -> str:
    """The message of the ConfigError that loading ``text`` as a config raises."""
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return str(error.value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(args: list[str], processes: int, *, cwd: pathlib.Path, timeout: float = 300, **popen):
    """``torchrun --nproc_per_node=processes --no-python ARGS`` with one thread per process; waits
    and checks the exit status, or returns the ``Popen`` when ``popen`` options are given."""
    command = [
        str(BIN / "torchrun"),
        f"--nproc_per_node={processes}",
        f"--master_port={free_port()}",
        "--no-python",
        *args,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("MTML_DEVICE", None)
    if popen:
        return subprocess.Popen(command, env=env, cwd=cwd, **popen)
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


def mtml_train(config: pathlib.Path, processes: int, **popen):
    """``mtml train CONFIG`` under torchrun, in the config's folder."""
    return torchrun(
        [str(BIN / "mtml"), "train", str(config), "--no-progress"],
        processes,
        cwd=config.parent,
        **popen,
    )


def mtml_train_alone(config: pathlib.Path) -> None:
    """``mtml train CONFIG`` in one process (no torchrun), in the config's folder."""
    env = dict(os.environ)
    env.pop("MTML_DEVICE", None)
    done = subprocess.run(
        [str(BIN / "mtml"), "train", str(config), "--no-progress"],
        env=env,
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def state(folder: pathlib.Path) -> dict:
    return torch.load(folder / "checkpoint.pt", weights_only=False)


def _children(pid: int) -> list[int]:
    children = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="utf-8")
            except OSError:  # the process ended meanwhile
                continue
            # field 4, after the command name in brackets
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _gone(pid: int) -> bool:
    try:
        # a zombie
        return (
            pathlib.Path(f"/proc/{pid}/stat")
            .read_text(encoding="utf-8")
            .rsplit(")", 1)[1]
            .split()[0]
            == "Z"
        )
    except OSError:
        return True


def kill_mid_run(config: pathlib.Path, processes: int, timeout: float = 120) -> None:
    """Start ``mtml train CONFIG`` under torchrun and SIGKILL every process of it once the first
    checkpoint
    exists, as a crash would; return when none of them runs any more.

    torchrun starts each worker in a session of its own, so killing torchrun's process group would
    leave the
    workers running on, and they would finish the run by themselves.
    """
    folder = config.parent / _checkpoint_dir(config)
    run = mtml_train(
        config,
        processes,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while (
        not (folder / "checkpoint.pt").exists()
        and run.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    workers = _children(run.pid)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert len(workers) == processes, (
        f"found {len(workers)} worker(s) of torchrun, expected {processes}"
    )
    while not all(_gone(pid) for pid in workers):
        time.sleep(0.02)


def _checkpoint_dir(config: pathlib.Path) -> str:
    import tomllib

    return tomllib.loads(config.read_text(encoding="utf-8"))["train"]["checkpoint_dir"]
