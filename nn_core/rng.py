"""Independent random streams derived from one integer seed.

Every use of randomness (initialisation, shuffling, dropout masks, ...) gets its own
``numpy.random.Generator`` derived through ``SeedSequence`` from the seed plus a key naming
the use, so adding a new consumer never shifts the numbers another consumer sees.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["key_to_int", "seed_sequence", "generator"]


def key_to_int(key: str | int) -> int:
    """Map a key to a stable 32-bit integer (``hash()`` is salted per process, so not that)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if key < 0:
            raise ValueError(f"seed keys must be non-negative integers or strings, got {key}")
        return int(key)
    return int.from_bytes(hashlib.sha256(str(key).encode()).digest()[:4], "little")


def seed_sequence(seed: int, *keys: str | int) -> np.random.SeedSequence:
    """The ``SeedSequence`` for ``seed`` and a path of keys, e.g. ``(7, "ablation", "sgd")``.

    The path length goes last: ``SeedSequence`` pads short entropy with zeros, so without it
    ``(7, "shuffle")`` and ``(7, "shuffle", 0)`` would give the same stream.
    """
    return np.random.SeedSequence([key_to_int(seed), *(key_to_int(k) for k in keys), len(keys)])


def generator(seed: int, *keys: str | int) -> np.random.Generator:
    """A fresh generator for ``seed`` and ``keys``: same arguments, same stream."""
    return np.random.default_rng(seed_sequence(seed, *keys))
