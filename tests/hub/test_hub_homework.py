"""A lab session and a homework, end to end in a real browser, on a class's hub.

`mtml hub start` runs the class: three students (one of the Korean edition) and an instructor,
each a Unix user made for the test. In headless Chromium (Playwright, Debian's Chromium, as
tests/test_browser.py), each student logs in through the hub's page, opens notebook 01 and runs
it, fetches HW1 from nbgrader's exchange in JupyterLab's Assignments panel, types an answer into
the notebook and submits it there. Between the students' turns, one of them tries, as a student
would from JupyterLab's terminal, to reach what is not theirs: the exchange's submissions and
feedback, the course folder, a submission in another's name. The instructor releases with a
deadline, moves it before the last student submits (a late submission), collects (the forgery is
refused), runs `mtml autograde` (the bubblewrap sandbox), and returns feedback; each student
fetches it in the Assignments panel and reads their points. Every account is removed at the end.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import pathlib
import re
import shutil
import subprocess
import time
import urllib.error

import pytest
from testkit import hub
from testkit.chromium import NOTEBOOK_READY, headless_chromium
from testkit.homework import solution, student_id_cell

from mtml_lib.course import hub_admin

pytestmark = [pytest.mark.slow, pytest.mark.browser, *hub.NEEDS_A_HUB]

ARTIFACTS = pathlib.Path(os.environ.get("MTML_ARTIFACTS", hub.ROOT / "artifacts")) / "hub"
HW1 = "hw1_multitask"
COURSE = "mtml-workbook"
#: the one answer each student types: part 3, worth 3 points
PART = "uncertainty"

RUN_ALL = """() => new Promise((resolve) => {
  window.jupyterapp.commands.execute('notebook:run-all-cells').then(
    () => resolve('done'), (error) => resolve('failed: ' + error));
})"""
IDLE = """() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status
  === 'idle'"""
ERRORS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  const found = {code: 0, executed: 0, errors: []};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    found.code += 1;
    if (cell.executionCount) found.executed += 1;
    for (const output of cell.outputs.toJSON()) {
      if (output.output_type === 'error') found.errors.push(`cell ${i}: ${output.ename}`);
    }
  }
  return found;
}"""
# Put the cursor in the editor of the cell whose nbgrader id (or tag) is given.
FOCUS_CELL = """(key) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const cells = notebook.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const meta = cells.get(i).getMetadata('nbgrader') || {};
    const tags = cells.get(i).getMetadata('tags') || [];
    if (meta.grade_id === key || tags.includes(key)) {
      notebook.activeCellIndex = i;
      notebook.mode = 'edit';
      notebook.activeCell.editor.focus();
      return i;
    }
  }
  return -1;
}"""
CELL_SOURCE = """(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i)
  .sharedModel.getSource()"""


def _expose_app(klass: hub.Class) -> None:
    """``window.jupyterapp`` in every user's JupyterLab (the test reads the notebook's model
    and runs its commands through it), in their own ~/.jupyter."""
    for user in klass.roles:
        folder = pathlib.Path(f"/home/{user}/.jupyter")
        folder.mkdir(exist_ok=True)
        (folder / "jupyter_server_config.json").write_text(
            json.dumps({"LabApp": {"expose_app_in_browser": True}}), encoding="utf-8"
        )
        subprocess.run(["chown", "-R", f"{user}:{user}", str(folder)], check=True)


@pytest.fixture(scope="module")
def klass():
    with hub.running_class(before_login=_expose_app) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with headless_chromium() as chromium:
        yield chromium


class Student:
    """One student's browser session on the hub."""

    def __init__(self, browser, klass: hub.Class, name: str):
        self.klass, self.name = klass, name
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def lab(self) -> str:
        return f"{self.klass.base}/user/{self.name}/lab"

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.klass.base}/hub/login")
        page.fill("#username_input", self.name)
        page.fill("#password_input", self.klass.passwords[self.name])
        page.click("#login_submit")
        page.wait_for_url(f"{self.lab}**", timeout=180_000)
        page.wait_for_function("() => !!window.jupyterapp", timeout=120_000)

    def open(self, path: str) -> None:
        self.page.goto(f"{self.lab}/tree/{path}?reset")
        self.page.wait_for_function(NOTEBOOK_READY, timeout=120_000, polling=500)

    def run_all(self, timeout_s: float) -> dict:
        started = time.monotonic()
        assert self.page.evaluate(RUN_ALL) == "done"
        self.page.wait_for_function(IDLE, timeout=timeout_s * 1000, polling=1000)
        found = self.page.evaluate(ERRORS)
        found["seconds"] = time.monotonic() - started
        return found

    def type_into(self, key: str, text: str) -> None:
        """Select a cell's text and type ``text`` over it, as a student's keyboard does."""
        index = self.page.evaluate(FOCUS_CELL, key)
        assert index >= 0, f"no cell {key!r} in the notebook"
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)
        assert self.page.evaluate(CELL_SOURCE, index) == text

    def save(self) -> None:
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
        )

    def assignments(self):
        """JupyterLab's Assignments panel (nbgrader's assignment list)."""
        self.page.goto(f"{self.lab}?reset")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.commands"
            ".hasCommand('nbgrader:open-assignment-list')",
            timeout=120_000,
        )
        self.page.evaluate(
            "() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')"
        )
        panel = self.page.locator("#nbgrader-assignment-list")
        panel.get_by_text(HW1).first.wait_for(timeout=60_000)
        return panel

    def shot(self, what: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{what}.png"))


def _instructor(klass: hub.Class, command: str) -> subprocess.CompletedProcess:
    # the umask of a server on the hub (hub_spawner.GROUP_UMASK), as in JupyterLab's terminal
    done = hub.as_user(
        klass,
        klass.instructor(),
        f"umask 007 && mtml --course {klass.settings.course_folder} {command}",
    )
    assert done.returncode == 0, f"mtml {command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


def _due(hours_from_now: float) -> str:
    """A deadline in the course's zone, 'YYYY-MM-DD HH:MM:SS Asia/Seoul'."""
    zone = datetime.timezone(datetime.timedelta(hours=9))
    when = datetime.datetime.now(zone) + datetime.timedelta(hours=hours_from_now)
    return when.strftime("%Y-%m-%d %H:%M:%S") + " Asia/Seoul"


def _submit_in_the_browser(student: Student) -> None:
    panel = student.assignments()
    panel.get_by_role("button", name="Fetch").click()
    panel.get_by_role("button", name="Submit").wait_for(timeout=60_000)
    student.open(f"{COURSE}/{HW1}/{HW1}.ipynb")
    student.type_into("student-id", student_id_cell(HW1, student.name))
    student.type_into(PART, solution(HW1, PART))
    student.save()
    student.shot("edited")
    panel = student.assignments()
    panel.get_by_role("button", name="Submit").click()
    student.page.wait_for_function(
        "() => !document.querySelector('#nbgrader-assignment-list')"
        ".innerText.includes('There are no submitted assignments')",
        timeout=60_000,
    )
    student.shot("submitted")


def _attempts(klass: hub.Class, a: str, b: str) -> dict[str, subprocess.CompletedProcess]:
    """What student ``a`` tries from a terminal against student ``b`` and the course."""
    exchange = klass.settings.exchange / COURSE
    course = klass.settings.course_folder
    return {
        "list the submissions": hub.as_user(klass, a, f"ls {exchange}/inbound"),
        "list the returned feedback": hub.as_user(klass, a, f"ls {exchange}/feedback"),
        "read another's submission by name": hub.as_user(
            klass, a, f"cat {exchange}/inbound/{b}+{HW1}+*/{HW1}.ipynb"
        ),
        "change the release": hub.as_user(klass, a, f"touch {exchange}/outbound/{HW1}/x"),
        "list the course folder": hub.as_user(klass, a, f"ls {course}"),
        "read the gradebook": hub.as_user(klass, a, f"cat {course}/gradebook.db"),
        "copy another's fetched homework": hub.as_user(
            klass, a, f"cp -r /home/{b}/workbook/{COURSE} /tmp/{a}-copy"
        ),
    }


@pytest.fixture
def students(klass, browser):
    """A browser session per student; where the test fails, what each page showed."""
    sessions = {name: Student(browser, klass, name) for name in klass.students()}
    yield sessions
    for student in sessions.values():
        student.shot("last")
        student.context.close()


def test_a_class_through_a_lab_session_and_a_homework(klass, students, browser):
    a, b, k = klass.students()
    instructor = klass.instructor()
    hub.server_status(
        hub.login(klass.base, instructor, klass.passwords[instructor]), klass.base, instructor
    )
    released = _instructor(klass, f'release {HW1} --due "{_due(+48)}" --exchange')
    assert "and to the exchange" in released.stdout

    # the lab session: log in, notebook 01 top to bottom
    for name, student in students.items():
        student.log_in()
        student.open("01_tasks.ipynb")
        ran = student.run_all(timeout_s=300)
        assert ran["executed"] == ran["code"] > 0 and ran["errors"] == [], (name, ran)
        student.shot("01")
        print(
            f"{name}: notebook 01 ran in {ran['seconds']:.0f} s in the browser; their server "
            f"and its kernel hold {hub.memory_mib(name):.0f} MiB (PSS)"
        )

    # the homework: fetch, type an answer, submit (the first two before the deadline)
    for name in (a, b):
        _submit_in_the_browser(students[name])
    deadline = pathlib.Path(f"/home/{a}/workbook/{COURSE}/{HW1}/deadline.txt").read_text(
        encoding="utf-8"
    )
    assert "Asia/Seoul (UTC+09:00)" in deadline and "per day" in deadline

    # a student tries what is not theirs, as from JupyterLab's terminal
    attempts = _attempts(klass, a, b)
    forged = hub.as_user(
        klass, a, f"nbgrader submit {HW1} --student={b}", cwd=f"~/workbook/{COURSE}"
    )
    assert forged.returncode == 0  # nbgrader lets it through; the collect refuses it
    assert {what: run.returncode for what, run in attempts.items() if run.returncode == 0} == {}
    own = hub.as_user(
        klass, a, f"ls ~/workbook/{COURSE}/{HW1} && cat ~/workbook/{COURSE}/{HW1}/{HW1}.ipynb"
    )
    assert own.returncode == 0  # the same reads of their own work succeed

    # the deadline moves to now, after the first two submissions; the last student submits late
    _instructor(klass, f'release {HW1} --due "{_due(0)}" --exchange')
    _submit_in_the_browser(students[k])

    collected = _instructor(klass, f"collect {HW1}")
    assert f"Refused submission {b}+{HW1}+" in collected.stderr
    assert f"made by {a}, in the name of {b}: not collected" in collected.stderr
    assert "collected 3 submission(s)" in collected.stdout
    assert re.search(rf"{k}: submitted .* \(late by 0:0\d:\d\d\)", collected.stdout), (
        collected.stdout
    )
    assert re.search(rf"{a}: submitted .* \(on time\)", collected.stdout), collected.stdout
    mine = (klass.settings.course_folder / "submitted" / b / HW1 / f"{HW1}.ipynb").read_text(
        encoding="utf-8"
    )
    assert f"STUDENT_ID = {b!r}" in mine  # b's own work, not a's forgery

    graded = _instructor(klass, f"autograde {HW1}")
    for name in (a, b, k):
        assert re.search(rf"{name}: .*{PART} 3\b", graded.stdout), graded.stdout
    assert re.search(rf"{k}: late by 0:0\d:\d\d, 0\.3 points off", graded.stdout), graded.stdout
    _instructor(klass, f"feedback {HW1} --exchange")
    table = klass.folder / "grades.csv"
    table.touch()
    shutil.chown(table, klass.instructor())
    _instructor(klass, f"grades --out {table}")
    rows = {row["student_id"]: row for row in csv.DictReader(table.open(encoding="utf-8"))}
    assert float(rows[k]["late_submission_penalty"]) == pytest.approx(0.3)
    assert float(rows[k]["score"]) == pytest.approx(2.7)
    assert float(rows[a]["late_submission_penalty"]) == 0.0 and float(rows[a]["score"]) == 3.0

    # each student fetches their feedback in the Assignments panel and reads their points
    for name, student in students.items():
        panel = student.assignments()
        buttons = panel.get_by_role("button", name="Fetch Feedback")
        buttons.first.wait_for(timeout=60_000)
        for button in buttons.all():  # a's list holds the forgery it made too
            button.click()
        feedback = pathlib.Path(f"/home/{name}/workbook/{COURSE}/{HW1}/feedback")
        deadline_s = time.monotonic() + 60
        while not list(feedback.glob("*/*.html")) and time.monotonic() < deadline_s:
            time.sleep(1)
        page = sorted(feedback.glob("*/*.html"))[-1]
        student.page.goto(
            f"{klass.base}/user/{name}/files/{page.relative_to(f'/home/{name}/workbook')}"
        )
        text = student.page.inner_text("body")
        student.shot("feedback")
        points = "2.7" if name == k else "3.0"  # the late policy: 10% off for a day or part
        assert f"{HW1} (Score: {points} / 25.0)" in text, text[:500]
        assert student.errors == [], student.errors

    # the formgrader: the course's service, for its graders only, run by the grader account
    grader = hub_admin.grader_account(klass.settings)
    assert hub.server_process(grader)
    gradebook = klass.settings.course_folder / "gradebook.db"
    assert gradebook.stat().st_mode & 0o060 == 0o060  # the graders' to share (GROUP_UMASK)
    teacher = Student(browser, klass, instructor)
    teacher.log_in()
    teacher.page.goto(f"{klass.base}/services/{COURSE}/formgrader")
    teacher.page.get_by_text(HW1).first.wait_for(timeout=120_000)
    teacher.shot("formgrader")
    opener = hub.login(klass.base, a, klass.passwords[a])
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{klass.base}/services/{COURSE}/formgrader", timeout=60)
    assert refused.value.code == 403
