"""Checks on the stored lab notebooks themselves (nbval checks their outputs)."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(path):
    return json.loads(path.read_text())


def test_the_notebook_sequence_exists():
    assert [p.name for p in NOTEBOOKS][:1] == ["01_tasks.ipynb"]


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
        text = path.read_text()
        assert "application/vnd.jupyter.widget-state+json" not in text
        for fragment in ("/root/", "/home/", "/tmp/", "/work/"):
            assert fragment not in text

    def test_exercise_solutions_are_marked(self, path):
        sources = ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code"]
        marked = [s for s in sources if "### BEGIN SOLUTION" in s]
        assert marked, "every lab notebook has at least one exercise"
        assert all(s.count("### BEGIN SOLUTION") == s.count("### END SOLUTION") for s in marked)
