"""The compare workbook: Compare (side by side + clustered bar charts), Inputs per scenario, About."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..analysis.compare import CompareResult
from .files import write_atomic
from .workbook import add_about_sheet, add_inputs_sheet
from .xlsx import FMT_INT, FMT_MONEY, FMT_PCT, fit_columns, formula, note_cell, print_setup, put, table

SECTIONS = {"headline": "Headline", "units": "Units", "vendor_spend": "Spend by vendor", "binding": "Binding constraints"}
FIRST_VALUE_COL = 4  # Section, Figure, Unit, then one column per scenario


def _fmt(unit: str, cur: str) -> str | None:
    if unit == "share":
        return FMT_PCT
    if unit == cur:
        return FMT_MONEY
    if unit in ("TOPS", "units"):
        return FMT_INT
    return None


def _dfmt(unit: str, cur: str) -> str | None:
    if unit == "share":
        return "+0.0%;-0.0%;0.0%"
    if unit in (cur, "TOPS", "units"):
        return "+#,##0;-#,##0;0"
    return None


def _compare_sheet(wb: Workbook, res: CompareResult) -> Worksheet:
    cur = res.currency
    ws = wb.create_sheet("Compare")
    labels = [c.target.label for c in res.columns]
    k = len(labels)
    cols = ["Section", "Figure", "Unit"] + labels + [f"{lab} - {labels[0]}" for lab in labels[1:]]
    rows = res.rows()
    table(ws, cols, [[SECTIONS[r.section], r.name, r.unit] + [None] * (k + max(k - 1, 0)) for r in rows])
    spans: dict[str, list[int]] = {}
    for i, r in enumerate(rows, start=2):
        spans.setdefault(r.section, []).append(i)
        fmt, dfmt = _fmt(r.unit, cur), _dfmt(r.unit, cur)
        for j, v in enumerate(r.values):
            if isinstance(v, bool):
                v = "yes" if v else "no"
            put(ws, i, FIRST_VALUE_COL + j, v, fmt)
        first = get_column_letter(FIRST_VALUE_COL)
        for j in range(1, k):
            col = FIRST_VALUE_COL + k + j - 1
            d = r.diffs[j]
            if isinstance(d, (int, float)) and not isinstance(d, bool):
                other = get_column_letter(FIRST_VALUE_COL + j)
                formula(ws, i, col, f"={other}{i}-{first}{i}", dfmt)  # live: finance can audit the difference
            elif isinstance(d, bool):
                put(ws, i, col, "changed" if d else "")
            else:
                put(ws, i, col, d)
    last = len(rows) + 1
    note_cell(ws, last + 2, 1, f"Each column is one verified {res.solver} solve. Differences are against {labels[0]} "
                               f"(live formulas). Money in {cur}. A scenario without an optimal plan shows its status only; an "
                               "infeasible one also says which rules conflict and the smallest one-number fixes.")
    for j, c in enumerate(res.columns):
        note_cell(ws, last + 3 + j, 1, f"{c.target.label}: {c.target.file}"
                  + (" with " + ", ".join(_applied(a) for a in c.target.loaded.applied) if c.target.loaded.applied else ""))
    fit_columns(ws, max_width=40, from_row=1)
    ws.column_dimensions["A"].width = 20
    anchor = get_column_letter(len(cols) + 2)
    y = 2
    for section, title, axis, fmt in (("units", "Units by chip and site", "units", "#,##0"),
                                      ("vendor_spend", f"Spend by vendor ({cur})", cur, "#,##0")):
        span = spans.get(section)
        if not span:
            continue
        ch = BarChart()
        ch.type = "col"
        ch.grouping = "clustered"
        ch.title = title
        ch.y_axis.title = axis
        ch.y_axis.numFmt = fmt
        for j in range(k):
            col = FIRST_VALUE_COL + j
            ch.add_data(Reference(ws, min_col=col, min_row=span[0], max_row=span[-1]), titles_from_data=False)
            ch.series[-1].tx = SeriesLabel(strRef=StrRef(f"'Compare'!${get_column_letter(col)}$1"))
        ch.set_categories(Reference(ws, min_col=2, min_row=span[0], max_row=span[-1]))
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.height, ch.width = 8.5, 18
        ws.add_chart(ch, f"{anchor}{y}")
        y += 18
    return ws


def _applied(a: dict) -> str:
    return f"variant {a['variant']}" if "variant" in a else f"--set {a['set']}={a['value']}"


def build_compare_workbook(res: CompareResult) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _compare_sheet(wb, res)
    for j, c in enumerate(res.columns):
        ws = add_inputs_sheet(wb, c.target.loaded.scenario, c.target.loaded.applied)
        ws.title = "Inputs" if j == 0 else f"Inputs {j + 1}"
        put(ws, 1, 1, f"Scenario inputs: {c.target.label}")
    first = res.columns[0].target
    extra: dict = {"Analysis": "compare", "Scenarios": len(res.columns)}
    for j, c in enumerate(res.columns, start=1):
        t = c.target
        extra[f"Scenario {j}"] = f"{t.label}: {t.file} (SHA-256 {t.loaded.source.sha256}); status {c.outcome.status}" + (
            "; applied " + ", ".join(_applied(a) for a in t.loaded.applied) if t.loaded.applied else "")
    add_about_sheet(
        wb,
        scenario_path=first.file,
        scenario_sha256=first.loaded.source.sha256,
        solver=res.solver,
        solver_version=next((c.outcome.solver_version for c in res.columns if c.outcome.solver_version), ""),
        applied=first.loaded.applied,
        extra=extra,
    )
    for ws in wb.worksheets:
        print_setup(ws)
    wb.active = 0
    return wb


def write_compare_workbook(res: CompareResult, path: str | Path, force: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_compare_workbook(res).save(tmp), force)
