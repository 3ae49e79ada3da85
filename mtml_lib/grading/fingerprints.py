"""What grades each part of a homework, as a fingerprint, so that a re-grade after a correction
re-grades only the parts the correction changed (``mtml autograde --regrade``)."""

from __future__ import annotations

import json
import os
import pathlib

from .regrade import grader_files, load_spec

__all__ = ["part_fingerprints"]


def part_fingerprints(grader: str | os.PathLike, reference: dict) -> dict[str, str]:
    """What grades each part, as a hash: the part's probe and checks with every function of the
    grader they call, its points, the grader's code outside functions (constants, imports) and
    its helper modules, and the reference solution's data for the part. A part whose hash
    changed is graded differently (``mtml autograde --regrade``); a change outside the part's
    functions changes every part's hash."""
    import ast
    import hashlib

    grader = pathlib.Path(grader)
    spec = load_spec(grader)
    text = grader.read_text(encoding="utf-8")
    tree = ast.parse(text)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    tables = {"PROBES", "CHECKS", "UNAVAILABLE"}
    shared = [
        ast.get_source_segment(text, node) or ""
        for node in tree.body
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in tables for t in node.targets)
        )
    ]
    shared += [body for name, body in sorted(grader_files(grader).items()) if name != grader.name]

    def called(name: str, seen: set[str]) -> set[str]:
        if name in seen or name not in functions:
            return seen
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Name) and node.id in functions:
                called(node.id, seen)
        return seen

    prints = {}
    for part, checks in spec.CHECKS.items():
        roots = [getattr(spec.PROBES.get(part), "__name__", "")]
        roots += [getattr(check, "__name__", "") for _, check in checks]
        if not all(name in functions for name in roots):  # a lambda: the whole grader counts
            body = [text]
        else:
            used: set[str] = set()
            for name in roots:
                called(name, used)
            body = [ast.get_source_segment(text, functions[name]) or "" for name in sorted(used)]
        data = {
            "points": [points for points, _ in checks],
            "unavailable": sorted(getattr(spec, "UNAVAILABLE", {}).get(part, [])),
            "reference": reference.get("parts", {}).get(part),
        }
        digest = hashlib.sha256()
        for piece in [*shared, *body, json.dumps(data, sort_keys=True)]:
            digest.update(piece.encode() + b"\0")
        prints[part] = digest.hexdigest()[:16]
    return prints
