"""The HTML report in a real browser: headless Chromium loads it offline, every image decodes.

A test-only copy of the report gets a small inline script that, on ``load``, writes into
``<body data-…>`` the number of images, the ones that failed to decode (``naturalWidth`` 0),
their natural sizes, any script or resource error and any resource fetched from anywhere but a
``data:`` URI; ``--dump-dom`` returns the DOM after the load event. A second run takes a
screenshot. Name resolution is disabled, so a report that needed the network would fail.
Skipped, with the reason, only when ``/usr/bin/chromium`` is not installed (Debian:
``apt-get install chromium``).
"""

from __future__ import annotations

import html as htmllib
import re
import subprocess
from pathlib import Path

import pytest
from test_report import COMMON, FAST, TINY, cli

from gatesim.report import html

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"
)
WINDOW = (1280, 4000)

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t !== window ? (t.tagName + ":" + (t.alt || t.src || "").slice(0, 60))
                                          : String(e.message));
}, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var b = document.body;
  b.setAttribute("data-images", String(imgs.length));
  b.setAttribute("data-broken", imgs.filter(function (i) {
    return !i.complete || i.naturalWidth === 0 || i.naturalHeight === 0;
  }).map(function (i) { return i.alt; }).join("|"));
  b.setAttribute("data-sizes", imgs.map(function (i) {
    return i.naturalWidth + "x" + i.naturalHeight;
  }).join(" "));
  b.setAttribute("data-errors", window.__errors.join("|"));
  b.setAttribute("data-external", performance.getEntriesByType("resource").map(function (r) {
    return r.name;
  }).filter(function (n) { return n.indexOf("data:") !== 0; }).join(" "));
  document.title = "LOADED";
});
</script>"""


def chromium(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolution: offline
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--virtual-time-budget=5000",
            *mode,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    (root / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (root / "tiny_fast.yaml").write_text(FAST, encoding="utf-8")
    out = root / "cmp"
    cli("compare", root / "tiny.yaml", root / "tiny_fast.yaml", *COMMON, "--out", out)
    return html.write_report(out)


def test_report_loads_offline_and_every_image_decodes(report: Path, tmp_path: Path) -> None:
    page = report.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</head>", PROBE + "\n</head>", 1), encoding="utf-8")
    done = chromium(probe, tmp_path / "profile-dom", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "<title>LOADED</title>" in dom, dom[:500]
    attrs = dict(re.findall(r'data-(images|broken|sizes|errors|external)="([^"]*)"', dom))
    expected = len(re.findall(r"<img ", page))
    assert expected >= 5
    assert int(attrs["images"]) == expected
    assert attrs["broken"] == "", htmllib.unescape(attrs["broken"])
    assert attrs["errors"] == "", htmllib.unescape(attrs["errors"])
    assert attrs["external"] == "", attrs["external"]
    sizes = [tuple(map(int, s.split("x"))) for s in attrs["sizes"].split()]
    assert len(sizes) == expected and all(w > 300 and h > 200 for w, h in sizes), sizes
    for anchor in ("scenarios", "kpis", "differences", "figures", "stations", "manifest"):
        assert f'id="{anchor}"' in dom


def test_report_screenshot_is_a_rendered_page(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    done = chromium(report, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == WINDOW
        grey = image.convert("L")
        top = grey.crop((0, 0, WINDOW[0], 1200))
        dark = sum(top.histogram()[:128])  # text and figures, not a blank page
        assert dark > 2000
        assert grey.getextrema()[0] < 50
