"""The commands of ``mtml`` that speak to the platforms a course keeps its work on: Gradescope's
autograder, the LMS's grade file, and the similarity report (a thin layer over
:mod:`mtml_lib.course.gradescope`, :mod:`mtml_lib.course.lms` and
:mod:`mtml_lib.course.similarity`)."""

from __future__ import annotations

import pathlib

__all__ = ["PLATFORM_COMMANDS", "platform_commands", "run_platform_command"]

PLATFORM_COMMANDS = ("gradescope", "similarity", "grades")


def platform_commands(commands) -> None:
    """Add the platform commands to ``mtml``'s subcommands."""
    scope = commands.add_parser(
        "gradescope", help="a homework's Gradescope autograder (setup.sh, run_autograder, ...)"
    )
    scope.add_argument("assignment")
    scope.add_argument("--out", default="autograder.zip")
    scope.add_argument(
        "--student-id",
        choices=("email-user", "email", "sid"),
        default="email-user",
        help="the id a submission is graded under, from Gradescope's submitter: the email before "
        "'@' (default), the email, or the student id (SID); the homework's STUDENT_ID must hold it",
    )
    similar = commands.add_parser(
        "similarity",
        help="which submissions share code (with each other, the library, earlier terms)",
    )
    similar.add_argument("assignment")
    similar.add_argument(
        "--earlier",
        action="append",
        default=[],
        metavar="DIR",
        help="an earlier term's submissions, DIR/<student>/<assignment>/*.ipynb (repeat for each)",
    )
    similar.add_argument(
        "--threshold", type=float, default=0.5, help="share of an answer that flags a pair"
    )
    grades = commands.add_parser(
        "grades", help="the grade table: the course's CSV, or Canvas's or Moodle's import file"
    )
    grades.add_argument("--format", choices=("csv", "course", "canvas", "moodle"), default="csv")
    grades.add_argument("--out", help="default: grades.csv, canvas.csv or moodle.csv")
    grades.add_argument(
        "--roster", help="the class roster with the students' LMS ids (README, Grades in an LMS)"
    )
    grades.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="HW=TITLE",
        help="the LMS column of homework HW, e.g. hw1_multitask='Homework 1 (4567)' for an "
        "assignment Canvas already has (repeat for each)",
    )


def run_platform_command(args, folder: pathlib.Path) -> None:
    """Run one of the platform commands on the course folder ``folder``."""
    from . import course

    if args.command == "gradescope":
        from .course.gradescope import build

        written = build(folder, args.assignment, args.out, student_id=args.student_id)
        print(f"Gradescope autograder written to {written} (upload it as the assignment's zip)")
    elif args.command == "similarity":
        from .course.similarity import similarity

        report = similarity(folder, args.assignment, earlier=args.earlier, threshold=args.threshold)
        print(
            f"{len(report.students)} submissions, {len(report.pairs)} pairs of answers compared "
            f"in {report.seconds:.1f} s; {len(report.flagged)} flagged"
        )
        for pair in report.flagged:
            print(f"  {pair.part}: {pair.student} and {pair.other} ({pair.score:.0%})")
        print(f"report written to {report.html_path} (closest matches: {report.csv_path})")
    elif args.command == "grades":
        columns = {}
        for item in args.column:
            name, sep, title = item.partition("=")
            if not sep or not name.strip() or not title.strip():
                raise ValueError(f"--column must be HW=TITLE; got {item!r}.")
            columns[name.strip()] = title.strip()
        out = args.out or {"csv": "grades.csv", "course": "grades.csv"}.get(
            args.format, f"{args.format}.csv"
        )
        written = course.export_grades(
            folder, out, format=args.format, roster=args.roster, columns=columns
        )
        print(f"grades written to {written} ({args.format})")
