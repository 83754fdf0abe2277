"""Waiting for opening: the part of a truck's waits that falls while the station it waits for
is closed (outside its calendar's opening hours).

Every station that starts a truck books the closed part of that truck's wait on the truck
(``Truck.closed_wait``); the engine records the total with the truck's time in system, and the
KPI ``gate_process_time`` (:mod:`gatesim.stats.process_time`) is time in system minus it.
So a truck that reaches a closed staging yard at 22:00 and starts at 07:00 books 9 h of waiting
for opening; the queue it then finds in the morning is process time.

"Closed" is the station's calendar only: a daily cap, an appointment slot or a busy server that
holds a truck while the station is open is queueing, i.e. process time.
"""

from __future__ import annotations

from gatesim.core.calendar import Calendar
from gatesim.core.trucks import Truck

__all__ = ["book_closed_wait", "closed_minutes"]


def closed_minutes(calendar: Calendar, since: float, until: float) -> float:
    """Minutes of ``[since, until)`` outside ``calendar``'s opening hours (0 when always open)."""
    if until <= since or calendar.always_open:
        return 0.0
    closed = (until - since) - calendar.open_minutes(since, until)
    return closed if closed > 0.0 else 0.0  # float noise of an all-open span is not a wait


def book_closed_wait(truck: Truck, calendar: Calendar, now: float) -> None:
    """The truck starts service ``now`` after waiting since ``truck.visit_t``: add the closed
    part of that wait to the truck's total."""
    if now > truck.visit_t:
        truck.closed_wait += closed_minutes(calendar, truck.visit_t, now)
