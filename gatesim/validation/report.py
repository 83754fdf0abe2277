"""Tables of validation results: plain text for the console, Markdown for docs/validation.md."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gatesim.validation.suite import CheckResult

HEADER = (
    "check",
    "simulated mean",
    "95 % CI",
    "analytic",
    "rel. err",
    "±rel 95 %",
    "pass interval",
    "pass",
)


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "nan"
    return f"{x:.4f}" if abs(x) < 100 else f"{x:.2f}"


def _row(r: CheckResult) -> tuple[str, ...]:
    verdict = "yes" if r.passed else "NO"
    if r.passed and not r.in_ci95:
        verdict = "yes (outside 95 %)"
    return (
        r.name,
        _num(r.mean),
        f"[{_num(r.ci95[0])}, {_num(r.ci95[1])}]",
        _num(r.analytic),
        f"{100 * r.rel_error:+.2f} %" if r.analytic else _num(r.rel_error),
        f"{100 * r.rel_half_width:.2f} %" if math.isfinite(r.rel_half_width) else "n/a",
        f"[{_num(r.ci_pass[0])}, {_num(r.ci_pass[1])}]",
        verdict,
    )


def text_table(results: Sequence[CheckResult]) -> str:
    rows = [HEADER, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[CheckResult]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _row(r)) + " |" for r in results]
    return "\n".join(lines)


def method_table(results: Sequence[CheckResult]) -> str:
    """One row per check: what it is, replications, horizon, warm-up, loads, wall time."""
    lines = [
        "| check | model | replications | days | warm-up (days) | load ρ | wall time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    seen: set[str] = set()
    for r in results:
        if r.check in seen:
            continue
        seen.add(r.check)
        title = r.title.replace("|", "\\|")
        lines.append(
            f"| {r.check} | {title} | {r.replications} | {r.days} | {r.warmup_days:g} "
            f"| {r.load} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)
