"""A class on one server: the roster, each kernel's share of the machine, and the hub's settings.

JupyterHub runs the class (``deploy/hub/jupyterhub_config.py`` reads what this module works out):
every name on the roster is a Unix user of their own, logged in through PAM and served by
JupyterHub's local-process spawner, with the student handout of their edition in their home.

The roster is a CSV file with a header, one row per person::

    username,role,edition
    instructor1,instructor,en
    ta1,ta,en
    kim,student,ko

``role`` is ``student``, ``ta`` or ``instructor`` (instructors are the hub's admins; instructors
and TAs grade); ``edition`` is the language of what they see (``en`` when left empty).

A class is many users on one machine: every kernel gets :func:`thread_budget` threads (the
machine's cores over the users expected at once, at least 1) for torch, OpenMP and the BLAS, and
a memory limit, so thirty students running one notebook share the cores instead of each starting
as many threads as there are cores.

Example:
    >>> thread_budget(cores=16, concurrent=30), thread_budget(cores=16, concurrent=4)
    (1, 4)
    >>> kernel_environment(2)["OMP_NUM_THREADS"]
    '2'
"""

from __future__ import annotations

import csv
import dataclasses
import os
import pathlib
import re
import sys
import tomllib
import zoneinfo

from ..grading.time_limit import THREAD_VARIABLES, kernel_arguments, timeout_error
from ..i18n import LANGUAGES

__all__ = [
    "ROLES",
    "Member",
    "HubSettings",
    "HubError",
    "read_roster",
    "read_settings",
    "thread_budget",
    "kernel_environment",
    "memory_bytes",
    "readable_by_everyone",
    "nbgrader_config_text",
    "roster_uids",
    "FIRST_UID",
]

ROLES = ("student", "ta", "instructor")
#: a Unix login name that every Linux distribution accepts (useradd's default rule, lower case)
_USERNAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", re.IGNORECASE)


class HubError(ValueError):
    """A roster or class settings file that cannot run a class, with the file, row and value."""


@dataclasses.dataclass(frozen=True)
class Member:
    """One row of the roster."""

    username: str
    role: str
    edition: str

    @property
    def grades(self) -> bool:
        """Instructors and TAs grade (the course folder and the formgrader are theirs)."""
        return self.role in ("ta", "instructor")


def read_roster(path: str | os.PathLike) -> list[Member]:
    """The roster's members, checked: names Unix accepts, each once, known roles and editions,
    and at least one instructor."""
    path = pathlib.Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"username", "role"} <= set(rows[0]):
        raise HubError(f"{path}: the roster needs a header with `username` and `role`.")
    members, seen = [], set()
    for line, row in enumerate(rows, start=2):
        name = (row.get("username") or "").strip()
        role = (row.get("role") or "").strip().lower()
        edition = (row.get("edition") or "").strip().lower() or "en"
        where = f"{path}, row {line}"
        if not _USERNAME.fullmatch(name):
            raise HubError(
                f"{where}: `username` must be a Unix login name (lower-case letters, digits, "
                f"'_' or '-', starting with a letter or '_', at most 32); got {name!r}."
            )
        if name in seen:
            raise HubError(f"{where}: `username` {name!r} is on the roster twice.")
        if role not in ROLES:
            raise HubError(f"{where}: `role` must be one of {list(ROLES)}; got {role!r}.")
        if edition not in LANGUAGES:
            raise HubError(f"{where}: `edition` must be one of {list(LANGUAGES)}; got {edition!r}.")
        seen.add(name)
        members.append(Member(name, role, edition))
    if not any(m.role == "instructor" for m in members):
        raise HubError(f"{path}: the roster must name at least one instructor.")
    return members


def thread_budget(*, cores: int | None = None, concurrent: int) -> int:
    """Threads per kernel: the machine's cores over the users expected to run at once, at
    least 1."""
    cores = cores if cores is not None else len(os.sched_getaffinity(0))
    if not isinstance(concurrent, int) or concurrent < 1:
        raise HubError(f"`concurrent` must be an integer >= 1; got {concurrent!r}.")
    return max(1, cores // concurrent)


def kernel_environment(threads: int) -> dict[str, str]:
    """The environment that gives a kernel (and every process it starts) ``threads`` threads."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def memory_bytes(text: str) -> int:
    """``"2G"``, ``"512M"``, ``"1.5GiB"`` -> bytes."""
    match = _MEMORY.fullmatch(str(text).strip())
    if not match or float(match.group(1)) <= 0:
        raise HubError(f"`memory_per_user` must be a size such as '2G' or '512M'; got {text!r}.")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


@dataclasses.dataclass(frozen=True)
class HubSettings:
    """A class's settings (``deploy/hub/class.toml``), paths resolved against the file.

    Attributes:
        course: nbgrader's course id (also the exchange's folder for it).
        roster: the roster CSV.
        port: where the hub listens.
        concurrent: the users expected to run code at once (the thread budget divides by it).
        memory_per_user: each user's memory limit (address space of their server and kernels).
        idle_timeout: seconds after which the culler stops an idle server.
        exchange: nbgrader's exchange root, shared by every user.
        course_folder: the instructors' nbgrader course folder (sources, graders, gradebook).
        handouts: where the hub keeps the student handout of each edition.
        timezone: the course's time zone (an IANA name): the clock of every user's server
            (``TZ``); deadlines name their own zone (``mtml release --due``).
        python: the interpreter users' servers and kernels run (default: the hub's own); every
            user must be able to run it, so it cannot sit under a home such as ``/root``.
        formgrader_port: where the course's formgrader listens on 127.0.0.1 (default: ``port``
            + 1); the hub proxies it at ``/services/<course>/``.
    """

    course: str
    roster: pathlib.Path
    port: int = 8000
    concurrent: int = 30
    memory_per_user: str = "2G"
    idle_timeout: int = 3600
    exchange: pathlib.Path = pathlib.Path("/srv/nbgrader/exchange")
    course_folder: pathlib.Path = pathlib.Path("/srv/nbgrader/mtml-workbook")
    handouts: pathlib.Path = pathlib.Path("/srv/mtml/handouts")
    timezone: str = "UTC"
    python: pathlib.Path | None = None
    formgrader_port: int | None = None

    @property
    def threads(self) -> int:
        return thread_budget(concurrent=self.concurrent)

    @property
    def memory_limit(self) -> int:
        return memory_bytes(self.memory_per_user)

    @property
    def interpreter(self) -> pathlib.Path:
        """The Python every user's server runs."""
        return pathlib.Path(self.python or sys.executable)


def readable_by_everyone(path: str | os.PathLike) -> bool:
    """Whether a user without any group or privilege can reach and run ``path``: others may
    search every folder above it and read and run it, as it is named and where its links lead."""
    for candidate in {pathlib.Path(os.path.abspath(path)), pathlib.Path(path).resolve()}:
        if any(not folder.stat().st_mode & 0o001 for folder in candidate.parents):
            return False
        if candidate.stat().st_mode & 0o005 != 0o005:
            return False
    return True


def read_settings(path: str | os.PathLike) -> HubSettings:
    """The ``[class]`` table of a TOML file as :class:`HubSettings`; unknown keys are refused."""
    path = pathlib.Path(path)
    with path.open("rb") as handle:
        raw = tomllib.load(handle).get("class")
    if not isinstance(raw, dict):
        raise HubError(f"{path}: a `[class]` table is needed.")
    fields = {f.name: f for f in dataclasses.fields(HubSettings)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise HubError(f"{path}: [class] has no key {unknown[0]!r}; known: {sorted(fields)}.")
    for required in ("course", "roster"):
        if required not in raw:
            raise HubError(f"{path}: [class] needs `{required}`.")
    values = {}
    for name, value in raw.items():
        if fields[name].type in ("pathlib.Path", "pathlib.Path | None"):
            value = pathlib.Path(os.path.abspath(path.parent / str(value)))  # links kept
        values[name] = value
    settings = HubSettings(**values)
    if settings.formgrader_port is None:
        settings = dataclasses.replace(settings, formgrader_port=settings.port + 1)
    for name in ("port", "concurrent", "idle_timeout", "formgrader_port"):
        value = getattr(settings, name)
        if not isinstance(value, int) or value < 1:
            raise HubError(f"{path}: [class] `{name}` must be an integer >= 1; got {value!r}.")
    memory_bytes(settings.memory_per_user)  # a size it cannot read is refused now, named
    try:
        zoneinfo.ZoneInfo(str(settings.timezone))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise HubError(
            f"{path}: [class] `timezone` must be an IANA time zone such as 'Asia/Seoul' or "
            f"'UTC'; got {settings.timezone!r}."
        ) from None
    return settings


def nbgrader_config_text(settings: HubSettings, member: Member, workbook: pathlib.Path) -> str:
    """A user's ``~/.jupyter/nbgrader_config.py``: the course and the shared exchange (its path
    holds the course, so one hub can serve several courses), homework fetched into their
    ``workbook`` folder (JupyterLab's root: nbgrader's default is the server's working folder,
    the home), and nbgrader's Validate as the grader runs the homework, with the course's time
    limit per cell and its message in their edition's language
    (:mod:`mtml_lib.grading.time_limit`); a grader's also names the course folder. It imports
    nothing: the server loads it on every request of the Assignments panel."""
    base = _cell_timeout(settings.course_folder)
    lines = [
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {settings.course!r}",
        f"c.Exchange.root = {str(settings.exchange)!r}",
        "c.Exchange.path_includes_course = True",
        f"c.Exchange.assignment_dir = {str(workbook)!r}",
        "# nbgrader's stamps in UTC, which it reads back right (mtml_lib.course.deadline)",
        'c.Exchange.timezone = "UTC"',
        "# Validate runs the homework as the grader does (its smoke budgets), in a kernel within",
        "# the server's thread budget, with the course's time limit per cell (not grown with the",
        "# load: that needs the library, which this file keeps out of the server's process)",
        f"c.Execute.timeout = {base}",
        f"c.Execute.error_on_timeout = {timeout_error(member.edition, base, most=None)!r}",
        f"c.Execute.extra_arguments = {kernel_arguments(keep_threads=True)!r}",
    ]
    if member.grades:
        lines.append(f"c.CourseDirectory.root = {str(settings.course_folder)!r}")
    return "\n".join(lines) + "\n"


def _cell_timeout(course_folder: pathlib.Path) -> int:
    """The course folder's limit per cell (30 s, nbgrader's default, where it cannot be read)."""
    from traitlets.config.loader import ConfigError

    from .folder import CourseError, cell_timeout

    try:
        return cell_timeout(course_folder)
    except (ConfigError, CourseError, OSError, ImportError, SyntaxError, ValueError, TypeError):
        return 30


#: the first uid of a roster's rows where every user's uid is given, not made (Kubernetes pods)
FIRST_UID = 20000


def roster_uids(path: str | os.PathLike) -> dict[str, int]:
    """A uid for each name on the roster, in its order from :data:`FIRST_UID`: where servers
    run in pods without the users' accounts (Zero to JupyterHub), each user's files on the shared
    exchange still have an owner of their own (``deploy/z2jh/``). Adding a row at the end keeps
    everyone else's."""
    return {m.username: FIRST_UID + i for i, m in enumerate(read_roster(path))}
