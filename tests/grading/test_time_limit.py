"""The time limit per cell under grading: it grows with the machine's load, and a cell stopped
for time says why (mtml_lib.grading.time_limit)."""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import types

import nbformat
import pytest

from mtml_lib.course import find_course
from mtml_lib.grading import time_limit
from mtml_lib.grading.nbgrader_step import TimedExecute
from mtml_lib.grading.time_limit import (
    MOST,
    CellTimeLimit,
    cores,
    free_threads,
    kernel_arguments,
    machine_load,
    timeout_error,
)


@pytest.mark.parametrize(
    ("load", "count", "seconds"),
    [
        (0.0, 2, 30),  # an idle machine: the base
        (1.0, 2, 30),  # one other thread: a core each, still the base
        (2.0, 2, 45),  # two others and the cell's own on two cores
        (2.1, 2, 47),  # rounded up
        (5.0, 4, 45),
        (100.0, 2, 30 * MOST),  # no further than MOST times the base
    ],
)
def test_the_limit_grows_with_the_load_per_core_and_no_further(monkeypatch, load, count, seconds):
    monkeypatch.setattr(time_limit, "machine_load", lambda: load)
    monkeypatch.setattr(time_limit, "cores", lambda: count)
    limit = CellTimeLimit(30)
    assert limit(None) == seconds
    assert limit.last.base == 30 and limit.last.load == load and limit.last.cores == count
    assert CellTimeLimit(30, most=1)(None) == 30  # most=1: a fixed limit


def test_the_load_is_the_threads_running_now_besides_the_reader(tmp_path):
    source = tmp_path / "loadavg"
    source.write_text("0.50 0.40 0.30 5/300 1234\n", encoding="ascii")
    assert machine_load(str(source)) == 4.0  # 5 running, the reader not counted
    source.write_text("3.20 2.00 1.00 1/100 1234\n", encoding="ascii")
    assert machine_load(str(source)) == 0.0  # a busy last minute, nothing else running now
    assert machine_load(str(tmp_path / "missing")) == 0.0
    source.write_text("garbage\n", encoding="ascii")
    assert machine_load(str(source)) == 0.0
    if pathlib.Path("/proc/loadavg").exists():
        assert machine_load() >= 0.0


@pytest.mark.skipif(not pathlib.Path("/proc/loadavg").exists(), reason="needs Linux's /proc")
def test_the_load_counts_another_job_but_not_the_gradings_own_kernel():
    spin = "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass"
    mine = subprocess.Popen([sys.executable, "-c", spin])  # as a kernel this grading started
    try:
        time.sleep(0.5)
        assert machine_load() == 0.0
    finally:
        mine.kill()
        mine.wait()
    # another job: not a descendant (its parent exits, it is left to init)
    start = (
        "import subprocess, sys; print(subprocess.Popen([sys.executable, '-c', "
        f"{spin!r}], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, "
        "start_new_session=True).pid)"
    )
    other = int(
        subprocess.run([sys.executable, "-c", start], capture_output=True, text=True).stdout
    )
    try:
        time.sleep(0.5)
        assert machine_load() >= 1.0
    finally:
        os.kill(other, signal.SIGKILL)


def test_cores_are_the_affinity_or_a_smaller_cgroup_quota(tmp_path):
    mine = len(os.sched_getaffinity(0))
    quota = tmp_path / "cpu.max"
    quota.write_text("max 100000\n", encoding="ascii")
    assert cores(str(quota)) == mine
    quota.write_text("50000 100000\n", encoding="ascii")  # half a core, as a grading container
    assert cores(str(quota)) == 1
    quota.write_text(f"{100000 * (mine + 5)} 100000\n", encoding="ascii")
    assert cores(str(quota)) == mine
    assert cores(str(tmp_path / "missing")) == mine


@pytest.mark.parametrize(
    ("load", "budget", "threads"),
    [
        (0.0, None, 4),  # an idle machine: every core
        (1.0, None, 3),  # one busy thread: the others
        (3.0, None, 1),
        (9.0, None, 1),  # at least one
        (0.0, "2", 2),  # no more than a budget already set (a class's hub)
        (3.0, "2", 1),
        (0.0, "many", 4),  # a budget that is not a number is no budget
    ],
)
def test_a_grading_kernel_takes_the_cores_the_load_leaves_free(monkeypatch, load, budget, threads):
    monkeypatch.setattr(time_limit, "machine_load", lambda: load)
    monkeypatch.setattr(time_limit, "cores", lambda: 4)
    environ = {} if budget is None else {"OMP_NUM_THREADS": budget}
    assert free_threads(environ) == threads


def test_the_kernel_arguments_set_the_threads_before_any_cell_and_grade_as_the_grader():
    history, line = kernel_arguments(3)
    assert history == "--HistoryManager.hist_file=:memory:"
    assert line.startswith("--IPKernelApp.exec_lines=")
    environ = {}
    exec(line.split("=", 1)[1], {"__import__": lambda name: types.SimpleNamespace(environ=environ)})
    assert environ == {
        **dict.fromkeys(time_limit.THREAD_VARIABLES, "3"),
        "MTML_AUTOGRADE": "1",
    }
    with pytest.raises(ValueError, match=r"`threads` must be an integer >= 1; got 0"):
        kernel_arguments(0)


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"base": 0}, ValueError, r"`base` must be an integer >= 1; got 0"),
        ({"base": True}, TypeError, r"`base` must be an integer; got True"),
        ({"base": 30, "most": 0.5}, ValueError, r"`most` must be a number >= 1.0; got 0.5"),
    ],
)
def test_bad_settings_are_named(arguments, error, match):
    with pytest.raises(error, match=match):
        CellTimeLimit(**arguments)


def _run(cells, executor):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    executor.preprocess(notebook, {"metadata": {"path": "."}})
    return notebook


@pytest.mark.slow
def test_a_cell_stopped_for_time_says_why_and_the_rest_runs(monkeypatch):
    monkeypatch.setattr(time_limit, "machine_load", lambda: 0.0)
    ran = _run(["import time\ntime.sleep(60)", "print(1 + 1)"], TimedExecute(timeout=2))
    stopped, after = ran.cells
    errors = [o for o in stopped.outputs if o.output_type == "error"]
    assert [o.ename for o in errors] == ["CellTimeoutError"]  # no KeyboardInterrupt traceback
    text = errors[0].evalue
    assert "this cell ran past its time limit and was stopped" in text
    assert "limit is 2 s per cell on an idle machine" in text
    assert "Here it was stopped after 2 s (x1.0: 0 other threads were running on" in text
    assert after.outputs[0].text == "2\n"  # the notebook goes on
    budget = _run(
        ["import os, torch\nprint(os.environ['MTML_AUTOGRADE'], torch.get_num_threads())"],
        TimedExecute(timeout=60),
    )
    assert budget.cells[0].outputs[0].text == f"1 {free_threads()}\n"  # with the machine idle

    korean = _run(["import time\ntime.sleep(60)"], TimedExecute(timeout=2, language="ko"))
    text = korean.cells[0].outputs[-1].evalue
    assert "시간" in text and "2" in text, text


@pytest.mark.slow
def test_a_cell_within_its_scaled_limit_passes(monkeypatch):
    # a cell of 3 s under a base of 2 s passes where the machine is loaded 2x per core
    monkeypatch.setattr(time_limit, "machine_load", lambda: 4.0 * time_limit.cores())
    ran = _run(["import time\ntime.sleep(3)\nprint('done')"], TimedExecute(timeout=2))
    assert ran.cells[0].outputs[0].text == "done\n"


def _course_config(folder: pathlib.Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()


@pytest.mark.parametrize(("edition", "words"), [(None, "ran past its time limit"), ("ko", "시간")])
def test_the_course_config_gives_validate_the_scaled_limit_in_its_language(
    tmp_path, edition, words
):
    shutil.copy(find_course() / "nbgrader_config.py", tmp_path)
    if edition:
        (tmp_path / "edition.json").write_text(f'{{"language": "{edition}"}}', encoding="utf-8")
    config = _course_config(tmp_path)
    limit = config.Execute.timeout_func
    assert isinstance(limit, CellTimeLimit) and limit.base == config.Execute.timeout == 30
    assert limit.most == MOST
    error = config.Execute.error_on_timeout
    assert error == timeout_error(edition or "en", 30) and words in error["evalue"]


@pytest.mark.slow
def test_nbgrader_validate_stops_a_slow_cell_with_the_course_message(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    text = (find_course() / "nbgrader_config.py").read_text(encoding="utf-8")
    text = text.replace("c.Execute.timeout = 30", "c.Execute.timeout = 2")
    assert "c.Execute.timeout = 2" in text
    (course / "nbgrader_config.py").write_text(text, encoding="utf-8")
    test = {"grade": True, "grade_id": "slow", "points": 1, "solution": False, "locked": True}
    cell = nbformat.v4.new_code_cell(
        "import time\ntime.sleep(60)", metadata={"nbgrader": {**test, "schema_version": 3}}
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), course / "slow.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", "slow.ipynb"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert "CellTimeoutError: this cell ran past its time limit and was stopped" in out, out
    assert "VALIDATION FAILED ON 1 CELL(S)" in out, out


def test_a_probe_cell_stopped_for_time_is_told_with_its_limit(tmp_path, monkeypatch):
    from mtml_lib.grading.regrade import score
    from mtml_lib.grading.untrusted import probe_notebook

    monkeypatch.setattr(time_limit, "machine_load", lambda: 0.0)
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("while True:\n    pass", metadata={"nbgrader": {}}),
            nbformat.v4.new_code_cell("x = 2"),
        ]
    )
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    spec = types.SimpleNamespace(
        PROBES={"x": lambda namespace: namespace["x"]}, CHECKS={"x": [(1, lambda g, r: g == r)]}
    )
    results = probe_notebook(path, spec, cell_timeout=1, probe_timeout=5)
    assert results["cells"]["cell-0"].startswith("timeout after 1 s (1 s x1.0, 0 other threads on")
    assert results["parts"]["x"] == {"data": 2}
    missing = {"cells": results["cells"], "parts": {}}
    feedback = score(spec, missing, {"parts": {"x": {"data": 2}}})["x"].messages
    assert any(
        "cell cell-0 stopped at the time limit of a cell (timeout after 1 s" in m for m in feedback
    )
