"""The planning walk-through's table cells and page assembly (``scripts/planning_walkthrough.py``),
on small hand-made summaries: exact expected text, no simulation."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))  # the script imports scenario_table beside it
    path = ROOT / "scripts" / "planning_walkthrough.py"
    spec = importlib.util.spec_from_file_location("planning_walkthrough", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pw = _load_script()


def stat(mean: float, low: float | None = None, high: float | None = None) -> dict[str, object]:
    return {"mean": mean, "ci95": [low, high]}


RESPONSE = {
    "deferred_per_day": stat(14.8, 11.4, 18.0),
    "diverted_per_day": stat(8.9, 6.2, 11.7),
    "diverted_per_day.to.tan_thanh_1090_1091": stat(6.6, 4.0, 9.2),
    "diverted_per_day.to.chi_ma": stat(2.2, 1.1, 3.3),
    "diverted_per_day.to.chi_ma.1119-1120": stat(1.0, 0.0, 2.0),  # a breakdown: not a gate
    "diverted_per_day.to.new_gate": stat(0.1),  # no CI (one replication), no page name
    "value_diverted_musd_per_day": stat(0.27, 0.19, 0.36),
}


def test_response_cells_give_deferred_diverted_by_destination_and_value() -> None:
    assert pw.response_cells(RESPONSE) == [
        "15 [11, 18]",
        "9 [6, 12]<br>Tân Thanh 1090-1091 7 [4, 9]<br>Chi Ma 2 [1, 3]<br>new_gate 0",
        "0.3 [0.2, 0.4]",
    ]


def test_response_cells_list_no_destinations_when_nothing_is_diverted() -> None:
    nothing = {
        "deferred_per_day": stat(0.0, 0.0, 0.0),
        "diverted_per_day": stat(0.0, 0.0, 0.0),
        "diverted_per_day.to.chi_ma": stat(0.0, 0.0, 0.0),
        "value_diverted_musd_per_day": stat(0.0, 0.0, 0.0),
    }
    assert pw.response_cells(nothing) == ["0 [0, 0]", "0 [0, 0]", "0.0 [0.0, 0.0]"]


def test_response_cells_of_a_run_without_platform_are_dashes() -> None:
    assert pw.response_cells({"throughput_per_day": stat(700.0)}) == ["–", "–", "–"]


def test_by_destination_reads_a_diverted_cell_as_text() -> None:
    assert pw.by_destination("9 [6, 12]<br>Chi Ma 2 [1, 3]<br>Cốc Nam 0") == (
        "9 [6, 12] a day (Chi Ma 2 [1, 3], Cốc Nam 0)"
    )
    assert pw.by_destination("–") == "– a day"


def test_year_row_puts_the_response_beside_the_p95() -> None:
    kpis = {
        **RESPONSE,
        "arrived": stat(24_000.0),
        "throughput_per_day": stat(1_537.4, 1_526.0, 1_549.0),
        "time_in_system_p95_h": stat(7.94, 7.46, 8.21),
        "time_in_system_p95_h.direction.import": stat(4.86, 4.75, 4.97),
        "gate_process_time_p95_h": stat(5.55, 5.4, 5.7),
        "waiting_for_opening_mean_h": stat(0.36, 0.3, 0.42),
        "time_in_system_p95_h.1119-1120": stat(7.6),
        "time_in_system_p95_h.1088/2-1089": stat(8.3),
        "backlog_end": stat(70.2, 58.6, 81.9),
        "value_delayed_musd_h_per_day": stat(209.6),
    }
    row = pw.year_row(2026, kpis, 24.0)
    assert row == (
        "| 2026 | 1.15 | 1,000 | 1,537 [1,526, 1,549] | 7.9 [7.5, 8.2] | 4.9 [4.8, 5.0]"
        " | 5.5 [5.4, 5.7]"
        " | 15 [11, 18] | 9 [6, 12]<br>Tân Thanh 1090-1091 7 [4, 9]<br>Chi Ma 2 [1, 3]"
        "<br>new_gate 0 | 0.3 [0.2, 0.4] | 0.4 [0.3, 0.4] | 7.6 | 8.3 | 70 [59, 82] | 210 |"
    )
    assert row.count("|") == pw.YEAR_HEAD[0].count("|") == pw.YEAR_HEAD[1].count("|")


def test_hand_written_sections_are_kept_and_marked_once() -> None:
    page = "\n".join(
        [
            "# Title",
            "## 1. Generated",
            "text",
            "## By hand",
            "",
            "*Written by hand, not by the script.*",
            "kept",
            "## Caveats",
            "- generated",
        ]
    )
    kept = pw.hand_written_sections(page)
    assert kept == [
        "## By hand",
        "",
        *pw.STALE_NOTE,
        "",
        "*Written by hand, not by the script.*",
        "kept",
    ]
    assert pw.hand_written_sections("\n".join(kept)) == kept  # a second render adds nothing


def _platform_run(tmp_path: Path, registered_share: float) -> Path:
    folder = tmp_path / "h24_2030"
    folder.mkdir()
    delay = {"shift": 0.0, "dist": "triangular", "low": 720.0, "mode": 1440.0, "high": 4320.0}
    platform = {"hn": {"registered_share": registered_share, "registration_delay": delay}}
    document = {"resolved_scenario": {"platform": platform}}
    (folder / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


def test_registration_floor_names_the_shortest_registration_wait(tmp_path: Path) -> None:
    lines = pw.registration_floor(_platform_run(tmp_path, 0.667))
    assert lines[0] == "**The exports' p95 cannot reach 6 h.** 33% of the"
    assert lines[2] == "it may dispatch them (triangular(12, 24, 72) h, `registration_delay`"
    assert lines[5] == "Each of them spends at least 12 h in the system, and they are more"


def test_registration_floor_is_silent_when_few_arrive_unregistered(tmp_path: Path) -> None:
    assert pw.registration_floor(_platform_run(tmp_path, 0.96)) == []


def _summary(tmp_path: Path, deferred: float, export_p95: float) -> Path:
    kpis = {
        "deferred_per_day": stat(deferred),
        "diverted_per_day": stat(0.0),
        "time_in_system_p95_h.direction.export": stat(export_p95, 150.0, 160.0),
        "platform_held_at_report_mean": stat(610.6),
    }
    (tmp_path / "summary.json").write_text(json.dumps({"kpis": kpis}), encoding="utf-8")
    return tmp_path


def test_unseen_queue_note_when_long_export_waits_meet_no_response(tmp_path: Path) -> None:
    lines = pw.unseen_queue_note(_summary(tmp_path, 0.0, 155.3))
    assert lines[1] == "exporter defers or diverts, yet the exports' p95 is 155.3 [150.0, 160.0] h."
    assert lines[2] == "The platform's expected wait counts only the trucks it holds (at 20:00 611,"


def test_unseen_queue_note_is_silent_when_exporters_respond(tmp_path: Path) -> None:
    assert pw.unseen_queue_note(_summary(tmp_path, 16.7, 155.3)) == []
    assert pw.unseen_queue_note(_summary(tmp_path, 0.0, 5.0)) == []  # and when they need not


def _p95_run(folder: Path, p95: float, imports: float) -> None:
    folder.mkdir(parents=True)
    kpis = {pw.KPI: stat(p95), pw.IMPORT_KPI: stat(imports)}
    (folder / "summary.json").write_text(json.dumps({"kpis": kpis}), encoding="utf-8")


def test_a_scan_without_2025_reads_its_stop_from_the_2025_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check scans at 8 and 25 %/yr run beside the central one and do not run 2025 again
    (demand factor 1 at any rate): they read it, and stop at the first year above 6 h on both
    the p95 and the imports' p95."""
    ran: list[str] = []

    def fake_cli(*args: str, allowed: tuple[int, ...] = (0,)) -> int:
        out = Path(args[args.index("--out") + 1])
        ran.append(out.name)
        year = int(args[args.index("--year") + 1])
        _p95_run(out, 30.0, 7.0 if year >= 2027 else 5.0)
        return 0

    monkeypatch.setattr(pw, "cli", fake_cli)
    _p95_run(tmp_path / "check_2025", 30.0, 5.0)
    pw.scan_years(tmp_path, "check", [], [], 0.08, stop_at_target=True)
    pw.scan_years(tmp_path, "check", [], [], years=pw.YEARS[1:])
    assert ran == [
        "check_g8_2026",
        "check_g8_2027",
        *(f"check_{year}" for year in range(2026, 2031)),
    ]


def test_an_unreachable_search_names_the_busiest_stations_of_its_point_run(
    tmp_path: Path,
) -> None:
    """The busiest stations at the top of a range come from the search's own whole-gate run of
    that point (``plan_<name>/point``), not from a second run."""
    pw.write_json(tmp_path / "searches.json", [["hn_import", ".1119-1120.import", []]])
    point = tmp_path / "plan_hn_import" / "point"
    point.mkdir(parents=True)
    stations = {
        "hn_vn_imp_quarantine": {"servers": 7, "utilization": 0.86, "wait_mean_min": 189.2},
        "hn_agv": {"servers": 30, "utilization": 0.50, "wait_mean_min": 20.4},
        "tt_agv": {"servers": 12, "utilization": 0.99, "wait_mean_min": 50.0},  # another lane
    }
    (point / "summary.json").write_text(json.dumps({"stations": stations}), encoding="utf-8")
    target = {"mean": 8.15}
    plan = {"best": {"targets": [target], "values": {"stations.hn_vn_transship.servers": 340}}}
    assert pw.unreachable_note(tmp_path, "hn_import", plan) == (
        "- hn_import: **the target is not reachable within the range**: at its top"
        " (`hn_vn_transship` 340) the p95 is 8.15 h, above 6 h. Busiest stations of this part"
        " there: `hn_vn_imp_quarantine` (7) 86%, wait 189 min, `hn_agv` (30) 50%, wait 20 min."
    )
