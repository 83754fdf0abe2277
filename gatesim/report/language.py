"""The report's language (``report --lang vi|en``): headings, table headers and KPI names in
Vietnamese, or English (the default, and the fallback for any text without a translation).

The language is a context variable set around one rendering (:func:`use_language`), so figures
and tables built anywhere below ``render_report`` read it without threading an argument through
every function. Vietnamese text is written with its diacritics; DejaVu Sans (matplotlib's
default font) has every glyph, which :mod:`tests.test_labels` checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

LANGUAGES = ("en", "vi")
_LANGUAGE: ContextVar[str] = ContextVar("gatesim_report_language", default="en")

#: Headings, table headers and page text (English -> Vietnamese).
VI_TEXT: dict[str, str] = {
    "gatesim report": "Báo cáo gatesim",
    "Capacity search": "Tìm cấu hình năng lực rẻ nhất",
    "Scenarios and assumptions": "Kịch bản và giả định",
    "Scenario and assumptions": "Kịch bản và giả định",
    "Key performance indicators": "Các chỉ số hiệu quả (KPI)",
    "What each scenario can carry (capacity)": "Năng lực thông qua của từng kịch bản",
    "Paired differences": "Chênh lệch theo cặp",
    "Sweep": "Quét tham số",
    "Figures": "Biểu đồ",
    "Stations": "Các trạm",
    "Reproducibility (manifest)": "Khả năng tái lập (manifest)",
    "KPI glossary": "Giải thích các KPI",
    "What differs from the first scenario": "Khác biệt so với kịch bản đầu tiên",
    "single scenario": "một kịch bản",
    "KPI": "KPI",
    "KPI (mean [95 % CI] over replications)": "KPI (trung bình [KTC 95 %] qua các lần lặp)",
    "lane": "làn",
    "direction": "chiều",
    "scenario": "kịch bản",
    "offered / day": "nhu cầu / ngày",
    "capacity / day": "năng lực / ngày",
    "replications": "số lần lặp",
    "cost": "chi phí",
    "verdict": "kết luận",
    "point": "điểm",
    "seed": "hạt giống ngẫu nhiên",
    "saturated entry": "đầu vào bão hòa",
    "demand ramp": "tăng dần nhu cầu",
    "agree": "khớp",
    "unit": "đơn vị",
    "meaning": "ý nghĩa",
    "field": "trường",
    "value": "giá trị",
}

#: KPI names by KPI key (the base of ``throughput_per_day.1119-1120.export``).
VI_KPI: dict[str, str] = {
    "throughput_per_day": "Số xe thông quan mỗi ngày",
    "time_in_system_mean_h": "Thời gian trong hệ thống, trung bình (giờ)",
    "time_in_system_p50_h": "Thời gian trong hệ thống, trung vị (giờ)",
    "time_in_system_p90_h": "Thời gian trong hệ thống, p90 (giờ)",
    "time_in_system_p95_h": "Thời gian trong hệ thống, p95 (giờ)",
    "time_in_system_max_h": "Thời gian trong hệ thống, tối đa (giờ)",
    "backlog_end": "Số xe còn trong hệ thống khi kết thúc",
    "backlog_at_report_mean": "Xe tồn đọng lúc báo cáo, trung bình (xe)",
    "backlog_at_report_max": "Xe tồn đọng lúc báo cáo, tối đa (xe)",
    "spillback_km_max": "Hàng xe tràn ra đường dẫn, tối đa (km)",
    "truck_hours_queued_per_day": "Giờ-xe xếp hàng mỗi ngày (giờ)",
    "idle_fuel_l_per_day": "Nhiên liệu nổ máy chờ mỗi ngày (lít)",
    "co2_t_per_day": "CO₂ do nổ máy chờ mỗi ngày (tấn)",
    "transshipment_cny_per_day": "Chi phí sang tải mỗi ngày (CNY)",
    "value_cleared_musd_per_day": "Giá trị hàng thông quan mỗi ngày (triệu USD)",
    "value_delayed_musd_h_per_day": "Giá trị hàng bị chậm mỗi ngày (triệu USD × giờ)",
    "arrived": "Số xe đến (cả lượt chạy)",
    "cleared": "Số xe thông quan (cả lượt chạy)",
    "lost": "Số xe bị loại (cả lượt chạy)",
    "reneged_per_day": "Số xe bỏ hàng chờ mỗi ngày",
    "balked_per_day": "Số xe không vào hàng chờ mỗi ngày",
    "offered_per_day": "Số xe có nhu cầu qua mỗi ngày",
    "cleared_share": "Tỷ lệ xe được thông quan",
    "backlog_growth_per_day": "Mức tăng tồn đọng lúc báo cáo (xe mỗi ngày)",
}

#: Station figures (``station.<name>.<figure>``).
VI_STATION: dict[str, str] = {
    "utilization": "hiệu suất sử dụng",
    "wait_mean_min": "thời gian chờ trung bình (phút)",
    "queue_mean": "hàng chờ trung bình (xe)",
    "queue_max": "hàng chờ tối đa (xe)",
    "arrived_measured": "số xe đến sau giai đoạn khởi động",
    "blocking_share": "tỷ lệ thời gian bị chặn",
    "overtime_hours": "giờ làm ngoài giờ (giờ)",
    "spillback_km_max": "tràn hàng, tối đa (km)",
}


def language() -> str:
    """The language of the report being rendered (``en`` outside :func:`use_language`)."""
    return _LANGUAGE.get()


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Render in ``lang`` inside the block."""
    if lang not in LANGUAGES:
        raise ValueError(f"--lang: unknown language '{lang}' (one of {', '.join(LANGUAGES)})")
    token = _LANGUAGE.set(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def tr(text: str) -> str:
    """``text`` in the report's language (itself when there is no translation)."""
    return VI_TEXT.get(text, text) if language() == "vi" else text


def kpi_name(key: str, english: str) -> str:
    """A KPI's name in the report's language (``english`` when it has no translation)."""
    return VI_KPI.get(key, english) if language() == "vi" else english


def station_figure_name(figure: str, english: str) -> str:
    return VI_STATION.get(figure, english) if language() == "vi" else english


def readable(labels: Mapping[str, str] | None, fallback: str) -> str:
    """A station's or node's name for figures in the report's language: its ``labels`` entry
    (``vi``, else ``en``), else ``fallback``. Never Chinese: the figures' font (DejaVu Sans) has
    no CJK glyphs, so ``zh`` names appear in the HTML only, where the browser's fonts draw them."""
    labels = labels or {}
    order = ("vi", "en") if language() == "vi" else ("en",)
    return next((labels[key] for key in order if labels.get(key)), fallback)
