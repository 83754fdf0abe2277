"""Impatient trucks at a station: reneging (leaving the queue when patience runs out) and
balking (not joining a queue that is too long).

A station's ``patience`` (or ``patience_by_cargo``) gives each truck that has to queue a
patience, drawn as it joins the queue; a truck still waiting when it runs out leaves the
system, counted as *reneged*. The clock runs in wall time: a truck that waits through closing
hours reneges at ``joined + patience`` whether the station is open or not (the driver's
patience does not pause at night). A truck that has started service never reneges.

``balk_at`` is a threshold on the trucks already waiting: an arriving truck that cannot start
at once and finds at least that many waiting leaves the system, counted as *balked* (a truck's
choice; ``queue_capacity`` turns trucks away as *lost*). A distribution draws one threshold per
arriving truck. With ``balk_at: K`` a one-server station holds at most K + 1 trucks: M/M/1/(K+1).

Empty return trips are never impatient: an empty truck has no other way home.
"""

from __future__ import annotations

from collections.abc import Callable

from gatesim.core.trucks import Truck

__all__ = ["Draw", "Impatience"]

#: One draw of a distribution (a bound ``Sampler.draw`` of the station's own stream).
Draw = Callable[[], float]


class Impatience:
    """A station's patience and balking rules, with their random draws bound."""

    __slots__ = ("_balk_at", "_balk_draw", "_by_cargo", "_default", "balking", "reneging")

    def __init__(
        self,
        default: Draw | None,
        by_cargo: dict[str, Draw],
        balk_at: int | None,
        balk_draw: Draw | None,
    ) -> None:
        self._default = default
        self._by_cargo = by_cargo
        self._balk_at = balk_at
        self._balk_draw = balk_draw
        #: trucks may leave the queue (some cargo class has a patience)
        self.reneging = default is not None or bool(by_cargo)
        #: arriving trucks may refuse to join
        self.balking = balk_at is not None or balk_draw is not None

    def patience(self, truck: Truck) -> float | None:
        """Minutes ``truck`` will wait from now, drawn as it joins the queue; None: for ever."""
        if truck.empty:
            return None
        draw = self._by_cargo.get(truck.cargo, self._default)
        return None if draw is None else draw()

    def balks(self, truck: Truck, waiting: int) -> bool:
        """True when ``truck``'s threshold is at most ``waiting`` (a threshold is drawn for
        every loaded arrival, so the draws do not depend on the queue)."""
        if truck.empty:
            return False
        threshold = self._balk_draw() if self._balk_draw is not None else self._balk_at
        return threshold is not None and waiting >= threshold
