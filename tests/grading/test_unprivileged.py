"""The unprivileged runner (a Gradescope container's grading, without bubblewrap): each wall on its
own, as a submission would try it."""

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest
from testkit.hub import SYSTEM_PYTHON, shared_python

from mtml_lib.grading import unprivileged
from mtml_lib.grading.sandbox import Limits
from mtml_lib.grading.unprivileged import Unprivileged, UnprivilegedError, hide_modules

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the runner leaves root: run as root"),
    pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason=f"no {SYSTEM_PYTHON}"),
]
UID = 61700


@pytest.fixture(scope="module")
def python(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared")
    folder.chmod(0o755)
    for parent in folder.parents:  # pytest's folders are root's alone; this one must be entered
        if parent == pathlib.Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)
    return shared_python(folder)


def run(python, code, **limits):
    with Unprivileged(Limits(**{"wall_seconds": 60, **limits}), uid=UID, python=python) as runner:
        return runner.run_code(textwrap.dedent(code))


def test_it_runs_as_a_user_of_its_own_without_groups(python):
    out = run(python, "import os; print(os.getuid(), os.geteuid(), os.getgroups())")
    assert out.output.decode().split(maxsplit=2) == [str(UID), str(UID), "[]\n"]


def test_root_only_files_cannot_be_read_and_root_folders_cannot_be_written(python, tmp_path):
    secret = tmp_path / "source"
    secret.mkdir(mode=0o700)
    (secret / "reference.json").write_text("the answers", encoding="utf-8")
    results = tmp_path / "results"
    results.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    out = run(
        python,
        f"""
        for action in (lambda: open({str(secret / "reference.json")!r}).read(),
                       lambda: open({str(results / "results.json")!r}, "w").write("{{}}")):
            try:
                action()
                print("done")
            except PermissionError:
                print("refused")
        """,
    )
    assert out.output.decode().split() == ["refused", "refused"]
    assert not (results / "results.json").exists()


def test_nothing_it_starts_outlives_the_run(python):
    out = run(
        python,
        """
        import subprocess
        subprocess.Popen(["sleep", "300"], start_new_session=True)
        print("started")
        """,
    )
    assert out.output.strip() == b"started"
    assert unprivileged.processes_of(UID) == []


def test_writing_past_its_space_stops_it_and_what_it_left_is_removed(python):
    out = run(
        python,
        """
        import os
        os.makedirs("/tmp/hoard", exist_ok=True)
        for i in range(10_000):
            with open(f"/tmp/hoard/fill{i}", "wb") as f:
                f.write(b"x" * 2**20)
        print("wrote it all")
        """,
        scratch_mb=16,
    )
    assert out.stopped == "it wrote more than its 16 MiB of writable space"
    assert b"wrote it all" not in out.output and not os.path.exists("/tmp/hoard")


def test_the_limits_hold(python):
    memory = run(python, "b = bytearray(4 * 2**30)", memory_mb=512)
    assert memory.returncode != 0
    wall = run(python, "while True: pass", wall_seconds=3)
    assert wall.stopped == "it ran past the 3 s time limit"
    forks = run(
        python,
        """
        import os
        n = 0
        try:
            for _ in range(1000):
                if os.fork() == 0:
                    import time; time.sleep(30); os._exit(0)
                n += 1
        except OSError:
            pass
        print(n)
        """,
        processes=20,
    )
    assert int(forks.output) < 20 and unprivileged.processes_of(UID) == []


def test_it_refuses_to_start_unless_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UnprivilegedError, match="starts as root"), Unprivileged():
        pass


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="uid"):
        Unprivileged(uid=0)


def test_hide_modules_replaces_the_code_in_a_copy_of_the_library(tmp_path):
    library = tmp_path / "mtml_lib"
    shutil.copytree(
        pathlib.Path(unprivileged.__file__).parents[1],
        library,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    replaced = hide_modules(["mtml_lib.weighting.uncertainty"], library=library)
    assert replaced == [library / "weighting" / "uncertainty.py"]
    text = replaced[0].read_text(encoding="utf-8")
    assert "is not available while grading" in text and "log_variance" not in text
    code = "from mtml_lib.weighting.uncertainty import UncertaintyWeighting as U\nU(num_tasks=2)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert "UncertaintyWeighting is not available while grading" in done.stderr
    with pytest.raises(ValueError, match="no module 'mtml_lib.nothing'"):
        hide_modules(["mtml_lib.nothing"], library=library)
