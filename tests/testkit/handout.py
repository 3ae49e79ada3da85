"""The student handouts as a student gets them: built from this checkout with ``mtml handout``,
unpacked into an empty folder outside it and set up with the handout's own command, in a
fresh virtual environment whose ``mtml_lib`` is the handout's wheel. Shared by the handout
tests and the browser tests (one build per test session)."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "ko")


def clean_env(**extra: str) -> dict:
    """The environment of a student's shell: no virtual environment, no path into the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MTML_COURSE", "MTML_DEVICE")
        and not k.startswith(("PYTEST_", "JUPYTER"))
    }
    venv_bin = str(pathlib.Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    return {**env, **extra}


def system_python() -> str:
    """A Python 3.11 outside the test's virtual environment (the student's ``python3``)."""
    found = shutil.which("python3", path=clean_env()["PATH"])
    if not found:
        raise RuntimeError("no python3 on PATH outside the test's virtual environment")
    return found


@dataclasses.dataclass
class Handout:
    language: str
    archive: pathlib.Path
    root: pathlib.Path  # the unpacked folder
    setup_seconds: float = 0.0

    @property
    def python(self) -> pathlib.Path:
        return self.root / ".venv" / "bin" / "python"

    @property
    def workbook(self) -> pathlib.Path:
        return self.root / "workbook"

    def copy(self, out) -> Handout:
        """A student's own copy of this handout in ``out``, sharing its set-up ``.venv``."""
        root = pathlib.Path(out) / self.root.name
        shutil.copytree(self.root, root, ignore=shutil.ignore_patterns(".venv"))
        (root / ".venv").symlink_to(self.root.joinpath(".venv").resolve())
        return Handout(self.language, self.archive, root)

    def run(self, *args: str, timeout: float = 1200, **env: str) -> subprocess.CompletedProcess:
        """``python3 workbook.py ARGS`` in the handout's folder, as the student runs it."""
        return subprocess.run(
            [system_python(), "workbook.py", *args],
            cwd=self.root,
            env=clean_env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def build(out: pathlib.Path) -> dict[str, Handout]:
    """Both editions' archives, unpacked and set up (the English one in a fresh virtual
    environment; the Korean one, whose requirements and wheel are the same bytes, shares it)."""
    dist, handouts = out / "dist", {}
    for language in LANGUAGES:
        subprocess.run(
            [sys.executable, "-m", "mtml_lib.cli", "handout", "--lang", language]
            + ["--out", str(dist), "--released", "2026-12-01"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        archive = next(dist.glob(f"mtml-workbook-*-{language}.zip"))
        place = out / f"student-{language}"
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(place)
        (root,) = place.iterdir()
        handouts[language] = Handout(language, archive, root)
    english, korean = handouts["en"], handouts["ko"]
    started = time.monotonic()
    done = english.run("setup")
    english.setup_seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"`python3 workbook.py setup` failed:\n{done.stdout}\n{done.stderr}")
    same = all(
        (english.root / name).read_bytes() == (korean.root / name).read_bytes()
        for name in (
            "requirements.txt",
            json.loads((english.root / ".mtml-release.json").read_text(encoding="utf-8"))["wheel"],
        )
    )
    if same:
        (korean.root / ".venv").symlink_to(english.root / ".venv")
    return handouts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """An open command run to its JupyterLab (no browser of its own, a known token), and the
    REST calls the tests need: by default ``python3 workbook.py lab`` of a handout; ``command``
    (its ``{port}`` filled in) and ``cwd`` run another, such as the repository's ``make lab``."""

    def __init__(
        self,
        handout: Handout | None,
        log: pathlib.Path,
        token: str,
        *,
        command: list[str] | None = None,
        cwd: pathlib.Path | None = None,
        **env: str,
    ):
        self.port, self.token = free_port(), token
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path, self.log = log, log.open("w", encoding="utf-8")
        command = command or [
            system_python(),
            "workbook.py",
            "lab",
            "--no-browser",
            "--port={port}",
        ]
        self.process = subprocess.Popen(
            [part.format(port=self.port) for part in command],
            cwd=cwd or handout.root,
            env=clean_env(JUPYTER_TOKEN=token, **env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"`{' '.join(command)}` exited with {self.process.returncode}:\n"
                    f"{self.log_path.read_text(encoding='utf-8')[-3000:]}"
                )
            try:
                self.api("GET", "status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        self.close()
        raise RuntimeError(
            f"JupyterLab did not answer within 180 s:\n{log.read_text(encoding='utf-8')[-3000:]}"
        )

    def api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self):
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def close(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def checked_upload(handout: Handout, assignment: str, answers: dict, student: str, out):
    """A student's copy of ``handout`` (its .venv shared) with ``answers`` (grade id -> code)
    in the homework and ``student`` written in its STUDENT_ID, checked with ``workbook.py check
    --student``: (the upload, what it printed, seconds)."""
    import nbformat

    from testkit.homework import STUDENT_ID_TAG, cell_key

    mine = handout.copy(out)
    path = mine.workbook / "homework" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell_key(cell) == STUDENT_ID_TAG:
            cell.source = cell.source.replace('STUDENT_ID = ""', f"STUDENT_ID = {student!r}")
        elif cell_key(cell) in answers:
            cell.source = answers[cell_key(cell)]
    nbformat.write(notebook, path)
    started = time.monotonic()
    done = mine.run("check", assignment, "--student", student)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"`workbook.py check` failed:\n{done.stdout}\n{done.stderr}")
    return mine.root / f"{assignment}-{student}.zip", done.stdout, seconds
