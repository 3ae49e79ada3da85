"""JupyterHub's side of a class: the spawner that keeps each user to their share of the machine,
and what a user's home gets before their first server starts.

Imported by ``deploy/hub/jupyterhub_config.py`` only, inside the hub's process (it needs the
``hub`` extra: ``jupyterhub``); the rest of :mod:`mtml_lib.course` never loads JupyterHub.
"""

from __future__ import annotations

import json
import os
import pathlib
import pwd
import resource
import shutil

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer

from .hub import HubSettings, Member, nbgrader_config_text

__all__ = [
    "ClassSpawner",
    "prepare_home",
    "LAB_LOCALES",
    "INSTRUCTOR_PANELS",
    "GROUP_UMASK",
]

#: what a user's server creates, their group may change too: the course folder is the graders'
#: group's, and one grader's gradebook must stay writable by the next (a home stays its owner's,
#: mode 700; each user's own group is theirs alone)
GROUP_UMASK = 0o007
#: JupyterLab's language pack for an edition (jupyterlab-language-pack-ko-kr)
LAB_LOCALES = {"ko": "ko_KR"}
#: JupyterLab's own setting file for its display language
_TRANSLATION = (
    ".jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings"
)
#: nbgrader's instructor panels, which a student's JupyterLab does not show (nbgrader's advice)
INSTRUCTOR_PANELS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")


class ClassSpawner(LocalProcessSpawner):
    """The local-process spawner, with a memory limit and :data:`GROUP_UMASK`: every process of
    a user's server (the server and each kernel it starts, which inherit it) may use at most
    ``memory_limit_bytes`` of address space (``RLIMIT_AS``; an allocation past it fails, a
    ``MemoryError`` or torch's "can't allocate memory", and the kernel carries on). One process's
    limit, not the user's total: on one machine without cgroups per user this is what the kernel
    offers (Zero to JupyterHub's pods have a total)."""

    memory_limit_bytes = Integer(0, help="RLIMIT_AS of every process of a user's server").tag(
        config=True
    )

    def make_preexec_fn(self, name):
        become_user = super().make_preexec_fn(name)
        limit = self.memory_limit_bytes

        def preexec():
            become_user()
            os.umask(GROUP_UMASK)
            if limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return preexec


def _give(path: pathlib.Path, uid: int, gid: int) -> None:
    for item in [path, *path.rglob("*")]:
        shutil.chown(item, uid, gid)


def prepare_home(settings: HubSettings, members: dict[str, Member], spawner) -> None:
    """``Spawner.pre_spawn_hook``: at a user's first start, their edition's workbook in
    ``~/workbook``, JupyterLab in their edition's language, and nbgrader's settings (a student's
    JupyterLab without nbgrader's instructor panels); later starts leave their files alone (the
    nbgrader settings are rewritten, they are the course's)."""
    member = members[spawner.user.name]
    account = pwd.getpwnam(member.username)
    home = pathlib.Path(account.pw_dir)
    uid, gid = account.pw_uid, account.pw_gid
    workbook = home / "workbook"
    if not workbook.exists():
        shutil.copytree(settings.handouts / member.edition, workbook)
        _give(workbook, uid, gid)
    jupyter = home / ".jupyter"
    jupyter.mkdir(exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(
        nbgrader_config_text(settings, member, workbook), encoding="utf-8"
    )
    if member.edition in LAB_LOCALES:
        setting = home / _TRANSLATION
        setting.parent.mkdir(parents=True, exist_ok=True)
        if not setting.exists():
            setting.write_text(
                json.dumps({"locale": LAB_LOCALES[member.edition]}), encoding="utf-8"
            )
    if not member.grades:
        page = jupyter / "labconfig" / "page_config.json"
        page.parent.mkdir(exist_ok=True)
        page.write_text(
            json.dumps({"disabledExtensions": dict.fromkeys(INSTRUCTOR_PANELS, True)}),
            encoding="utf-8",
        )
    _give(jupyter, uid, gid)
    spawner.notebook_dir = str(workbook)
