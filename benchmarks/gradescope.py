"""Gradescope's autograder, run in a local imitation of its container: per-submission time and
peak memory of both homeworks' autograder zips, with and without the default container's limits
(half of one CPU, 768 MB; the run must end within 10 minutes).

The imitation lays out Gradescope's ``/autograder`` in a folder: the zip unpacked into
``source/``, ``setup.sh`` run as root (offline: this environment's packages through a .pth file,
on the system's Python 3.11, which every user may run), then ``run_autograder`` as root for each
submission, optionally under the limits, set with cgroup v1's cpu and memory controllers. Every
run must give the solution full marks and a blank release zero, or the benchmark stops. Needs
root and ``/usr/bin/python3.11``; the tests use the same imitation
(``tests/course/test_pipeline.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

SYSTEM_PYTHON = "/usr/bin/python3.11"
CGROUPS = pathlib.Path("/sys/fs/cgroup")
ASSIGNMENTS = ("hw1_multitask", "hw2_blackbox")


def packages() -> str:
    return next(p for p in sys.path if p.endswith("site-packages"))


class Imitation:
    """``root`` laid out as Gradescope lays out ``/autograder``."""

    def __init__(self, archive: pathlib.Path):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="mtml-gradescope-", dir="/tmp"))
        self.root.chmod(0o755)
        source = self.root / "source"
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                target = source / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zipped.read(info))
                target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
        shutil.copy(source / "run_autograder", self.root / "run_autograder")
        started = time.perf_counter()
        done = subprocess.run(
            ["bash", str(source / "setup.sh")],
            env={**self._environment(), "MTML_SETUP_PACKAGES": packages()},
            capture_output=True,
            text=True,
        )
        self.setup_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"setup.sh failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")

    def _environment(self) -> dict:
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "AUTOGRADER": str(self.root)}

    def digest(self) -> dict[str, str]:
        """Every file of the autograder's own (scripts, source, environment's library)."""
        paths = [self.root / "run_autograder", *sorted((self.root / "source").rglob("*"))]
        return {
            str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in paths
            if p.is_file()
        }

    def grade(
        self, notebooks: dict[str, pathlib.Path], email: str, *, limits: bool = False
    ) -> tuple[dict, float, float]:
        """Grade one submission (``{file name: notebook}``) of the user ``email``; with
        ``limits``, under the default container's CPU quota and memory limit. Returns
        results.json, the seconds run_autograder took and (with ``limits``) its peak memory in
        MiB."""
        submission, results = self.root / "submission", self.root / "results"
        for folder in (submission, results):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        for name, path in notebooks.items():
            shutil.copy(path, submission / name)
        metadata = {"users": [{"email": email, "name": email.split("@")[0], "sid": "S-1"}]}
        (self.root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        command = [str(self.root / "run_autograder")]
        with Limited(enabled=limits) as group:
            started = time.perf_counter()
            with open(results / "stdout", "wb") as out:
                subprocess.run(
                    command,
                    cwd=self.root,
                    env=self._environment(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=660,
                    preexec_fn=group.enter,
                    check=False,
                )
            seconds = time.perf_counter() - started
        path = results / "results.json"
        if not path.exists():
            raise AssertionError((results / "stdout").read_text(encoding="utf-8")[-3000:])
        return json.loads(path.read_text(encoding="utf-8")), seconds, group.peak_mb

    def config(self) -> dict:
        return json.loads((self.root / "source" / "config.json").read_text(encoding="utf-8"))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class Limited:
    """Gradescope's default container limits for a process and its children: cgroup v1's
    ``cpu.cfs_quota_us`` (half of one CPU) and ``memory.limit_in_bytes`` (768 MB)."""

    def __init__(self, enabled: bool, cpu: float = 0.5, memory_mb: int = 768):
        self.enabled, self.cpu, self.memory_mb = enabled, cpu, memory_mb
        self.groups: list[pathlib.Path] = []
        self.peak_mb = 0.0

    def __enter__(self) -> Limited:
        if self.enabled:
            name = f"mtml-gradescope-{os.getpid()}"
            cpu, memory = CGROUPS / "cpu" / name, CGROUPS / "memory" / name
            for group in (cpu, memory):
                group.mkdir(exist_ok=True)
                self.groups.append(group)
            (cpu / "cpu.cfs_period_us").write_text("100000", encoding="ascii")
            (cpu / "cpu.cfs_quota_us").write_text(str(int(100000 * self.cpu)), encoding="ascii")
            (memory / "memory.limit_in_bytes").write_text(
                str(self.memory_mb * 2**20), encoding="ascii"
            )
        return self

    def enter(self) -> None:  # in the child, before it runs anything
        for group in self.groups:
            (group / "tasks").write_text(str(os.getpid()), encoding="ascii")

    def __exit__(self, *exc) -> None:
        for group in self.groups:
            peak = group / "memory.max_usage_in_bytes"
            if peak.exists():
                self.peak_mb = int(peak.read_text(encoding="ascii")) / 2**20
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def main(device: str = "auto") -> dict:
    del device  # grading runs on the CPU
    import nbformat

    from mtml_lib import course as homework
    from mtml_lib.course import gradescope

    from ._timing import print_table
    from .grading import IGNORE, _solution

    if os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON):
        raise SystemExit(f"the Gradescope benchmark runs as root with {SYSTEM_PYTHON}")
    rows, results = [], {}
    for assignment in ASSIGNMENTS:
        with tempfile.TemporaryDirectory(prefix="mtml-bench-gradescope-") as tmp:
            course = pathlib.Path(tmp) / "course"
            shutil.copytree(homework.find_course(), course, ignore=shutil.ignore_patterns(*IGNORE))
            homework.release(course, assignment, quiet=True)
            archive = pathlib.Path(tmp) / "autograder.zip"
            gradescope.build(course, assignment, archive)  # the reference's probes, untimed
            solution = pathlib.Path(tmp) / "solution.ipynb"
            nbformat.write(_solution(course, assignment), solution)
            blank = course / "release" / assignment / f"{assignment}.ipynb"
            imitation = Imitation(archive)
            try:
                for name, notebook, full in (("solution", solution, True), ("blank", blank, False)):
                    for limits in (False, True):
                        got, seconds, peak = imitation.grade(
                            {f"{assignment}.ipynb": notebook}, "student@example.edu", limits=limits
                        )
                        best = sum(t["max_score"] for t in got["tests"])
                        if (got["score"] == best) != full or (not full and got["score"] != 0):
                            raise SystemExit(
                                f"{assignment} {name}: scored {got['score']} of {best}"
                            )
                        setting = "1/2 CPU, 768 MB" if limits else "no limits"
                        results[(assignment, name, setting)] = (seconds, peak)
                        rows.append(
                            [
                                assignment,
                                name,
                                setting,
                                f"{seconds:.0f}",
                                f"{peak:.0f}" if limits else "",
                                f"{got['score']:g}/{best:g}",
                            ]
                        )
            finally:
                imitation.remove()
    print_table(
        "Gradescope autograder, one submission (run_autograder, local imitation)",
        ["assignment", "submission", "container", "seconds", "peak MiB", "score"],
        rows,
    )
    return results


if __name__ == "__main__":
    main()
