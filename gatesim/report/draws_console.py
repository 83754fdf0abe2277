"""An answer over draws in the terminal, from ``draws.json`` (never simulation objects):
"p95 first missed: 2027 in 20 % of draws, …", "capacity median 1,520/day, 90 % interval …"."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.3g}"


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def spread(stat: Mapping[str, Any], unit: str = "") -> str:
    """``median 55, 90 % interval 45–70`` (``-`` when no draw gave an answer)."""
    if stat.get("median") is None:
        return "no answer in any draw"
    low, high = stat["interval90"]
    return (
        f"median {_number(stat['median'])}{unit}, "
        f"90 % interval {_number(low)}–{_number(high)}{unit}"
    )


def header(document: Mapping[str, Any]) -> str:
    design = document["design"]
    what = "capacity" if document["kind"] == "capacity_draws" else "plan"
    return (
        f"{document['scenario']}: {what} over {design['draws']} draws of "
        f"{len(document['factors'])} uncertain values ({design['sampler']}, draw seed "
        f"{design['draw_seed']}; simulation seed {document['seed']} in every draw: common "
        "random numbers)"
    )


def capacity_lines(document: Mapping[str, Any]) -> list[str]:
    """Per lane and direction: capacity's median and 90 % interval, and how often each
    station binds."""
    summary = document["summary"]
    lines = []
    for group, flow in summary["flows"].items():
        stat = flow["capacity"]
        answered = f"{stat['answered']} of {stat['draws']} draws"
        lines.append(f"{group}: capacity {spread(stat, '/day')} ({answered})")
        binds = [s for s in flow["stations"] if s["binds_share"] > 0]
        if binds:
            named = ", ".join(f"{s['station']} {_percent(s['binds_share'])}" for s in binds)
            lines.append(f"  binds (share of draws): {named}")
    lines.append(f"gate: capacity {spread(summary['gate'], '/day')}")
    return lines


def year_line(target: str, found: Sequence[Mapping[str, Any]], last: int) -> str:
    """``<target> first missed: 2027 in 20 % of draws, 2028 in 65 %, not by 2030 in 15 %``."""
    parts = []
    for i, entry in enumerate(found):
        when = f"not by {last}" if entry["value"] is None else str(entry["value"])
        tail = " of draws" if i == 0 else ""
        parts.append(f"{when} in {_percent(entry['share'])}{tail}")
    return f"{target} first missed: {', '.join(parts)}"


def plan_lines(document: Mapping[str, Any]) -> list[str]:
    """The first year missed and each searched field's chosen value, over the draws."""
    design, summary = document["design"], document["summary"]
    targets = " and ".join(design["targets"])
    lines = []
    if "first_missed_year" in summary:
        lines.append(year_line(targets, summary["first_missed_year"], summary["years"][1]))
    for path, stat in summary.get("dimensions", {}).items():
        found = f"found in {stat['answered']} of {stat['draws']} draws"
        values = ", ".join(
            f"{_number(v['value'])} in {_percent(v['share'])}"
            for v in stat["values"]
            if v["value"] is not None
        )
        found += f"; {values}" if values else ""
        lines.append(f"{path} needed for {targets}: {spread(stat)} ({found})")
    if summary.get("dimensions") and summary["found_share"] < 1:
        lines.extend(_missing_lines(document))
    return lines


def _missing_lines(document: Mapping[str, Any]) -> list[str]:
    """For the draws where nothing in range meets the targets: each target's mean at the
    largest configuration (how far it misses), over those draws."""
    missing = [d for d in document["draws"] if "found" in d and not d["found"]]
    lines = []
    for i, target in enumerate(document["design"]["targets"]):
        means = sorted(d["reported"]["targets"][i]["mean"] for d in missing
                       if d["reported"]["targets"][i]["mean"] is not None)  # fmt: skip
        if means:
            lines.append(
                f"  none in range in {len(missing)} draws; {target.split()[0]} at the largest "
                f"configuration: {_number(means[0])} to {_number(means[-1])} "
                f"(median {_number(statistics.median(means))})"
            )
    return lines


def draws_lines(document: Mapping[str, Any]) -> list[str]:
    body = capacity_lines if document["kind"] == "capacity_draws" else plan_lines
    return [header(document), *body(document)]


def print_draws(document: Mapping[str, Any]) -> None:
    for line in draws_lines(document):
        print(line)
