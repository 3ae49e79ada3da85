"""Inside Gradescope's container: ``run_autograder`` runs ``python -m
mtml_lib.course.gradescope_container /autograder`` for every submission (:func:`grade_submission`),
and ``setup.sh`` runs it with ``--setup`` once, when the image is built (see
:mod:`mtml_lib.course.gradescope` for the zip and the threat model)."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

from ..grading.sandbox import Limits

__all__ = ["grade_submission", "results_for", "student_of"]


def student_of(metadata: pathlib.Path, source: str) -> str:
    """The id a submission is graded under, from Gradescope's ``submission_metadata.json``
    (its first submitter); ``""`` when there is none."""
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
    except (OSError, ValueError):
        return ""
    first = users[0] if users and isinstance(users[0], dict) else {}
    email = str(first.get("email") or "")
    if source == "email-user":
        return email.split("@")[0]
    if source == "email":
        return email
    return str(first.get("sid") or "")


def _notebook(submission: pathlib.Path, name: str) -> tuple[pathlib.Path | None, str]:
    """The submitted notebook: the one named as the assignment's, else the only one."""
    notebooks = sorted(
        p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    named = [p for p in notebooks if p.name == name]
    if named:
        return named[0], ""
    if len(notebooks) == 1:
        return notebooks[0], f"graded {notebooks[0].name} (the assignment's notebook is {name})"
    found = ", ".join(p.name for p in notebooks) or "none"
    return None, f"no notebook named {name} in the submission (found: {found})"


def results_for(
    config: dict, parts: dict, seconds: float, note: str = "", cells: dict | None = None
) -> dict:
    """Gradescope's results.json for the scored parts (``{part: PartScore}``): one test per
    part, and a visible test of no points that says what was graded and which cells a grading
    limit stopped (``cells``: the probe run's outcome of each cell), shown at once where the
    parts' results wait for the grades to be published."""
    from ..grading.regrade import _limits_hit
    from ..i18n import translate as _

    summary = [note] if note else []
    summary += _limits_hit({"cells": cells or {}})
    tests = [
        {
            "name": _("your submission"),
            "number": "0",
            "score": 0.0,
            "max_score": 0.0,
            "output": "\n".join(summary) or _("graded; no cell ran into a grading limit"),
            "visibility": "visible",
        }
    ]
    for number, part in enumerate(config["parts"], start=1):
        result = parts.get(part["id"])
        points = result.points if result else 0.0
        messages = result.messages if result else [_("the part did not run")]
        tests.append(
            {
                "name": part["id"],
                "number": str(number),
                "score": points,
                "max_score": part["max_score"],
                "output": "\n".join(messages),
                "visibility": part["visibility"],
            }
        )
    hidden = [t["name"] for t in tests[1:] if t["visibility"] != "visible"]
    lines = [note] if note else []
    if hidden:
        lines.append(
            _("The results of {parts} are shown once grades are published.").format(
                parts=", ".join(hidden)
            )
        )
    lines.append(_("Written answers are graded by hand."))
    result = {
        "score": round(sum(t["score"] for t in tests), 4),
        "execution_time": round(seconds),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if hidden:  # the total would tell the hidden verdicts: it waits with them
        result["visibility"] = "after_published"
    return result


def _protect(root: pathlib.Path) -> None:
    """Root's, and closed to the submission's user: the grader's folder unreadable, the rest
    unwritable (Gradescope makes them as root; this holds even if it changes its modes)."""
    for path, mode in [
        (root, 0o755),
        (root / "source", 0o700),
        (root / "results", 0o755),
        (root / "submission", 0o700),
        (root / "run_autograder", 0o755),
    ]:
        if path.exists():
            os.chown(path, 0, 0)
            path.chmod(mode)


def _setup(root: pathlib.Path, config: dict) -> None:
    """At image build: hide the parts' library modules in this environment, make the grader's
    data, and close the source folder."""
    from ..grading.unprivileged import hide_modules

    hide_modules(config["hidden_modules"])
    _prepare(root)
    _protect(root)


def _prepare(root: pathlib.Path) -> None:
    from ..grading.regrade import load_spec

    os.environ["MTML_CACHE_DIR"] = str(root / "cache")
    config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
    spec = load_spec(root / "source" / "grader" / f"{config['assignment']}.py")
    if hasattr(spec, "PREPARE"):
        spec.PREPARE()
    for folder, _, files in os.walk(root / "cache"):  # readable by the submission's user
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def grade_submission(root: str | os.PathLike = "/autograder") -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json`` (see the module
    docstring); returns the result."""
    from ..grading.regrade import load_spec, run_probes, score
    from ..grading.time_limit import free_threads
    from ..grading.unprivileged import Unprivileged
    from ..i18n import language

    start = time.monotonic()
    root = pathlib.Path(root)
    source = root / "source"
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    _protect(root)
    _prepare(root)
    notebook, note = _notebook(root / "submission", config["notebook"])
    student = student_of(root / "submission_metadata.json", config["student_id"])
    grader = source / "grader" / f"{config['assignment']}.py"
    parts: dict = {}
    cells: dict | None = None
    with language(config["language"]):
        if notebook is not None:
            runner = Unprivileged(
                Limits(**config["limits"]),
                uid=config["uid"],
                threads=free_threads(),
                env={"MTML_CACHE_DIR": str(root / "cache")},
            )
            with runner:
                data = run_probes(
                    notebook,
                    grader,
                    sandbox=runner,
                    student=student,
                    cell_timeout=config["cell_timeout"],
                    probe_timeout=config["probe_timeout"],
                )
            reference = json.loads((source / "reference.json").read_text(encoding="utf-8"))
            parts = score(load_spec(grader), data, reference)
            cells = data.get("cells", {})
            if data.get("stopped"):
                note = "\n".join(filter(None, [note, data["stopped"]]))
        result = results_for(config, parts, time.monotonic() - start, note, cells)
    results = root / "results"
    results.mkdir(exist_ok=True)
    partial = results / ".results.json.partial"
    partial.write_text(json.dumps(result, indent=2), encoding="utf-8")
    os.replace(partial, results / "results.json")  # last, and whole
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = pathlib.Path(argv[0] if argv else "/autograder")
    if "--setup" in argv:
        config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
        _setup(root, config)
        return 0
    result = grade_submission(root)
    print(f"score {result['score']:g} in {result['execution_time']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
