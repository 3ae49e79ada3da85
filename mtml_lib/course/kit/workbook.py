"""Set up and use this workbook: only Python's standard library, on Linux, macOS and Windows.

    python3 workbook.py lab                 set up (the first time), then open JupyterLab
    python3 workbook.py test                set up, then check that every lab can run here
    python3 workbook.py check HW --student NAME
                                            run homework HW as the grader will, write the upload
    python3 workbook.py update NEW.zip      apply a newer handout; your edited files are kept

(On Windows, ``py workbook.py lab``.) The set-up makes ``.venv/`` beside this file from
``requirements.txt`` (exact versions) and the library's wheel in ``wheels/``, and redoes it
only when they change. ``--torch-index URL`` adds a package index for torch, e.g.
https://download.pytorch.org/whl/cpu on a Linux computer without an NVIDIA GPU.
"""

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MANIFEST = ROOT / ".mtml-release.json"
WINDOWS = os.name == "nt"


def fail(message):
    print(f"workbook.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def tool(name):
    folder = VENV / ("Scripts" if WINDOWS else "bin")
    return str(folder / (name + (".exe" if WINDOWS else "")))


def release():
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail(f"{MANIFEST.name} is missing or damaged ({error}); unpack the handout again.")


def setup(torch_index=None):
    """Create or refresh .venv when the requirements or the wheel changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any check
        fail(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    wheel = ROOT / release()["wheel"]
    requirements = ROOT / "requirements.txt"
    for needed in (wheel, requirements):
        if not needed.exists():
            fail(f"{needed.relative_to(ROOT)} is missing; unpack the handout again.")
    wanted = hashlib.sha256(requirements.read_bytes() + wheel.read_bytes()).hexdigest()
    done = VENV / ".mtml-installed"
    if done.exists() and done.read_text() == wanted:
        return
    print("Setting up .venv (the first time takes a few minutes) ...", flush=True)
    if not pathlib.Path(tool("python")).exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [tool("python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    extra = ["--extra-index-url", torch_index] if torch_index else []
    subprocess.run([*pip, *extra, "-r", str(requirements)], check=True)
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(wheel)], check=True)
    done.write_text(wanted)
    print("Set up.", flush=True)


def lab(args):
    command = [
        tool("jupyter"),
        "lab",
        f"--ServerApp.root_dir={ROOT / release()['workbook']}",
        "--ip=127.0.0.1",
        f"--port={args.port}",
        f"--ServerApp.open_browser={not args.no_browser}",
        "--LabApp.news_url=None",
    ]
    if not WINDOWS and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses root without it (containers)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="workbook.py", description=__doc__.splitlines()[0])
    parser.add_argument("--torch-index", default=os.environ.get("TORCH_INDEX") or None)
    commands = parser.add_subparsers(dest="command", required=True)
    opening = commands.add_parser("lab", help="set up, then open JupyterLab on the workbook")
    opening.add_argument("--port", type=int, default=8888)
    opening.add_argument("--no-browser", action="store_true", help="only print the link")
    commands.add_parser("setup", help="only set up .venv")
    commands.add_parser("test", help="set up, then check that every lab can run here")
    checking = commands.add_parser("check", help="check a homework before you submit it")
    checking.add_argument("assignment")
    checking.add_argument("--student", help="your name or id as the course knows it")
    updating = commands.add_parser("update", help="apply a newer handout (.zip)")
    updating.add_argument("archive")
    args = parser.parse_args(argv)
    setup(args.torch_index)
    mtml = [tool("mtml")]
    if args.command == "lab":
        return lab(args)
    if args.command == "test":
        return subprocess.call([*mtml, "selftest", "--release", str(ROOT)])
    if args.command == "check":
        student = ["--student", args.student] if args.student else []
        return subprocess.call([*mtml, "check", args.assignment, *student, "--release", str(ROOT)])
    if args.command == "update":
        return subprocess.call([*mtml, "update", args.archive, "--into", str(ROOT)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
