"""The report's pointer to the replay page, when one is in the result folder."""

from __future__ import annotations

import html
from pathlib import Path

__all__ = ["replay_section"]


def replay_section(folder: Path) -> str:
    """A short section linking every ``*replay*.html`` page of ``folder`` ('' when none)."""
    pages = sorted(p.name for p in folder.glob("*replay*.html") if p.is_file())
    if not pages:
        return ""
    links = "".join(
        f'<li><a href="{html.escape(name)}">{html.escape(name)}</a></li>' for name in pages
    )
    return (
        '<section id="replay">\n<h2>Replay</h2>\n<p>An animated day of the gate (trucks on the '
        "roads, queues, yards and spill-back; written by <code>run_sim.py replay</code>), "
        f"beside this report:</p><ul>{links}</ul>\n</section>\n"
    )
