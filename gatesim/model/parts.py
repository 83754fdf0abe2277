"""The boundary of a replication that simulates one part of a scenario.

A :class:`Part` names the stations and arrival streams a
:class:`gatesim.model.engine.Replication` simulates; no truck crosses its boundary (finding
such parts, running them side by side and merging their results is the business of the
layer that runs replications, :mod:`gatesim.experiment.parts`). Every random draw comes from
a stream named per arrival stream, route or station (:mod:`gatesim.core.randomness`), so a
part simulated alone draws exactly the numbers it draws inside the whole scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Part"]


@dataclass(frozen=True)
class Part:
    """The stations and arrival streams of one independent part, each in scenario order."""

    stations: tuple[str, ...]
    streams: tuple[str, ...]
