"""Deadlines with their zone, the late policy, and nbgrader's stamps read back right."""

import datetime
import shutil

import pytest
from nbgrader.utils import parse_utc

from mtml_lib.course import CourseError
from mtml_lib.course.deadline import (
    LatePolicy,
    deadline_note,
    deadline_of,
    late_policy,
    parse_deadline,
    set_deadline,
)


def test_a_deadline_keeps_its_zone():
    due = parse_deadline("2026-12-14 23:59 Asia/Seoul")
    assert due.utcoffset() == datetime.timedelta(hours=9)
    assert due.astimezone(datetime.UTC).strftime("%H:%M") == "14:59"
    for bad in ("2026-12-14 23:59", "2026-12-14 23:59 KST", "14/12/2026 23:59 UTC", ""):
        with pytest.raises(ValueError, match=r"`due` must be .*Area/City.* got"):
            parse_deadline(bad)


@pytest.mark.parametrize(
    ("hours", "penalty"),
    [(0, 0.0), (0.2, 0.0), (1, 5.0), (24, 5.0), (25, 10.0), (24 * 3, 15.0), (24 * 3 + 1, 50.0)],
)
def test_the_late_policy_takes_points_per_started_day(hours, penalty):
    policy = LatePolicy(percent_per_day=10, zero_after_days=3, grace_minutes=15)
    assert policy.penalty(50.0, seconds_late=hours * 3600) == penalty


def test_the_policy_never_takes_more_than_the_score():
    assert LatePolicy(percent_per_day=60, zero_after_days=9).penalty(10.0, 3 * 86400) == 10.0


def test_the_note_gives_the_deadline_in_its_zone_and_in_utc_in_both_languages():
    due = parse_deadline("2026-12-14 23:59 Asia/Seoul")
    policy = LatePolicy(percent_per_day=10, zero_after_days=7)
    english = deadline_note(due, "hw1_multitask", policy, "en")
    assert "2026-12-14 23:59 Asia/Seoul (UTC+09:00)" in english
    assert "2026-12-14 14:59 UTC" in english and "10% of its points per day" in english
    korean = deadline_note(due, "hw1_multitask", policy, "ko")
    assert "2026-12-14 23:59 Asia/Seoul (UTC+09:00)" in korean and "마감" in korean
    assert "per day" not in korean


def test_the_course_folder_sets_the_policy_and_the_gradebook_keeps_the_deadline(tmp_path, request):
    course = tmp_path / "course"
    shutil.copytree(request.config.rootpath / "notebooks" / "homework", course)
    (course / "gradebook.db").unlink(missing_ok=True)
    policy = late_policy(course)
    assert (policy.percent_per_day, policy.zero_after_days) == (10, 7)
    set_deadline(course, "hw1_multitask", "2026-12-14 23:59 Europe/Berlin")
    assert deadline_of(course, "hw1_multitask") == datetime.datetime(
        2026, 12, 14, 22, 59, tzinfo=datetime.UTC
    )
    assert deadline_of(course, "hw2_blackbox") is None


def test_nbgrader_misreads_zone_abbreviations_so_stamps_are_utc():
    # why c.Exchange.timezone is "UTC": a Seoul stamp reads back nine hours off
    assert parse_utc("2026-12-07 18:00:00.000000 KST") == datetime.datetime(2026, 12, 7, 18)
    assert parse_utc("2026-12-07 09:00:00.000000 UTC") == datetime.datetime(2026, 12, 7, 9)


def test_a_course_without_a_late_policy_takes_no_points_off(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    assert late_policy(tmp_path) is None
    note = deadline_note(parse_deadline("2026-12-14 23:59 UTC"), "hw", None, "en")
    assert "Late work loses no points." in note
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.AssignLatePenalties.plugin_class = 'my.Plugin'\n", encoding="utf-8"
    )
    with pytest.raises(CourseError, match="my.Plugin"):
        late_policy(tmp_path)
