"""A class's hub for the tests: `mtml hub start` on a free port with three students (one of the
Korean edition) and an instructor, each a Unix user made for the test and removed after it, and
what a test does as one of them (log in over HTTP, run a command as their Unix user)."""

from __future__ import annotations

import contextlib
import dataclasses
import http.cookiejar
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from mtml_lib.course.hub import HubSettings, read_settings
from mtml_lib.course.hub_admin import grader_account
from testkit.handout import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3.11"
MTML = str(pathlib.Path(sys.executable).parent / "mtml")
#: what a test that starts a class's hub needs, each missing one a skip with its reason
NEEDS_A_HUB = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the hub makes Unix users: run as root"),
    pytest.mark.skipif(
        shutil.which("jupyterhub", path=str(pathlib.Path(sys.executable).parent)) is None,
        reason="JupyterHub is not installed (the `hub` extra)",
    ),
    pytest.mark.skipif(
        not os.path.exists(SYSTEM_PYTHON), reason=f"no {SYSTEM_PYTHON} for the class's users"
    ),
]


def shared_python(folder: pathlib.Path) -> pathlib.Path:
    """An interpreter every user may run, with this environment's packages and commands: a
    virtual environment of the system's Python 3.11 that reads this one's site-packages (this
    one's own interpreter may sit under /root, which the class's users cannot enter), with this
    environment's scripts (``mtml``, ``nbgrader``, ``alembic``...) pointed at it."""
    venv = folder / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    packages = next(p for p in sys.path if p.endswith("site-packages"))
    # addsitedir, not a bare path: that folder's own .pth files (the editable install) count too
    (venv / "lib" / "python3.11" / "site-packages" / "workbook.pth").write_text(
        f"import site; site.addsitedir({packages!r})\n", encoding="utf-8"
    )
    for shared in ("etc/jupyter", "share/jupyter"):  # JupyterLab's extensions, found by prefix
        (venv / shared).parent.mkdir(parents=True, exist_ok=True)
        (venv / shared).symlink_to(pathlib.Path(sys.prefix) / shared)
    here = pathlib.Path(sys.executable).parent
    for script in here.iterdir():
        target = venv / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        with script.open("rb") as handle:
            first = handle.readline()
        if first.startswith(b"#!") and b"python" in first:
            rest = script.read_bytes()[len(first) :]
            target.write_bytes(f"#!{venv / 'bin' / 'python'}\n".encode() + rest)
            target.chmod(0o755)
    return venv / "bin" / "python"


@dataclasses.dataclass
class Class:
    folder: pathlib.Path
    file: pathlib.Path
    settings: HubSettings
    roles: dict[str, str]
    passwords: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def students(self) -> list[str]:
        return [n for n, r in self.roles.items() if r == "student"]

    def instructor(self) -> str:
        return next(n for n, r in self.roles.items() if r == "instructor")

    def korean(self) -> str:
        return next(n for n in self.roles if n.endswith("k"))

    def bin(self) -> pathlib.Path:
        return self.settings.interpreter.parent


def make_class(folder: pathlib.Path) -> Class:
    tag = secrets.token_hex(2)
    roles = {f"mtst{tag}a": "student", f"mtst{tag}b": "student", f"mtst{tag}k": "student"}
    roles[f"mtin{tag}"] = "instructor"
    rows = [f"{n},{r},{'ko' if n.endswith('k') else 'en'}" for n, r in roles.items()]
    (folder / "roster.csv").write_text(
        "username,role,edition\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    folder.chmod(0o755)
    (folder / "class.toml").write_text(
        "[class]\n"
        'course = "mtml-workbook"\n'
        'roster = "roster.csv"\n'
        f"port = {free_port()}\n"
        f"formgrader_port = {free_port()}\n"
        "concurrent = 2\n"
        'memory_per_user = "3G"\n'
        'exchange = "srv/exchange"\n'
        'course_folder = "srv/course"\n'
        'handouts = "srv/handouts"\n'
        'timezone = "Asia/Seoul"\n'
        f'python = "{shared_python(folder)}"\n',
        encoding="utf-8",
    )
    file = folder / "class.toml"
    return Class(folder, file, read_settings(file), roles)


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


@contextlib.contextmanager
def running_class(*, before_login=None):
    """The class's hub, running; ``before_login(klass)`` runs once the accounts exist. Every
    account it made is removed afterwards, and the test fails if one is left."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mtml-class-", dir="/tmp"))
    klass = make_class(folder)
    hub = subprocess.Popen(
        [MTML, "hub", "start", str(klass.file)],
        cwd=ROOT,
        stdout=(folder / "hub.log").open("w", encoding="utf-8"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"{klass.base}/hub/api", 180)
        klass.passwords = dict(
            line.split(",")
            for line in (folder / "state" / "passwords.csv").read_text(encoding="utf-8").split()[1:]
        )
        if before_login:
            before_login(klass)
        yield klass
    finally:
        hub.terminate()
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
        subprocess.run([MTML, "hub", "remove", str(klass.file)], cwd=ROOT, check=False)
        print((folder / "hub.log").read_text(encoding="utf-8")[-3000:])
        shutil.rmtree(folder, ignore_errors=True)
    made = [*klass.roles, grader_account(klass.settings)]
    left = [n for n in made if subprocess.run(["id", n], capture_output=True).returncode == 0]
    assert not left, f"accounts the test made are left: {left}"


def login(base: str, user: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/hub/login", timeout=10).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf})
    opener.open(f"{base}/hub/login?next=", form.encode(), timeout=120).read()
    return opener


def server_status(opener, base: str, user: str, seconds: float = 180) -> dict:
    """The user's server's own status, once it answers (a spawn takes a few seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:  # JupyterLab's page, through the hub's OAuth (which sets the server's cookie)
            page = opener.open(f"{base}/user/{user}/lab", timeout=30)
            if page.url.startswith(f"{base}/user/{user}/lab"):
                reply = opener.open(f"{base}/user/{user}/api/status", timeout=30).read()
                return json.loads(reply)
        except OSError:  # not up yet
            pass
        time.sleep(1)
    raise TimeoutError(f"{user}'s server did not start in {seconds} s")


def server_process(user: str) -> int:
    found = subprocess.run(
        ["pgrep", "-u", user, "-f", "jupyterhub.singleuser"], capture_output=True, text=True
    )
    return int(found.stdout.split()[0])


def as_user(klass: Class, user: str, command: str, cwd: str | None = None):
    """``command`` in a login-less shell of ``user``, with the environment their server has
    (the class's Python first on PATH): what they would type in JupyterLab's terminal."""
    env = {
        "PATH": f"{klass.bin()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": f"/home/{user}",
        "USER": user,
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            "sh",
            "-c",
            f"cd {cwd or '~'} && {command}",
        ],
        capture_output=True,
        text=True,
    )


def memory_mib(user: str) -> float:
    """The proportional memory (PSS) of every process of ``user``: their server and kernels."""
    pids = subprocess.run(["pgrep", "-u", user], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in pids:
        try:
            rollup = pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="utf-8")
        except OSError:  # gone meanwhile
            continue
        total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE).group(1))
    return total / 1024
