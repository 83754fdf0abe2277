"""Labels people read: every station and node of the shipped scenarios has an English and a
Vietnamese name (with diacritics), the Chinese side also a Chinese one; the figures' font has
every glyph of the names figures draw; a wrong language key is one line and exit 2."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from gatesim.cli import main
from gatesim.model.loading import load_scenario
from gatesim.report.language import readable, use_language
from gatesim.report.network_plot import LANE_CROSSINGS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(glob.glob(str(ROOT / "scenarios" / "*.yaml")))


def _named() -> list[tuple[str, str, str, dict[str, str]]]:
    """(file, name, side, labels) of every station and node of every shipped scenario."""
    rows = []
    for path in SCENARIOS:
        scenario = load_scenario(path)
        for name, spec in {**scenario.stations, **scenario.nodes}.items():
            rows.append((Path(path).name, name, spec.side, dict(spec.labels)))
    return rows


def _chinese_side(name: str, side: str) -> bool:
    return side == "CN" or "_cn_" in name


def test_every_station_and_node_has_readable_names() -> None:
    missing = []
    for file, name, side, labels in _named():
        wanted = {"en", "vi"} | ({"zh"} if _chinese_side(name, side) else set())
        if not wanted <= set(labels):
            missing.append((file, name, sorted(wanted - set(labels))))
    assert missing == []


def test_vietnamese_names_carry_diacritics_and_chinese_names_are_chinese() -> None:
    for _, name, _, labels in _named():
        assert any(ord(c) > 127 for c in labels["vi"]), (name, labels["vi"])
        if "zh" in labels:
            assert any("\u4e00" <= c <= "\u9fff" for c in labels["zh"]), (name, labels["zh"])


def _font_charmap() -> set[int]:
    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    return set(FT2Font(path).get_charmap())


def test_the_figure_font_has_every_glyph_figures_draw() -> None:
    charmap = _font_charmap()
    drawn = {c for _, _, _, labels in _named() for key in ("en", "vi") for c in labels[key]}
    drawn |= {c for crossing in LANE_CROSSINGS.values() for c in crossing}
    drawn |= set("← Việt Nam (Lạng Sơn)")
    assert sorted(c for c in drawn if ord(c) not in charmap) == []
    # Chinese is why figures never draw zh: the font has none of it.
    assert not any(ord(c) in charmap for c in "友谊关浦寨")


def test_figures_use_vietnamese_or_english_never_chinese() -> None:
    labels = {"en": "VN customs X-ray scanner", "vi": "Máy soi hải quan", "zh": "海关"}
    assert readable(labels, "hn_vn_xray") == "VN customs X-ray scanner"
    with use_language("vi"):
        assert readable(labels, "hn_vn_xray") == "Máy soi hải quan"
        assert readable({"zh": "海关"}, "hn_cn_inspection") == "hn_cn_inspection"


def test_unknown_label_language_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: " + str(ROOT / "scenarios" / "baseline.yaml") + "\n"
        "stations:\n  hn_vn_xray: {labels: {fr: 'scanner'}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(bad), "--allow-path", str(ROOT / "scenarios")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml" in err and "labels" in err and "fr" in err


def test_scenario_files_and_the_report_point_to_the_sources() -> None:
    from gatesim.report.html import MODEL_NOTE

    files = SCENARIOS + sorted(glob.glob(str(ROOT / "scenarios" / "parts" / "*.yaml")))
    citing = [Path(f) for f in files if "[s " in Path(f).read_text(encoding="utf-8")]
    assert citing
    assert [f.name for f in citing if "docs/sources.md" not in f.read_text(encoding="utf-8")] == []
    assert "docs/sources.md" in MODEL_NOTE
