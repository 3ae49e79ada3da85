"""A class on one server, for real: `mtml hub start` with three students and an instructor, each
a Unix user logged in through PAM; their servers get the thread budget, the memory limit and their
edition's workbook; no student reaches what is another's. Needs root (it makes Unix users) and
removes every account it made."""

from __future__ import annotations

import os
import pathlib
import pwd
import re
import time
import urllib.error

import pytest
from testkit import hub

pytestmark = [pytest.mark.slow, *hub.NEEDS_A_HUB]


@pytest.fixture(scope="module")
def running_class():
    with hub.running_class() as klass:
        yield klass


def test_students_log_in_and_their_servers_get_their_share(running_class):
    klass = running_class
    student = klass.students()[0]
    opener = hub.login(klass.base, student, klass.passwords[student])
    assert "started" in hub.server_status(opener, klass.base, student)
    pid = hub.server_process(student)
    environ = dict(
        item.split("=", 1)
        for item in pathlib.Path(f"/proc/{pid}/environ").read_text(encoding="utf-8").split("\0")
        if "=" in item
    )
    assert environ["OMP_NUM_THREADS"] == str(klass.settings.threads)
    assert environ["TZ"] == "Asia/Seoul"
    limits = pathlib.Path(f"/proc/{pid}/limits").read_text(encoding="utf-8")
    assert re.search(rf"Max address space\s+{klass.settings.memory_limit}\s", limits)
    home = pathlib.Path(f"/home/{student}")
    assert (home / "workbook" / "01_tasks.ipynb").exists()
    assert (home / "workbook").stat().st_uid == pwd.getpwnam(student).pw_uid
    config = (home / ".jupyter" / "nbgrader_config.py").read_text(encoding="utf-8")
    assert "path_includes_course = True" in config and 'timezone = "UTC"' in config
    hidden = (home / ".jupyter" / "labconfig" / "page_config.json").read_text(encoding="utf-8")
    assert "@jupyter/nbgrader:formgrader" in hidden  # a student's JupyterLab has no formgrader
    time.sleep(2)
    print(f"memory of an idle student's server: {hub.memory_mib(student):.0f} MiB (PSS)")


def test_a_wrong_password_is_refused(running_class):
    with pytest.raises(urllib.error.HTTPError) as refused:
        hub.login(running_class.base, running_class.students()[0], "not-the-password")
    assert refused.value.code == 403


def test_the_korean_student_gets_jupyterlab_in_korean(running_class):
    klass = running_class
    korean = klass.korean()
    hub.server_status(hub.login(klass.base, korean, klass.passwords[korean]), klass.base, korean)
    setting = pathlib.Path(f"/home/{korean}/.jupyter/lab/user-settings/@jupyterlab").joinpath(
        "translation-extension", "plugin.jupyterlab-settings"
    )
    assert '"ko_KR"' in setting.read_text(encoding="utf-8")
    assert "01_tasks.ipynb" in os.listdir(f"/home/{korean}/workbook")


def test_a_student_cannot_reach_what_is_not_theirs(running_class):
    klass = running_class
    a, b = klass.students()[:2]
    hub.server_status(hub.login(klass.base, b, klass.passwords[b]), klass.base, b)
    course = klass.settings.course_folder
    attempts = {
        "list another's home": f"ls /home/{b}",
        "read another's workbook": f"cat /home/{b}/workbook/01_tasks.ipynb",
        "write into another's home": f"touch /home/{b}/x",
        "list the course folder": f"ls {course}",
        "read a grader": f"cat {course}/graders/hw1_multitask.py",
        "signal another's server": f"kill -TERM {hub.server_process(b)}",
    }
    # the same commands on their own things work: a refusal below is the permission's
    assert hub.as_user(klass, a, f"ls /home/{a}/workbook && touch /home/{a}/x").returncode == 0
    allowed = {
        what: run.returncode
        for what, cmd in attempts.items()
        if (run := hub.as_user(klass, a, cmd)).returncode == 0
    }
    assert allowed == {}
    assert hub.server_process(b)  # still running
