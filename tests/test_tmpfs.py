"""Real full and read-only file systems: every command that writes fails with one line.

Each case runs the CLI inside a private mount namespace (``unshare``) on a small tmpfs: full
from the start (one page) or remounted read-only. A read-only file system refuses root too,
which ``chmod`` folders cannot show when the tests run as root. Afterwards the test lists what
the command left on that file system: nothing, beyond what was there before it ran. Where the
machine cannot mount a tmpfs (no root and no user namespaces), the cases skip and say so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "4k"  # a one-page tmpfs is full as soon as anything is written into it
CANNOT_MOUNT = 97

TINY = """\
name: tiny
days: 2
warmup_days: 0
replications: 2
nodes: {src: {kind: source}, out: {kind: sink}}
stations: {s1: {servers: 1, service: {dist: exponential, mean: 10.0}}}
routes: {r: {origin: src, steps: [s1], destination: out}}
arrivals: {a: {lane: L, direction: export, cargo: c, route: r, per_day: 60}}
"""

#: Mounts a tmpfs of size $1 at $2 (read-only if $3 is "ro", after creating the folders named
#: in $4, space-separated), runs the rest, then lists what the mount holds into $2.list.
SCRIPT = r"""
size=$1 mnt=$2 mode=$3 folders=$4; shift 4
mount -t tmpfs -o size="$size" none "$mnt" || exit 97
for f in $folders; do mkdir -p "$mnt/$f"; done
if [ "$mode" = ro ]; then mount -o remount,ro "$mnt" || exit 97; fi
"$@"; code=$?
(cd "$mnt" && find . -mindepth 1 | sort) > "$mnt.list"
exit $code
"""


def _unshare() -> list[str] | None:
    tool = shutil.which("unshare")
    if tool is None or not sys.platform.startswith("linux"):
        return None
    probe = subprocess.run(
        [
            tool,
            "-Urm",
            "sh",
            "-c",
            "mount -t tmpfs -o size=4k none /mnt 2>/dev/null || "
            "mount -t tmpfs -o size=4k none /tmp",
        ],
        capture_output=True,
    )
    return [tool, "-Urm"] if probe.returncode == 0 else None


UNSHARE = _unshare()
pytestmark = pytest.mark.skipif(
    UNSHARE is None, reason="cannot mount a tmpfs here (needs Linux with root or user namespaces)"
)


def on_tmpfs(
    tmp_path: Path, size: str, args: list[str], read_only: bool = False, folders: str = ""
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``run_sim.py ARGS`` (``{mnt}`` in ARGS is the mount) and return the process and what
    the tmpfs holds afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    assert UNSHARE is not None
    command = [sys.executable, str(ROOT / "run_sim.py"), *(a.format(mnt=mnt) for a in args)]
    done = subprocess.run(
        [
            *UNSHARE,
            "bash",
            "-c",
            SCRIPT,
            "tmpfs",
            size,
            str(mnt),
            "ro" if read_only else "rw",
            folders,
            *command,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    if done.returncode == CANNOT_MOUNT:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    listed = (tmp_path / "mnt.list").read_text().split()
    return done, listed


def assert_one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def results(tmp_path: Path, scenario: Path) -> Path:
    """A finished run on the ordinary disk, for the commands that read results."""
    out = tmp_path / "results"
    command = [sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--out", str(out)]
    subprocess.run([*command, "-q"], check=True, capture_output=True, cwd=tmp_path)
    return out


def study_commands(scenario: Path) -> dict[str, list[str]]:
    """Every command that writes a results folder, aimed at {mnt}/out."""
    s = str(scenario)
    return {
        "run": ["run", s],
        "run --jobs 2": ["run", s, "--jobs", "2"],
        "run --records": ["run", s, "--records"],
        "sweep": ["sweep", s, "--set", "stations.s1.servers=1,2"],
        "compare": ["compare", s, s],
        "capacity": ["capacity", s, "-r", "2", "--days", "6"],
    }


COMMANDS = ["run", "run --jobs 2", "run --records", "sweep", "compare", "capacity"]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path: Path, scenario: Path, name: str
) -> None:
    args = [*study_commands(scenario)[name], "--out", "{mnt}/out", "-q"]
    done, left = on_tmpfs(tmp_path, PAGE, args)
    assert_one_line(done, "--out", "No space left on device")
    assert left == []


@pytest.mark.parametrize("name", COMMANDS)
def test_a_read_only_file_system_is_refused_before_simulating(
    tmp_path: Path, scenario: Path, name: str
) -> None:
    args = [*study_commands(scenario)[name], "--out", "{mnt}/out", "-q"]
    done, left = on_tmpfs(tmp_path, "1m", args, read_only=True)
    assert_one_line(done, "--out", "Read-only file system")
    assert left == []


def test_force_over_results_on_a_read_only_file_system_keeps_them(
    tmp_path: Path, scenario: Path
) -> None:
    args = ["run", str(scenario), "--out", "{mnt}/out", "--force", "-q"]
    done, left = on_tmpfs(tmp_path, "1m", args, read_only=True, folders="out/old")
    assert_one_line(done, "--out", "Read-only file system")
    assert left == ["./out", "./out/old"]


@pytest.mark.parametrize("target", ["{mnt}/report.html", "{mnt}/sub/report.html"])
def test_report_onto_a_read_only_file_system_is_one_line(
    tmp_path: Path, results: Path, target: str
) -> None:
    done, left = on_tmpfs(tmp_path, "1m", ["report", str(results), "--out", target], True)
    assert_one_line(done, "--out", "Read-only file system")
    assert left == []


def test_report_onto_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path: Path, results: Path
) -> None:
    done, left = on_tmpfs(tmp_path, PAGE, ["report", str(results), "--out", "{mnt}/r.html"])
    assert_one_line(done, "--out", "No space left on device")
    assert left == []
