"""The ``mtml`` command: the student workbook and the instructor's homework pipeline.

    mtml workbook [--out student]          build the student workbook from notebooks/ (keeps existing files)
    mtml release HW                        nbgrader: the student version of homework HW
    mtml collect HW FOLDER                 copy submissions (FOLDER/<student>/*.ipynb or FOLDER/<student>.zip)
    mtml autograde HW                      nbgrader autograde, then the trusted re-grade of every part
    mtml grades [--out grades.csv]         the grade table
    mtml feedback HW                       nbgrader feedback (HTML) for every graded submission
    mtml train CONFIG                      a meta-training or multi-task run from a TOML config (torchrun: data-parallel)

The course folder (nbgrader's) is ``notebooks/homework`` of the workbook; ``--course``
or ``MTML_COURSE`` point elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

__all__ = ["main", "build_workbook", "find_course"]

ROOT = pathlib.Path(__file__).resolve().parents[1]


def find_course(course: str | os.PathLike | None = None) -> pathlib.Path:
    """The nbgrader course folder: ``course``, else ``MTML_COURSE``, else ``./notebooks/homework``, else the workbook's."""
    candidates = [course, os.environ.get("MTML_COURSE"), pathlib.Path.cwd() / "notebooks" / "homework",
                  ROOT / "notebooks" / "homework"]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "nbgrader_config.py").exists():
            return pathlib.Path(candidate).resolve()
    raise SystemExit("no nbgrader course folder found: pass --course or set MTML_COURSE "
                     "(a folder holding nbgrader_config.py and source/).")


def _with_environment_bin() -> None:
    """Put this Python's script folder on PATH: nbgrader runs the `alembic` command when it creates a
    gradebook, and `.venv/bin/mtml` may be called without the environment activated."""
    scripts = str(pathlib.Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader(course: pathlib.Path, *args: str, env: dict | None = None, quiet: bool = False) -> None:
    """Run an nbgrader command in the course folder (its nbgrader_config.py applies)."""
    _with_environment_bin()
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course, env={**os.environ, **(env or {})},
                            capture_output=quiet, text=True)
    if result.returncode != 0:
        detail = (result.stderr or "")[-2000:] if quiet else ""
        raise SystemExit(f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}).\n{detail}")


def assignments(course: pathlib.Path) -> list[str]:
    return sorted(p.name for p in (course / "source").iterdir() if p.is_dir())


# --- the student workbook ----------------------------------------------------------------


def _student_lab(source: pathlib.Path, target: pathlib.Path) -> None:
    """A lab notebook with exercise solutions replaced by stubs and outputs cleared."""
    import nbformat
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    notebook = nbformat.read(source, as_version=4)
    resources = {"language": "python"}
    notebook, resources = ClearSolutions(enforce_metadata=False).preprocess(notebook, resources)
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    for cell in notebook.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(notebook, target)


def build_workbook(out: str | os.PathLike, *, course: pathlib.Path | None = None) -> pathlib.Path:
    """Write the student workbook: every lab notebook without its exercise solutions, and the homework releases.

    Files already in ``out`` are kept as they are (they may hold a student's work);
    only missing notebooks are written. Delete the folder to start afresh.
    """
    out = pathlib.Path(out)
    labs = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    out.mkdir(parents=True, exist_ok=True)
    for lab in labs:
        if not (out / lab.name).exists():
            _student_lab(lab, out / lab.name)
    course = course or find_course()
    for assignment in assignments(course):
        target = out / "homework" / assignment
        if not target.exists():
            release(course, assignment, quiet=True)
            shutil.copytree(course / "release" / assignment, target)
    (out / "README.md").write_text(
        "# mtml-workbook, student version\n\nOpen the notebooks in order (01 to 06); the exercises print `[ok]`, "
        "`[not yet]` or `[wrong]` with a hint. Homework is in `homework/`.\n")
    return out


# --- the instructor pipeline -------------------------------------------------------------


def release(course: pathlib.Path, assignment: str, *, quiet: bool = False) -> pathlib.Path:
    nbgrader(course, "generate_assignment", assignment, "--force", quiet=quiet)
    return course / "release" / assignment


def collect(course: pathlib.Path, assignment: str, folder: pathlib.Path) -> list[str]:
    """Copy submissions into ``submitted/<student>/<assignment>/``: from ``folder/<student>/*.ipynb``
    or from ``folder/<student>.zip`` (the notebooks anywhere inside the archive)."""
    students = []
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.suffix == ".zip" else entry.name
        target = course / "submitted" / student / assignment
        if entry.is_dir():
            notebooks = sorted(entry.rglob("*.ipynb"))
        elif entry.suffix == ".zip":
            notebooks = []
        else:
            continue
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if entry.suffix == ".zip":
            with zipfile.ZipFile(entry) as archive:
                for name in archive.namelist():
                    if name.endswith(".ipynb") and "__MACOSX" not in name:
                        (target / pathlib.Path(name).name).write_bytes(archive.read(name))
        for notebook in notebooks:
            shutil.copy(notebook, target / notebook.name)
        students.append(student)
    return students


def _reference(course: pathlib.Path, assignment: str, grader: pathlib.Path) -> dict:
    """Probe data of the instructor's solution, cached by the hash of the source and the grader."""
    from .grading.trusted import run_probes

    source = next((course / "source" / assignment).glob("*.ipynb"))
    key = hashlib.sha256(source.read_bytes() + grader.read_bytes()).hexdigest()[:16]
    cache = course / "graders" / "reference" / f"{assignment}-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    data = run_probes(source, grader)
    missing = [p for p, r in data.get("parts", {}).items() if "data" not in r]
    if data.get("crashed") or missing:
        raise SystemExit(f"the reference solution of {assignment} fails its own probes: {missing or 'crashed'}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(data))
    return data


def _annotate(notebook: pathlib.Path, parts: dict) -> None:
    """Show the trusted grade under each test cell of the autograded notebook (feedback renders it)."""
    import nbformat

    document = nbformat.read(notebook, as_version=4)
    for cell in document.cells:
        part = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and part in parts:
            result = parts[part]
            lines = [f"[graded] {result.points:g} of {result.max_points:g} points"] + [f"  - {m}" for m in result.messages]
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"))
    notebook.chmod(0o644)  # nbgrader leaves autograded files read-only
    nbformat.write(document, notebook)
    notebook.chmod(0o444)


def autograde(course: pathlib.Path, assignment: str, *, cell_timeout: int = 30, probe_timeout: int = 120,
              students: list[str] | None = None) -> dict[str, dict[str, float]]:
    """nbgrader autograde, then the trusted re-grade; returns ``{student: {grade_id: points}}``."""
    from nbgrader.api import Gradebook

    from .grading.trusted import regrade

    _with_environment_bin()
    selected = ["--student", ",".join(students)] if students else []
    nbgrader(course, "autograde", assignment, "--force", f"--Execute.timeout={cell_timeout}", *selected,
             env={"MTML_AUTOGRADE": "1"})
    grader = course / "graders" / f"{assignment}.py"
    reference = _reference(course, assignment, grader)
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for folder in sorted((course / "autograded").glob(f"*/{assignment}")):
            student = folder.parent.name
            if students and student not in students:
                continue
            for notebook in sorted(folder.glob("*.ipynb")):
                parts = regrade(notebook, grader, reference, cell_timeout=cell_timeout, probe_timeout=probe_timeout)
                for part, result in parts.items():
                    grade = gradebook.find_grade(part, notebook.stem, assignment, student)
                    grade.manual_score = result.points
                    scores.setdefault(student, {})[part] = result.points
                _annotate(notebook, parts)
            gradebook.db.commit()
    for student, parts in scores.items():
        print(f"{student}: " + ", ".join(f"{part} {points:g}" for part, points in parts.items())
              + f" | autograded total {sum(parts.values()):g}")
    return scores


def _train(parser: argparse.ArgumentParser, args) -> None:
    from .experiment import ConfigError, load_config, run

    try:
        config = load_config(args.config)  # checked completely before any process joins a group
    except ConfigError as error:
        parser.exit(2, f"mtml train: {args.config}: {error}\n")
    results = run(config, progress=not args.no_progress)
    if results is None:
        return
    processes = f"({results['world_size']} process(es), {results['device']}) in {results['train_seconds']:.1f} s"
    if "task_names" in results:  # a multi-task run
        test = ", ".join(f"{task} {metric} {value:.4g}" for task, metric, value in
                         zip(results["task_names"], results["metric_names"], results["test"]))
        line = (f"{config.model} + {config.weighting} on {config.family}: {results['steps']} steps x "
                f"{results['examples_per_step']} examples {processes}; held-out: {test}")
    else:
        line = (f"{config.learner} on {config.dataset}: {results['steps']} steps x {results['episodes_per_step']} "
                f"episodes {processes}")
        if "test" in results:
            test = results["test"]
            scale = 100 if results["metric"] == "accuracy" else 1
            line += (f"; meta-test {results['metric']} {scale * test['mean']:.{1 if scale == 100 else 4}f}"
                     f" ± {scale * test['half_width']:.{1 if scale == 100 else 4}f} over {test['episodes']} episodes")
    print(line)
    print(f"results and checkpoint in {config.checkpoint_dir}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mtml", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", help="the nbgrader course folder (default: notebooks/homework)")
    commands = parser.add_subparsers(dest="command", required=True)
    workbook = commands.add_parser("workbook", help="build the student workbook")
    workbook.add_argument("--out", default="student")
    for name in ("release", "autograde", "feedback"):
        sub = commands.add_parser(name, help=f"{name} a homework")
        sub.add_argument("assignment")
        if name == "autograde":
            sub.add_argument("--student", action="append", help="grade only this student (repeatable)")
            sub.add_argument("--cell-timeout", type=int, default=30)
            sub.add_argument("--probe-timeout", type=int, default=120)
    collecting = commands.add_parser("collect", help="copy submissions from a folder")
    collecting.add_argument("assignment")
    collecting.add_argument("folder")
    grades = commands.add_parser("grades", help="export the grade table (CSV)")
    grades.add_argument("--out", default="grades.csv")
    train = commands.add_parser("train", help="meta-train or multi-task train from a TOML config (data-parallel "
                                              "under torchrun)",
                                description="Meta-train a black-box learner ([learner]; see mtml_lib.experiment) or "
                                            "train a multi-task model ([tasks], [model], [weighting]; see "
                                            "mtml_lib.multitask_experiment) from a TOML config; under `torchrun "
                                            "--nproc_per_node=N --no-python mtml train CONFIG` the run is "
                                            "data-parallel.")
    train.add_argument("config")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if args.command == "train":
        _train(parser, args)
        return

    if args.command == "workbook":
        out = build_workbook(args.out, course=find_course(args.course))
        print(f"student workbook written to {out}")
        return
    course = find_course(args.course)
    if args.command == "release":
        print(f"release written to {release(course, args.assignment)}")
    elif args.command == "collect":
        students = collect(course, args.assignment, pathlib.Path(args.folder))
        print(f"collected {len(students)} submission(s): {', '.join(students)}")
    elif args.command == "autograde":
        autograde(course, args.assignment, cell_timeout=args.cell_timeout, probe_timeout=args.probe_timeout,
                  students=args.student)
    elif args.command == "grades":
        out = pathlib.Path(args.out).resolve()
        nbgrader(course, "export", f"--to={out}")
        print(f"grades written to {out}")
    elif args.command == "feedback":
        nbgrader(course, "generate_feedback", args.assignment, "--force")
        print(f"feedback written to {course / 'feedback'}")


if __name__ == "__main__":
    main()
