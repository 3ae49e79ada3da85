"""nbgrader's collect, with what it leaves to a warning refused or corrected
(mtml_lib.course.exchange.OwnedCollect): here the submissions are made by this test's own user,
as a hand-made submission would be (tests/hub/test_hub_homework.py does it with real students)."""

import datetime
import getpass
import os
import subprocess
import sys
import time

import pytest
from nbgrader.utils import parse_utc

from mtml_lib.course.exchange import STAMP_FORMAT, changed_at

COURSE, HW = "course101", "hw"

pytestmark = pytest.mark.slow  # nbgrader starts in about 5 s


def _submission(inbound, student, claimed: datetime.datetime):
    stamp = claimed.strftime(STAMP_FORMAT)
    folder = inbound / f"{student}+{HW}+{stamp}+r4nd0m"
    folder.mkdir(parents=True)
    (folder / f"{HW}.ipynb").write_text('{"cells": []}', encoding="utf-8")
    (folder / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return folder


def _collect(tmp_path, *extra):
    course = tmp_path / "course"
    course.mkdir(exist_ok=True)
    arguments = [
        f"--Exchange.root={tmp_path / 'exchange'}",
        f"--CourseDirectory.root={course}",
        f"--CourseDirectory.course_id={COURSE}",
        "--ExchangeFactory.collect=mtml_lib.course.exchange.OwnedCollect",
        *extra,
    ]
    bin_folder = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_folder + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "collect", HW, *arguments],
        cwd=course,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return course, done.stderr


def test_a_submission_in_another_name_is_refused_and_a_back_dated_stamp_corrected(tmp_path):
    me = getpass.getuser()
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    _submission(inbound, me, now - datetime.timedelta(hours=3))  # claims three hours ago
    _submission(inbound, "someone-else", now)  # made by this user in another's name
    time.sleep(0.1)
    course, log = _collect(tmp_path)
    assert f"made by {me}, in the name of someone-else: not collected" in log
    assert not (course / "submitted" / "someone-else").exists()
    stamp = (course / "submitted" / me / HW / "timestamp.txt").read_text(encoding="utf-8")
    taken = parse_utc(stamp)
    assert abs((taken - now).total_seconds()) < 60, (stamp, now)  # the change time, not the claim
    assert "its time of submission is taken as" in log


def test_an_honest_stamp_is_kept(tmp_path):
    me = getpass.getuser()
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    claimed = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    folder = _submission(inbound, me, claimed)
    assert changed_at(folder) >= claimed - datetime.timedelta(seconds=1)
    course, log = _collect(tmp_path)
    stamp = (course / "submitted" / me / HW / "timestamp.txt").read_text(encoding="utf-8")
    assert parse_utc(stamp) == claimed
    assert "taken as" not in log


def test_owners_without_an_account_are_named_by_the_roster(tmp_path):
    # as in a pod of Zero to JupyterHub: the uid has no account, the roster names it
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    _submission(inbound, "kim", now)
    _submission(inbound, "lee", now)
    uid = os.getuid()
    course, log = _collect(tmp_path, f"--OwnedCollect.owners={{{uid}: 'kim'}}")
    assert (course / "submitted" / "kim" / HW).is_dir()
    assert not (course / "submitted" / "lee").exists()
    assert "made by kim, in the name of lee: not collected" in log
