"""Workbook building blocks on XlsxWriter: books, sheets, safe cells, tables, print setup.

Why XlsxWriter: a formula written with openpyxl has no stored value, so
pandas, file previews and mobile viewers (which do not calculate) see blanks.
XlsxWriter stores each formula's computed value next to it
(``write_formula(..., value=...)``), and :meth:`Sheet.formula` insists on
one. openpyxl stays for reading (tests, scenario workbooks).

Rows and columns are 1-based everywhere in this package (row 1 is the first
row, column 1 is column A), as in Excel's own A1 references; :class:`Sheet`
converts to XlsxWriter's 0-based calls.

Every string that may have come from a scenario file goes through
:meth:`Sheet.put`, which writes it with ``write_string`` (never ``write``), so
it is text and never a formula; a string that starts with ``= + - @`` also
gets Excel's quote prefix, so it stays text when a user edits the cell.
Control characters that xlsx cannot hold are replaced by U+FFFD.

A :class:`Book` is built in memory and written by :meth:`Book.save`
(the callers go through :func:`optimizer.report.files.write_atomic`).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import io
import math
import os
import platform
import re
import shlex
import sys
import textwrap
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from ..xlsx_print import page_setup

# ---------------------------------------------------------------- styles
HEADER_BG = "#1F4E78"
TOTAL_BG = "#DDEBF7"
INPUT_BG = "#FFF2CC"  # cells finance may change (the FX rates)
DENY_BG = "#F8CBAD"
CAP_BG = "#FFE699"

HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_BG, "align": "center", "valign": "vcenter",
          "text_wrap": True}
TITLE = {"bold": True, "font_size": 14}
SECTION = {"bold": True, "font_size": 12, "font_color": HEADER_BG}
NOTE = {"italic": True, "font_color": "#595959"}
WARN = {"italic": True, "bold": True, "font_color": "#C00000"}
BOLD = {"bold": True}
TOTAL = {"bold": True, "bg_color": TOTAL_BG}
INPUT = {"bg_color": INPUT_BG, "border": 1, "border_color": "#BF9000"}
WRAP_TOP = {"text_wrap": True, "valign": "top"}

FMT_INT = "#,##0"
FMT_NUM = "#,##0.00"
FMT_MONEY = "#,##0"
FMT_MONEY_CENTS = "#,##0.00"
FMT_PCT = "0.0%"
FMT_RATIO = "0.00"
FMT_SMALL = "0.000000"
FMT_SHADOW = "#,##0.000000"
FMT_RATE = "0.0000"
FMT_SIGNED = "+#,##0;-#,##0;0"
FMT_GENERAL = "General"

EXCEL_INF = 1e30
EXCEL_MAX_TEXT = 32767
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")
# characters the xlsx XML cannot hold
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

# printing (optimizer.xlsx_print): A4, one page wide; landscape when the columns are wider than a portrait page
# holds at 100%
PORTRAIT_CHARS = 95  # printable width of portrait A4 (1.3 cm margins) in column-width characters
LANDSCAPE_CHARS = PORTRAIT_CHARS * 27.16 / 18.46  # the same on landscape A4 (29.7 cm less the margins, in chars)
PRINT_HEIGHT_PT = {False: 26.4 / 2.54 * 72, True: 17.7 / 2.54 * 72}  # printable height (less margins), by landscape
ROW_PT = 15.0  # default row height


class _Text(str):
    """Marker: write as a string cell with a quote prefix, even if it looks like a formula."""


def cell_text(value: Any) -> Any:
    """Return a value safe to put in a cell.

    Strings are cleaned of characters xlsx cannot store, cut to Excel's
    32,767-character limit, and marked when they could be read as a formula.
    NaN and infinity become an empty cell.
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


APPROX_EQUAL = 2.0 ** -48  # relative: spreadsheets show a - b as 0 when a and b agree this closely


def sheet_sub(a: float, b: float) -> float:
    """``a - b`` as a spreadsheet computes it: 0 when the two agree to about 14 digits (Excel and LibreOffice
    both round such a difference to exactly 0), so a Difference row that should read 0 stores 0."""
    d = a - b
    if d != 0 and abs(d) <= APPROX_EQUAL * max(abs(a), abs(b)):
        return 0.0
    return d


def sheet_sum(values: Iterable[float]) -> float:
    """``SUM`` of the values, correctly rounded (as LibreOffice's compensated SUM, unlike a plain loop)."""
    return math.fsum(values)


def col_letter(col: int) -> str:
    """1-based column number -> letters (1 -> A)."""
    return xl_col_to_name(col - 1)


def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """1-based (row, col) -> ``B7`` (``$B$7`` with ``absolute``)."""
    return xl_rowcol_to_cell(row - 1, col - 1, absolute, absolute)


def sheet_ref(sheet: str, row: int, col: int) -> str:
    """Absolute reference to one cell of another sheet: ``Inputs!$B$12`` (quoted when needed)."""
    return f"{quote_sheetname(sheet)}!{cell_ref(row, col, True)}"


def range_ref(sheet: str, first_row: int, col: int, last_row: int, last_col: int | None = None) -> str:
    """Absolute range on ``sheet``: ``Allocation!$K$2:$K$9``."""
    a = cell_ref(first_row, col, True)
    b = cell_ref(last_row, col if last_col is None else last_col, True)
    return f"{quote_sheetname(sheet)}!{a}:{b}"


def money_header(name: str, currency: str) -> str:
    """``Spend`` -> ``Spend (CNY)``: money columns carry the reporting currency in the header."""
    return f"{name} ({currency})"


def _shown(value: Any, fmt: str | None) -> str:
    """Roughly the text a spreadsheet shows for ``value`` in number format ``fmt`` (for column widths)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "FALSE"
    if isinstance(value, (int, float)):
        v = float(value)
        if fmt is None or fmt == FMT_GENERAL:
            return f"{v:,.2f}" if not v.is_integer() else f"{v:,.0f}"
        if "%" in fmt:
            decimals = len(fmt.split(".")[1].rstrip("%")) if "." in fmt else 0
            return f"{100 * v:.{decimals}f}%"
        if "E" in fmt:
            return f"{v:.0E}"
        decimals = len(re.sub(r"[^0#]", "", fmt.split(".")[1].split(";")[0])) if "." in fmt else 0
        sign = "+" if fmt.startswith("+") and v > 0 else ""
        return f"{sign}{v:,.{decimals}f}"
    return str(value)


# ---------------------------------------------------------------- table layouts
@dataclass
class TableLayout:
    """Where a data table was written on its sheet, and the values its cells hold, so other sheets can
    refer to its columns (``SUMIFS(Allocation!$K$2:$K$5, ...)``) and store what those formulas compute."""

    sheet: str
    columns: tuple[str, ...]
    first: int  # first data row
    last: int  # last data row (first - 1 when the table is empty)
    total: int  # the Total row
    rows: list[dict[str, Any]]  # per data row: the column values, formulas evaluated
    _groups: dict[tuple, dict[tuple, float]] = field(default_factory=dict)
    weight: str | None = None  # a column of weights (a plan over outcomes: the Probability column); see expected()

    def expected(self, weight: str) -> "TableLayout":
        """The same table read as an expectation: every sum weighted by the ``weight`` column
        (``SUMPRODUCT`` instead of ``SUM`` and ``SUMIFS``)."""
        return dataclasses.replace(self, _groups={}, weight=weight)

    @property
    def n(self) -> int:
        return len(self.rows)

    def col(self, name: str) -> int:
        return self.columns.index(name) + 1

    def column(self, name: str) -> str:
        """Absolute range of a column's data rows, e.g. ``Allocation!$K$2:$K$5``."""
        return range_ref(self.sheet, self.first, self.col(name), self.last)

    def total_ref(self, name: str) -> str:
        return range_ref(self.sheet, self.total, self.col(name), self.total).split(":")[0]

    def sum(self, name: str, **match: Any) -> float:
        """What SUMIFS over the column computes, with ``column=value`` criteria.

        Each (column, criteria columns) grouping is summed in one pass over the rows and kept, so the
        Summary's tables cost one pass per table, not one per row of the table.
        """
        keys = tuple(sorted(match))
        groups = self._groups.get((name, keys))
        if groups is None:
            parts: dict[tuple, list[float]] = {}
            for r in self.rows:
                v = r.get(name)
                if isinstance(v, (int, float)) and not isinstance(v, bool):  # SUMIFS skips blanks and text
                    if self.weight is not None:
                        v = v * r[self.weight]
                    parts.setdefault(tuple(r.get(c) for c in keys), []).append(v)
            groups = self._groups[(name, keys)] = {k: sheet_sum(v) for k, v in parts.items()}
        return groups.get(tuple(match[c] for c in keys), 0.0)

    def sumifs(self, name: str, criteria: Sequence[tuple[str, str]]) -> str:
        """``SUMIFS(<sheet>!$K$2:$K$5,<sheet>!$A$2:$A$5,A12,...)``; criteria are (column, cell or literal,
        matched for equality). Weighted: ``SUMPRODUCT(<column>*<weights>*(<criteria column>=A12)*...)``."""
        if self.weight is not None:
            factors = [self.column(name), self.column(self.weight)] + [f"({self.column(c)}={v})" for c, v in criteria]
            return f"SUMPRODUCT({'*'.join(factors)})"
        parts = [self.column(name)]
        for col, crit in criteria:
            parts += [self.column(col), crit]
        return f"SUMIFS({','.join(parts)})"

    def total_expr(self, name: str) -> str:
        """The column's total as a formula (no ``=``): ``SUM``, or weighted ``SUMPRODUCT``; the Total row's cell
        when the table is empty."""
        if not self.n:
            return self.total_ref(name)
        if self.weight is not None:
            return f"SUMPRODUCT({self.column(name)},{self.column(self.weight)})"
        return f"SUM({self.column(name)})"


# ---------------------------------------------------------------- book and sheets
class Book:
    """An XlsxWriter workbook built in memory, with a cache of cell formats.

    ``book.wb`` is the XlsxWriter ``Workbook`` itself, for writers that take
    one (e.g. a module that adds its own sheets); sheets added that way keep
    their creation order but get no print setup from :meth:`save`.
    """

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self._buffer,
            {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        self.sheets: list[Sheet] = []
        self._formats: dict[tuple, Any] = {}
        self.names: dict[str, str] = {}
        self._closed = False

    # sheets
    def add_sheet(self, name: str) -> "Sheet":
        if name in self.sheetnames:
            raise ValueError(f"sheet {name!r} already exists")
        sh = Sheet(self, self.wb.add_worksheet(name), name)
        self.sheets.append(sh)
        return sh

    @property
    def sheetnames(self) -> list[str]:
        return [ws.get_name() for ws in self.wb.worksheets()]

    def __getitem__(self, name: str) -> "Sheet":
        for sh in self.sheets:
            if sh.name == name:
                return sh
        raise KeyError(name)

    # formats
    def format(self, style: dict[str, Any]) -> Any:
        key = tuple(sorted(style.items()))
        f = self._formats.get(key)
        if f is None:
            f = self._formats[key] = self.wb.add_format(dict(style))
        return f

    # names
    def define_name(self, name: str, ref: str) -> None:
        """A workbook-level defined name (``FX_USD`` -> ``Inputs!$C$12``) that formulas can use."""
        if self.wb.define_name(name, "=" + ref.lstrip("=")) != 0:
            raise ValueError(f"cannot define the name {name!r} as {ref!r}")
        self.names[name] = ref.lstrip("=")

    # output
    def to_bytes(self) -> bytes:
        """Finish every sheet (widths, print setup) and return the xlsx file's bytes."""
        if not self._closed:
            for sh in self.sheets:
                sh.finish()
            if self.sheets:
                self.sheets[0].ws.activate()
            self._closed = True
            self.wb.close()
        return self._buffer.getvalue()

    def save(self, path: str) -> None:
        """Write the workbook to ``path`` (flushed to disk before returning)."""
        data = self.to_bytes()
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


class Sheet:
    """One worksheet: 1-based cell writes, remembered widths and values, print setup at the end.

    Every cell written is remembered (value and number format) so that
    column widths follow the content and later cells can be computed from
    earlier ones (:meth:`value`).
    """

    def __init__(self, book: Book, ws: Any, name: str) -> None:
        self.book = book
        self.ws = ws
        self.name = name
        self._values: dict[tuple[int, int], Any] = {}
        self._lens: dict[int, dict[int, int]] = {}  # col -> row -> characters shown
        self.widths: dict[int, float] = {}
        self.max_row = 0
        self.max_col = 0
        self.repeat_row: int | None = None
        self.landscape: bool | None = None  # None: decide from the column widths
        self.print_setup = True
        self.charts_right_to: int = 0  # last column a chart reaches (print width)
        self._wrapped: dict[int, dict[int, str]] = {}  # row -> col -> text of cells that wrap
        self._notes: list[tuple[int, int, str, dict[str, Any]]] = []
        self._heights: dict[int, float] = {}
        self._keep: list[tuple[int, int]] = []  # row blocks (a chart) that must not be split across printed pages

    # ---- low level
    def _track(self, row: int, col: int, value: Any, fmt: str | None, counts: bool, header: bool = False) -> None:
        self._values[(row, col)] = value
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, col)
        if counts and value is not None:
            text = _shown(value, fmt)
            n = max(len(x) for x in text.split("\n")) + 2 + (2 if header else 0)
            self._lens.setdefault(col, {})[row] = n

    def _fmt(self, fmt: str | None, style: dict[str, Any] | None) -> Any:
        """The cell format: the style, the number format, and top alignment (a row with wrapped text reads
        from its top line, as the wrapped cell does)."""
        props = {"valign": "top", **(style or {})}
        if fmt:
            props["num_format"] = fmt
        return self.book.format(props)

    @staticmethod
    def _check(rc: int, what: str) -> None:
        if rc == -1:
            raise ValueError(f"cannot write {what}: outside the sheet")

    def value(self, row: int, col: int) -> Any:
        """The value written at (row, col) (a formula's stored value), or None."""
        return self._values.get((row, col))

    # ---- cells
    def put(self, row: int, col: int, value: Any, fmt: str | None = None, *, bold: bool = False,
            style: dict[str, Any] | None = None, counts: bool = True) -> Any:
        """Write one value. Strings are always written as text (``write_string``), never as formulas.

        ``counts``: whether the cell widens its column (titles and notes do not).
        Returns the value as stored.
        """
        st = dict(style or {})
        if bold:
            st["bold"] = True
        v = cell_text(value)
        if v == "":
            v = None  # an empty string is an empty cell
        r, c = row - 1, col - 1
        if isinstance(v, str):
            if st.get("text_wrap"):
                self._wrapped.setdefault(row, {})[col] = str(v)
            if isinstance(v, _Text):
                st["quote_prefix"] = True
            self._check(self.ws.write_string(r, c, str(v), self._fmt(fmt, st)), f"{self.name}!{cell_ref(row, col)}")
            v = str(v)
        elif isinstance(v, bool):
            self.ws.write_boolean(r, c, v, self._fmt(fmt, st))
        elif isinstance(v, (int, float)):
            self._check(self.ws.write_number(r, c, v, self._fmt(fmt, st)), f"{self.name}!{cell_ref(row, col)}")
        elif v is None:
            if fmt or st:
                self.ws.write_blank(r, c, None, self._fmt(fmt, st))
        else:  # anything else is shown as its text
            v = cell_text(str(v))
            return self.put(row, col, v, fmt, style=st, counts=counts)
        self._track(row, col, v, fmt, counts)
        return v

    def formula(self, row: int, col: int, expr: str, value: Any, fmt: str | None = None, *, bold: bool = False,
                style: dict[str, Any] | None = None) -> Any:
        """Write a formula that we built (never scenario text) together with its computed ``value``.

        ``value`` must be what the formula evaluates to: a number, text or a
        boolean (NaN or infinity are refused), so that readers that do not
        calculate see the number.
        """
        if not expr.startswith("="):
            raise ValueError(f"not a formula: {expr!r}")
        if value is None or isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.name}!{cell_ref(row, col)}: formula {expr} needs a finite computed value, got {value!r}")
        st = dict(style or {})
        if bold:
            st["bold"] = True
        self._check(self.ws.write_formula(row - 1, col - 1, expr, self._fmt(fmt, st), value),
                    f"{self.name}!{cell_ref(row, col)}")
        self._track(row, col, value, fmt, True)
        return value

    def style_blank(self, row: int, col: int, style: dict[str, Any]) -> None:
        """Format an empty cell (e.g. the fill of a totals row)."""
        if (row, col) not in self._values:
            self.ws.write_blank(row - 1, col - 1, None, self.book.format(style))

    # ---- blocks
    def header(self, row: int, names: Sequence[str], freeze: bool = True, autofilter_rows: int | None = None) -> None:
        """Bold white-on-blue header; optionally frozen (and repeated on printed pages) and filtered."""
        for j, name in enumerate(names, start=1):
            self.put(row, j, name, style=HEADER)
            self._lens.setdefault(j, {})[row] = self._lens[j][row] + 2  # room for the filter button
        if freeze:
            self.freeze(row + 1)
            self.repeat_row = row
        if autofilter_rows is not None:
            self.ws.autofilter(row - 1, 0, row - 1 + max(autofilter_rows, 1), len(names) - 1)

    def freeze(self, first_scrolling_row: int, first_scrolling_col: int = 1) -> None:
        self.ws.freeze_panes(first_scrolling_row - 1, first_scrolling_col - 1)

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], formats: Sequence[str | None] | None = None,
              start_row: int = 1, *, freeze: bool | None = None, autofilter: bool = True) -> int:
        """Header + rows with number formats, frozen header and autofilter. Returns the last row written.

        ``freeze`` defaults to "only when the header is row 1". A sheet has one
        autofilter, so pass ``autofilter=False`` for stacked tables.
        """
        rows = list(rows)
        self.header(start_row, columns, freeze=(start_row == 1) if freeze is None else freeze,
                    autofilter_rows=len(rows) if autofilter else None)
        for i, r in enumerate(rows, start=start_row + 1):
            for j, v in enumerate(r, start=1):
                fmt = formats[j - 1] if formats and j - 1 < len(formats) else None
                self.put(i, j, v, fmt)
        return start_row + len(rows)

    def title(self, row: int, text: str) -> None:
        self.put(row, 1, text, style=TITLE, counts=False)

    def section(self, row: int, title: str, note: str | None = None) -> int:
        """A section title (and an optional grey note) above a stacked table; returns the next free row."""
        self.put(row, 1, title, style=SECTION, counts=False)
        if note:
            self.note(row + 1, 1, note)
            return row + 2
        return row + 1

    def note(self, row: int, col: int, text: str, warn: bool = False) -> None:
        """A grey italic note (dark red and bold with ``warn``) on a row of its own; notes never widen their column.

        A note longer than the printed width is wrapped across it when the sheet is finished, so it is
        neither cut at the page edge nor run off the right of the table.
        """
        style = WARN if warn else NOTE
        v = self.put(row, col, text, style=style, counts=False)
        if isinstance(v, str):
            self._notes.append((row, col, v, style))

    def wrap_across(self, row: int, col: int, style: dict[str, Any] | None = None) -> None:
        """Text already put at (row, col) that, when longer than the printed width from its column on, is wrapped
        across it when the sheet is finished (as a note is), provided the cells to its right stay empty."""
        v = self._values.get((row, col))
        if isinstance(v, str):
            self._notes.append((row, col, v, style or {}))

    def _wrap_notes(self, last_col: int) -> None:
        for row, col, text, style in self._notes:
            if last_col <= col or any((row, c) in self._values for c in range(col + 1, last_col + 1)):
                continue
            width = sum(self.width(c) for c in range(col, last_col + 1))
            if len(text) <= width:
                continue
            st = {**style, "text_wrap": True, "valign": "top", "align": "left"}
            if isinstance(cell_text(text), _Text):
                st["quote_prefix"] = True
            fmt = self.book.format(st)
            self.ws.merge_range(row - 1, col - 1, row - 1, last_col - 1, "", fmt)
            self.ws.write_string(row - 1, col - 1, text, fmt)
            lines = sum(len(textwrap.wrap(part, max(1, int(width * 1.05) - 2))) or 1 for part in text.split("\n"))
            self._heights[row] = max(self._heights.get(row, 0.0), 15.0 * lines)

    def comment(self, row: int, col: int, text: str) -> None:
        """A hover note on a cell (used to explain headers)."""
        self.ws.write_comment(row - 1, col - 1, str(cell_text(text) or ""),
                              {"author": "chipalloc", "x_scale": 2.2, "y_scale": 1.6})

    # ---- widths and printing
    def fit_columns(self, min_width: int = 8, max_width: int = 60, from_row: int = 1, to_row: int | None = None) -> None:
        """Each column as wide as its longest content in rows ``from_row``..``to_row`` (titles and notes excluded)."""
        for col, by_row in self._lens.items():
            w = [n for r, n in by_row.items() if r >= from_row and (to_row is None or r <= to_row)]
            if w:
                self.widths[col] = max(min_width, min(max_width, max(w)))

    def fit_below_header(self, header_row: int, min_width: int = 8, max_width: int = 40) -> None:
        """Columns fitted to the data under ``header_row``; a longer header wraps onto more lines instead of
        widening its column (each column stays as wide as the header's longest word), so wide tables of
        short numbers print larger."""
        self.fit_columns(min_width=min_width, max_width=max_width, from_row=header_row + 1)
        for col in range(1, self.max_col + 1):
            head = self._values.get((header_row, col))
            if isinstance(head, str) and head:
                word = max(len(w) for w in head.split()) + 3
                self.widths[col] = max(self.widths.get(col, min_width), min(max_width, word), min_width)

    def keep_together(self, first_row: int, last_row: int) -> None:
        """Print rows ``first_row``..``last_row`` (e.g. a chart's) on one page: when the page they would start on
        cannot hold them, a page break goes above them (worked out from the row heights once the sheet is finished)."""
        self._keep.append((first_row, last_row))

    def _page_breaks(self, landscape: bool) -> list[int]:
        """Rows (1-based) above which a page break keeps each block of :meth:`keep_together` on one page.

        The printed scale is one page wide (fit to width), so a page holds the printable height divided by
        that scale, less the repeated header row on every page after the first; a 5% margin absorbs the
        readers' own rounding. A block taller than a page is left to break naturally."""
        if not self._keep:
            return []
        width = self.total_width()
        page_w = LANDSCAPE_CHARS if landscape else PORTRAIT_CHARS
        scale = min(1.0, page_w / width) if width else 1.0
        page = 0.95 * PRINT_HEIGHT_PT[landscape] / scale
        repeat = self._heights.get(self.repeat_row, ROW_PT) if self.repeat_row is not None else 0.0
        starts = {a: b for a, b in self._keep}
        breaks, used = [], 0.0
        for r in range(1, self.max_row + 1):
            h = self._heights.get(r, ROW_PT)
            if r in starts and used > repeat:
                block = sum(self._heights.get(k, ROW_PT) for k in range(r, starts[r] + 1))
                if used + block > page and repeat + block <= page:
                    breaks.append(r)
                    used = repeat
            if used + h > page:
                used = repeat
            used += h
        return breaks

    def set_height(self, row: int, points: float) -> None:
        self._heights[row] = points

    def _wrap_heights(self) -> None:
        """Rows holding wrapped text get the height of their longest cell (not every reader autofits rows)."""
        for row, cells in self._wrapped.items():
            lines = 1
            for col, text in cells.items():
                per_line = max(1, int(self.width(col) * 1.1) - 1)  # text is narrower than the digit "0" a width counts
                n = sum(len(textwrap.wrap(part, per_line)) or 1 for part in text.split("\n"))
                lines = max(lines, n)
            if lines > 1 and row not in self._heights:
                self._heights[row] = 15.0 * lines

    def width(self, col: int) -> float:
        return self.widths.get(col, 8.43)

    def total_width(self, last_col: int | None = None) -> float:
        last = max(self.max_col, self.charts_right_to) if last_col is None else last_col
        return sum(self.width(c) for c in range(1, last + 1))

    def finish(self) -> None:
        """Column widths and print setup; called once by :meth:`Book.to_bytes`."""
        for col, w in sorted(self.widths.items()):
            self.ws.set_column(col - 1, col - 1, w)
        self._wrap_notes(max(self.max_col, self.charts_right_to, 1))
        self._wrap_heights()
        for row, h in sorted(self._heights.items()):
            self.ws.set_row(row - 1, h)
        if not self.print_setup:
            return
        ws = self.ws
        landscape = self.landscape if self.landscape is not None else self.total_width() > PORTRAIT_CHARS
        page_setup(ws, landscape)  # A4, one page wide, as many pages tall as needed, the footer
        breaks = self._page_breaks(landscape)
        if breaks:
            ws.set_h_pagebreaks([r - 1 for r in breaks])  # XlsxWriter: a break above the 0-based row given
        if self.repeat_row is not None:
            ws.repeat_rows(self.repeat_row - 1)
        last_col = max(self.max_col, self.charts_right_to, 1)
        ws.print_area(0, 0, max(self.max_row, 1) - 1, last_col - 1)


def chart(book: Book, kind: str, subtype: str | None = None) -> Any:
    """An XlsxWriter chart of ``kind`` (column, bar, line) with chipalloc's plain style."""
    opts: dict[str, Any] = {"type": kind}
    if subtype:
        opts["subtype"] = subtype
    ch = book.wb.add_chart(opts)
    ch.set_style(10)
    return ch


def insert_chart(sheet: Sheet, row: int, col: int, ch: Any, width_cm: float, height_cm: float,
                 x_offset_cm: float = 0.0, keep_on_page: bool = False) -> None:
    """Place a chart with its top-left corner at (row, col) (plus ``x_offset_cm``), sized in cm.

    The sheet's print area is widened and lengthened to include it. With ``keep_on_page`` a page break goes
    above the chart when the printed page it starts on cannot hold it (:meth:`Sheet.keep_together`).
    """
    px = 96 / 2.54
    ch.set_size({"width": round(width_cm * px), "height": round(height_cm * px)})
    sheet.ws.insert_chart(row - 1, col - 1, ch, {"x_offset": round(x_offset_cm * px), "object_position": 1})
    # columns the chart reaches (a column of width w characters is about 7 w + 5 pixels wide)
    left, c = (x_offset_cm + width_cm) * px, col
    while left > 0 and c < 500:
        left -= 7 * sheet.width(c) + 5
        c += 1
    sheet.charts_right_to = max(sheet.charts_right_to, c - 1)
    sheet.max_row = max(sheet.max_row, row + int(height_cm * px / 20) + 1)
    if keep_on_page:  # from the row above: a break right at the chart's top edge draws that edge on both pages
        sheet.keep_together(max(1, row - 1), row + int(height_cm * px / 20) + 1)


# ---------------------------------------------------------------- numbers and provenance
def excel_number(x: float | None) -> float:
    """Infinite allowances read 1E+30, as in Excel's reports."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return EXCEL_INF
    return x


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


def library_versions() -> dict[str, str]:
    return {"Python": platform.python_version(), "XlsxWriter": xlsxwriter.__version__}
