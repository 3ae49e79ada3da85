"""The one place that looks at hardware.

Every notebook and library function asks :func:`get_device` for its device and
:func:`autocast` for mixed precision, so the same code runs unchanged on a CPU
laptop, an Apple GPU (mps) or an NVIDIA GPU (cuda). Set the environment
variable ``MTML_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) to override the
automatic choice without editing a notebook.

Example:
    >>> from mtml_lib.device import get_device
    >>> get_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

__all__ = [
    "ENV_VAR",
    "get_device",
    "available_devices",
    "autocast",
    "supports_bf16",
    "synchronize",
    "rng_state",
    "set_rng_state",
]

ENV_VAR = "MTML_DEVICE"
_KINDS = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Names of the device kinds usable on this machine, best first (cpu is always last)."""
    kinds = []
    if torch.cuda.is_available():
        kinds.append("cuda")
    if _mps_available():
        kinds.append("mps")
    return kinds + ["cpu"]


def get_device(device: str | torch.device | None = "auto") -> torch.device:
    """Resolve a device request to a usable :class:`torch.device`.

    Args:
        device: ``"auto"`` (or ``None``) picks cuda, then mps, then cpu, unless the
            ``MTML_DEVICE`` environment variable names a device, which then wins.
            An explicit name (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) or a
            ``torch.device`` is checked and returned.

    Returns:
        The device, guaranteed to be available on this machine.

    Raises:
        ValueError: the request is not a device name, or names a device this
            machine does not have (the message lists the ones it has).
        TypeError: ``device`` is neither a string, a torch.device nor None.

    Example:
        >>> get_device("cpu").type
        'cpu'
    """
    param = "device"
    if device is None or (isinstance(device, str) and device == "auto"):
        override = os.environ.get(ENV_VAR, "").strip()
        if override and override != "auto":
            device, param = override, f"{ENV_VAR} (environment variable)"
        else:
            return torch.device(available_devices()[0])
    if isinstance(device, torch.device):
        resolved = device
    elif isinstance(device, str):
        try:
            resolved = torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"`{param}` must be 'auto' or a device name such as 'cpu', 'cuda', 'cuda:1' or "
                f"'mps'; got {device!r}."
            ) from None
    else:
        raise TypeError(
            f"`{param}` must be a str, a torch.device or None; got {type(device).__name__}."
        )

    if resolved.type not in _KINDS:
        raise ValueError(
            f"`{param}` must be a device of kind {list(_KINDS)}; got {str(resolved)!r}."
        )
    if resolved.type not in available_devices():
        raise ValueError(
            f"`{param}` must be a device available on this machine, one of {available_devices()}; "
            f"got {str(resolved)!r} ({resolved.type} is not available here)."
        )
    if (
        resolved.type == "cuda"
        and resolved.index is not None
        and resolved.index >= torch.cuda.device_count()
    ):
        raise ValueError(
            f"`{param}` must name an existing GPU, index < {torch.cuda.device_count()}; got "
            f"{str(resolved)!r}."
        )
    return resolved


def supports_bf16(device: torch.device) -> bool:
    """Whether bfloat16 autocast is worth using on ``device`` (CUDA GPUs that support it)."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


@contextlib.contextmanager
def autocast(device: torch.device, *, enabled: bool = True) -> Iterator[None]:
    """Mixed precision where it pays, a no-op elsewhere.

    On a CUDA GPU with bfloat16 support, matrix products inside the block run in
    bfloat16 (no loss scaling needed). On CPU and mps the block runs in float32
    unchanged, so results there do not depend on this switch.

    Example:
        >>> import torch
        >>> with autocast(torch.device("cpu")):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.float32
    """
    if enabled and supports_bf16(device):
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels on ``device`` (for honest timings); a no-op on CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def rng_state(device: torch.device) -> dict:
    """The global random states that code running on ``device`` draws from (for checkpoints)."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    elif device.type == "mps":
        state["mps"] = torch.mps.get_rng_state()
    return state


def set_rng_state(device: torch.device, state: dict) -> None:
    """Restore what :func:`rng_state` saved."""
    # a checkpoint loaded with map_location may hold them elsewhere
    torch.set_rng_state(state["cpu"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)
    elif device.type == "mps" and "mps" in state:
        torch.mps.set_rng_state(state["mps"].cpu())
