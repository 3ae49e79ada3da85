"""A class on one server, for real: `mtml hub start` with three students and an instructor, each
a Unix user logged in through PAM; their servers get the thread budget, the memory limit and their
edition's workbook; no student reaches what is another's. Needs root (it makes Unix users) and
removes every account it made."""

from __future__ import annotations

import http.cookiejar
import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from testkit.handout import free_port

from mtml_lib.course.hub import read_settings

ROOT = pathlib.Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3.11"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the hub makes Unix users: run as root"),
    pytest.mark.skipif(
        shutil.which("jupyterhub", path=str(pathlib.Path(sys.executable).parent)) is None,
        reason="JupyterHub is not installed (the `hub` extra)",
    ),
    pytest.mark.skipif(
        not os.path.exists(SYSTEM_PYTHON), reason=f"no {SYSTEM_PYTHON} for the class's users"
    ),
]


def _shared_python(folder: pathlib.Path) -> pathlib.Path:
    """An interpreter every user may run, with this environment's packages: a virtual
    environment of the system's Python 3.11 that reads this one's site-packages (this one's own
    interpreter may sit under /root, which the class's users cannot enter)."""
    venv = folder / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "lib" / "python3.11" / "site-packages" / "workbook.pth").write_text(
        next(p for p in sys.path if p.endswith("site-packages")) + "\n", encoding="utf-8"
    )
    for shared in ("etc/jupyter", "share/jupyter"):  # JupyterLab's extensions, found by prefix
        (venv / shared).parent.mkdir(parents=True, exist_ok=True)
        (venv / shared).symlink_to(pathlib.Path(sys.prefix) / shared)
    return venv / "bin" / "python"


def _class(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, str]]:
    tag = secrets.token_hex(2)
    names = {f"mtst{tag}a": "student", f"mtst{tag}b": "student", f"mtst{tag}k": "student"}
    names[f"mtin{tag}"] = "instructor"
    rows = [f"{n},{r},{'ko' if n.endswith('k') else 'en'}" for n, r in names.items()]
    (tmp_path / "roster.csv").write_text(
        "username,role,edition\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    tmp_path.chmod(0o755)
    (tmp_path / "class.toml").write_text(
        "[class]\n"
        'course = "mtml-workbook"\n'
        'roster = "roster.csv"\n'
        f"port = {free_port()}\n"
        "concurrent = 2\n"
        'memory_per_user = "3G"\n'
        'exchange = "srv/exchange"\n'
        'course_folder = "srv/course"\n'
        'handouts = "srv/handouts"\n'
        f'python = "{_shared_python(tmp_path)}"\n',
        encoding="utf-8",
    )
    return tmp_path / "class.toml", names


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def _login(base: str, user: str, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/hub/login", timeout=10).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf})
    opener.open(f"{base}/hub/login?next=", form.encode(), timeout=120).read()
    return opener


def _server_status(opener, base: str, user: str, seconds: float = 180) -> dict:
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


def _server_process(user: str) -> int:
    found = subprocess.run(
        ["pgrep", "-u", user, "-f", "jupyterhub.singleuser"], capture_output=True, text=True
    )
    return int(found.stdout.split()[0])


def _as(user: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", user, "--", "sh", "-c", command], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def running_class():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mtml-class-", dir="/tmp"))
    class_file, names = _class(folder)
    settings = read_settings(class_file)
    mtml = str(pathlib.Path(sys.executable).parent / "mtml")
    hub = subprocess.Popen(
        [mtml, "hub", "start", str(class_file)],
        cwd=ROOT,
        stdout=(folder / "hub.log").open("w", encoding="utf-8"),
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{settings.port}"
        _wait(f"{base}/hub/api", 180)
        passwords = dict(
            line.split(",")
            for line in (folder / "state" / "passwords.csv").read_text(encoding="utf-8").split()[1:]
        )
        yield settings, names, passwords, base
    finally:
        hub.terminate()
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
        subprocess.run([mtml, "hub", "remove", str(class_file)], cwd=ROOT, check=False)
        print((folder / "hub.log").read_text(encoding="utf-8")[-3000:])
        shutil.rmtree(folder, ignore_errors=True)
    assert not any(subprocess.run(["id", n], capture_output=True).returncode == 0 for n in names), (
        "an account the test made is left"
    )


def test_students_log_in_and_their_servers_get_their_share(running_class):
    settings, names, passwords, base = running_class
    student = next(n for n, r in names.items() if r == "student" and n.endswith("a"))
    opener = _login(base, student, passwords[student])
    assert "started" in _server_status(opener, base, student)
    pid = _server_process(student)
    environ = dict(
        item.split("=", 1)
        for item in pathlib.Path(f"/proc/{pid}/environ").read_text(encoding="utf-8").split("\0")
        if "=" in item
    )
    assert environ["OMP_NUM_THREADS"] == str(settings.threads)
    limits = pathlib.Path(f"/proc/{pid}/limits").read_text(encoding="utf-8")
    assert re.search(rf"Max address space\s+{settings.memory_limit}\s", limits)
    home = pathlib.Path(f"/home/{student}")
    assert (home / "workbook" / "01_tasks.ipynb").exists()
    assert (home / "workbook").stat().st_uid == pwd.getpwnam(student).pw_uid
    assert "path_includes_course = True" in (home / ".jupyter" / "nbgrader_config.py").read_text(
        encoding="utf-8"
    )


def test_a_wrong_password_is_refused(running_class):
    _, names, _, base = running_class
    with pytest.raises(urllib.error.HTTPError) as refused:
        _login(base, next(iter(names)), "not-the-password")
    assert refused.value.code == 403


def test_the_korean_student_gets_jupyterlab_in_korean(running_class):
    _, names, passwords, base = running_class
    korean = next(n for n in names if n.endswith("k"))
    _server_status(_login(base, korean, passwords[korean]), base, korean)
    setting = pathlib.Path(f"/home/{korean}/.jupyter/lab/user-settings/@jupyterlab").joinpath(
        "translation-extension", "plugin.jupyterlab-settings"
    )
    assert '"ko_KR"' in setting.read_text(encoding="utf-8")
    assert "01_tasks.ipynb" in os.listdir(f"/home/{korean}/workbook")


def test_a_student_cannot_reach_what_is_not_theirs(running_class):
    settings, names, passwords, base = running_class
    a, b = [n for n, r in names.items() if r == "student"][:2]
    _server_status(_login(base, b, passwords[b]), base, b)
    attempts = {
        "list another's home": f"ls /home/{b}",
        "read another's workbook": f"cat /home/{b}/workbook/01_tasks.ipynb",
        "write into another's home": f"touch /home/{b}/x",
        "list the course folder": f"ls {settings.course_folder}",
        "read a grader": f"cat {settings.course_folder}/graders/hw1_multitask.py",
        "signal another's server": f"kill -TERM {_server_process(b)}",
    }
    # the same commands on their own things work: a refusal below is the permission's
    assert _as(a, f"ls /home/{a}/workbook && touch /home/{a}/x").returncode == 0
    allowed = {
        what: run.returncode
        for what, cmd in attempts.items()
        if (run := _as(a, cmd)).returncode == 0
    }
    assert allowed == {}
    assert _server_process(b)  # still running
