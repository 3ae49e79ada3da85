"""The student handout where the repository is not: what the archive holds and what it must
not, its two commands on a fresh environment, every student notebook run in it, and the
homework check whose upload the instructor's pipeline grades as it grades any submission.

The handouts are built once per session (the ``handouts`` fixture, tests/testkit/handout.py).
"""

import hashlib
import io
import json
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest
from testkit.handout import ROOT, Lab, clean_env
from testkit.korean import FIGURE_TEXTS, english_left, inject_recorder
from testkit.small import SMALL, inject

from mtml_lib.course.check import assigned_names

pytestmark = pytest.mark.slow

HW1, HW2 = "hw1_multitask", "hw2_blackbox"
HANGUL = re.compile("[\uac00-\ud7a3]")
STUDENT_NOTEBOOKS = [*SMALL, f"homework/{HW1}/{HW1}.ipynb", f"homework/{HW2}/{HW2}.ipynb"]


def archive_texts(archive):
    """Every file of the archive and of the wheel inside it, as text: path -> text."""
    texts = {}
    with zipfile.ZipFile(archive) as outer:
        for name in outer.namelist():
            data = outer.read(name)
            if name.endswith(".whl"):
                with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                    for inner in wheel.namelist():
                        texts[f"{name}!{inner}"] = wheel.read(inner).decode("utf-8", "replace")
            else:
                texts[name] = data.decode("utf-8", "replace")
    return texts


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_archive_holds_what_a_student_needs(handouts, language):
    handout = handouts[language]
    names = {n.split("/", 1)[1] for n in zipfile.ZipFile(handout.archive).namelist()}
    wheel = next(n for n in names if n.startswith("wheels/") and n.endswith(".whl"))
    expected = {"README.md", "Makefile", "workbook.py", "requirements.txt", "environment.yml"}
    expected |= {".mtml-release.json", wheel} | {f"workbook/{n}" for n in STUDENT_NOTEBOOKS}
    assert names == expected
    readme = (handout.root / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme and "make test" in readme and "make check" in readme
    assert bool(HANGUL.search(readme)) == (language == "ko")
    assert (handout.root / "requirements.txt").read_text(encoding="utf-8") == (
        ROOT / "requirements" / "student.txt"
    ).read_text(encoding="utf-8")
    manifest = json.loads((handout.root / ".mtml-release.json").read_text(encoding="utf-8"))
    assert manifest["edition"] == language and set(manifest["assignments"]) == {HW1, HW2}
    for name in STUDENT_NOTEBOOKS:
        stamp = json.loads((handout.workbook / name).read_text(encoding="utf-8"))["metadata"][
            "mtml"
        ]["release"]
        assert stamp["edition"] == language and stamp["release"] == manifest["release"]
        assert stamp["version"] == manifest["version"] and stamp["released"] == "2026-12-01"
        assert stamp["content_hash"] == manifest["files"][f"workbook/{name}"]
    sizes = handout.archive.stat().st_size, (handout.root / wheel).stat().st_size
    print(f"{handout.archive.name}: {sizes[0] / 1024:.0f} KiB, wheel {sizes[1] / 1024:.0f} KiB")


# --- the leak test ------------------------------------------------------------------------

MARKERS = (
    "### BEGIN SOLUTION",
    "### END SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
)


def split_blocks(source):
    """A cell's source as (the lines inside its solution and hidden-test blocks, stripped; the
    text outside them, markers left out)."""
    inside, outside, within = [], [], False
    for line in source.splitlines():
        if any(begin in line for begin in MARKERS[::2]):
            within = True
        elif any(end in line for end in MARKERS[1::2]):
            within = False
        elif within:
            inside.append(line.strip())
        else:
            outside.append(line)
    return inside, "\n".join(outside)


def distinctive(lines, released):
    """Lines long enough to be an answer's and not part of what the students get anyway (a
    line of a prompt, a skeleton or a visible test, found anywhere in ``released``)."""
    return {line for line in lines if len(line) >= 24 and line not in released}


def released_translations(released):
    """The Korean edition of released code: the code catalogs' translations of comments and
    shown strings whose English is released (a translation of a hidden test's message is not)."""
    from babel.messages.pofile import read_po

    for catalog in (
        ROOT / "notebooks" / "locale" / "ko" / "LC_MESSAGES" / "labs.po",
        ROOT
        / "notebooks"
        / "homework"
        / "graders"
        / "locale"
        / "ko"
        / "LC_MESSAGES"
        / "homework.po",
    ):
        with open(catalog, "rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and message.id in released:
                    yield message.string


def instructor_secrets():
    """What must not leave: path -> the lines of every solution block, hidden test, grader
    module and grader message."""
    sources = sorted((ROOT / "notebooks").glob("*.ipynb"))
    sources += sorted((ROOT / "notebooks" / "homework" / "source").glob("*/*.ipynb"))
    notebooks = {path: nbformat.read(path, as_version=4) for path in sources}
    released = "\n".join(
        split_blocks(cell.source)[1]
        for notebook in notebooks.values()
        for cell in notebook.cells
        if not (cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"))
    )
    released += "\n" + "\n".join(released_translations(released))
    secrets = {}
    for path, notebook in notebooks.items():
        lines = [line for cell in notebook.cells for line in split_blocks(cell.source)[0]]
        lines += [
            line.strip()
            for cell in notebook.cells
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")
            for line in cell.source.splitlines()
        ]
        secrets[path.relative_to(ROOT).as_posix()] = distinctive(lines, released)
    graders = ROOT / "notebooks" / "homework" / "graders"
    for path in sorted(graders.glob("*.py")):
        code = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        secrets[path.relative_to(ROOT).as_posix()] = distinctive(
            [line for line in code if not line.startswith(("import ", "from ", "#"))], released
        )
    catalog = graders / "locale" / "ko" / "LC_MESSAGES" / "graders.po"
    messages = re.findall(r'^msg(?:id|str) "(.+)"$', catalog.read_text(encoding="utf-8"), re.M)
    secrets[catalog.relative_to(ROOT).as_posix()] = distinctive(messages, released)
    return secrets


def leaks(texts):
    """origin -> {line: the handout files it was found in}."""
    found = {}
    for origin, lines in instructor_secrets().items():
        for line in sorted(lines):
            where = sorted(name.split("!")[-1] for name, text in texts.items() if line in text)
            if where:
                found.setdefault(origin, {})[line] = where
    return found


# What is found on purpose: origin -> {handout file: why it ships}. A lab's exercise is an
# ungraded re-derivation of something the library has and later cells use, or its self-check
# needs the reference computation; a homework part may have a library counterpart that a lab
# uses, which grading makes unavailable (README, threat model). Anything else found is a leak.
LAB_REFERENCE = "the lab's self-check recomputes the exercise (labs are not graded)"
LIBRARY_COUNTERPART = "the library's version, used by a lab; unavailable while grading"
GENERIC = "a generic line, not an answer"
SHIPPED_ON_PURPOSE = {
    "notebooks/01_tasks.ipynb": {"mtml_lib/selfcheck/task_checks.py": LAB_REFERENCE},
    "notebooks/03_objective.ipynb": {"mtml_lib/weighting/pcgrad.py": LIBRARY_COUNTERPART},
    "notebooks/04_challenges.ipynb": {
        "mtml_lib/metrics.py": LIBRARY_COUNTERPART,
        "mtml_lib/grads.py": GENERIC,
    },
    "notebooks/06_black_box_adaptation.ipynb": {
        "mtml_lib/models/blackbox/memory.py": LIBRARY_COUNTERPART,
        "mtml_lib/selfcheck/blackbox_checks.py": LAB_REFERENCE,
    },
    "notebooks/homework/source/hw1_multitask/hw1_multitask.ipynb": {
        "mtml_lib/weighting/uncertainty.py": LIBRARY_COUNTERPART,
    },
    "notebooks/homework/source/hw2_blackbox/hw2_blackbox.ipynb": {
        "mtml_lib/models/blackbox/memory.py": LIBRARY_COUNTERPART,
    },
    "notebooks/homework/graders/_compare.py": {
        "mtml_lib/grading/untrusted.py": GENERIC,
        "mtml_lib/selfcheck/guards.py": GENERIC,
    },
    "notebooks/homework/graders/hw2_blackbox.py": {
        "mtml_lib/selfcheck/meta_checks.py": GENERIC,
        "mtml_lib/viz/widgets/meta_widgets.py": GENERIC,
    },
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_nothing_an_instructor_keeps_is_in_the_handout(handouts, language):
    texts = archive_texts(handouts[language].archive)
    assert not [
        name
        for name in texts
        if re.search(r"(^|/)(source|graders|autograded|feedback|submitted)/|gradebook|\.db$", name)
        or "nbgrader_config" in name
        or "reference/" in name
    ]
    everything = "\n".join(texts.values())
    for marker in MARKERS:
        assert marker not in everything, marker
    found = leaks(texts)
    unexpected = {
        origin: {
            line: where
            for line, where in hits.items()
            if not set(where) <= set(SHIPPED_ON_PURPOSE.get(origin, {}))
        }
        for origin, hits in found.items()
    }
    assert not any(unexpected.values()), json.dumps(unexpected, indent=1, ensure_ascii=False)
    # the list stays honest: every exception declared is one the search still finds
    used = {
        (origin, name)
        for origin, hits in found.items()
        for where in hits.values()
        for name in where
    }
    declared = {(origin, name) for origin, files in SHIPPED_ON_PURPOSE.items() for name in files}
    assert declared <= used, sorted(declared - used)
    # predict, then run: the right letter is read off the run; none is stored, hashed or not
    from mtml_lib.selfcheck.predict import QUESTIONS, Question

    assert "answer" not in Question._fields
    for key, question in QUESTIONS.items():
        for letter in question.options:
            digest = hashlib.sha256(f"{key}:{letter}".encode()).hexdigest()[:16]
            assert digest not in everything, (key, letter)


# --- the two commands, where the repository is not ----------------------------------------


def test_the_handout_sets_up_and_checks_itself_without_the_repository(handouts):
    english = handouts["en"]
    print(f"set-up of a fresh .venv from the handout: {english.setup_seconds:.0f} s")
    where = subprocess.run(
        [
            str(english.python),
            "-c",
            "import mtml_lib, sys; print(mtml_lib.__file__); print(sys.path)",
        ],
        cwd=english.root,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(english.root / ".venv") in where.splitlines()[0]
    assert str(ROOT) not in where  # no path back to the checkout
    for language, handout in handouts.items():
        done = handout.run("test")
        assert done.returncode == 0, done.stdout + done.stderr
        ok, failed = {"en": ("[ok]", "[failed]"), "ko": ("[통과]", "[실패]")}[language]
        assert ok in done.stdout and failed not in done.stdout, done.stdout


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_open_command_serves_the_student_workbook(handouts, language, tmp_path):
    lab = Lab(handouts[language], tmp_path / "lab.log", token="mtml-handout-test")
    try:
        listed = {item["name"] for item in lab.api("GET", "contents")["content"]}
        assert listed == {*(n for n in SMALL), "homework"}
        opened = lab.api("GET", "contents/01_tasks.ipynb")["content"]
        assert opened["metadata"]["mtml"]["release"]["edition"] == language
    finally:
        lab.close()


def test_the_repository_open_command_serves_the_student_workbook_too(tmp_path):
    """``make lab`` in the checkout (the instructor's quick start) builds and serves the student
    workbook, never ``notebooks/`` (``EDITION=ko`` only changes the language it builds in,
    tests/course/test_pipeline.py's Korean student workbook)."""
    edition = "ko"
    venv = pathlib.Path(sys.prefix)
    student = tmp_path / "student"
    command = ["make", "--no-print-directory", "-C", str(ROOT), "-o", f"{venv}/.installed", "lab"]
    command += [f"EDITION={edition}", f"VENV={venv}", f"STUDENT={student}", "PORT={port}"]
    lab = Lab(
        None,
        tmp_path / "lab.log",
        "mtml-repo-test",
        command=command + ["OPEN_BROWSER=no"],
        cwd=ROOT,
    )
    try:
        listed = {item["name"] for item in lab.api("GET", "contents")["content"]}
        assert listed == {*SMALL, "homework"}, listed
        opened = lab.api("GET", "contents/03_objective.ipynb")["content"]
        assert opened["metadata"]["mtml"]["release"]["edition"] == edition
        assert "### BEGIN SOLUTION" not in json.dumps(opened)
    finally:
        lab.close()


NOT_YET = {"en": "[not yet]", "ko": "[아직]"}
WRONG = {"en": "[wrong]", "ko": "[오답]"}


# Every notebook runs in both editions: the Korean one's outputs, figures and widgets are scanned
# for English a Korean student would read (testkit.korean).
RUNS = [(name, language) for language in ("en", "ko") for name in STUDENT_NOTEBOOKS]


@pytest.mark.parametrize(("name", "language"), RUNS)
def test_every_student_notebook_runs_in_the_handout(handouts, name, language, tmp_path):
    """The handout's own Jupyter runs the notebook top to bottom (small settings injected):
    the labs' unsolved exercises say `[not yet]`, the homework stops only at its own parts; in the
    Korean edition no English is left for a student to read (testkit.korean.english_left)."""
    handout = handouts[language]
    copy = tmp_path / pathlib_name(name)
    shutil.copy(handout.workbook / name, copy)
    if name in SMALL:
        inject(copy)
    figures = tmp_path / "figure-texts.jsonl"
    if language == "ko":
        inject_recorder(copy)
    jupyter = handout.root / ".venv" / "bin" / "jupyter"
    subprocess.run(
        [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--inplace"]
        + ["--ExecutePreprocessor.timeout=900", str(copy)],
        cwd=tmp_path,
        env=clean_env(MTML_DEVICE="cpu", **{FIGURE_TEXTS: str(figures)}),
        check=True,
        capture_output=True,
    )
    ran = nbformat.read(copy, as_version=4)
    if language == "ko":
        left = english_left(copy, figures)
        assert not left, "\n".join(left)
    errors = [
        (i, o.ename)
        for i, c in enumerate(ran.cells)
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    printed = "".join(
        o.text for c in ran.cells for o in c.get("outputs", []) if o.output_type == "stream"
    )
    assert all(c.get("execution_count") for c in ran.cells if c.cell_type == "code")
    if name in SMALL:
        assert errors == [], errors
        expected = "".join(
            o.get("text", "")
            for c in nbformat.read(ROOT / "notebooks" / name, as_version=4).cells
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream"
        ).count("[ok]")
        # every self-check is on the student's work: each one waits for it
        assert printed.count(NOT_YET[language]) == expected, printed
        assert WRONG[language] not in printed, printed
        if language == "ko" and name == "01_tasks.ipynb":  # the prediction is asked in Korean
            assert "예측한 뒤 실행하기: 크기가 같은 두 모델이" in printed
    else:
        # only the unsolved parts raise, and the cells that use what those parts would have set
        unsolved = [i for i, ename in errors if ename == "NotImplementedError"]
        waiting = {n for i in unsolved for n in assigned_names(ran.cells[i].source)}
        others = []
        for i, cell in enumerate(ran.cells):
            for output in cell.get("outputs", []):
                if output.output_type != "error" or output.ename == "NotImplementedError":
                    continue
                missing = re.fullmatch(r"name '(\w+)' is not defined", output.evalue)
                if not (output.ename == "NameError" and missing and missing[1] in waiting):
                    others.append((i, output.ename, output.evalue))
        assert unsolved and others == [], (errors, others)


def pathlib_name(name):
    return name.rsplit("/", 1)[-1]
