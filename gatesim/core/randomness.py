"""Named random streams: one numpy Generator per random source, spawned from one seed.

A stream's state depends only on (seed, replication, name). So the same seed gives the same
draws in every scenario that has a source of that name (common random numbers), and adding a
station never shifts another station's draws.
"""

from __future__ import annotations

import hashlib

import numpy as np


def name_key(name: str) -> tuple[int, ...]:
    """Four 32-bit words from SHA-256 of the name: stable across runs, platforms and Pythons."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of source ``name`` in replication ``replication`` of a run seeded ``seed``."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(replication, *name_key(name)))
    return np.random.Generator(np.random.PCG64(sequence))


def replication_seed(seed: int, replication: int) -> int:
    """A single integer that identifies a replication's seed material (for manifests)."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(replication,))
    return int(sequence.generate_state(2, dtype=np.uint64)[0])
