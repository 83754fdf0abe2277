"""Finished replications kept on disk while an experiment runs, so an interrupted run can resume.

The store lives beside the output folder (``DIR.partial/`` for ``--out DIR``): the output folder
itself only appears, atomically, once everything is done, and the store is then removed. Each
replication is one pickle, ``<scenario hash>/<replication>.pkl``, written atomically as soon as
the replication finishes. A replication is reused only for the exact same resolved scenario
(same hash) and replication index, so a resumed run gives the same numbers as an uninterrupted
one. The pickles are this program's own output: only resume from folders you wrote yourself.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path

from gatesim.experiment.runner import ReplicationOutcome

FORMAT = 1
SUFFIX = ".partial"


def partial_folder(out: Path) -> Path:
    """Where the store of the experiment written to ``out`` lives."""
    return out.with_name(out.name + SUFFIX)


class PartialStore:
    """Finished ReplicationOutcomes keyed by (scenario hash, replication index)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str, replication: int) -> Path:
        return self.folder / key[:32] / f"{replication:06d}.pkl"

    def load(self, key: str, replication: int) -> ReplicationOutcome | None:
        """The stored outcome, or None when absent, unreadable or for another scenario."""
        try:
            with self.path(key, replication).open("rb") as handle:
                record = pickle.load(handle)
        except Exception:  # missing, truncated or foreign file: recompute instead
            return None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        outcome = record.get("outcome")
        if record.get("key") != key or not isinstance(outcome, ReplicationOutcome):
            return None
        return outcome if outcome.replication == replication else None

    def save(self, key: str, outcome: ReplicationOutcome) -> None:
        """Write one outcome atomically (a crash never leaves a half-written pickle)."""
        target = self.path(key, outcome.replication)
        target.parent.mkdir(parents=True, exist_ok=True)
        record = {"format": FORMAT, "key": key, "outcome": outcome}
        fd, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(record, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*/*.pkl")) if self.folder.is_dir() else 0

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
