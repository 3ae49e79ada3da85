"""The roster and the class settings: what a class is made of, checked before anything is made."""

import dataclasses
import re

import pytest

from mtml_lib.course.hub import (
    HubError,
    kernel_environment,
    memory_bytes,
    read_roster,
    read_settings,
    thread_budget,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_roster_reads_its_members(tmp_path):
    roster = write(
        tmp_path,
        "r.csv",
        "username,role,edition\nprof,instructor,en\nkim,student,ko\nlee,Student,\n",
    )
    members = read_roster(roster)
    assert [(m.username, m.role, m.edition, m.grades) for m in members] == [
        ("prof", "instructor", "en", True),
        ("kim", "student", "ko", False),
        ("lee", "student", "en", False),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Kim,student,en", r"row 3: `username` must be a Unix login name .*got 'Kim'"),
        ("prof,student,en", r"row 3: `username` 'prof' is on the roster twice"),
        ("kim,teacher,en", r"row 3: `role` must be one of \['student', 'ta', 'instructor'\]"),
        ("kim,student,fr", r"row 3: `edition` must be one of \['en', 'ko'\]; got 'fr'"),
        ("../root,student,en", r"must be a Unix login name"),
    ],
)
def test_a_roster_mistake_names_its_row_and_value(tmp_path, rows, message):
    roster = write(tmp_path, "r.csv", f"username,role,edition\nprof,instructor,en\n{rows}\n")
    with pytest.raises(HubError, match=message):
        read_roster(roster)


def test_a_roster_without_an_instructor_or_a_header_is_refused(tmp_path):
    with pytest.raises(HubError, match="at least one instructor"):
        read_roster(write(tmp_path, "a.csv", "username,role\nkim,student\n"))
    with pytest.raises(HubError, match="a header with `username` and `role`"):
        read_roster(write(tmp_path, "b.csv", "kim,student\n"))


def test_the_thread_budget_divides_the_cores_among_the_users_at_once():
    assert [thread_budget(cores=16, concurrent=n) for n in (1, 4, 8, 16, 30)] == [16, 4, 2, 1, 1]
    assert thread_budget(cores=2, concurrent=1) == 2
    with pytest.raises(HubError, match="`concurrent` must be an integer >= 1; got 0"):
        thread_budget(cores=2, concurrent=0)
    env = kernel_environment(3)
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "3"


def test_memory_sizes():
    assert memory_bytes("2G") == 2 * 2**30
    assert memory_bytes("512M") == 512 * 2**20
    assert memory_bytes("1.5GiB") == int(1.5 * 2**30)
    with pytest.raises(HubError, match="`memory_per_user` must be a size"):
        memory_bytes("lots")


def test_class_settings_resolve_paths_and_refuse_unknown_keys(tmp_path):
    ok = write(
        tmp_path,
        "class.toml",
        '[class]\ncourse = "mtml-workbook"\nroster = "r.csv"\nexchange = "ex"\nconcurrent = 4\n',
    )
    settings = read_settings(ok)
    assert settings.roster == tmp_path / "r.csv" and settings.exchange == tmp_path / "ex"
    assert settings.concurrent == 4 and settings.port == 8000
    assert settings.formgrader_port == 8001  # beside the hub unless set
    bad = write(tmp_path, "bad.toml", '[class]\ncourse = "c"\nroster = "r.csv"\nports = 1\n')
    with pytest.raises(HubError, match=r"\[class\] has no key 'ports'"):
        read_settings(bad)
    zero = write(tmp_path, "zero.toml", '[class]\ncourse = "c"\nroster = "r.csv"\nport = 0\n')
    with pytest.raises(HubError, match=r"`port` must be an integer >= 1; got 0"):
        read_settings(zero)
    with pytest.raises(HubError, match="needs `roster`"):
        read_settings(write(tmp_path, "none.toml", '[class]\ncourse = "c"\n'))
    zone = write(tmp_path, "tz.toml", '[class]\ncourse = "c"\nroster = "r"\ntimezone = "KST"\n')
    with pytest.raises(HubError, match=r"`timezone` must be an IANA time zone .* got 'KST'"):
        read_settings(zone)


def test_the_example_class_reads(request):
    root = request.config.rootpath / "deploy" / "hub"
    settings = read_settings(root / "class.toml")
    members = read_roster(settings.roster)
    assert {m.role for m in members} == {"instructor", "ta", "student"}


@pytest.mark.parametrize(("edition", "words"), [("en", "time limit of 30 s"), ("ko", "30초")])
def test_a_students_validate_runs_the_homework_as_the_grader(request, edition, words):
    """The user's nbgrader config gives Validate the course's limit per cell with its message in
    the student's edition, and the grader's budgets in a kernel within the server's thread budget;
    it imports nothing (the server loads it on every request of the Assignments panel)."""
    from traitlets.config import Config

    from mtml_lib.course.hub import Member, nbgrader_config_text

    settings = read_settings(request.config.rootpath / "deploy" / "hub" / "class.toml")
    # the course folder: the repository's (30 s per cell)
    course = request.config.rootpath / "notebooks" / "homework"
    settings = dataclasses.replace(settings, course_folder=course)
    text = nbgrader_config_text(settings, Member("kim", "student", edition), settings.exchange)
    assert not re.search(r"^\s*(import|from) ", text, re.MULTILINE)
    config = Config()
    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: config})
    assert config.Execute.timeout == 30
    error = config.Execute.error_on_timeout
    assert error["ename"] == "CellTimeoutError" and words in error["evalue"]
    history, line = config.Execute.extra_arguments
    assert history == "--HistoryManager.hist_file=:memory:"
    assert (
        line == "--IPKernelApp.exec_lines=__import__('os').environ.update({'MTML_AUTOGRADE': '1'})"
    )
    assert "CourseDirectory.root" not in text  # a student's config names no course folder
