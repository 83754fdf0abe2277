"""Checkpoints where a truck is checked and released: gates, documents, weighing, border guards.

They behave as the base station (servers, service time, discipline, hours); the types exist so
that scenario files, reports and plots say what each station is.
"""

from __future__ import annotations

from gatesim.stations.base import Station
from gatesim.stations.registry import register_station


@register_station("station")
class GenericStation(Station):
    describe = "generic multi-server station (M/G/c with hours)"


@register_station("gate_checkin")
class GateCheckIn(Station):
    describe = "gate check-in booth (ticket, licence and declaration checks)"


@register_station("document_check")
class DocumentCheck(Station):
    describe = "customs document check (yellow channel) or declaration desk"


@register_station("weighbridge")
class Weighbridge(Station):
    describe = "weighbridge: one truck per deck"


@register_station("border_guard")
class BorderGuard(Station):
    describe = "border-guard exit/entry check of driver and vehicle"
