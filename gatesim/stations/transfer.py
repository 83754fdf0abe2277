"""Moving cargo across the line: transshipment at the far-side yard."""

from __future__ import annotations

from gatesim.stations.base import Station
from gatesim.stations.registry import register_station


@register_station("transshipment")
class Transshipment(Station):
    describe = "manual unload/reload at the far-side yard; servers are crews/bays"
