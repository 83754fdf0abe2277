"""Signals and dead parents: no worker outlives its run, Ctrl-C is one line and exit 130.

Each test starts ``run_sim.py run`` in a new session (its own process group), waits until the
worker processes exist, then interrupts the whole group (what Ctrl-C in a terminal does) or
kills the parent hard, and checks who is still alive. Linux only (reads /proc).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORPHAN_LIMIT_S = 5.0
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

#: Each replication takes a few seconds, and there are many: the run is still busy when the
#: signal arrives.
LONG = """\
name: long
days: 600
replications: 60
records: {trucks: false}
nodes: {src: {kind: source}, out: {kind: sink}}
stations: {s1: {servers: 3, service: {dist: exponential, mean: 1.0}}}
routes: {r: {origin: src, steps: [s1], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 2000}}
"""


def group_members(pgid: int) -> set[int]:
    """Live (not zombie) processes whose process group is ``pgid``."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.add(int(entry.name))
    return members


def start(tmp_path: Path, *executor: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG, encoding="utf-8")
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "run",
            str(scenario),
            "-q",
            "--out",
            str(tmp_path / "out"),
            *executor,
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_workers(
    run: subprocess.Popen[str], count: int, store: Path, timeout: float = 180.0
) -> None:
    """Until ``count`` workers run and a first replication is stored: the run is under way
    (past the start of a Dask cluster, during which Ctrl-C is held back)."""
    deadline = time.monotonic() + timeout
    while len(group_members(run.pid)) < count + 1 or not any(store.glob("*/*")):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the run did not get under way"
        time.sleep(0.2)


def survivors_after(pgid: int, limit: float) -> set[int]:
    deadline = time.monotonic() + limit
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return group_members(pgid)


def cleanup(pgid: int) -> None:
    for pid in group_members(pgid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("executor", "workers"), [(("--jobs", "2"), 2), (("--dask", "local", "--jobs", "2"), 2)]
)
def test_ctrl_c_to_the_group_is_one_line_exit_130_and_leaves_no_process(
    tmp_path: Path, executor: tuple[str, ...], workers: int
) -> None:
    run = start(tmp_path, *executor)
    try:
        wait_for_workers(run, workers, tmp_path / "out.partial")
        os.killpg(run.pid, signal.SIGINT)
        _out, err = run.communicate(timeout=60)
        assert run.returncode == 130, err
        lines = err.splitlines()
        assert "Traceback" not in err and lines[-1].startswith("interrupted: "), err
        assert len(lines) == 1, err  # Dask's workers too: their cancellations are ours
        assert survivors_after(run.pid, ORPHAN_LIMIT_S) == set()
        assert not (tmp_path / "out").exists()
    finally:
        cleanup(run.pid)


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    run = start(tmp_path, "--jobs", "2")
    try:
        wait_for_workers(run, 2, tmp_path / "out.partial")
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        assert survivors_after(run.pid, ORPHAN_LIMIT_S) == set()
    finally:
        cleanup(run.pid)
