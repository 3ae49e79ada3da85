"""The ``mtml`` command: a thin layer over :mod:`mtml_lib.course` and :mod:`mtml_lib.runs`.

For students (inside a handout, or the student workbook of a checkout):

    mtml selftest                   does everything the labs need work here?
    mtml check HW [--student ID]    run homework HW as the grader will; write HW-ID.zip to upload
    mtml update NEW.zip             apply a newer handout; edited files are kept

For instructors (in the workbook's checkout; notebooks/ and notebooks/homework by default):

    mtml handout --lang en|ko --out DIR
                                    the student handout of an edition (one .zip)
    mtml workbook [--lang en|ko] [--out student]
                                    the student workbook (notebooks only), updated in place
    mtml edition --lang ko --out DIR
                                    the course folder of an edition: release, grade and give
                                    feedback in that language with --course DIR
    mtml release HW                 nbgrader: the student version of homework HW
    mtml collect HW FOLDER          copy FOLDER/<student>/*.ipynb, FOLDER/<student>.zip or
                                    FOLDER/HW-<student>.zip (what `mtml check` writes)
    mtml autograde HW [--jobs N]    nbgrader autograde, then the trusted re-grade of every part,
                                    each submission in the bubblewrap sandbox (--no-sandbox:
                                    unsafe, for a throwaway container only; --regrade: after a
                                    grader was corrected, only the parts it changed)
    mtml gradescope HW [--out autograder.zip]
                                    a Gradescope autograder: the same trusted re-grade, run as
                                    an unprivileged user in Gradescope's container
    mtml similarity HW [--earlier DIR]
                                    which submissions share code, with each other, the library
                                    or earlier terms: an HTML report and the grade table's column
    mtml grades [--format canvas|moodle|course|csv] [--roster roster.csv]
                                    the grade table, or the grade import file of Canvas or
                                    Moodle (students matched through the roster's LMS ids)
    mtml feedback HW                nbgrader feedback (HTML) for every graded submission
    mtml train CONFIG               a meta-training or multi-task run from a TOML config (under
                                    torchrun: data-parallel)

For the administrator of a class's server (as root, in the checkout):

    mtml hub start CLASS.toml       the roster's accounts, the exchange, the course folder and the
                                    editions' workbooks, then JupyterHub (deploy/hub/)
    mtml hub accounts CLASS.toml    only the accounts (students added to the roster)
    mtml hub remove CLASS.toml      delete the roster's accounts and their homes

The course folder (nbgrader's) is ``--course``, else ``MTML_COURSE``, else
``notebooks/homework`` under the working folder.
"""

from __future__ import annotations

import argparse
import os
import pathlib

from .cli_platform import PLATFORM_COMMANDS, platform_commands, run_platform_command
from .i18n import LANGUAGES, set_language

__all__ = ["main"]


def _student_commands(commands) -> None:
    selftest = commands.add_parser("selftest", help="check that the labs can run here")
    selftest.add_argument("--release", help="the workbook's folder (default: the working one)")
    check = commands.add_parser("check", help="check a homework before submitting it")
    check.add_argument("assignment")
    check.add_argument("--student", help="your id as the course knows it (default: your login)")
    check.add_argument("--release", help="the workbook's folder (default: the working one)")
    check.add_argument("--out", help="where the upload goes (default: the workbook's folder)")
    update = commands.add_parser("update", help="apply a newer handout over this folder")
    update.add_argument("archive")
    update.add_argument("--into", help="the folder to update (default: the one holding this one)")


def _instructor_commands(commands) -> None:
    for name, text in (("workbook", "build the student workbook"), ("handout", "build a handout")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--source", default="notebooks", help="the instructor notebooks")
        sub.add_argument("--released", help="the release date, YYYY-MM-DD (default: today)")
        sub.add_argument(
            "--homework",
            action="append",
            help="an assignment to include (repeat; default: all). Name every one released so "
            "far: an update takes away what the newer release no longer has",
        )
    commands.choices["workbook"].add_argument("--out", default="student")
    handout = commands.choices["handout"]
    handout.add_argument("--out", default="dist", help="the folder of the archive")
    handout.add_argument("--project", default=".", help="the checkout that holds the library")
    edition = commands.add_parser("edition", help="write the course folder of an edition")
    edition.add_argument("--out", required=True)
    for sub in (commands.choices["workbook"], handout, edition):
        sub.add_argument(
            "--lang", choices=LANGUAGES, default="en", help="the edition's language (default en)"
        )
    for name in ("release", "autograde", "feedback"):
        commands.add_parser(name, help=f"{name} a homework").add_argument("assignment")
    commands.choices["release"].add_argument(
        "--due",
        help="the deadline, 'YYYY-MM-DD HH:MM Area/City' (e.g. '2026-12-14 23:59 Asia/Seoul'): "
        "into the gradebook, and deadline.txt beside the released notebooks",
    )
    for name in ("release", "feedback"):
        commands.choices[name].add_argument(
            "--exchange",
            action="store_true",
            help="and put it in nbgrader's exchange, where students fetch it (a class's hub)",
        )
    autograde = commands.choices["autograde"]
    autograde.add_argument("--student", action="append", help="grade only this student")
    autograde.add_argument("--cell-timeout", type=int, default=30)
    autograde.add_argument("--probe-timeout", type=int, default=120)
    autograde.add_argument(
        "--jobs", type=int, default=1, help="grade this many submissions at a time (default 1)"
    )
    autograde.add_argument(
        "--memory-mb", type=int, default=6144, help="memory limit of each submission (MiB)"
    )
    autograde.add_argument(
        "--regrade",
        action="store_true",
        help="after a grader or the solution was corrected: re-grade only the parts graded "
        "differently now, and print every grade that moves (hand-graded ones stay)",
    )
    autograde.add_argument(
        "--no-sandbox",
        action="store_true",
        help="UNSAFE: run submissions without the bubblewrap sandbox, as you, with your files "
        "in reach; only inside a throwaway container that holds nothing else",
    )
    collecting = commands.add_parser("collect", help="copy submissions from a folder")
    collecting.add_argument("assignment")
    collecting.add_argument(
        "folder",
        nargs="?",
        help="a folder of submissions; none: nbgrader's exchange (a class's hub), where a "
        "submission in another student's name is refused",
    )
    platform_commands(commands)
    hub = commands.add_parser("hub", help="a class's JupyterHub on this server (as root)")
    hub.add_argument("action", choices=("start", "accounts", "remove"))
    hub.add_argument("class_file", metavar="CLASS.toml")
    hub.add_argument("--source", default="notebooks", help="the instructor notebooks")
    hub.add_argument("--config", default="deploy/hub/jupyterhub_config.py")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtml",
        description="The student workbook and its checks, the course on nbgrader, and training "
        "runs from TOML configs.",
    )
    parser.add_argument("--course", help="the nbgrader course folder (default: notebooks/homework)")
    commands = parser.add_subparsers(dest="command", required=True)
    _student_commands(commands)
    _instructor_commands(commands)
    train = commands.add_parser(
        "train",
        help="meta-train or multi-task train from a TOML config (data-parallel under torchrun)",
        description="Meta-train a black-box learner ([learner]; see mtml_lib.runs.meta_run) or "
        "train a multi-task model ([tasks], [model], [weighting]; see mtml_lib.runs.multitask_run) "
        "from a TOML config; under `torchrun --nproc_per_node=N --no-python mtml train CONFIG` the "
        "run is data-parallel.",
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


def _student(args) -> int:
    from .course import manifest

    start = getattr(args, "release", None) or getattr(args, "into", None) or pathlib.Path.cwd()
    here = manifest.find_release(start)
    edition = (manifest.read_manifest(here) or {}).get("edition") if here else None
    if edition in LANGUAGES and "MTML_LANG" not in os.environ:
        set_language(edition)  # a Korean handout's checks speak Korean

    if args.command == "selftest":
        from .course.selftest import selftest

        root = manifest.find_release(args.release or pathlib.Path.cwd())
        info = manifest.read_manifest(root) if root else None
        workbook = root / info.get("workbook", ".") if info else pathlib.Path(args.release or ".")
        return 0 if selftest(workbook) else 1
    if args.command == "check":
        from .course.check import check_homework, print_report

        report = check_homework(
            args.assignment, release=args.release, student=args.student, out=args.out
        )
        print_report(report)
        return 0
    into = args.into or manifest.find_release(pathlib.Path.cwd()) or pathlib.Path.cwd()
    report = manifest.apply_update(args.archive, into)
    print("\n".join(report.lines()) or "already up to date")
    return 0


def _hub(args) -> int:
    from .course import hub, hub_admin

    settings = hub.read_settings(args.class_file)
    members = hub.read_roster(settings.roster)
    if os.geteuid() != 0:
        raise hub.HubError("`mtml hub` makes Unix accounts and shared folders: run it as root.")
    if args.action == "remove":
        removed = hub_admin.remove_accounts(settings, members)
        print(f"removed {len(removed)} account(s): {' '.join(removed)}")
        return 0
    made = hub_admin.create_accounts(settings, members)
    state = hub_admin.state_folder(settings)
    print(f"{len(made)} new account(s); their passwords are in {state / 'passwords.csv'}")
    if args.action == "accounts":
        return 0
    hub_admin.prepare_folders(settings, members, source=args.source, course=args.course)
    command, env = hub_admin.start_command(pathlib.Path(args.class_file), settings, args.config)
    print(f"JupyterHub for {settings.course} on port {settings.port}, {settings.threads} thread(s)")
    os.execve(command[0], command, env)
    return 0


def _instructor(args) -> None:
    from . import course
    from .grading import Limits

    if args.command == "workbook":
        report = course.build_workbook(
            args.out,
            source=args.source,
            course=args.course,
            language=args.lang,
            released=args.released,
            homework=args.homework,
        )
        print("\n".join(report.lines()) or "up to date")
        print(f"student workbook ({args.lang}) in {args.out}")
        return
    if args.command == "handout":
        archive = course.build_handout(
            args.out,
            language=args.lang,
            source=args.source,
            course=args.course,
            project=args.project,
            released=args.released,
            homework=args.homework,
        )
        print(f"handout ({args.lang}) written to {archive}")
        return
    folder = course.find_course(args.course)
    if args.command == "edition":
        built = course.edition_course(folder, args.lang, args.out)
        print(f"course folder of the {args.lang} edition written to {built}")
    elif args.command == "release":
        released = course.release(folder, args.assignment, due=args.due, exchange=args.exchange)
        print(f"release written to {released}" + (", and to the exchange" if args.exchange else ""))
    elif args.command == "collect" and args.folder is None:
        times = course.collect_exchange(folder, args.assignment)
        print(f"collected {len(times)} submission(s) from the exchange")
        for student, when in times.items():
            print(f"  {student}: submitted {when}")
    elif args.command == "collect":
        students = course.collect(folder, args.assignment, pathlib.Path(args.folder))
        print(f"collected {len(students)} submission(s)")
        for student, stamp in students.items():
            print(f"  {student}: release {stamp}")
    elif args.command == "autograde":
        course.autograde(
            folder,
            args.assignment,
            cell_timeout=args.cell_timeout,
            probe_timeout=args.probe_timeout,
            students=args.student,
            sandbox=not args.no_sandbox,
            jobs=args.jobs,
            limits=Limits(memory_mb=args.memory_mb),
            regrade=args.regrade,
        )
    elif args.command in PLATFORM_COMMANDS:
        run_platform_command(args, folder)
    elif args.command == "feedback":
        written = course.feedback(folder, args.assignment, exchange=args.exchange)
        print(f"feedback written to {written}" + (", and to the exchange" if args.exchange else ""))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        _train(parser, args)
        return 0
    from .course.folder import CourseError

    try:
        if args.command in ("selftest", "check", "update"):
            return _student(args)
        if args.command == "hub":
            return _hub(args)
        _instructor(args)
    except (CourseError, ValueError) as error:
        parser.exit(2, f"mtml {args.command}: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
