"""Checks on the stored lab notebooks themselves (nbval checks their outputs)."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
APPENDIX = ROOT / "notebooks" / "appendix_kernels.ipynb"
HOMEWORK = sorted((ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_notebook_sequence_exists():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_tasks.ipynb"]


def solution_lines(source):
    """Lines between the solution markers (blank lines and comments not counted)."""
    inside, count = False, 0
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            count += 1
    return count


def code_sources(path):
    return ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_lab_has_exercises_and_a_prediction(path):
    sources = code_sources(path)
    checks = [s for s in sources if "from mtml_lib.selfcheck." in s and "check_" in s]
    exercises = {
        line.split("(")[0].strip()
        for s in checks
        for line in s.splitlines()
        if line.startswith("check_") and "check_prediction" not in line
    }
    assert len(exercises) >= 2, exercises
    assert any("ask(" in s for s in sources) and any("check_prediction(" in s for s in sources)


README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_states_the_labs_lines_of_solution():
    total = sum(solution_lines(s) for path in NOTEBOOKS for s in code_sources(path))
    stated = re.search(r"(\d+) lines of solution across the six", README)
    assert stated and int(stated.group(1)) == total, (stated and stated.group(1), total)


@pytest.mark.parametrize("path", HOMEWORK, ids=lambda p: p.name)
def test_the_readme_states_each_homeworks_lines_and_its_autograded_points(path):
    cells = load(path)["cells"]
    code = [s for s in code_sources(path) if "### BEGIN SOLUTION" in s]
    title = {"hw1_multitask.ipynb": "HW1", "hw2_blackbox.ipynb": "HW2"}[path.name]
    row = next(line for line in README.splitlines() if line.startswith(f"| {title} · "))
    stated = re.search(r"\| (\d+) lines \|", row)
    assert stated and int(stated.group(1)) == sum(solution_lines(s) for s in code)
    autograded = sum(
        c["metadata"]["nbgrader"].get("points", 0)
        for c in cells
        if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")
    )
    assert autograded >= 20
    intro = "".join(cells[0]["source"])
    assert f"{autograded} autograded" in intro


def test_the_appendix_is_executed_and_comes_after_the_labs():
    from mtml_lib.course.workbook import source_notebooks

    notebook = load(APPENDIX)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code)
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    # the workbook a student gets: the labs in their order, then the appendix
    assert source_notebooks(ROOT / "notebooks") == [*NOTEBOOKS, APPENDIX]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestStoredNotebook:
    def test_kernelspec_is_python3(self, path):
        assert load(path)["metadata"]["kernelspec"]["name"] == "python3"

    def test_executed_in_order_without_errors(self, path):
        code = [
            c
            for c in load(path)["cells"]
            if c["cell_type"] == "code" and "".join(c["source"]).strip()
        ]
        counts = [c["execution_count"] for c in code]
        assert None not in counts
        assert counts == sorted(counts) and counts[0] == 1
        assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]

    def test_one_parameters_cell_first(self, path):
        code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
        tagged = [i for i, c in enumerate(code) if "parameters" in c["metadata"].get("tags", [])]
        assert tagged == [0]

    def test_title_and_learning_goals(self, path):
        first = "".join(load(path)["cells"][0]["source"])
        assert first.startswith("# ") and "Learning goals" in first

    def test_no_widget_state_or_machine_paths_stored(self, path):
        text = path.read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget-state+json" not in text
        for fragment in ("/root/", "/home/", "/tmp/", "/work/"):
            assert fragment not in text

    def test_exercise_solutions_are_marked(self, path):
        sources = ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code"]
        marked = [s for s in sources if "### BEGIN SOLUTION" in s]
        assert marked, "every lab notebook has at least one exercise"
        assert all(s.count("### BEGIN SOLUTION") == s.count("### END SOLUTION") for s in marked)
