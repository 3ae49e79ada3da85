"""What a release delivered, and an update that keeps the student's work.

Every tree given to students (a handout, or the student workbook of a checkout) carries a
manifest, ``.mtml-release.json`` at its root: the course version, the edition, the release date,
the release id, the assignments (their notebook and the autograder's cell time limit), and the
*content hash* of every file as it was delivered. A notebook's content hash covers its cells'
types and sources only, so running a notebook (outputs, execution counts, widget state) is not
editing it; any other file is hashed byte for byte. Each notebook also carries the release's stamp
in its metadata (:func:`stamp`), so a grader can tell which release a submission came from.

:func:`merge` applies a newer tree over a student's folder with nbgitpuller's rule: what the
student has not edited is updated, what is missing (new, or deleted by the student) is added,
and what the student has edited is never overwritten; the newer version of an edited file is
written beside it (``name.new-<release>.ipynb``). Files a newer release no longer has are
removed if unedited and kept otherwise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import shutil

__all__ = [
    "MANIFEST",
    "MergeReport",
    "apply_update",
    "content_hash",
    "find_release",
    "merge",
    "read_manifest",
    "release_id",
    "stamp",
    "write_manifest",
]

MANIFEST = ".mtml-release.json"


def content_hash(path: str | os.PathLike) -> str:
    """The hash that says whether a delivered file was edited: a notebook's cell types and
    sources, any other file's bytes."""
    path = pathlib.Path(path)
    data = path.read_bytes()
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(data)["cells"]
            data = json.dumps(
                [[c["cell_type"], _source(c)] for c in cells], ensure_ascii=False
            ).encode()
        except (ValueError, KeyError, TypeError):
            pass  # not a readable notebook: its bytes are its content
    return hashlib.sha256(data).hexdigest()[:16]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def release_id(files: dict[str, str]) -> str:
    """One id for a whole release: the hash of every file's path and content hash."""
    text = "\n".join(f"{path} {files[path]}" for path in sorted(files))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def stamp(notebook: dict, info: dict, content: str) -> dict:
    """Put the release's stamp into a notebook's metadata (``metadata.mtml.release``): course
    version, edition, release date and id, and the notebook's own content hash."""
    keys = ("course", "version", "edition", "released", "release")
    mtml = notebook.setdefault("metadata", {}).setdefault("mtml", {})
    mtml["release"] = {**{k: info[k] for k in keys}, "content_hash": content}
    return notebook


def write_manifest(root: pathlib.Path, info: dict, files: dict[str, str]) -> dict:
    """Write the manifest of the tree at ``root``; ``info`` holds the release's fields."""
    manifest = {**info, "files": dict(sorted(files.items()))}
    (root / MANIFEST).write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def read_manifest(root: str | os.PathLike) -> dict | None:
    """The manifest at ``root``, or ``None`` where there is none.

    Raises:
        ValueError: when the manifest exists but cannot be read.
    """
    path = pathlib.Path(root) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(
            f"{path} is not readable ({error}); restore it from the handout."
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ValueError(f"{path} is not a release manifest; restore it from the handout.")
    return manifest


def find_release(start: str | os.PathLike) -> pathlib.Path | None:
    """The root of the delivered tree that holds ``start``: the nearest folder, ``start`` or
    one above it, with a manifest."""
    start = pathlib.Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / MANIFEST).exists():
            return folder
    return None


@dataclasses.dataclass
class MergeReport:
    """What :func:`merge` did, by relative path."""

    added: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    kept: dict[str, str | None] = dataclasses.field(default_factory=dict)  # edited -> beside
    removed: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"added {p}" for p in self.added] + [f"updated {p}" for p in self.updated]
        for path, beside in self.kept.items():
            out.append(
                f"kept your edited {path}"
                + (f"; the new version is beside it: {beside}" if beside else "")
            )
        return out + [f"removed {p} (no longer in the release, unedited)" for p in self.removed]


def merge(new_root: str | os.PathLike, target: str | os.PathLike) -> MergeReport:
    """Apply the delivered tree at ``new_root`` (with its manifest) over ``target``.

    Unedited files (their content hash is the one ``target``'s manifest delivered) take the new
    version, missing files are added, edited files are kept (the new version written beside
    them), and a folder without a manifest counts every file it has as edited. ``target``'s
    manifest becomes the new one.

    Raises:
        ValueError: when ``new_root`` holds no manifest.
    """
    new_root, target = pathlib.Path(new_root), pathlib.Path(target)
    new = read_manifest(new_root)
    if new is None:
        raise ValueError(f"`new_root` must hold a release ({MANIFEST}); got {str(new_root)!r}.")
    old = read_manifest(target) if target.exists() else None
    delivered = (old or {}).get("files", {})
    report = MergeReport()
    for path, wanted in new["files"].items():
        source, here = new_root / path, target / path
        if not here.exists():
            here.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, here)
            report.added.append(path)
            continue
        have = content_hash(here)
        if have == wanted:
            report.unchanged.append(path)
        elif delivered.get(path) == have:
            shutil.copy2(source, here)
            report.updated.append(path)
        else:
            beside = None
            if delivered.get(path) != wanted:  # the release changed it too: show the new one
                beside = here.with_name(f"{here.stem}.new-{new['release']}{here.suffix}")
                shutil.copy2(source, beside)
                beside = beside.relative_to(target).as_posix()
            report.kept[path] = beside
    for path, hashed in delivered.items():
        here = target / path
        if path not in new["files"] and here.exists() and content_hash(here) == hashed:
            here.unlink()
            report.removed.append(path)
    write_manifest(target, {k: v for k, v in new.items() if k != "files"}, new["files"])
    return report


def apply_update(archive: str | os.PathLike, into: str | os.PathLike) -> MergeReport:
    """Apply a handout archive (``.zip``) over the student folder ``into`` with :func:`merge`.

    Raises:
        ValueError: when the archive is not a handout, or is another edition than ``into``.
    """
    import tempfile
    import zipfile

    archive, into = pathlib.Path(archive), pathlib.Path(into)
    if not zipfile.is_zipfile(archive):
        raise ValueError(f"`archive` must be a handout's .zip file; got {str(archive)!r}.")
    with tempfile.TemporaryDirectory(prefix="mtml-update-") as scratch:
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(scratch)
        roots = [p.parent for p in pathlib.Path(scratch).glob(f"*/{MANIFEST}")]
        if len(roots) != 1:
            raise ValueError(f"`archive` must hold one handout folder; got {str(archive)!r}.")
        new, old = read_manifest(roots[0]), read_manifest(into)
        if old and old.get("edition") != new.get("edition"):
            raise ValueError(
                f"the archive is the {new.get('edition')!r} edition, but {str(into)!r} holds the "
                f"{old.get('edition')!r} one: apply the handout of your own edition."
            )
        return merge(roots[0], into)
