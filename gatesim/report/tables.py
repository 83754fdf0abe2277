"""Console tables in three formats: aligned text (rich), Markdown and CSV (``--format``).

A command builds rich :class:`~rich.table.Table` objects and lines of text once; this module
prints them. Aligned text written to a terminal fits the terminal; written anywhere else (a
pipe, a file, a log) it is as wide as the widest table, so no name or interval is ever cut or
wrapped.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "md", "csv")
#: The widest a table may be when the output is not a terminal (far beyond any real table).
UNBOUNDED_WIDTH = 10_000

Printable = Table | str


def plain(cell: Any) -> str:
    """A cell's text without styles."""
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_cells(table: Table) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of ``table`` as plain text."""
    header = [plain(column.header) for column in table.columns]
    columns = [[plain(cell) for cell in column.cells] for column in table.columns]
    return header, [list(row) for row in zip(*columns, strict=True)]


def wide_console(file: TextIO | None = None) -> Console:
    """A console that fits a terminal, and never cuts or wraps anywhere else."""
    stream = file or sys.stdout
    terminal = stream.isatty()
    return Console(file=stream, width=None if terminal else UNBOUNDED_WIDTH)


def print_tables(
    items: Sequence[Printable], fmt: str = "table", file: TextIO | None = None
) -> None:
    """Print tables and lines of text in ``fmt`` (``table``, ``md`` or ``csv``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown table format {fmt!r} (one of {', '.join(FORMATS)})")
    stream = file or sys.stdout
    if fmt == "table":
        console = wide_console(stream)
        for item in items:
            if isinstance(item, str):
                console.print(Text(item), soft_wrap=True)
            else:
                console.print(item)
        return
    render = markdown if fmt == "md" else comma_separated
    blocks = [render(item) if isinstance(item, Table) else _line(item, fmt) for item in items]
    stream.write("\n".join(blocks) + "\n")  # a blank line after each block, the last too


def _line(text: str, fmt: str) -> str:
    """A line between tables: a paragraph in Markdown, a comment line in CSV."""
    return f"{text}\n" if fmt == "md" else f"# {text}\n"


def markdown(table: Table) -> str:
    header, rows = table_cells(table)

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [f"**{plain(table.title)}**", ""] if table.title else []
    lines += [row(header), row(["---"] * len(header)), *(row(cells) for cells in rows)]
    if table.caption:
        lines += ["", plain(table.caption)]
    return "\n".join(lines) + "\n"


def comma_separated(table: Table) -> str:
    """One CSV block: a ``# title`` comment line, the header and the rows."""
    header, rows = table_cells(table)
    buffer = io.StringIO()
    if table.title:
        buffer.write(f"# {plain(table.title)}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if table.caption:
        buffer.write(f"# {plain(table.caption)}\n")
    return buffer.getvalue()
