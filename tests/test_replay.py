"""The replay page (``run_sim.py replay RUN_DIR``): exact data extraction on a hand timeline,
one-line refusals of bad input, ``--replay-day`` records, and the page in headless Chromium.

Hand timeline (roads of 1 km at 60 km/h: 1 minute each; yard service 100 min, one dispatch
lane; gate service 10 min): trucks created at 5, 15, 25, 35 reach the yard a minute later and
are dispatched on [6, 106), [106, 206), [206, 306), [306, 406); each reaches the gate a
minute after, is served 10 minutes and clears a minute later. A fifth truck, created at 1500,
is the whole of day 1.
"""

from __future__ import annotations

import contextlib
import html as htmllib
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gatesim.cli import main as cli_main
from gatesim.report import html
from gatesim.report.replay import main as replay_main
from gatesim.report.replay_data import read_replay_input, replay_data

SCENARIO = """\
name: replay_tiny
description: A yard that holds one truck and a gate, for the replay's hand timeline.
days: 2
warmup_days: 0
seed: 3
nodes:
  src: {kind: source, side: VN}
  out: {kind: sink, side: CN}
stations:
  yard:
    type: staging_yard
    side: VN
    servers: 1
    service: {dist: deterministic, value: 100}
    params: {areas: [{name: lot, capacity: 1}]}
  gate: {side: CN, servers: 1, service: {dist: deterministic, value: 10}}
roads:
  r1: {from: src, to: yard, length_km: 1, speed_kmh: 60}
  r2: {from: yard, to: gate, length_km: 1, speed_kmh: 60}
  r3: {from: gate, to: out, length_km: 1, speed_kmh: 60}
routes:
  r: {origin: src, steps: [yard, gate], destination: out}
arrivals:
  a: {lane: L, direction: export, cargo: fruit, route: r, trace: {times: [5, 15, 25, 35, 1500]}}
"""
CHROMIUM = Path("/usr/bin/chromium")


def _quiet(call: Any, args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = call(args)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("replay")
    (root / "s.yaml").write_text(SCENARIO, encoding="utf-8")
    out = {"records": root / "rec", "day1": root / "day1", "plain": root / "plain"}
    common = ["-r", "2", "-q", "--seed", "3"]
    for name, extra in (("records", ["--records"]), ("day1", ["--replay-day", "1"]), ("plain", [])):
        code, err = _quiet(
            cli_main, ["run", str(root / "s.yaml"), *common, *extra, "--out", str(out[name])]
        )
        assert code == 0, err
    return out


def test_day_zero_is_the_hand_timeline(runs: dict[str, Path]) -> None:
    data = replay_data(read_replay_input(runs["records"]), day=0, replication=1)
    ids = [node["id"] for node in data["nodes"]]
    src, out, yard, gate = (ids.index(n) for n in ("src", "out", "yard", "gate"))
    expected = []
    for k, created in enumerate((5.0, 15.0, 25.0, 35.0)):
        start = 6.0 + 100.0 * k
        visits = [
            [yard, created + 1, start, start + 100],
            [gate, start + 101, start + 101, start + 111],
        ]
        expected.append(["export", "fruit", created, start + 112, src, out, visits])
    assert data["trucks"] == expected
    assert (data["day"], data["replication"], data["t0"]) == (0, 1, 0.0)
    yard_node = data["nodes"][yard]
    assert (yard_node["capacity"], yard_node["km_per_truck"]) == (1.0, 0.02)
    assert [ids[a] + ">" + ids[b] for a, b in data["edges"]] == [
        "src>yard",
        "yard>gate",
        "gate>out",
    ]


def test_day_one_holds_only_its_truck(runs: dict[str, Path]) -> None:
    data = replay_data(read_replay_input(runs["records"]), day=1, replication=0)
    assert [truck[2] for truck in data["trucks"]] == [1500.0]
    assert data["trucks"][0][6][0][1:] == [1501.0, 1501.0, 1601.0]
    assert data["t0"] == 1440.0


def test_replay_day_keeps_that_day_only(runs: dict[str, Path]) -> None:
    whole = replay_data(read_replay_input(runs["records"]), day=1, replication=0)
    kept = replay_data(read_replay_input(runs["day1"]), day=1, replication=0)
    assert kept["trucks"] == whole["trucks"]
    code, err = _quiet(replay_main, [str(runs["day1"]), "--day", "0"])
    assert code == 2 and err == "error: --day: 0 was not recorded (the run kept day 1 only)\n"
    code, _ = _quiet(replay_main, [str(runs["day1"]), "--out", str(runs["day1"] / "r.html")])
    assert code == 0 and "1501" in (runs["day1"] / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{plain}"], "has no visit records; run the scenario again with --records"),
        (["{missing}"], "is not a folder"),
        (["{records}", "--day", "2"], "--day: 2 is outside the run (days 0 to 1)"),
        (["{records}", "--day", "-1"], "--day: -1 is outside the run"),
        (["{records}", "--replication", "2"], "--replication: 2 has no records (recorded: 0, 1)"),
        (["{records}", "--out", "{records}/no/such/dir/r.html"], "--out: cannot write"),
        (["{records}", "--out", "{records}"], "is a folder"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    runs: dict[str, Path], args: list[str], message: str
) -> None:
    names = {**{k: str(v) for k, v in runs.items()}, "missing": str(runs["plain"]) + "_none"}
    before = sorted(p.name for p in runs["records"].iterdir())
    code, err = _quiet(replay_main, [a.format(**names) for a in args])
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert sorted(p.name for p in runs["records"].iterdir()) == before


def test_the_report_links_the_replay(runs: dict[str, Path]) -> None:
    folder = runs["records"]
    assert 'href="replay.html"' not in html.render_report(html.load_results(folder))
    assert _quiet(replay_main, [str(folder), "--day", "0"])[0] == 0
    page = html.render_report(html.load_results(folder))
    assert 'href="replay.html"' in page and 'id="fig-queues-0"' in page
    assert 'id="fig-spillback-0"' in page


# --------------------------------------------------------------------------- the browser
PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); }, true);
window.addEventListener("load", function () {
  document.body.setAttribute("data-errors", window.__errors.join("|"));
  var c = document.querySelector('[data-node="yard"] .count');
  document.body.setAttribute("data-yard", c ? c.textContent : "none");
  document.body.setAttribute("data-clock", document.getElementById("clock-vn").textContent);
});
</script>"""


def _chromium(url: str, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
    flags += ["--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND"]
    return subprocess.run(
        [str(CHROMIUM), *flags, f"--user-data-dir={profile}", "--window-size=1000,700",
         "--virtual-time-budget=3000", *mode, url],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")
def test_replay_page_runs_in_chromium(runs: dict[str, Path], tmp_path: Path) -> None:
    from PIL import Image, ImageChops

    page = tmp_path / "replay.html"
    assert _quiet(replay_main, [str(runs["records"]), "--day", "0", "--out", str(page)])[0] == 0
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</head>", PROBE + "</head>", 1))
    seen = {}
    for minute in (0, 60):
        done = _chromium(f"{probe.as_uri()}#t={minute}", tmp_path / f"p{minute}", "--dump-dom")
        assert done.returncode == 0, done.stderr[-2000:]
        attrs = dict(re.findall(r'data-(errors|yard|clock|ready)="([^"]*)"', done.stdout))
        assert attrs["errors"] == "" and attrs["ready"] == "1", htmllib.unescape(attrs["errors"])
        seen[minute] = (attrs["yard"], attrs["clock"][-5:])
    # at minute 60 trucks 1-3 wait at the yard (truck 0 is dispatched); nobody waits at 0
    assert seen == {0: ("", "00:00"), 60: ("3", "01:00")}
    shots = []
    for minute in (0, 60):
        shot = tmp_path / f"shot{minute}.png"
        done = _chromium(
            f"{page.as_uri()}#t={minute}", tmp_path / f"s{minute}", f"--screenshot={shot}"
        )
        assert done.returncode == 0, done.stderr[-2000:]
        shots.append(Image.open(shot).convert("RGB"))
    changed = ImageChops.difference(shots[0], shots[1]).getbbox()
    assert changed is not None  # the clocks, the yard's count, colour and size
    width, height = changed[2] - changed[0], changed[3] - changed[1]
    assert width * height < 0.5 * 1000 * 700  # what changed, not the whole page


def test_replay_day_outside_the_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "s.yaml"), "-q", "--replay-day", "2", "--out", str(out)]
    code, err = _quiet(cli_main, args)
    assert code == 2 and "records.visits_day (2) must be a day of the run (0 to 1)" in err
    assert err.count("\n") == 1 and not out.exists()
