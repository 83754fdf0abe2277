"""Date spans written in scenario files: ``MM-DD`` bounds recur every year (and may wrap the
year end, ``12-01`` to ``01-15``), ``YYYY-MM-DD`` bounds are one absolute period. Both ends are
included. Used by demand seasons and by dated opening hours of calendars."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
Bound = tuple[int, int] | dt.date


def parse_day(value: Any) -> Bound:
    """A span bound: ``MM-DD`` (recurs every year) or an ISO date ``YYYY-MM-DD``."""
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _MONTH_DAY.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        try:
            dt.date(2024, month, day)  # a leap year, so 02-29 is a valid recurring day
        except ValueError:
            raise ValueError(f"'{text}' is not a valid MM-DD month-day") from None
        return (month, day)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is neither MM-DD nor a YYYY-MM-DD date") from None


class DateSpan(BaseModel):
    """``from`` .. ``to``, both included; both MM-DD or both YYYY-MM-DD."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, populate_by_name=True
    )

    from_: str = Field(alias="from")
    to: str

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _day(cls, value: Any) -> str:
        parsed = parse_day(value)
        if isinstance(parsed, dt.date):
            return parsed.isoformat()
        return f"{parsed[0]:02d}-{parsed[1]:02d}"

    @model_validator(mode="after")
    def _same_kind_and_ordered(self) -> DateSpan:
        start, end = self.bounds()
        if isinstance(start, dt.date) != isinstance(end, dt.date):
            raise ValueError("'from' and 'to' must both be MM-DD or both be YYYY-MM-DD dates")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
        return self

    def bounds(self) -> tuple[Bound, Bound]:
        return parse_day(self.from_), parse_day(self.to)

    def covers(self, date: dt.date) -> bool:
        """True when ``date`` lies in the span (a recurring span that wraps the year end covers
        the dates after ``from`` and those before ``to``)."""
        start, end = self.bounds()
        if isinstance(start, dt.date) and isinstance(end, dt.date):
            return start <= date <= end
        assert isinstance(start, tuple) and isinstance(end, tuple)  # same kinds, validated
        here = (date.month, date.day)
        if start <= end:
            return start <= here <= end
        return here >= start or here <= end
