"""JupyterHub for a class on one Linux server: the file an administrator edits.

Started by `mtml hub start CLASS.toml` (which sets MTML_CLASS to that file and builds the
editions' workbooks first); everything a class changes is in CLASS.toml and its roster, so this
file rarely needs an edit. See README, "Teaching a class".
"""

import functools
import os
import pathlib
import shlex
import sys

from mtml_lib.course import hub, hub_admin
from mtml_lib.course.hub_spawner import ClassSpawner, prepare_home

c = get_config()  # noqa: F821 - provided by JupyterHub

settings = hub.read_settings(os.environ["MTML_CLASS"])
members = {m.username: m for m in hub.read_roster(settings.roster)}
state = pathlib.Path(os.environ.get("MTML_HUB_STATE", settings.roster.parent / "state"))
python = settings.interpreter

# Where the hub listens and keeps its state (users, cookies), one folder per class.
c.JupyterHub.bind_url = os.environ.get("MTML_HUB_URL", f"http://127.0.0.1:{settings.port}")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
# the proxy from npm (deploy/hub/package.json), installed by `mtml hub start`
c.ConfigurableHTTPProxy.command = [
    str(pathlib.Path(__file__).parent / "node_modules" / ".bin" / "configurable-http-proxy")
]

# Who may log in: the roster, with their Unix passwords (PAM). Instructors are the hub's admins.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(members)
c.Authenticator.admin_users = {n for n, m in members.items() if m.role == "instructor"}

# Each user's server: a process of their own Unix user, with the thread budget and memory limit.
c.JupyterHub.spawner_class = ClassSpawner
c.Spawner.cmd = [str(python), "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    **hub.kernel_environment(settings.threads),
    "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
    "TZ": settings.timezone,  # the clock students see is the course's
}
c.ClassSpawner.memory_limit_bytes = settings.memory_limit
c.Spawner.pre_spawn_hook = functools.partial(prepare_home, settings, members)

# The idle culler stops servers nobody has used for idle_timeout seconds. The formgrader is a
# service: a JupyterLab of the grader account (grader-<course>, in the graders' group), in the
# course folder, at /services/<course>/ for the instructors and TAs only. nbgrader's course list
# finds a course's formgrader by the service's name, the course id.
graders = sorted(n for n, m in members.items() if m.grades)
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={settings.idle_timeout}",
        ],
    },
    {
        "name": settings.course,
        "url": f"http://127.0.0.1:{settings.formgrader_port}",
        # the graders' umask (hub_spawner.GROUP_UMASK): the gradebook stays theirs to share
        "command": [
            "sh",
            "-c",
            f"umask 007 && exec {shlex.quote(str(python))} -m jupyterhub.singleuser",
        ],
        "user": hub_admin.grader_account(settings),
        "cwd": str(settings.course_folder),
        "environment": {
            **hub.kernel_environment(settings.threads),
            "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
            "TZ": settings.timezone,
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
        },
        "oauth_no_confirm": True,
    },
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
    {
        "name": "formgrader",
        "scopes": [
            f"access:services!service={settings.course}",
            "list:services",
            f"read:services!service={settings.course}",
        ],
        "users": graders,
    },
]
