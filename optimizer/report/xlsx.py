"""Shared workbook building blocks: styles, safe text, tables, About sheet.

Every string that may have come from a scenario file goes through
:func:`cell_text`, so it is stored as text and never as a formula
(openpyxl would store any string starting with '=' as a formula).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
import platform
import sys
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
TOTAL_FILL = PatternFill("solid", fgColor="DDEBF7")

FMT_INT = "#,##0"
FMT_NUM = "#,##0.00"
FMT_MONEY = "#,##0"
FMT_PCT = "0.0%"
FMT_SMALL = "0.000000"
FMT_GENERAL = "General"

EXCEL_INF = 1e30
_FORMULA_LEADS = ("=", "+", "-", "@")


def cell_text(value: Any) -> Any:
    """Return a value safe to put in a cell: strings are always plain text."""
    if isinstance(value, str):
        if value.startswith(_FORMULA_LEADS) or value.startswith(("\t", "\r")):
            # a leading apostrophe-free way: openpyxl stores str as formula only if it starts with '='
            # we prefix nothing visible but force the data type to string below
            return _Text(value)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Text(str):
    """Marker: write as a string cell even if it looks like a formula."""


def put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None, bold: bool = False):
    """Write one cell. Strings from outside are stored as text, never formulas."""
    v = cell_text(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(v, _Text):
        cell.value = str(v)
        cell.data_type = "s"
    else:
        cell.value = v
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    return cell


def formula(ws: Worksheet, row: int, col: int, expr: str, fmt: str | None = None, bold: bool = False):
    """Write a formula we built ourselves (never from scenario text)."""
    assert expr.startswith("=")
    cell = ws.cell(row=row, column=col, value=expr)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = BOLD
    return cell


def header(ws: Worksheet, row: int, names: Sequence[str], freeze: bool = True, autofilter_rows: int | None = None) -> None:
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
) -> int:
    """Header + rows with number formats, frozen header and autofilter. Returns last row."""
    rows = list(rows)
    header(ws, start_row, columns, freeze=start_row == 1, autofilter_rows=len(rows))
    for i, r in enumerate(rows, start=start_row + 1):
        for j, v in enumerate(r, start=1):
            fmt = formats[j - 1] if formats and j - 1 < len(formats) else None
            put(ws, i, j, v, fmt)
    return start_row + len(rows)


def fit_columns(ws: Worksheet, min_width: int = 8, max_width: int = 60) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            v = c.value
            if isinstance(v, float):
                text = f"{v:,.2f}"
            elif isinstance(v, int):
                text = f"{v:,}"
            else:
                text = str(v)
                if text.startswith("="):
                    text = "0" * 14
            widths[c.column] = max(widths.get(c.column, 0), max(len(x) for x in text.split("\n")) + 2)
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(min_width, min(max_width, w))


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


def about_sheet(wb: Workbook, info: dict[str, Any]) -> Worksheet:
    """Key/value provenance sheet: tool version, solver, scenario hash, time, command."""
    from .. import __version__

    ws = wb.create_sheet("About")
    base = {
        "Tool": f"chipalloc {__version__}",
        "Python": platform.python_version(),
        "Generated at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "Command line": " ".join(sys.argv),
    }
    base.update(info)
    table(ws, ["Item", "Value"], [(k, v if not isinstance(v, (list, dict)) else str(v)) for k, v in base.items()])
    fit_columns(ws, max_width=100)
    return ws
