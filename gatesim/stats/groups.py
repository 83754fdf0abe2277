"""Stream indices grouped by the breakdown suffixes the KPIs use."""

from __future__ import annotations

from gatesim.core.results import RunResult


def stream_groups(result: RunResult, by_cargo: bool = True) -> dict[str, list[int]]:
    """Stream indices by breakdown suffix ('' = all streams): lane, lane and direction,
    direction, and (with ``by_cargo``) cargo class."""
    groups: dict[str, list[int]] = {"": list(range(len(result.streams)))}
    for i, info in enumerate(result.streams):
        keys = [f".{info.lane}", f".{info.lane}.{info.direction}", f".direction.{info.direction}"]
        if by_cargo:
            keys.append(f".cargo.{info.cargo}")
        for key in keys:
            groups.setdefault(key, []).append(i)
    return groups
