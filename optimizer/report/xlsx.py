"""Shared workbook building blocks: styles, safe text, tables, About sheet.

Every string that may have come from a scenario file goes through
:func:`cell_text` (via :func:`put`), so it is stored as text and never as a
formula. openpyxl stores any string starting with ``=`` as a formula, and a
spreadsheet re-reads a cell starting with ``= + - @`` as a formula when a user
edits it; such strings are forced to the string type and given Excel's
"quote prefix" (the hidden leading apostrophe), so they stay text in both
cases. Control characters that the xlsx format cannot hold are replaced by
U+FFFD instead of making the save fail.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import platform
import re
import shlex
import sys
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
NOTE_FONT = Font(italic=True, color="595959")
WARN_FONT = Font(italic=True, bold=True, color="C00000")
BOLD = Font(bold=True)
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")

FMT_INT = "#,##0"
FMT_NUM = "#,##0.00"
FMT_MONEY = "#,##0"
FMT_MONEY_CENTS = "#,##0.00"
FMT_PCT = "0.0%"
FMT_RATIO = "0.00"
FMT_SMALL = "0.000000"
FMT_SHADOW = "#,##0.000000"
FMT_GENERAL = "General"

EXCEL_INF = 1e30
EXCEL_MAX_TEXT = 32767
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")
# characters the xlsx XML cannot hold (same set openpyxl rejects)
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


class _Text(str):
    """Marker: write as a string cell even if it looks like a formula."""


def cell_text(value: Any) -> Any:
    """Return a value safe to put in a cell.

    Strings are cleaned of characters xlsx cannot store, cut to Excel's
    32,767-character limit, and marked as text when they could be read as a
    formula. NaN and infinity become an empty cell.
    """
    if isinstance(value, str):
        text = _ILLEGAL.sub("\ufffd", value)
        if len(text) > EXCEL_MAX_TEXT:
            text = text[: EXCEL_MAX_TEXT - 1] + "\u2026"
        if text.startswith(_FORMULA_LEADS):
            return _Text(text)
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None, bold: bool = False):
    """Write one cell. Strings from outside are stored as text, never formulas."""
    v = cell_text(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(v, _Text):
        cell.value = str(v)
        cell.data_type = "s"
        cell.quotePrefix = True
    else:
        cell.value = v
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    return cell


def formula(ws: Worksheet, row: int, col: int, expr: str, fmt: str | None = None, bold: bool = False):
    """Write a formula we built ourselves (never from scenario text)."""
    if not expr.startswith("="):
        raise ValueError(f"not a formula: {expr!r}")
    cell = ws.cell(row=row, column=col, value=expr)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    return cell


def header(ws: Worksheet, row: int, names: Sequence[str], freeze: bool = True, autofilter_rows: int | None = None) -> None:
    """Bold white-on-blue header; optionally freeze below it and add an autofilter over ``autofilter_rows`` rows."""
    for j, name in enumerate(names, start=1):
        c = put(ws, row, j, name)
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if freeze:
        ws.freeze_panes = ws.cell(row=row + 1, column=1)
    if autofilter_rows is not None:
        last = get_column_letter(len(names))
        ws.auto_filter.ref = f"A{row}:{last}{row + max(autofilter_rows, 1)}"


def table(
    ws: Worksheet,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Sequence[str | None] | None = None,
    start_row: int = 1,
    *,
    freeze: bool | None = None,
    autofilter: bool = True,
) -> int:
    """Header + rows with number formats, frozen header and autofilter. Returns the last row written.

    ``freeze`` defaults to "only when the header is row 1". A sheet has one
    autofilter, so pass ``autofilter=False`` for the second and later tables
    stacked on one sheet.
    """
    rows = list(rows)
    header(
        ws, start_row, columns, freeze=(start_row == 1) if freeze is None else freeze,
        autofilter_rows=len(rows) if autofilter else None,
    )
    for i, r in enumerate(rows, start=start_row + 1):
        for j, v in enumerate(r, start=1):
            fmt = formats[j - 1] if formats and j - 1 < len(formats) else None
            put(ws, i, j, v, fmt)
    return start_row + len(rows)


def section(ws: Worksheet, row: int, title: str, note: str | None = None) -> int:
    """A section title (and an optional grey note under it) above a stacked table; returns the next free row."""
    c = put(ws, row, 1, title)
    c.font = SECTION_FONT
    if note:
        n = put(ws, row + 1, 1, note)
        n.font = NOTE_FONT
        return row + 2
    return row + 1


def note_cell(ws: Worksheet, row: int, col: int, text: str, warn: bool = False):
    """A grey italic note (dark red and bold with ``warn``); notes never widen their column."""
    c = put(ws, row, col, text)
    c.font = WARN_FONT if warn else NOTE_FONT
    return c


def comment(cell, text: str) -> None:
    """Attach a hover note to a cell (used to explain headers)."""
    cell.comment = Comment(str(cell_text(text) or ""), "chipalloc", width=320, height=120)


def money_header(name: str, currency: str) -> str:
    """``Spend`` -> ``Spend (CNY)``: money columns carry the reporting currency in the header."""
    return f"{name} ({currency})"


def find_column(ws: Worksheet, name: str, row: int = 1) -> int:
    """1-based column whose header in ``row`` is ``name`` or starts with ``name + ' ('`` (a unit suffix)."""
    for c in ws[row]:
        v = c.value
        if isinstance(v, str) and (v == name or v.startswith(name + " (")):
            return c.column
    raise KeyError(f"{ws.title}: no column {name!r} in row {row}")


def fit_columns(ws: Worksheet, min_width: int = 8, max_width: int = 60, from_row: int = 1, to_row: int | None = None) -> None:
    """Set each column's width to its longest content in rows ``from_row``..``to_row``.

    Titles, section titles and notes (written by :func:`section` and
    :func:`note_cell`) do not widen their column: they run on into the empty
    cells to their right.
    """
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=from_row, max_row=to_row):
        for c in row:
            if c.value is None or any(c.font == f for f in _FREE_FONTS):
                continue
            v = c.value
            if isinstance(v, bool):
                text = "FALSE"
            elif isinstance(v, float):
                text = f"{v:,.2f}"
            elif isinstance(v, int):
                text = f"{v:,}"
            else:
                text = str(v)
                if text.startswith("=") and c.data_type == "f":
                    text = "0" * 16
            lines = text.split("\n")
            widest = max(len(x) for x in lines) + 2
            if c.fill is not None and c.fill.fgColor is not None and c.fill.fgColor.rgb == HEADER_FILL.fgColor.rgb:
                widest += 2  # room for the autofilter button
            widths[c.column] = max(widths.get(c.column, 0), widest)
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(min_width, min(max_width, w))


_FREE_FONTS = (TITLE_FONT, SECTION_FONT, NOTE_FONT, WARN_FONT)


def excel_number(x: float | None) -> float:
    """Infinite allowances read 1E+30, as in Excel's reports."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return EXCEL_INF
    return x


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as a user would retype it: program name without its folder, arguments shell-quoted."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return ""
    prog = os.path.basename(argv[0]) or argv[0]
    if prog in ("__main__.py", "-m"):
        prog = "python -m optimizer"
    return " ".join([prog] + [shlex.quote(a) for a in argv[1:]])


def now_text(when: _dt.datetime | None = None) -> str:
    return (when or _dt.datetime.now()).astimezone().isoformat(timespec="seconds")


def about_items(info: dict[str, Any] | None = None, when: _dt.datetime | None = None) -> list[tuple[str, Any]]:
    """Tool, Python, time and command line, then ``info`` (which may override any of them)."""
    from .. import __version__

    base: dict[str, Any] = {
        "Tool": f"chipalloc {__version__}",
        "Python": platform.python_version(),
        "Generated at": now_text(when),
        "Command line": command_line(),
    }
    base.update(info or {})
    return list(base.items())


def _about_value(v: Any) -> Any:
    if isinstance(v, (list, tuple, dict, set)):
        return str(v)
    return v


def about_sheet(wb: Workbook, info: dict[str, Any]) -> Worksheet:
    """Key/value provenance sheet: tool version, solver, scenario hash, time, command."""
    ws = wb.create_sheet("About")
    table(ws, ["Item", "Value"], [(k, _about_value(v)) for k, v in about_items(info)])
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    fit_columns(ws, max_width=100)
    return ws


def print_setup(ws: Worksheet, landscape: bool = True) -> None:
    """Print (and PDF-export) each sheet one page wide, landscape, header row repeated."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.freeze_panes == "A2":
        ws.print_title_rows = "1:1"
