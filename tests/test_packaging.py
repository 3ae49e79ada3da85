"""The promises of the repository itself: pinned installs, two commands, CI calling the README."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def lock_pins():
    lines = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def test_torch_is_pinned_the_same_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "torch==2.13.0" in project["dependencies"]
    assert lock_pins()["torch"] == "2.13.0"
    assert "- torch==2.13.0" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_environment_yml_and_the_lock_agree():
    env_pins = dict(
        re.findall(
            r"^\s+- ([A-Za-z0-9_.\-]+)==(\S+)$",
            (ROOT / "environment.yml").read_text(encoding="utf-8"),
            re.M,
        )
    )
    assert env_pins == lock_pins()
    assert "python=3.11" in (ROOT / "environment.yml").read_text(encoding="utf-8")


def test_lock_covers_every_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + [
        d for extra in project["optional-dependencies"].values() for d in extra
    ]
    names = {re.split(r"[<>=\[ ]", d)[0].lower().replace("_", "-") for d in declared}
    locked = {n.lower().replace("_", "-") for n in lock_pins()}
    assert names - locked == set()


def test_readme_gives_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```(?:bash|sh)\n(.+?)\n```", quick_start, re.M | re.S)
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    run_lines = [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert run_lines == ["make test"]


def test_the_handouts_requirements_are_the_lock_cut_to_the_workbook():
    lines = (ROOT / "requirements" / "student.txt").read_text(encoding="utf-8").splitlines()
    student = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    locked = lock_pins()
    assert {name: locked.get(name) for name in student} == student  # same versions, no others
    assert student["torch"] == "2.13.0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    needed = project["dependencies"] + project["optional-dependencies"]["workbook"]
    names = {re.split(r"[<>=\[ ]", d)[0].lower().replace("_", "-") for d in needed}
    assert names <= {n.lower().replace("_", "-") for n in student}
    # the instructor's and the test tools stay out of the students' install
    assert not {"pytest", "nbval", "playwright", "ruff"} & set(student)
