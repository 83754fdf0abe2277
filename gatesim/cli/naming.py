"""Run titles and default folder names that say which run it was: the scenario's name, then
``-y<year>`` for ``--year`` and one short, safe part per ``--set``, e.g.
``plan_2030-y2028-hn_vn_xray.servers_3`` for ``plan_2030.yaml --year 2028 --set
stations.hn_vn_xray.servers=3``.

Safe means the scenario name's own alphabet (letters, digits, ``_``, ``-``, ``.``), so the title
is also a folder name; a suffix longer than :data:`MAX_SUFFIX` keeps its start and ends in a
short hash of all the overrides, so two different runs never share a name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import yaml

#: The longest suffix (the scenario name itself is at most 120 characters; folders allow 255).
MAX_SUFFIX = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
#: The prefix most --set paths share, left out of the title.
_COMMON_PREFIX = "stations."


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_.") or "_"


def override_part(path: str, value: Any) -> str:
    """One ``--set PATH=VALUE`` as a safe name part: ``hn_vn_xray.servers_3``."""
    shown = path.removeprefix(_COMMON_PREFIX)
    if isinstance(value, str):
        written = value
    else:
        written = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
        written = written.removesuffix("...").strip()
    return f"{_safe(shown)}_{_safe(written)}"


def run_suffix(assignments: Sequence[tuple[str, Any]], year: int | None) -> str:
    """``-y2028-hn_vn_xray.servers_3`` (``""`` without --year and --set)."""
    parts = ([f"y{year}"] if year is not None else []) + [
        override_part(path, value) for path, value in assignments
    ]
    if not parts:
        return ""
    suffix = "-" + "-".join(parts)
    if len(suffix) <= MAX_SUFFIX:
        return suffix
    digest = hashlib.sha1(suffix.encode("utf-8")).hexdigest()[:8]
    return suffix[: MAX_SUFFIX - 9].rstrip("-_.") + "-" + digest


def titled(name: str, suffix: str) -> str:
    """The scenario name with the run's suffix (the name alone without one)."""
    return name + suffix
