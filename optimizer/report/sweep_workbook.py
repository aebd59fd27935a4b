"""The sweep workbook: Sweep (one row per point, charts), Grid (two --vary), Inputs, About."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..analysis.sweep import SweepResult
from .files import write_atomic
from .workbook import add_about_sheet, add_inputs_sheet
from .xlsx import (
    FMT_INT, FMT_MONEY, FMT_PCT, HEADER_FILL, HEADER_FONT, fit_columns, money_header, note_cell, print_setup, put, table,
)

SHEETS_1D = ("Sweep", "Inputs", "About")
SHEETS_2D = ("Sweep", "Grid", "Inputs", "About")


def value_format(values: list[Any]) -> str | None:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums:
        return None
    if all(float(v).is_integer() for v in nums) and max(abs(v) for v in nums) >= 1000:
        return FMT_INT
    return "General"


def _axes(ch) -> None:
    # openpyxl 3.1 hides both axes unless told otherwise; straight lines between points (no smoothing)
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    if isinstance(ch, LineChart):
        for s in ch.series:
            s.smooth = False


def _sweep_sheet(wb: Workbook, res: SweepResult) -> Worksheet:
    s = res.loaded.scenario
    cur = s.currency
    ws = wb.create_sheet("Sweep")
    pairs = res.used_pairs()
    nv = len(res.varies)
    cols = [v.path for v in res.varies] + ["Status", "Effective TOPS", money_header("Spend", cur)]
    cols += [f"Domestic share {site}" for site in res.sites]
    cols += [f"Units {k}" for k in pairs]
    cols += ["Diagnosis", "Fixes (one number each)", "Binding constraints"]  # binding stays last
    fmts = [value_format(list(v.values)) for v in res.varies] + [None, FMT_INT, FMT_MONEY]
    fmts += [FMT_PCT] * len(res.sites) + [FMT_INT] * len(pairs) + [None, None, None]
    rows = []
    for p in res.points:
        o = p.outcome
        row: list[Any] = [p.values[v.path] for v in res.varies]
        row += [o.status, o.effective_tops, o.spend]
        row += [o.domestic_share.get(site) if o.ok else None for site in res.sites]
        row += [o.units.get(k, 0.0) if o.ok else None for k in pairs]
        d = p.diagnosis
        row += [d.sentence if d is not None else "",
                ("; ".join(f.set for f in d.fixes) or "no single-number fix") if d is not None else ""]
        row += [", ".join(o.binding) if o.ok else ""]
        rows.append(row)
    last = table(ws, cols, rows, fmts)
    n = len(rows)
    note_cell(ws, last + 2, 1, f"Each row is one verified solve ({res.solver}). Money in {cur}; domestic share on each "
                               "site's basis. A point without an optimal plan shows its status and no figures; an "
                               "infeasible one says which rules conflict (Diagnosis) and the smallest change of one "
                               "number that makes it feasible (Fixes: paste after that point's --set).")
    fit_columns(ws, max_width=40)
    if nv == 1 and n >= 1:
        anchor = get_column_letter(len(cols) + 2)
        cats = Reference(ws, min_col=1, min_row=2, max_row=n + 1)
        line = LineChart()
        line.title = "Effective TOPS"
        line.y_axis.title = "effective TOPS"
        line.x_axis.title = res.varies[0].path
        line.y_axis.numFmt = "#,##0"
        line.add_data(Reference(ws, min_col=nv + 2, min_row=1, max_row=n + 1), titles_from_data=True)
        line.set_categories(cats)
        line.legend = None
        line.height, line.width = 8.5, 17
        _axes(line)
        ws.add_chart(line, f"{anchor}2")
        if pairs:
            first_units = nv + 4 + len(res.sites)
            bar = BarChart()
            bar.type = "col"
            bar.grouping = "stacked"
            bar.overlap = 100
            bar.title = "Units by chip and site"
            bar.y_axis.title = "units"
            bar.x_axis.title = res.varies[0].path
            bar.y_axis.numFmt = "#,##0"
            bar.add_data(Reference(ws, min_col=first_units, max_col=first_units + len(pairs) - 1, min_row=1, max_row=n + 1),
                         titles_from_data=True)
            bar.set_categories(cats)
            bar.height, bar.width = 8.5, 17
            _axes(bar)
            ws.add_chart(bar, f"{anchor}20")
    return ws


def _grid_sheet(wb: Workbook, res: SweepResult) -> Worksheet:
    a, b = res.varies
    ws = wb.create_sheet("Grid")
    corner = put(ws, 1, 1, f"{a.path} \\ {b.path}")
    corner.font, corner.fill = HEADER_FONT, HEADER_FILL
    fa, fb = value_format(list(a.values)), value_format(list(b.values))
    for j, vb in enumerate(b.values, start=2):
        c = put(ws, 1, j, vb, fb)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    for i, va in enumerate(a.values, start=2):
        c = put(ws, i, 1, va, fa)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    tops = {(tuple(p.values.items())): p.outcome for p in res.points}
    diags = {(tuple(p.values.items())): p.diagnosis for p in res.points}
    not_ok = []
    for i, va in enumerate(a.values, start=2):
        for j, vb in enumerate(b.values, start=2):
            o = tops[((a.path, va), (b.path, vb))]
            put(ws, i, j, o.effective_tops if o.ok else None, FMT_INT)
            if not o.ok:
                d = diags[((a.path, va), (b.path, vb))]
                why = f" (conflict: {', '.join(d.conflict)})" if d is not None else ""
                not_ok.append(f"{a.path}={va}, {b.path}={vb}: {o.status}{why}")
    ws.freeze_panes = "B2"
    last_row, last_col = len(a.values) + 1, len(b.values) + 1
    rng = f"B2:{get_column_letter(last_col)}{last_row}"
    ws.conditional_formatting.add(
        rng,
        ColorScaleRule(start_type="min", start_color="F8696B", mid_type="percentile", mid_value=50, mid_color="FFEB84",
                       end_type="max", end_color="63BE7B"),
    )
    r = last_row + 2
    note_cell(ws, r, 1, "Effective TOPS at each point: rows are " + a.path + ", columns " + b.path
              + ". Colour: red lowest, green highest. Blank: no optimal plan.")
    for k, text in enumerate(not_ok[:50], start=1):
        note_cell(ws, r + k, 1, text)
    fit_columns(ws, max_width=30, from_row=1)
    ws.column_dimensions["A"].width = min(40, max(14, len(str(corner.value)) + 2))
    line = LineChart()
    line.title = f"Effective TOPS by {a.path}, one line per {b.path}"
    line.y_axis.title = "effective TOPS"
    line.x_axis.title = a.path
    line.y_axis.numFmt = "#,##0"
    line.add_data(Reference(ws, min_col=2, max_col=last_col, min_row=1, max_row=last_row), titles_from_data=True)
    line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last_row))
    line.height, line.width = 8.5, 17
    _axes(line)
    ws.add_chart(line, f"{get_column_letter(last_col + 2)}2")
    return ws


def build_sweep_workbook(res: SweepResult) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _sweep_sheet(wb, res)
    if len(res.varies) == 2:
        _grid_sheet(wb, res)
    loaded = res.loaded
    add_inputs_sheet(wb, loaded.scenario, loaded.applied)
    add_about_sheet(
        wb,
        scenario_path=loaded.path,
        scenario_sha256=loaded.source.sha256,
        solver=res.solver,
        solver_version=res.solver_version,
        applied=loaded.applied,
        extra={
            "Analysis": "sweep",
            "Varied": "; ".join(f"{v.path}={v.spec} ({len(v.values)} values)" for v in res.varies),
            "Points": len(res.points),
            "Points without an optimal plan": sum(not p.outcome.ok for p in res.points),
        },
    )
    for ws in wb.worksheets:
        print_setup(ws)
    wb.active = 0
    return wb


def write_sweep_workbook(res: SweepResult, path: str | Path, force: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_sweep_workbook(res).save(tmp), force)
