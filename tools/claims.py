"""Write the register of claims into README.md: every check each notebook's stored run prints.

    .venv/bin/python tools/claims.py          # rewrite the README's register
    .venv/bin/python tools/claims.py --check  # exit 1 when it is out of date (the tests do this)

The register lies between the README's ``<!-- claims: start -->`` and ``<!-- claims: end -->``
lines; it is made from the stored outputs only (nothing is executed).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtml_lib.claims import printed_claims, printed_statements  # noqa: E402

START, END = "<!-- claims: start -->", "<!-- claims: end -->"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + [
    ROOT / "notebooks" / "appendix_kernels.ipynb"
]


def stored_output(path: pathlib.Path) -> str:
    """The stdout every code cell of ``path`` stored, in order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(
        "".join(output.get("text", ""))
        for cell in cells
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


def register() -> str:
    parts = [START]
    for path in NOTEBOOKS:
        text = stored_output(path)
        holds, statements = printed_claims(text), printed_statements(text)
        parts += [
            "",
            f"<details><summary><code>{path.name}</code>: {len(holds)} checks</summary>",
            "",
            "| id | the check, as the stored run prints it | holds |",
            "|---|---|---|",
        ]
        parts += [
            f"| {cid} | {statements[cid].replace('|', '/')} | {value} |"
            for cid, value in holds.items()
        ]
        parts += ["", "</details>"]
    parts.append(END)
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} section", file=sys.stderr)
        return 1
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    updated = before + register() + after
    if args.check:
        if updated != text:
            print("README.md's register of claims is out of date: run tools/claims.py")
            return 1
        return 0
    readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
