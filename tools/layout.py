"""Measure the library's layout: module sizes, function lengths and import cycles.

    python tools/layout.py [PACKAGE_DIR]     # default: mtml_lib

Prints the largest modules, the longest functions and every import cycle among the
package's modules, counting imports made inside functions too (they are cycles all the
same, only hidden). ``tests/test_layout.py`` holds the library to its limits with the
same functions.
"""

from __future__ import annotations

import ast
import pathlib
import sys
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Function:
    module: str
    name: str
    lines: int


def modules(package: pathlib.Path) -> dict[str, pathlib.Path]:
    """Dotted module name -> file, for every ``.py`` file of ``package``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def module_lines(package: pathlib.Path) -> dict[str, int]:
    return {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules(package).items()
    }


def functions(package: pathlib.Path) -> list[Function]:
    """Every function and method with its length in lines (decorators and docstring included)."""
    found = []
    for name, path in modules(package).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                found.append(Function(name, node.name, node.end_lineno - first + 1))
    return sorted(found, key=lambda f: -f.lines)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom, known: dict) -> list[str]:
    """The modules ``from BASE import a, b`` loads: ``BASE.a`` where that is a module, and ``BASE``
    itself for any name defined there (running BASE's ``__init__``). Loading a submodule runs its
    parent packages too, but they are already being imported by then: not an edge."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
    defined_in_base = len(submodules) < len(node.names)
    return submodules + ([base] if defined_in_base else [])


def import_graph(package: pathlib.Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at module level or inside functions)."""
    known = modules(package)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = _resolve(name, is_package, node, known)
            for target in targets:
                if target in known and target != name:
                    graph[name].add(target)
    return graph


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; components of more than one module are cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def import_cycles(package: pathlib.Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others.

    A package's ``__init__`` that imports its own submodules (a registry) is not a cycle by
    itself; it becomes one only if a submodule imports the ``__init__`` back.
    """
    return [c for c in _strongly_connected(import_graph(package)) if len(c) > 1]


def main() -> None:
    package = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "mtml_lib"
    sizes = sorted(module_lines(package).items(), key=lambda item: -item[1])
    print("largest modules:")
    for name, lines in sizes[:5]:
        print(f"  {lines:5d}  {name}")
    print("longest functions:")
    for f in functions(package)[:5]:
        print(f"  {f.lines:5d}  {f.module}.{f.name}")
    cycles = import_cycles(package)
    print(f"import cycles: {len(cycles)}")
    for cycle in cycles:
        print("  " + " <-> ".join(cycle))


if __name__ == "__main__":
    main()
