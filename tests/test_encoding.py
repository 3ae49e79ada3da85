"""Every text file the project reads or writes names its encoding: a Korean README, notebook or
catalog written with the locale's default encoding is mojibake on a machine whose locale is not
UTF-8 (Windows' cp949, a container's POSIX locale)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = ("mtml_lib", "tools", "benchmarks", "tests", "notebooks/homework")
BINARY_OPENERS = {"os", "Image", "webbrowser", "tarfile", "zipfile", "gzip"}


def text_io_without_encoding(node: ast.AST) -> bool:
    """A ``read_text``/``write_text`` call, or an ``open`` in a text mode, without ``encoding=``."""
    if not isinstance(node, ast.Call) or any(k.arg == "encoding" for k in node.keywords):
        return False
    function = node.func
    if isinstance(function, ast.Attribute) and function.attr in ("read_text", "write_text"):
        return True
    if isinstance(function, ast.Attribute) and function.attr == "open":
        if isinstance(function.value, ast.Name) and function.value.id in BINARY_OPENERS:
            return False
        position = 0  # Path.open(mode)
    elif isinstance(function, ast.Name) and function.id == "open":
        position = 1  # open(path, mode)
    else:
        return False
    mode = next((k.value for k in node.keywords if k.arg == "mode"), None)
    if mode is None and len(node.args) > position:
        mode = node.args[position]
    if mode is None:
        return True  # the default mode is "r", text
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" not in mode.value


def offenders(paths) -> list[str]:
    found = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if text_io_without_encoding(node):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:70]}")
    return found


def test_every_text_read_and_write_names_its_encoding():
    paths = [p for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(paths) > 100
    assert offenders(paths) == []


def test_the_check_finds_the_default_encoding(tmp_path):
    module = tmp_path / "module.py"
    module.write_text(
        "import os, pathlib\n"
        "pathlib.Path('a').write_text('가')\n"  # found
        "open('a', 'w')\n"  # found
        "open('a')\n"  # found
        "open('a', 'rb')\n"
        "pathlib.Path('a').open('wb')\n"
        "os.open('a', 0)\n"
        "pathlib.Path('a').read_text(encoding='utf-8')\n",
        encoding="utf-8",
    )
    found = [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in _offenders_in(module)]
    assert found == ["2", "3", "4"]


def _offenders_in(module):
    source = module.read_text(encoding="utf-8")
    nodes = sorted(
        (n for n in ast.walk(ast.parse(source)) if text_io_without_encoding(n)),
        key=lambda n: n.lineno,
    )
    return [f"{module.name}:{n.lineno}: {ast.unparse(n)}" for n in nodes]
