"""The tornado workbook: Tornado (table + horizontal bar chart), Inputs, About."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..analysis.tornado import TornadoResult
from .files import write_atomic
from .workbook import add_about_sheet, add_inputs_sheet
from .xlsx import FMT_INT, fit_columns, note_cell, print_setup, put, table

SHEETS = ("Tornado", "Inputs", "About")
COLUMNS = (
    "Parameter", "Path", "Base value", "Low value", "High value", "Effective TOPS at low", "Effective TOPS at high",
    "Low - base", "High - base", "Swing", "Low status", "High status", "Note",
)


def _tornado_sheet(wb: Workbook, res: TornadoResult) -> Worksheet:
    ws = wb.create_sheet("Tornado")
    base = res.base.effective_tops or 0.0
    rows = []
    for r in res.rows:
        lo = r.low.effective_tops if r.low.ok else None
        hi = r.high.effective_tops if r.high.ok else None
        rows.append([
            r.label, r.path, r.base_value, r.low_value, r.high_value, lo, hi,
            None if lo is None else lo - base, None if hi is None else hi - base, r.swing,
            r.low.status, r.high.status, r.note,
        ])
    fmts = [None, None, "General", "General", "General", FMT_INT, FMT_INT, "+#,##0;-#,##0;0", "+#,##0;-#,##0;0", FMT_INT]
    last = table(ws, list(COLUMNS), rows, fmts)
    r0 = last + 2
    put(ws, r0, 1, "Base effective TOPS", bold=True)
    put(ws, r0, 6, res.base.effective_tops, FMT_INT, bold=True)
    note_cell(ws, r0 + 1, 1, f"Each input moved by -{res.pct:g}% and +{res.pct:g}% alone, everything else at its base value; "
                             "each end is one verified solve. Swing = highest minus lowest effective TOPS over the base "
                             "and the feasible ends. Rows with an end that has no optimal plan come first, then by swing.")
    note_cell(ws, r0 + 2, 1, "Values are clipped into the range the scenario schema allows (shares and delivery rates at "
                             "most 1, flexibility at most 10); see Note.")
    fit_columns(ws, max_width=45)
    n = len(rows)
    if n:
        ch = BarChart()
        ch.type = "bar"
        ch.grouping = "clustered"
        ch.overlap = 100
        ch.gapWidth = 40
        ch.title = f"Change in effective TOPS, each input -{res.pct:g}% / +{res.pct:g}%"
        ch.add_data(Reference(ws, min_col=8, max_col=9, min_row=1, max_row=n + 1), titles_from_data=True)
        ch.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
        ch.x_axis.scaling.orientation = "maxMin"  # largest swing at the top
        ch.x_axis.tickLblPos = "low"  # labels at the left edge, not on the zero line
        ch.y_axis.numFmt = "#,##0"
        ch.y_axis.title = "effective TOPS vs base"
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.height = max(8.5, 0.6 * n + 3)
        ch.width = 20
        ws.add_chart(ch, f"{get_column_letter(len(COLUMNS) + 2)}2")
    return ws


def build_tornado_workbook(res: TornadoResult) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _tornado_sheet(wb, res)
    loaded = res.loaded
    add_inputs_sheet(wb, loaded.scenario, loaded.applied)
    add_about_sheet(
        wb,
        scenario_path=loaded.path,
        scenario_sha256=loaded.source.sha256,
        solver=res.solver,
        solver_version=res.base.solver_version,
        applied=loaded.applied,
        extra={"Analysis": f"tornado, each input -{res.pct:g}% / +{res.pct:g}%", "Parameters": len(res.rows)},
    )
    for ws in wb.worksheets:
        print_setup(ws)
    wb.active = 0
    return wb


def write_tornado_workbook(res: TornadoResult, path: str | Path, force: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_tornado_workbook(res).save(tmp), force)
