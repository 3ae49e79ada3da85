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


# What this script prints, in the Korean edition (the library speaks through its own catalog
# once it is installed; this script runs before it is).
KOREAN = {
    "Python 3.11 or newer is needed; this is {version}.": (
        "Python 3.11 이상이 필요합니다. 지금은 {version} 입니다."
    ),
    "{name} is missing or damaged ({error}); unpack the handout again.": (
        "{name} 이(가) 없거나 손상되었습니다({error}). 배포본의 압축을 다시 푸세요."
    ),
    "{name} is missing; unpack the handout again.": (
        "{name} 이(가) 없습니다. 배포본의 압축을 다시 푸세요."
    ),
    "Setting up .venv (the first time takes a few minutes) ...": (
        ".venv 를 설치합니다(처음에는 몇 분 걸립니다) ..."
    ),
    "Set up.": "설치를 마쳤습니다.",
    "creating .venv failed": ".venv 를 만들지 못했습니다",
    "pip could not install requirements.txt (see its message above): check the internet"
    " connection, or pass --torch-index URL where torch has no wheel for this computer": (
        "pip이 requirements.txt 를 설치하지 못했습니다(위의 메시지를 보세요): 인터넷 연결을"
        " 확인하거나, 이 컴퓨터용 torch 휠이 없으면 --torch-index URL 을 주세요"
    ),
    "pip could not install {name}": "pip이 {name} 을(를) 설치하지 못했습니다",
    "{message}; nothing was marked as set up, so the next run tries again.": (
        "{message}. 설치 완료로 표시하지 않았으므로 다음 실행에서 다시 시도합니다."
    ),
}


def edition():
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8")).get("edition", "en")
    except (OSError, ValueError, AttributeError):
        return "en"


def say(text, /, **values):
    """``text`` in the edition's language, its ``{fields}`` filled in."""
    return (KOREAN.get(text, text) if edition() == "ko" else text).format(**values)


def fail(message):
    print(f"workbook.py: {message}", file=sys.stderr)
    raise SystemExit(2)


def tool(name):
    folder = VENV / ("Scripts" if WINDOWS else "bin")
    return str(folder / (name + (".exe" if WINDOWS else "")))


def step(command, message):
    """Run one set-up step; on failure stop with ``message`` (the tool's own output is above)."""
    try:
        result = subprocess.run(command)
    except OSError as error:
        fail(f"{message} ({error})")
    if result.returncode != 0:
        fail(
            say(
                "{message}; nothing was marked as set up, so the next run tries again.",
                message=message,
            )
        )


def release():
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail(
            say(
                "{name} is missing or damaged ({error}); unpack the handout again.",
                name=MANIFEST.name,
                error=error,
            )
        )


def setup(torch_index=None):
    """Create or refresh .venv when the requirements or the wheel changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any check
        fail(
            say(
                "Python 3.11 or newer is needed; this is {version}.", version=sys.version.split()[0]
            )
        )
    wheel = ROOT / release()["wheel"]
    requirements = ROOT / "requirements.txt"
    for needed in (wheel, requirements):
        if not needed.exists():
            fail(say("{name} is missing; unpack the handout again.", name=needed.relative_to(ROOT)))
    wanted = hashlib.sha256(requirements.read_bytes() + wheel.read_bytes()).hexdigest()
    done = VENV / ".mtml-installed"
    if done.exists() and done.read_text(encoding="utf-8") == wanted:
        return
    print(say("Setting up .venv (the first time takes a few minutes) ..."), flush=True)
    if not pathlib.Path(tool("python")).exists():
        step([sys.executable, "-m", "venv", str(VENV)], say("creating .venv failed"))
    pip = [tool("python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    extra = ["--extra-index-url", torch_index] if torch_index else []
    step(
        [*pip, *extra, "-r", str(requirements)],
        say(
            "pip could not install requirements.txt (see its message above): check the internet"
            " connection, or pass --torch-index URL where torch has no wheel for this computer"
        ),
    )
    step(
        [*pip, "--no-deps", "--force-reinstall", str(wheel)],
        say("pip could not install {name}", name=wheel.name),
    )
    done.write_text(wanted, encoding="utf-8")
    print(say("Set up."), flush=True)


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
