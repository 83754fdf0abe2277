"""A backlog carried in: trucks of a stream already waiting when the run starts.

``initial_backlog: N`` on an arrival stream puts N trucks of that stream at the start of their
route at time 0, ahead of the stream's generated arrivals, so a planning window can open on the
yards a previous season left full instead of on empty ones. They are ordinary trucks (counted
as arrived, cleared or still in the system), created at time 0: inside any warm-up, so they
delay the measured trucks without being measured themselves.

Their channels and attributes come from their own named streams (``arrivals/<stream>/backlog/``),
so adding a backlog leaves every generated truck's time, channel and attributes unchanged
(common random numbers with the same scenario started empty).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gatesim.model.arrivals import StreamArrivals, _categorical
from gatesim.scenario.schema import ArrivalSpec

__all__ = ["with_backlog"]


def with_backlog(
    arrivals: StreamArrivals, spec: ArrivalSpec, rng_for: Callable[[str], np.random.Generator]
) -> StreamArrivals:
    """``arrivals`` with ``spec.initial_backlog`` trucks at time 0 in front; ``rng_for(part)``
    gives the backlog's stream for its channels (``"channel"``) and for each attribute."""
    count = spec.initial_backlog
    if count == 0:
        return arrivals
    channels = _categorical(rng_for("channel"), spec.channels, count)
    attributes = {}
    for name, (names, index) in arrivals.attributes.items():
        carried = _categorical(rng_for(name), spec.attributes[name], count)
        attributes[name] = (names, np.concatenate([carried, index]))
    return StreamArrivals(
        times=np.concatenate([np.zeros(count), arrivals.times]),
        channels=np.concatenate([channels, arrivals.channels]),
        channel_names=arrivals.channel_names,
        attributes=attributes,
    )
