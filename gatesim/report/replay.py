"""``replay RUN_DIR``: one self-contained HTML page animating a day of the gate.

The page holds its data (:func:`gatesim.report.replay_data.replay_data`), its script
(``replay.js`` beside this module) and its style inline: no network, no CDN. Bad input (a
missing folder, a run without visit records, a day or replication the run lacks, an
unwritable ``--out``) is one line and exit code 2, with nothing written.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gatesim.report.html import ReportParser
from gatesim.report.replay_data import ReplayError, read_replay_input, replay_data

__all__ = ["REPLAY_NAME", "build_parser", "main", "replay_page", "write_replay"]

EXIT_BAD_INPUT = 2
#: The default file name (the report links to it when it is in the folder).
REPLAY_NAME = "replay.html"
_SCRIPT = Path(__file__).with_name("replay.js")
_CSS = """
body{font:14px system-ui,"Noto Sans","Noto Sans CJK SC",sans-serif;margin:0;color:#222}
header{padding:8px 16px;background:#f4f4f4;border-bottom:1px solid #ddd}
header h1{font-size:17px;margin:0 0 4px}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center}
.clock{font:600 15px ui-monospace,monospace;padding:2px 8px;border:1px solid #bbb;border-radius:4px}
.clock small{font:12px system-ui,sans-serif;color:#555;margin-right:6px}
#scrub{width:360px}
svg{width:100%;height:auto;display:block}
.road{stroke:#c8c8c8;stroke-width:3}
.border{stroke:#b00;stroke-dasharray:6 4;stroke-width:1}
.node{fill:#999}.node.source,.node.sink{fill:#555}
.busy{stroke:#333;stroke-width:1}
.count{font:600 11px sans-serif;text-anchor:middle;fill:#222}
.label{font:9px sans-serif;text-anchor:middle;fill:#666}.lane{font:600 13px sans-serif;fill:#333}
.yard{fill:#fff;stroke:#666;stroke-width:.8}.yard-fill{fill:#8c6d31}
.spill{stroke:#D55E00;stroke-width:5;stroke-linecap:round;opacity:.8}
.spill-text{font:11px sans-serif;fill:#D55E00;text-anchor:middle}
.truck{stroke:none;opacity:.9}
.legend{font-size:12px;color:#444;padding:4px 16px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin:0 4px 0 12px}
"""


def replay_page(data: dict[str, Any]) -> str:
    """The complete page for one day's :func:`replay_data` document."""
    day, rep = data["day"], data["replication"]
    title = f"gatesim replay: {data['scenario']}, day {day}, replication {rep}"
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(title)}</h1>\n<div class=controls>\n"
        '<button id="play" type="button">▶ play</button>\n'
        '<label>speed <select id="speed"><option value="1">1 min/s</option>'
        '<option value="5">5 min/s</option><option value="10" selected>10 min/s</option>'
        '<option value="30">30 min/s</option><option value="60">1 h/s</option></select></label>\n'
        '<input id="scrub" type="range" min="0" max="1440" step="1" value="0" '
        'aria-label="time of day">\n'
        '<span class="clock"><small>Việt Nam (UTC+7)</small><span id="clock-vn"></span></span>\n'
        '<span class="clock"><small>Trung Quốc / 中国 (UTC+8)</small>'
        '<span id="clock-cn"></span></span>\n'
        '<label>colour <select id="colour"><option value="direction">direction</option>'
        '<option value="cargo">cargo</option></select></label>\n'
        "<span>trucks on the roads: <b id=moving>0</b></span>\n</div></header>\n"
        '<div class="legend">trucks: <i style="background:#E69F00"></i>export '
        '<i style="background:#0072B2"></i>import · stations: number waiting above, colour = '
        "busy servers / servers (green idle, red full), size grows with the queue · yards: bar = "
        "parking filled, orange line = spill-back on the approach road (km to scale) · "
        "dashed red line: the border</div>\n"
        '<svg id="map" role="img" aria-label="lane map"></svg>\n'
        f'<script type="application/json" id="replay-data">{payload}</script>\n'
        f"<script>{_SCRIPT.read_text(encoding='utf-8')}</script>\n</body>\n</html>\n"
    )


def write_replay(folder: Path, day: int, replication: int, out: Path | None) -> Path:
    """Write the replay page of ``folder`` (default ``folder/replay.html``)."""
    target = out if out is not None else folder / REPLAY_NAME
    if target.is_dir():
        raise ReplayError(f"--out: '{target}' is a folder; give a file name such as replay.html")
    page = replay_page(replay_data(read_replay_input(folder), day, replication))
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ReplayError(f"--out: cannot write '{target}': {exc.strerror or exc}") from None
    return target


def build_parser(prog: str = "run_sim.py replay") -> argparse.ArgumentParser:
    parser = ReportParser(
        prog=prog,
        description="Write one self-contained HTML page (works offline) animating a day of "
        "both lanes on the lane map, from a run's visit records (run with --records, or "
        "--replay-day D to keep one day only).",
    )
    parser.add_argument("folder", metavar="RUN_DIR", type=Path, help="a run's result folder")
    parser.add_argument(
        "--day",
        type=int,
        default=None,
        help="day of the run, from 0 "
        "(default: the recorded day, else the first day after the warm-up)",
    )
    parser.add_argument("--replication", type=int, default=0, help="replication (default 0)")
    parser.add_argument(
        "--out", metavar="FILE", type=Path, help="page (default RUN_DIR/replay.html)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the page path")
    return parser


def default_day(folder: Path) -> int:
    """The day a run recorded alone (``--replay-day``), else the first day after the
    warm-up (0 when the folder cannot tell)."""
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        manifest = json.loads((folder / "manifest.json").read_text())
        kept = manifest["resolved_scenario"].get("records", {}).get("visits_day")
        if kept is not None:
            return int(kept)
        summary = json.loads((folder / "summary.json").read_text())
        return int(float(summary.get("warmup_days", 0)) + 0.999999)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``replay RUN_DIR [--day D] [--replication R] [--out FILE]``: 0, or 2 on bad input."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["replay"]:
        args_list = args_list[1:]
    args = build_parser().parse_args(args_list)
    day = args.day if args.day is not None else default_day(args.folder)
    try:
        path = write_replay(args.folder, day, args.replication, args.out)
    except ReplayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path if args.quiet else f"replay of day {day} written to {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
