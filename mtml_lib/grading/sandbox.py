"""A bubblewrap sandbox for the code a grader must not trust.

:class:`Sandbox` runs a Python module in a fresh set of Linux namespaces made by bubblewrap
(``bwrap``), so a submission cannot reach what the grader protects:

* **what it sees**: a new mount namespace holding the operating system's ``/usr``, the Python
  environment and the workbook's library, all read-only, and two small in-memory folders
  (``/scratch``, its working folder, and ``/tmp``). No course folder, repository, home folder,
  gradebook, reference data or instructor file exists there;
* **what it reaches**: no network (its own, empty network namespace), no other process (its
  own PID namespace: every process it starts dies with the sandbox), no terminal;
* **what it may use**: an unprivileged user id of its own, and limits on memory, CPU time,
  processes and threads, file size and scratch space (:class:`Limits`). A run that hits one
  is stopped and says which (:attr:`Outcome.stopped`);
* **what it may call**: the library modules named in ``hide`` are replaced, in the sandbox's
  view only, by placeholders that raise :class:`ImportError` with a clear message when used.
  Their code is not there to find, whatever the spelling of the import.

What it leaves behind is one stream, its standard output, written to a file the trusted side
reads once the sandbox and all its processes are gone (:attr:`Outcome.output`). Runs where
bubblewrap works (Linux with namespaces); :func:`unavailable_reason` says why not elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .._validation import check_int
from .placeholders import placeholder_source

__all__ = ["Limits", "Outcome", "Sandbox", "unavailable_reason", "readonly_roots", "stopped_by"]

LIBRARY = pathlib.Path(__file__).resolve().parents[1]
CONFINE = pathlib.Path(__file__).with_name("confine.py")
# The sandbox's own user ids: one per parallel slot, so the process limit is per sandbox.
UID_BASE = 61000
SCRATCH = "/scratch"


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use.

    Args:
        memory_mb: address space of each of its processes, in MiB.
        cpu_seconds: CPU time of each of its processes.
        processes: processes and threads it may run at once.
        file_mb: the largest file it may write (its output included), in MiB.
        scratch_mb: size of each of its writable folders (``/scratch``, ``/tmp``), in MiB.
        wall_seconds: the whole run, wall clock.
    """

    memory_mb: int = 6144
    cpu_seconds: int = 1800
    processes: int = 256
    file_mb: int = 64
    scratch_mb: int = 256
    wall_seconds: int = 900

    def __post_init__(self):
        for name, value in asdict(self).items():
            check_int(name, value, minimum=1)

    def rlimits(self) -> dict[str, int]:
        mib = 1024 * 1024
        return {
            "RLIMIT_AS": self.memory_mb * mib,
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_NPROC": self.processes,
            "RLIMIT_FSIZE": self.file_mb * mib,
            "RLIMIT_CORE": 0,
        }


@dataclass(frozen=True)
class Outcome:
    """What a sandboxed run left: its output (at most ``file_mb``), its exit status
    (``None`` when it was killed at the wall-clock limit) and, if it was stopped by a limit,
    which one, in words."""

    output: bytes
    returncode: int | None
    stopped: str | None


def _bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """``None`` where the sandbox works here; otherwise why it does not, in one sentence."""
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux namespaces; this is {sys.platform}"
    if _bwrap() is None:
        return "bubblewrap (`bwrap`) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        with Sandbox(Limits(wall_seconds=60)) as sandbox:
            outcome = sandbox.run_code("print(6 * 7)")
    except OSError as error:
        return f"bubblewrap could not start: {error}"
    if outcome.output.strip() != b"42":
        return (
            "bubblewrap could not make a sandbox here (exit status "
            f"{outcome.returncode}: user or PID namespaces may be disabled in this kernel or "
            "container)"
        )
    return None


def _module_path(module_name: str) -> pathlib.Path:
    """The file or package folder of a module of the workbook's library (not imported)."""
    parts = module_name.split(".")
    if parts[0] != LIBRARY.name:
        raise ValueError(f"`hide` may only name modules of {LIBRARY.name}; got {module_name!r}.")
    base = LIBRARY.joinpath(*parts[1:])
    if base.is_dir():
        return base
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    raise ValueError(f"`hide`: no module {module_name!r} in {LIBRARY}.")


def readonly_roots() -> list[pathlib.Path]:
    """The folders the sandbox sees read-only: the system, this Python, the library and every
    package folder on ``sys.path`` (an environment may read another's packages through a
    ``.pth`` file, as a class's shared environment can)."""
    roots = [pathlib.Path("/usr")]
    packages = [
        p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)
    ]
    for candidate in (sys.base_prefix, sys.prefix, LIBRARY, *packages):
        path = pathlib.Path(candidate).resolve()
        if not any(path == root or root in path.parents for root in roots):
            roots.append(path)
    return roots


class Sandbox:
    """Runs modules under bubblewrap with :class:`Limits`, hiding the modules in ``hide``.

    Use it as a context manager: the placeholders for ``hide`` are written once to a private
    folder and removed on exit. ``readonly`` maps extra host folders to the paths where the
    sandbox sees them, read-only (e.g. a data cache); ``env`` adds environment variables.

    Example:
        >>> with Sandbox(Limits(wall_seconds=60)) as sandbox:  # doctest: +SKIP
        ...     sandbox.run_code("print(2 + 2)").output
        b'4\\n'
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        hide: Sequence[str] = (),
        readonly: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        threads: int = 1,
    ):
        self.limits = limits or Limits()
        self.hide = tuple(hide)
        self.readonly = dict(readonly or {})
        self.env = dict(env or {})
        self.threads = check_int("threads", threads, minimum=1)
        self._stubs: tempfile.TemporaryDirectory | None = None
        self._masks: list[str] = []

    def __enter__(self) -> Sandbox:
        self._stubs = tempfile.TemporaryDirectory(prefix="mtml-sandbox-")
        self._masks = self._mask_arguments(pathlib.Path(self._stubs.name))
        return self

    def __exit__(self, *exc) -> None:
        if self._stubs is not None:
            self._stubs.cleanup()
            self._stubs = None

    def _mask_arguments(self, folder: pathlib.Path) -> list[str]:
        """bwrap arguments that lay a placeholder over every file of each hidden module."""
        arguments: list[str] = []
        for index, name in enumerate(self.hide):
            path = _module_path(name)
            if path.is_dir():
                files = sorted(path.rglob("*.py"))
                arguments += ["--tmpfs", str(path)]  # also hides the compiled __pycache__
            else:
                files = [path]
                if (path.parent / "__pycache__").is_dir():  # its compiled copy is there
                    arguments += ["--tmpfs", str(path.parent / "__pycache__")]
            for file in files:
                relative = file.relative_to(LIBRARY.parent).with_suffix("")
                stub = folder / f"{index}-{len(arguments)}.py"
                stub.write_text(
                    placeholder_source(".".join(relative.parts).removesuffix(".__init__")),
                    encoding="utf-8",
                )
                for parent in reversed(file.relative_to(path.parent).parents[:-1]):
                    arguments += ["--dir", str(path.parent / parent)]
                arguments += ["--ro-bind", str(stub), str(file)]
        return arguments

    def command(self, module: str, args: Sequence[str] = (), *, slot: int = 0) -> list[str]:
        """The bwrap command line that runs ``python -m module args`` confined."""
        root = os.geteuid() == 0
        arguments = [_bwrap() or "bwrap", "--die-with-parent", "--new-session"]
        # As root, no user namespace: confine.py then leaves root for a user id of its own.
        arguments += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        arguments += ["--unshare-cgroup-try"] + ([] if root else ["--unshare-user"])
        # The writable folders first: a Python environment under /tmp is bound over them.
        size = str(self.limits.scratch_mb * 1024 * 1024)
        arguments += ["--proc", "/proc", "--dev", "/dev"]
        for folder in ("/tmp", SCRATCH):
            arguments += ["--perms", "1777", "--size", size, "--tmpfs", folder]
        made: set[pathlib.Path] = {pathlib.Path("/tmp"), pathlib.Path(SCRATCH)}
        for top in ("bin", "lib", "lib64", "sbin"):
            path = pathlib.Path("/") / top
            if path.is_symlink():
                arguments += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                arguments += ["--ro-bind", str(path), str(path)]
        for path in [*readonly_roots(), *map(pathlib.Path, self.readonly.values())]:
            for parent in reversed(path.parents[:-1]):
                if parent not in made:  # bwrap would make these 0700: make them readable
                    arguments += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
        for path in readonly_roots():
            arguments += ["--ro-bind", str(path), str(path)]
        for source, target in self.readonly.items():
            arguments += ["--ro-bind", str(source), str(target)]
        for cache in ("/etc/ld.so.cache",):
            if pathlib.Path(cache).exists():
                arguments += ["--ro-bind", cache, cache]
        arguments += ["--chdir", SCRATCH, "--clearenv"]
        for key, value in self._environment().items():
            arguments += ["--setenv", key, value]
        if root:
            arguments += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        arguments += self._masks
        config = {"limits": self._rlimits(root), "uid": UID_BASE + slot, "module": module}
        return [*arguments, sys.executable, "-I", str(CONFINE), json.dumps(config), *args]

    def _rlimits(self, root: bool) -> dict[str, int]:
        limits = self.limits.rlimits()
        if not root:  # the process limit counts all of this user's processes: add today's
            mine = sum(
                1
                for p in pathlib.Path("/proc").iterdir()
                if p.name.isdigit() and _owner(p) == os.getuid()
            )
            limits["RLIMIT_NPROC"] += mine * 4  # their threads too, roughly
        return limits

    def _environment(self) -> dict[str, str]:
        threads = str(self.threads)
        return {
            "PATH": f"{pathlib.Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": SCRATCH,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "IPYTHONDIR": "/tmp/ipython",
            "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
            "JUPYTER_CONFIG_DIR": "/tmp/jupyter-config",
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "MTML_AUTOGRADE": "1",
            **self.env,
        }

    def run(
        self, module: str, args: Sequence[str] = (), *, stdin: bytes = b"", slot: int = 0
    ) -> Outcome:
        """Run ``python -m module args`` in the sandbox with ``stdin``; return its
        :class:`Outcome`.

        ``slot`` picks the sandbox's user id; runs at the same time need different slots.
        """
        if self._stubs is None:
            raise RuntimeError("use the Sandbox in a `with` block.")
        check_int("slot", slot, minimum=0, maximum=999)
        with tempfile.TemporaryDirectory(prefix="mtml-sandbox-out-") as folder:
            out_path = pathlib.Path(folder) / "out"
            with open(out_path, "wb") as out:
                process = subprocess.Popen(
                    self.command(module, args, slot=slot),
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                )
                # bwrap's death takes every process of the sandbox with it
                returncode = finish(process, stdin, self.limits.wall_seconds)
            output = out_path.read_bytes()[: self.limits.file_mb * 1024 * 1024]
        return Outcome(output, returncode, stopped_by(self.limits, returncode))

    def run_code(self, code: str, *, slot: int = 0) -> Outcome:
        """Run Python source in the sandbox (a convenience for checks and tests)."""
        return self.run("mtml_lib.grading.untrusted", ["exec"], stdin=code.encode(), slot=slot)


def finish(process: subprocess.Popen, stdin: bytes, seconds: float) -> int | None:
    """``process``'s exit status once fed ``stdin`` (``None`` past ``seconds``); then its group
    is killed."""
    try:
        process.communicate(stdin, timeout=seconds)
        return process.returncode
    except subprocess.TimeoutExpired:
        return None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stopped_by(limits: Limits, returncode: int | None) -> str | None:
    """Which of ``limits`` stopped a run that ended with ``returncode`` (``None``: killed at the
    wall-clock limit), in words; ``None`` when no limit did."""
    if returncode is None:
        return f"it ran past the {limits.wall_seconds} s time limit"
    signals = {
        signal.SIGXCPU: f"it used its {limits.cpu_seconds} s of CPU time",
        signal.SIGXFSZ: f"it wrote a file past the {limits.file_mb} MiB limit",
        signal.SIGKILL: "it was killed (SIGKILL)",
    }
    for number, words in signals.items():
        if returncode in (-number, 128 + number):
            return words
    return None


def _owner(path: pathlib.Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:
        return None
