"""Setting a class's server up, and taking it down: ``mtml hub accounts|start|remove CLASS.toml``.

Run as root on the server (it creates Unix users and the shared folders):

* :func:`create_accounts`: one Unix user per roster row (``useradd``, a home only they can
  read), instructors and TAs in the course's grader group; a new account gets a random password,
  written to ``state/passwords.csv`` (readable by root only) for the instructor to hand out;
* :func:`prepare_folders`: nbgrader's exchange (everyone may create a course's folders in it;
  nbgrader sets their modes), the course folder (the graders' group only: sources with
  solutions, graders, gradebook) and each edition's workbook, which a user's home gets at their
  first login (:func:`mtml_lib.course.hub_spawner.prepare_home`);
* :func:`start_command`: JupyterHub with ``deploy/hub/jupyterhub_config.py``;
* :func:`remove_accounts`: every roster account and its home (the end of a term, or a test).
"""

from __future__ import annotations

import csv
import grp
import os
import pathlib
import pwd
import secrets
import shutil
import subprocess
import sys

from .hub import HubError, HubSettings, Member, nbgrader_config_text, readable_by_everyone
from .workbook import build_workbook

__all__ = [
    "grader_group",
    "grader_account",
    "create_accounts",
    "remove_accounts",
    "prepare_folders",
    "start_command",
    "state_folder",
]


def grader_group(settings: HubSettings) -> str:
    """The Unix group of the course's instructors and TAs."""
    return f"{settings.course}-graders"[:32]


def grader_account(settings: HubSettings) -> str:
    """The Unix user the course's formgrader runs as (nbgrader's shared grader account): in the
    grader group, with no password (nobody logs in as it; the hub starts it)."""
    return f"grader-{settings.course}"[:32]


def state_folder(settings: HubSettings) -> pathlib.Path:
    """The hub's own files (database, cookie secret, passwords): beside the roster."""
    return settings.roster.parent / "state"


def _run(*command: str, stdin: str | None = None) -> None:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        raise HubError(f"`{' '.join(command[:2])}` failed: {done.stderr.strip()}")


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def create_accounts(settings: HubSettings, members: list[Member]) -> dict[str, str]:
    """The roster's Unix accounts; returns the passwords of the accounts it made (existing
    accounts keep theirs) and appends them to ``state/passwords.csv``."""
    group = grader_group(settings)
    try:
        grp.getgrnam(group)
    except KeyError:
        _run("groupadd", group)
    made = {}
    for member in members:
        if not _exists(member.username):
            _run("useradd", "--create-home", "--shell", "/bin/bash", member.username)
            made[member.username] = secrets.token_urlsafe(9)
        home = pathlib.Path(pwd.getpwnam(member.username).pw_dir)
        home.chmod(0o700)  # whatever the system's default: a home is its owner's only
        if member.grades:
            _run("usermod", "--append", "--groups", group, member.username)
    grader = grader_account(settings)
    if not _exists(grader):
        _run("useradd", "--create-home", "--shell", "/usr/sbin/nologin", grader)
    _run("usermod", "--append", "--groups", group, grader)
    pathlib.Path(pwd.getpwnam(grader).pw_dir).chmod(0o700)
    if made:
        _run("chpasswd", stdin="".join(f"{n}:{p}\n" for n, p in made.items()))
        state = state_folder(settings)
        state.mkdir(parents=True, exist_ok=True)
        file = state / "passwords.csv"
        new = not file.exists()
        with file.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["username", "password"])
            writer.writerows(made.items())
        file.chmod(0o600)
    return made


def remove_accounts(settings: HubSettings, members: list[Member]) -> list[str]:
    """Delete every roster account, the grader account and their homes (``userdel --remove``);
    returns their names."""
    removed = []
    for name in [m.username for m in members] + [grader_account(settings)]:
        if _exists(name):
            subprocess.run(["pkill", "-KILL", "-u", name], check=False)
            _run("userdel", "--remove", name)
            removed.append(name)
    try:
        grp.getgrnam(grader_group(settings))
        _run("groupdel", grader_group(settings))
    except KeyError:
        pass
    return removed


def prepare_folders(
    settings: HubSettings,
    members: list[Member],
    *,
    source: str | os.PathLike = "notebooks",
    course: str | os.PathLike | None = None,
) -> None:
    """The exchange, the course folder (a copy of ``course``, default ``source/homework``, made
    once) and the workbook of every edition on the roster (rebuilt: a student's copy in their
    home is theirs and is not touched)."""
    settings.exchange.mkdir(parents=True, exist_ok=True)
    settings.exchange.chmod(0o1777)  # anyone may add a course's folder; only its owner removes it
    group = grp.getgrnam(grader_group(settings)).gr_gid
    folder = settings.course_folder
    if not folder.exists():
        origin = pathlib.Path(course) if course else pathlib.Path(source) / "homework"
        shutil.copytree(origin, folder, ignore=shutil.ignore_patterns("release", "submitted"))
    for item in [folder, *folder.rglob("*")]:
        os.chown(item, 0, group)
        item.chmod(0o2770 if item.is_dir() else 0o660)
    _formgrader_home(settings)
    for edition in sorted({m.edition for m in members}):
        out = settings.handouts / edition
        build_workbook(out, source=source, course=course, language=edition, homework=[])
        for item in [settings.handouts, out, *out.rglob("*")]:
            item.chmod(0o755 if item.is_dir() else 0o644)


def _formgrader_home(settings: HubSettings) -> None:
    """The grader account's nbgrader settings: the course folder, the exchange, the course."""
    account = pwd.getpwnam(grader_account(settings))
    jupyter = pathlib.Path(account.pw_dir) / ".jupyter"
    jupyter.mkdir(exist_ok=True)
    grader = Member(account.pw_name, "ta", "en")
    text = nbgrader_config_text(settings, grader, settings.course_folder)
    (jupyter / "nbgrader_config.py").write_text(text, encoding="utf-8")
    for item in [jupyter, *jupyter.rglob("*")]:
        os.chown(item, account.pw_uid, account.pw_gid)


def start_command(
    class_file: pathlib.Path, settings: HubSettings, config: str | os.PathLike
) -> tuple[list[str], dict]:
    """The command and environment that start the class's hub with ``config`` (the checkout's
    ``deploy/hub/jupyterhub_config.py``); its proxy is the one npm installed beside it."""
    if not readable_by_everyone(settings.interpreter):
        raise HubError(
            f"the class's users cannot run {settings.interpreter} (a folder above it is closed to "
            "them, such as /root): set `python` in [class] to an environment in a shared place, "
            "e.g. /opt/mtml/.venv/bin/python (README, 'Teaching a class')."
        )
    config = pathlib.Path(config).resolve()
    proxy = config.parent / "node_modules" / ".bin" / "configurable-http-proxy"
    if not proxy.exists():
        _run("npm", "ci", "--no-audit", "--no-fund", "--prefix", str(config.parent))
    state = state_folder(settings)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    venv = pathlib.Path(sys.executable).parent
    env = {**os.environ, "MTML_CLASS": str(class_file.resolve()), "MTML_HUB_STATE": str(state)}
    return [str(venv / "jupyterhub"), "-f", str(config)], env
