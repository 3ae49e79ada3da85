"""Keep the message catalogs in step with the code.

    python tools/catalog.py            # add new messages to every catalog, list unused ones
    python tools/catalog.py --check    # only report (exit 1 when a catalog is behind)

Messages are found by :func:`mtml_lib.i18n.catalog.extract` in the library and the homework
graders. A new message gets an empty translation (the tests then fail until it is translated);
an unused one is listed and kept until it is deleted by hand, since a message may move.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mtml_lib.i18n import LANGUAGES, read_po  # noqa: E402
from mtml_lib.i18n.catalog import extract, write_po  # noqa: E402

HEADER = (
    "# {language} catalog of mtml-workbook: what the workbook says to a student (self-checks,\n"
    "# predictions, widget labels, homework feedback). msgid: the English text in the code;\n"
    "# msgstr: its translation, every {{placeholder}} kept. Kept in step by tools/catalog.py.\n"
    "# Register: the lecture notes' Korean sentences, keeping the field's English terms.\n"
)


def sources() -> list[pathlib.Path]:
    return sorted((ROOT / "mtml_lib").rglob("*.py")) + sorted(
        (ROOT / "notebooks" / "homework" / "graders").glob("*.py")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only")
    args = parser.parse_args()
    messages = extract(sources(), ROOT)
    behind = False
    for language in LANGUAGES:
        path = ROOT / "mtml_lib" / "i18n" / f"{language}.po"
        if language == "en":
            continue
        known = read_po(path) if path.exists() else {}
        missing = [m for m in messages if not known.get(m)]
        unused = [m for m in known if m not in messages]
        print(
            f"{path.name}: {len(messages)} messages, {len(missing)} untranslated, "
            f"{len(unused)} unused"
        )
        for message in unused:
            print(f"  unused: {message[:70]!r}")
        behind = behind or bool(missing)
        if not args.check:
            entries = [(m, known.get(m, ""), where) for m, where in messages.items()]
            entries += [(m, known[m], []) for m in unused]
            write_po(path, language, HEADER.format(language=language), entries)
    sys.exit(1 if args.check and behind else 0)


if __name__ == "__main__":
    main()
