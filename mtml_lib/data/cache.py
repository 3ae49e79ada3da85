"""A small on-disk cache for generated data, with checksums.

A cached payload is written with :func:`torch.save` next to a ``.sha256`` file
holding the digest of its bytes. :func:`load_verified` returns ``None`` (and the
caller regenerates) when the file is missing, truncated, corrupt, or was written
for other settings.

The cache folder is, in order: the ``cache_dir`` argument, the ``MTML_CACHE_DIR``
environment variable, then the platform's user cache folder
(``~/.cache/mtml-workbook`` on Linux).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import sys
from typing import Any

import torch

__all__ = ["ENV_VAR", "cache_dir", "save_verified", "load_verified"]

ENV_VAR = "MTML_CACHE_DIR"


def cache_dir(override: str | os.PathLike | None = None) -> pathlib.Path:
    """The folder generated data is cached in (created if needed)."""
    if override is not None:
        path = pathlib.Path(override)
    elif os.environ.get(ENV_VAR):
        path = pathlib.Path(os.environ[ENV_VAR])
    elif sys.platform == "win32":
        path = (
            pathlib.Path(os.environ.get("LOCALAPPDATA", pathlib.Path.home()))
            / "mtml-workbook"
            / "Cache"
        )
    elif sys.platform == "darwin":
        path = pathlib.Path.home() / "Library" / "Caches" / "mtml-workbook"
    else:
        path = (
            pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
            / "mtml-workbook"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_verified(path: pathlib.Path, payload: Any) -> None:
    """Write ``payload`` and its checksum;
    an interrupted write leaves no valid-looking file behind.
    """
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    digest = _digest(tmp)
    os.replace(tmp, path)
    path.with_name(path.name + ".sha256").write_text(digest + "\n", encoding="utf-8")


def load_verified(path: pathlib.Path, *, key: dict | None = None) -> Any | None:
    """The payload at ``path`` if its checksum matches (and
    its ``"key"`` equals ``key``), else None.
    """
    checksum = path.with_name(path.name + ".sha256")
    if not path.exists() or not checksum.exists():
        return None
    if _digest(path) != checksum.read_text(encoding="utf-8").strip():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # noqa: BLE001 - any unreadable file is simply regenerated
        return None
    if key is not None and (not isinstance(payload, dict) or payload.get("key") != key):
        return None
    return payload
