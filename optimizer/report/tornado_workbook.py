"""The tornado workbook: Tornado (table + horizontal bar chart), Inputs, About."""
from __future__ import annotations

from pathlib import Path

from ..analysis.tornado import TornadoResult
from .about_sheet import add_about_sheet, applied_summary
from .files import write_atomic
from .inputs_sheet import add_inputs_sheet
from .sweep_workbook import value_format
from .xlsx import FMT_INT, FMT_SIGNED, Book, Sheet, chart, insert_chart, sheet_sub

SHEETS = ("Tornado", "Inputs", "About")
COLUMNS = (
    "Parameter", "Path", "Base value", "Low value", "High value", "Effective TOPS at low", "Effective TOPS at high",
    "Low - base", "High - base", "Swing", "Low status", "High status", "Note",
)


def _tornado_sheet(book: Book, res: TornadoResult) -> Sheet:
    ws = book.add_sheet("Tornado")
    base = res.base.effective_tops or 0.0
    ws.header(1, COLUMNS, freeze=True, autofilter_rows=len(res.rows))
    for i, r in enumerate(res.rows, start=2):
        lo = r.low.effective_tops if r.low.ok else None
        hi = r.high.effective_tops if r.high.ok else None
        vfmt = value_format([r.base_value, r.low_value, r.high_value])  # 36,000,000,000 or 0.6, per parameter
        values = [r.label, r.path, r.base_value, r.low_value, r.high_value, lo, hi, None, None, r.swing,
                  r.low.status, r.high.status, r.note]
        fmts = [None, None, vfmt, vfmt, vfmt, FMT_INT, FMT_INT, FMT_SIGNED, FMT_SIGNED, FMT_INT, None, None, None]
        for j, (v, f) in enumerate(zip(values, fmts), start=1):
            ws.put(i, j, v, f)
        # the differences are live: end minus the base figure under the table
        base_cell = f"$F${len(res.rows) + 3}"
        if lo is not None:
            ws.formula(i, 8, f"=F{i}-{base_cell}", sheet_sub(lo, base), FMT_SIGNED)
        if hi is not None:
            ws.formula(i, 9, f"=G{i}-{base_cell}", sheet_sub(hi, base), FMT_SIGNED)
    n = len(res.rows)
    r0 = n + 3
    ws.put(r0, 1, "Base effective TOPS", bold=True, counts=False)
    ws.put(r0, 6, res.base.effective_tops, FMT_INT, bold=True)
    ws.note(r0 + 1, 1, f"Each input moved by -{res.pct:g}% and +{res.pct:g}% alone, everything else at its base value; "
                       "each end is one verified solve. Swing = highest minus lowest effective TOPS over the base "
                       "and the feasible ends. Rows with an end that has no optimal plan come first, then by swing.")
    ws.note(r0 + 2, 1, "Values are clipped into the range the scenario schema allows (shares and delivery rates at "
                       "most 1, flexibility at most 10); see Note.")
    ws.note(r0 + 3, 1, "Applied to the base (before each swing): " + applied_summary(res.loaded.applied))
    ws.fit_columns(max_width=45)
    if n:
        ch = chart(book, "bar")
        ch.set_title({"name": f"Change in effective TOPS, each input -{res.pct:g}% / +{res.pct:g}%",
                      "name_font": {"size": 12}})
        for c in (7, 8):  # Low - base, High - base (0-based columns H, I)
            ch.add_series({"name": ["Tornado", 0, c], "values": ["Tornado", 1, c, n, c],
                           "categories": ["Tornado", 1, 0, n, 0], "overlap": 100, "gap": 40})
        # largest swing at the top; labels at the left edge, not on the zero line
        ch.set_y_axis({"reverse": True, "label_position": "low"})
        ch.set_x_axis({"name": "effective TOPS vs base", "num_format": "#,##0", "major_gridlines": {"visible": True}})
        ch.set_legend({"position": "bottom"})
        insert_chart(ws, r0 + 5, 1, ch, 20.0, max(8.5, 0.6 * n + 3))
    return ws


def build_tornado_workbook(res: TornadoResult) -> Book:
    book = Book()
    _tornado_sheet(book, res)
    loaded = res.loaded
    add_inputs_sheet(book, loaded.scenario, loaded.applied)
    add_about_sheet(
        book,
        scenario_path=loaded.path,
        scenario_sha256=loaded.source.sha256,
        solver=res.solver,
        solver_version=res.base.solver_version,
        applied=loaded.applied,
        extra={"Analysis": f"tornado, each input -{res.pct:g}% / +{res.pct:g}%", "Parameters": len(res.rows)},
    )
    return book


def write_tornado_workbook(res: TornadoResult, path: str | Path, force: bool = False, unique: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_tornado_workbook(res).save(tmp), force, unique)
