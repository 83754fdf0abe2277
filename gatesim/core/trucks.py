"""A truck is data: a small record that stations hand to each other."""

from __future__ import annotations

from typing import Any

FIXED_ATTRIBUTES = frozenset(("lane", "direction", "cargo", "channel", "stream"))
#: A load's attribute naming the backhaul truck (or transfer) that carried it home, so its own
#: truck makes no empty trip (:mod:`gatesim.model.returns`).
CARRIED = "carried_by"


class Truck:
    """One loaded truck. Attributes a route may branch on: lane, direction, cargo, channel, stream.

    ``attrs`` holds the stream's categorical attributes (``precleared``, ``eligible``…) and the
    outcomes stations set (``scan_alarm``…); :meth:`get` reads fixed and extra attributes alike.
    ``node`` is the last place the truck physically reached (for travel times), ``step`` its
    position in the compiled route, ``visit_t`` the time it joined its current station,
    ``closed_wait`` the minutes it has waited so far while the station it waited for was closed
    (:mod:`gatesim.stations.opening_wait`).
    ``on_vn`` is True while the place it is at or heading to lies on the Vietnamese side;
    ``empty`` marks an empty return trip (:mod:`gatesim.model.returns`), counted apart.
    """

    __slots__ = (
        "attrs",
        "cargo",
        "channel",
        "closed_wait",
        "created",
        "direction",
        "empty",
        "id",
        "lane",
        "node",
        "on_vn",
        "step",
        "stream",
        "stream_index",
        "visit_t",
    )

    def __init__(
        self,
        truck_id: int,
        stream: str,
        stream_index: int,
        lane: str,
        direction: str,
        cargo: str,
        channel: str,
        created: float,
        node: str,
        attrs: dict[str, str] | None = None,
    ) -> None:
        self.id = truck_id
        self.stream = stream
        self.stream_index = stream_index
        self.lane = lane
        self.direction = direction
        self.cargo = cargo
        self.channel = channel
        self.created = created
        self.node = node
        self.step: Any = None
        self.visit_t = created
        self.closed_wait = 0.0
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        self.on_vn = False
        self.empty = False

    def get(self, name: str) -> str | None:
        """A fixed attribute or an extra one (None when the truck has no such attribute)."""
        if name in FIXED_ATTRIBUTES:
            return str(getattr(self, name))
        return self.attrs.get(name)

    def __repr__(self) -> str:
        return (
            f"Truck(id={self.id}, stream={self.stream!r}, lane={self.lane!r}, "
            f"direction={self.direction!r}, cargo={self.cargo!r}, channel={self.channel!r})"
        )
