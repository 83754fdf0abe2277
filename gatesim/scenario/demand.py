"""The demand calendar: growth to the planning year, named seasons and day-of-week factors.

Everything here works on whole model days: day ``d`` is the local (model-clock) date
``start_date + d``. A stream's factor on a day is growth × the product of every season and
weekday rule that covers that date and matches the stream (``where``). The arrival generator
multiplies its hourly means by these factors (see ``arrivals.hourly_means``); the KPIs get the
season days as model-minute intervals through ``RunResult.meta`` (``result_meta``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from gatesim.scenario.schema import ArrivalSpec, Scenario, SeasonSpec

MINUTES_PER_DAY = 1440.0


def model_dates(scenario: Scenario) -> list[dt.date]:
    """The local date of every model day."""
    return [scenario.start_date + dt.timedelta(days=d) for d in range(scenario.days)]


def season_days(scenario: Scenario, season: SeasonSpec) -> list[int]:
    """Model days (0-based) whose date lies in the season."""
    return [d for d, date in enumerate(model_dates(scenario)) if season.covers(date)]


def day_factors(scenario: Scenario, arrival: ArrivalSpec) -> npt.NDArray[np.float64]:
    """Demand factor of one stream on each model day, shape (days,): growth × seasons ×
    weekdays (the stream's own ``multipliers`` and ``demand_scale`` are applied elsewhere)."""
    demand = scenario.demand
    factors = np.full(scenario.days, demand.growth_factor(), dtype=float)
    dates = model_dates(scenario)
    for season in demand.seasons:
        if season.where.matches(arrival):
            for d, date in enumerate(dates):
                if season.covers(date):
                    factors[d] *= season.factor
    for rule in demand.weekdays:
        if rule.where.matches(arrival):
            weekdays = rule.weekday_numbers()
            for d, date in enumerate(dates):
                if date.weekday() in weekdays:
                    factors[d] *= rule.factor
    return factors


def season_intervals(scenario: Scenario) -> dict[str, list[list[float]]]:
    """Each named season (entries sharing a name are one season) as merged [start, end)
    model-minute intervals within the measured period: whole days that start at or after the
    warm-up."""
    first_day = int(np.ceil(scenario.warmup_min / MINUTES_PER_DAY - 1e-12))
    days: dict[str, set[int]] = {}
    for season in scenario.demand.seasons:
        days.setdefault(season.name, set()).update(season_days(scenario, season))
    out: dict[str, list[list[float]]] = {}
    for name, covered in days.items():
        intervals: list[list[float]] = []
        for d in sorted(covered):
            if d < first_day:
                continue
            start, end = d * MINUTES_PER_DAY, (d + 1) * MINUTES_PER_DAY
            if intervals and intervals[-1][1] == start:
                intervals[-1][1] = end
            else:
                intervals.append([start, end])
        out[name] = intervals
    return out


def result_meta(scenario: Scenario) -> dict[str, Any]:
    """What the KPIs need besides the counts: cost factors, trade values, season intervals,
    the extra KPIs the scenario lists, and the slot plans' capacities."""
    from gatesim.scenario.slots import slot_meta

    trade = scenario.trade_value
    meta: dict[str, Any] = {
        "costs": scenario.costs.model_dump(),
        "trade_value": trade.model_dump() if trade is not None else None,
        "seasons": season_intervals(scenario),
        "kpis": list(scenario.kpis),
    }
    if scenario.slots:  # only with booked slots, so other runs' results stay as they were
        meta["slots"] = slot_meta(scenario)
    return meta


def shifted_start(start: dt.date, year: int) -> dt.date:
    """The same month-day in ``year`` (29 February becomes 28 February in a common year)."""
    try:
        return start.replace(year=year)
    except ValueError:
        return start.replace(year=year, day=28)
