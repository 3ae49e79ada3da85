"""The grading sandbox holds: what a submission sees, reaches and may use, attack by attack.

Each test runs hostile code with :meth:`Sandbox.run_code` and checks what it printed (its only
way out) and the state of this machine afterwards.
"""

import os
import pathlib
import sys
import time

import pytest

from mtml_lib.course import CourseError
from mtml_lib.grading.placeholders import placeholder_source
from mtml_lib.grading.sandbox import UID_BASE, Limits, Sandbox, unavailable_reason

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_placeholders_name_every_public_object_and_refuse_each_use():
    namespace = {}
    exec(placeholder_source("mtml_lib.weighting.uncertainty"), namespace)
    stand_in = namespace["UncertaintyWeighting"]
    with pytest.raises(ImportError, match="UncertaintyWeighting is not available while grading"):
        stand_in(num_tasks=2)
    with pytest.raises(ImportError, match="not available while grading"):

        class Mine(stand_in):  # subclassing the library's class is refused too
            pass

    package = {}
    exec(placeholder_source("mtml_lib.models.conditioning"), package)
    with pytest.raises(ImportError, match="get_conditioning is not available"):
        package["get_conditioning"]("multihead")
    with pytest.raises(ImportError, match="CONDITIONING is not available"):
        package["CONDITIONING"]["multihead"]


def test_limits_are_checked():
    with pytest.raises(ValueError, match="`memory_mb` must be"):
        Limits(memory_mb=0)
    with (
        pytest.raises(ValueError, match="`hide` may only name modules of mtml_lib"),
        Sandbox(hide=["os"]),
    ):
        pass


# --- under bubblewrap ------------------------------------------------------------------------


def test_the_sandbox_works_on_this_machine():
    """`make test` installs bubblewrap (tools/install_system_packages.sh): here it must work."""
    if not sys.platform.startswith("linux"):
        assert "Linux" in unavailable_reason()
        return
    assert unavailable_reason() is None


HIDDEN = ["mtml_lib.models.conditioning", "mtml_lib.weighting.uncertainty"]


@pytest.fixture(scope="module")
def bwrap():
    """Skips where the sandbox cannot run (test_the_sandbox_works_on_this_machine fails there)."""
    if unavailable_reason():
        pytest.skip(unavailable_reason())


@pytest.fixture(scope="module")
def box(bwrap):
    with Sandbox(Limits(wall_seconds=60, memory_mb=2048, processes=64), hide=HIDDEN) as sandbox:
        yield sandbox


def run(box, code, **kwargs):
    outcome = box.run_code(code, **kwargs)
    return outcome, outcome.output.decode(errors="replace")


def sandbox_processes(slot):
    """Processes on this machine owned by the sandbox user id of ``slot`` (after the kernel has
    had a moment to finish killing a namespace's processes)."""
    time.sleep(1)
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == UID_BASE + slot:
                    found.append(entry.name)
            except OSError:
                pass
    return found


@pytest.mark.slow
def test_it_sees_the_environment_read_only_and_nothing_of_the_course(box):
    probe = f"""
import os, pathlib
root = pathlib.Path({str(ROOT)!r})
print("user", os.getuid(), os.geteuid())
print("course", (root / "notebooks").exists(), (root / "README.md").exists())
home = pathlib.Path({os.path.expanduser("~")!r})
print("home", sorted(os.listdir(home)) if home.exists() else [])
print("passwd", os.path.exists("/etc/passwd"), os.path.exists("/etc/shadow"))
print("repository", sorted(os.listdir(root)))
try:
    open(root / "mtml_lib" / "evil.py", "w")
except OSError as error:
    print("write", type(error).__name__)
try:
    os.setuid(0)
except OSError as error:
    print("setuid", type(error).__name__)
print("pid1", open("/proc/1/cmdline").read().split(chr(0))[0])
"""
    _, text = run(box, probe)
    lines = dict(line.split(" ", 1) for line in text.splitlines())
    assert int(lines["user"].split()[0]) >= UID_BASE
    assert lines["course"] == "False False"
    # the home folder shows at most the folders on the way to the Python it runs
    on_the_way = {pathlib.Path(p).parts for p in (sys.prefix, sys.base_prefix)}
    home = pathlib.Path(os.path.expanduser("~"))
    for name in eval(lines["home"]):
        assert any(parts[: len(home.parts) + 1] == (*home.parts, name) for parts in on_the_way)
    assert lines["passwd"] == "False False"
    # the repository's folder holds only what the sandbox binds there: no notebooks, no graders
    assert set(eval(lines["repository"])) <= {".venv", "mtml_lib"}
    assert lines["write"] == "OSError" and lines["setuid"] == "PermissionError"
    assert "bwrap" in lines["pid1"]  # its own PID namespace: the grader's processes are not there


@pytest.mark.slow
def test_no_network(box):
    code = """
import socket
for address in [("127.0.0.53", 53), ("1.1.1.1", 443), ("pypi.org", 443)]:
    try:
        socket.create_connection(address, timeout=3)
        print("connected", address)
    except OSError as error:
        print("refused", type(error).__name__)
"""
    _, text = run(box, code)
    assert "connected" not in text and text.count("refused") == 3


@pytest.mark.slow
def test_the_hidden_modules_are_placeholders_whatever_the_spelling(box):
    code = """
import importlib, os, pathlib
import mtml_lib
name = "mtml_lib.weighting." + "uncer" + "tainty"
module = importlib.import_module(name)
try:
    module.UncertaintyWeighting(num_tasks=2)
except ImportError as error:
    print("refused", error)
path = pathlib.Path(mtml_lib.__file__).parent
source = (path / "weighting" / "uncertainty.py").read_text()
print("source", "class UncertaintyWeighting(" in source)
print("package", sorted(p.name for p in (path / "models" / "conditioning").iterdir()))
hidden = [p for p in path.rglob("*.pyc") if "uncertainty" in p.name or "conditioning" in str(p)]
print("compiled", hidden)
from mtml_lib.weighting import get_weighting
print("others", type(get_weighting("equal", num_tasks=2)).__name__)
"""
    _, text = run(box, code)
    assert "refused mtml_lib.weighting.uncertainty.UncertaintyWeighting is not available" in text
    assert "source False" in text and "compiled []" in text
    assert "others EqualWeighting" in text
    body = text.split("package ")[1].splitlines()[0]
    for name in eval(body):  # only stand-ins under the package's names
        assert name.endswith(".py")


@pytest.mark.slow
def test_memory_exhaustion_is_refused(box):
    code = """
try:
    hog = bytearray(8 * 1024**3)
    print("allocated")
except MemoryError:
    print("MemoryError")
"""
    _, text = run(box, code)
    assert text.strip() == "MemoryError"


@pytest.mark.slow
def test_a_fork_bomb_is_held_and_dies_with_the_sandbox(bwrap):
    code = """
import os, sys, time
made = 0
for _ in range(10_000):
    try:
        if os.fork() == 0:
            while True:  # every child spins on
                pass
        made += 1
    except OSError:
        break
print("children", made)
sys.stdout.flush()
time.sleep(60)
"""
    before = time.monotonic()
    with Sandbox(Limits(processes=32, wall_seconds=20), hide=HIDDEN) as sandbox:
        outcome = sandbox.run_code(code, slot=7)
    assert time.monotonic() - before < 40
    assert outcome.returncode is None and "time limit" in outcome.stopped
    assert 0 < int(outcome.output.decode().split()[1]) < 32
    assert sandbox_processes(7) == []  # none of them survived


@pytest.mark.slow
def test_a_detached_process_dies_with_the_sandbox(bwrap):
    code = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("started")
"""
    with Sandbox(Limits(wall_seconds=60)) as sandbox:
        outcome = sandbox.run_code(code, slot=8)
    assert outcome.output.decode().strip() == "started" and outcome.returncode == 0
    assert sandbox_processes(8) == []


@pytest.mark.slow
def test_filling_the_disk_stops_at_the_scratch_limit_and_cpu_at_its_limit(bwrap):
    fill = """
import os
written = 0
try:
    for i in range(10_000):
        with open(f"/scratch/f{i}", "wb") as f:
            f.write(b"x" * 1024 * 1024)
        written += 1
except OSError as error:
    print(type(error).__name__, error.errno, written)
"""
    big = """
try:
    open("/tmp/big", "wb").write(b"x" * 12 * 1024 * 1024)
except OSError as error:
    print(type(error).__name__, error.errno)
"""
    spin = "while True:\n    pass"
    # the disk limits with CPU to spare (starting the interpreter alone can take a second or two
    # of CPU on a slow machine: a 2 s budget there stops the writers before they hit the disk)
    limits = Limits(scratch_mb=16, file_mb=8, cpu_seconds=30, wall_seconds=60)
    with Sandbox(limits) as sandbox:
        full = sandbox.run_code(fill)
        too_big = sandbox.run_code(big)
    assert full.stopped is None and too_big.stopped is None, (full.stopped, too_big.stopped)
    with Sandbox(Limits(cpu_seconds=2, wall_seconds=60)) as sandbox:
        spinning = sandbox.run_code(spin)
    name, errno, written = full.output.decode().split()
    assert name == "OSError" and int(errno) == 28 and int(written) <= 16  # ENOSPC
    assert too_big.output.decode().split() == ["OSError", "27"]  # EFBIG: past file_mb
    assert "CPU time" in spinning.stopped
    assert os.statvfs("/tmp").f_bavail > 0  # this machine's disk was never touched


def test_autograde_fails_closed_without_the_sandbox(monkeypatch, tmp_path):
    from mtml_lib.course import pipeline

    monkeypatch.setattr(pipeline, "unavailable_reason", lambda: "bubblewrap is not installed")
    with pytest.raises(CourseError) as refused:
        pipeline.autograde(tmp_path, "hw1_multitask")
    message = str(refused.value)
    assert "refuses to grade without its sandbox: bubblewrap is not installed" in message
    assert "--no-sandbox" in message and "container" in message


def test_autograde_refuses_a_course_folder_the_sandbox_would_show(monkeypatch, tmp_path):
    from mtml_lib.course import pipeline

    monkeypatch.setattr(pipeline, "readonly_roots", lambda: [tmp_path])
    with pytest.raises(CourseError, match="which the grading sandbox shows"):
        pipeline._sandbox_for(None, Limits(), 1, tmp_path / "course")
