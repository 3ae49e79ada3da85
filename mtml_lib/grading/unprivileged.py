"""The untrusted side of grading as an unprivileged user, where bubblewrap cannot run.

A Gradescope autograder runs as root in a container that gives no user or PID namespaces, so
the grading sandbox (:mod:`mtml_lib.grading.sandbox`) cannot start there. :class:`Unprivileged`
runs the same untrusted module with the same :class:`~mtml_lib.grading.sandbox.Limits`, as
hardened autograders do: ``confine.py`` (the first code that runs, standard library only) sets
the resource limits and leaves root for a user id of its own, with no groups, in a fresh
scratch folder that only that user can use. What it then cannot do is what the trusted side
protects with file permissions: read a root-only folder (the grader, the reference data), or
write a root-owned one (the results, the autograder's scripts). Its standard output goes to a
file in a root-only folder, which the trusted side reads once every process of that user is
gone: after the run, every process left with its user id is killed, detached or not.

What the namespaces gave and this does not: the submission sees the machine's other processes
(their command lines, not their files or memory) and its network, and the library's modules a
part hides must be replaced in the environment itself (:func:`hide_modules`), as the container's
setup does.

Runs as root only (it must be able to leave root); :class:`UnprivilegedError` says so elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence

from .._validation import check_int
from .placeholders import placeholder_source
from .sandbox import CONFINE, LIBRARY, Limits, Outcome, finish, stopped_by

__all__ = ["Unprivileged", "UnprivilegedError", "hide_modules", "processes_of"]


class UnprivilegedError(RuntimeError):
    """The unprivileged runner cannot run here (not root)."""


def processes_of(uid: int) -> list[int]:
    """The process ids running with user id ``uid``."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text(encoding="utf-8")
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                if int(line.split()[1]) == uid:
                    found.append(int(entry.name))
                break
    return found


#: the folders any user may write to, besides the run's scratch folder
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


def written_bytes(uid: int, scratch: pathlib.Path) -> int:
    """What ``uid`` has written: the files in ``scratch`` and those it owns in the folders any
    user may write to (:data:`SHARED_WRITABLE`)."""

    def size(path: str, depth: int = 0) -> int:
        total = 0
        try:
            entries = list(os.scandir(path))
        except OSError:
            return 0
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if depth == 0 and path != str(scratch) and info.st_uid != uid:
                continue  # another user's entry of /tmp
            if entry.is_dir(follow_symlinks=False):
                total += size(entry.path, depth + 1)
            else:
                total += info.st_blocks * 512
        return total

    return size(str(scratch)) + sum(size(folder) for folder in SHARED_WRITABLE)


def _kill_user(uid: int, rounds: int = 50) -> None:
    """Kill every process of ``uid`` until none is left (a fork loop is outrun round by round)."""
    for _ in range(rounds):
        alive = processes_of(uid)
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    raise UnprivilegedError(f"processes of user id {uid} were still running after {rounds} rounds")


class Unprivileged:
    """Runs ``python -m module`` as user id ``uid + slot`` with ``limits`` (see the module's
    docstring); the same interface as :class:`~mtml_lib.grading.sandbox.Sandbox`, so the re-grade
    (:func:`~mtml_lib.grading.regrade.run_probes`) takes either.

    Args:
        limits: what one run may use.
        uid: the first user id of the runs (one per parallel slot); it must belong to no one
            else on the machine, whose processes would be killed after each run.
        threads: torch, OpenMP and BLAS threads.
        env: more environment variables.
        python: the interpreter of the runs (default: this one), which the user must be able to
            run: not one under a folder only root may enter, such as ``/root``.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        uid: int = 61500,
        threads: int = 1,
        env: dict[str, str] | None = None,
        python: str | os.PathLike | None = None,
    ):
        self.python = str(python or sys.executable)
        self.limits = limits or Limits()
        self.uid = check_int("uid", uid, minimum=1000, maximum=2**31 - 1000)
        self.threads = check_int("threads", threads, minimum=1)
        self.env = dict(env or {})

    def __enter__(self) -> Unprivileged:
        if os.geteuid() != 0:
            raise UnprivilegedError(
                "the unprivileged runner starts as root to leave it for a user of its own "
                f"(a Gradescope container runs its autograder as root); this runs as uid "
                f"{os.geteuid()}"
            )
        return self

    def __exit__(self, *exc) -> None:
        pass

    def _environment(self, scratch: pathlib.Path) -> dict[str, str]:
        threads = str(self.threads)
        return {
            "PATH": f"{pathlib.Path(self.python).parent}:/usr/bin:/bin",
            "HOME": str(scratch),
            "TMPDIR": str(scratch / "tmp"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(scratch / "tmp" / "matplotlib"),
            "IPYTHONDIR": str(scratch / "tmp" / "ipython"),
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MTML_AUTOGRADE": "1",
            **self.env,
        }

    def run(
        self, module: str, args: Sequence[str] = (), *, stdin: bytes = b"", slot: int = 0
    ) -> Outcome:
        """Run ``python -m module args`` as the unprivileged user with ``stdin``; return its
        :class:`~mtml_lib.grading.sandbox.Outcome` once all its processes are gone."""
        check_int("slot", slot, minimum=0, maximum=999)
        uid = self.uid + slot
        if processes_of(uid):
            raise UnprivilegedError(f"user id {uid} already runs processes: choose another uid")
        private = pathlib.Path(tempfile.mkdtemp(prefix="mtml-grade-out-"))  # root only (0700)
        scratch = pathlib.Path(tempfile.mkdtemp(prefix="mtml-grade-"))
        try:
            (scratch / "tmp").mkdir()
            for folder in (scratch, scratch / "tmp"):
                os.chown(folder, uid, uid)
                folder.chmod(0o700)
            config = {"limits": self.limits.rlimits(), "uid": uid, "module": module}
            command = [self.python, "-I", str(CONFINE), json.dumps(config), *args]
            out_path = private / "out"
            with open(out_path, "wb") as out:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    cwd=scratch,
                    env=self._environment(scratch),
                    start_new_session=True,
                )
                over = threading.Event()
                done = threading.Event()
                watch = threading.Thread(
                    target=self._watch_space, args=(uid, scratch, over, done), daemon=True
                )
                watch.start()
                try:
                    returncode = finish(process, stdin, self.limits.wall_seconds)
                finally:
                    done.set()
                    _kill_user(uid)  # a detached process too: nothing of it outlives the run
                    watch.join()
                    _remove_owned(uid)
            output = out_path.read_bytes()[: self.limits.file_mb * 1024 * 1024]
        finally:
            shutil.rmtree(private, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
        if over.is_set():
            words = f"it wrote more than its {self.limits.scratch_mb} MiB of writable space"
            return Outcome(output, returncode, words)
        return Outcome(output, returncode, stopped_by(self.limits, returncode))

    def _watch_space(
        self, uid: int, scratch: pathlib.Path, over: threading.Event, done: threading.Event
    ) -> None:
        """Stop the run (every process of ``uid``) once it has written more than ``scratch_mb``:
        without a mount namespace there is no small in-memory folder to give it."""
        limit = self.limits.scratch_mb * 1024 * 1024
        while not done.wait(0.2):
            if written_bytes(uid, scratch) > limit:
                over.set()
                _kill_user(uid)
                return

    def run_code(self, code: str, *, slot: int = 0) -> Outcome:
        """Run Python source as the unprivileged user (a convenience for checks and tests)."""
        return self.run("mtml_lib.grading.untrusted", ["exec"], stdin=code.encode(), slot=slot)


def _remove_owned(uid: int) -> None:
    """Remove what ``uid`` left in the folders any user may write to."""
    for folder in SHARED_WRITABLE:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue


def hide_modules(names: Sequence[str], library: pathlib.Path = LIBRARY) -> list[pathlib.Path]:
    """Replace the library modules ``names`` (``mtml_lib.weighting.uncertainty``, or a package)
    **in place** by their placeholders (:mod:`mtml_lib.grading.placeholders`), their compiled
    copies deleted. For an environment that only grades (a Gradescope container's): the code
    is gone for everyone there. Returns the files replaced."""
    replaced: dict[pathlib.Path, str] = {}
    for name in names:
        parts = name.split(".")
        if parts[0] != library.name:
            raise ValueError(f"hide: only modules of {library.name} can be hidden; got {name!r}.")
        base = library.joinpath(*parts[1:])
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
        if not files or not files[0].is_file():
            raise ValueError(f"hide: no module {name!r} in {library}.")
        for file in files:
            module = ".".join(file.relative_to(library.parent).with_suffix("").parts)
            replaced[file] = placeholder_source(module.removesuffix(".__init__"))
    for file, text in replaced.items():  # every placeholder made before any file changes
        file.write_text(text, encoding="utf-8")
        cache = file.parent / "__pycache__"
        for compiled in cache.glob(f"{file.stem}.*.pyc") if cache.is_dir() else ():
            compiled.unlink()
    return sorted(replaced)
