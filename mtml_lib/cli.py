"""The ``mtml`` command: a thin layer over :mod:`mtml_lib.homework` and :mod:`mtml_lib.runs`.

    mtml workbook [--lang en|ko] [--out student]
                                    the student workbook from notebooks/ in that edition's
                                    language (keeps existing files)
    mtml edition --lang ko --out DIR
                                    the course folder of an edition: release, grade and give
                                    feedback in that language with --course DIR
    mtml release HW                 nbgrader: the student version of homework HW
    mtml collect HW FOLDER          copy FOLDER/<student>/*.ipynb or FOLDER/<student>.zip
    mtml autograde HW [--jobs N]    nbgrader autograde, then the trusted re-grade of every part,
                                    each submission in the bubblewrap sandbox (--no-sandbox:
                                    unsafe, for a throwaway container only)
    mtml grades [--out grades.csv]  the grade table
    mtml feedback HW                nbgrader feedback (HTML) for every graded submission
    mtml train CONFIG               a meta-training or multi-task run from a TOML config (under
                                    torchrun: data-parallel)

The course folder (nbgrader's) is ``notebooks/homework`` of the workbook; ``--course``
or ``MTML_COURSE`` point elsewhere.
"""

from __future__ import annotations

import argparse
import pathlib

from .i18n import LANGUAGES

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtml",
        description="The student workbook, the homework pipeline on nbgrader, and training runs "
        "from TOML configs.",
    )
    parser.add_argument("--course", help="the nbgrader course folder (default: notebooks/homework)")
    commands = parser.add_subparsers(dest="command", required=True)
    workbook = commands.add_parser("workbook", help="build the student workbook")
    workbook.add_argument("--out", default="student")
    edition = commands.add_parser("edition", help="write the course folder of an edition")
    edition.add_argument("--out", required=True)
    for sub in (workbook, edition):
        sub.add_argument(
            "--lang", choices=LANGUAGES, default="en", help="the edition's language (default en)"
        )
    for name in ("release", "autograde", "feedback"):
        sub = commands.add_parser(name, help=f"{name} a homework")
        sub.add_argument("assignment")
    autograde = commands.choices["autograde"]
    autograde.add_argument(
        "--student", action="append", help="grade only this student (repeatable)"
    )
    autograde.add_argument("--cell-timeout", type=int, default=30)
    autograde.add_argument("--probe-timeout", type=int, default=120)
    autograde.add_argument(
        "--jobs", type=int, default=1, help="grade this many submissions at a time (default 1)"
    )
    autograde.add_argument(
        "--memory-mb", type=int, default=6144, help="memory limit of each submission (MiB)"
    )
    autograde.add_argument(
        "--no-sandbox",
        action="store_true",
        help="UNSAFE: run submissions without the bubblewrap sandbox, as you, with your files "
        "in reach; only inside a throwaway container that holds nothing else",
    )
    collecting = commands.add_parser("collect", help="copy submissions from a folder")
    collecting.add_argument("assignment")
    collecting.add_argument("folder")
    commands.add_parser("grades", help="export the grade table (CSV)").add_argument(
        "--out", default="grades.csv"
    )
    train = commands.add_parser(
        "train",
        help="meta-train or multi-task train from a TOML config (data-parallel under torchrun)",
        description="Meta-train a black-box learner ([learner]; see mtml_lib.runs.meta) or train a "
        "multi-task "
        "model ([tasks], [model], [weighting]; see mtml_lib.runs.multitask) from a TOML config; "
        "under "
        "`torchrun --nproc_per_node=N --no-python mtml train CONFIG` the run is data-parallel.",
    )
    train.add_argument("config")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _train(parser: argparse.ArgumentParser, args) -> None:
    from .runs import ConfigError, load_config, run, summary

    try:
        config = load_config(args.config)  # checked completely before any process joins a group
    except ConfigError as error:
        parser.exit(2, f"mtml train: {args.config}: {error}\n")
    results = run(config, progress=not args.no_progress)
    if results is not None:
        print(summary(config, results))
        print(f"results and checkpoint in {config.checkpoint_dir}")


def _homework(args) -> None:
    from . import homework

    course = homework.find_course(args.course)
    if args.command == "workbook":
        built = homework.build_workbook(args.out, course=course, language=args.lang)
        print(f"student workbook ({args.lang}) written to {built}")
    elif args.command == "edition":
        built = homework.edition_course(course, args.lang, args.out)
        print(f"course folder of the {args.lang} edition written to {built}")
    elif args.command == "release":
        print(f"release written to {homework.release(course, args.assignment)}")
    elif args.command == "collect":
        students = homework.collect(course, args.assignment, pathlib.Path(args.folder))
        print(f"collected {len(students)} submission(s): {', '.join(students)}")
    elif args.command == "autograde":
        homework.autograde(
            course,
            args.assignment,
            cell_timeout=args.cell_timeout,
            probe_timeout=args.probe_timeout,
            students=args.student,
            sandbox=not args.no_sandbox,
            jobs=args.jobs,
            limits=homework.Limits(memory_mb=args.memory_mb),
        )
    elif args.command == "grades":
        print(f"grades written to {homework.export_grades(course, args.out)}")
    elif args.command == "feedback":
        print(f"feedback written to {homework.feedback(course, args.assignment)}")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        _train(parser, args)
    else:
        _homework(args)


if __name__ == "__main__":
    main()
