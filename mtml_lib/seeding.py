"""Reproducible randomness: every random draw in the library goes through a
seeded :class:`torch.Generator`.

:func:`make_generator` normalises the three things a caller may pass as
``generator`` (``None``, an int seed, or a Generator), in the manner of
scikit-learn's ``check_random_state``. Generators live on the CPU by default:
random tensors are drawn there and moved, so a fixed seed gives the same
numbers whatever the compute device.

Example:
    >>> g = make_generator(0)
    >>> torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=make_generator(0)))
    True
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import torch

from ._validation import check_int

__all__ = ["seed_everything", "make_generator", "spawn_seed", "seeded"]

_MAX_SEED = 2**63 - 1


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's ``random``, NumPy and torch (every device), and return a CPU generator.

    Library code never relies on these global states (it takes a ``generator``),
    but code a student writes in a notebook often does.

    Args:
        seed: a non-negative integer.

    Returns:
        A CPU :class:`torch.Generator` seeded with ``seed``.

    Raises:
        TypeError, ValueError: ``seed`` is not a non-negative integer.
    """
    seed = check_int("seed", seed, minimum=0, maximum=_MAX_SEED)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds every device's default generator too
    return make_generator(seed)


def make_generator(
    seed: int | torch.Generator | None = None, *, device: str | torch.device = "cpu"
) -> torch.Generator:
    """Normalise ``None | int | torch.Generator`` to a Generator.

    Args:
        seed: ``None`` gives a generator seeded from the operating system's entropy
            (different every call); an int gives a generator seeded with it; a
            Generator is returned unchanged (so callers can share one stream).
        device: where a new generator lives. Sampling on an accelerator with a
            generator there avoids host round-trips, at the price of numbers that
            differ from the CPU's.

    Raises:
        TypeError: ``seed`` is of another type.
        ValueError: ``seed`` is a negative int.
    """
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(
                f"`generator` must be None, an int seed or a torch.Generator; got {seed!r}."
            )
        generator.manual_seed(check_int("generator", seed, minimum=0, maximum=_MAX_SEED))
    return generator


def spawn_seed(generator: torch.Generator) -> int:
    """Draw a fresh seed from ``generator`` (to derive independent child streams)."""
    return int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's global CPU stream seeded with ``seed``, then restore that stream.

    For what draws from the global stream by design, such as a module's initial weights:
    the same weights for the same seed (on every process), and nothing outside the block
    changed.

    Example:
        >>> with seeded(0):
        ...     a = torch.nn.Linear(2, 2).weight
        >>> with seeded(0):
        ...     b = torch.nn.Linear(2, 2).weight
        >>> torch.equal(a, b)
        True
    """
    seed = check_int("seed", seed, minimum=0, maximum=_MAX_SEED)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
