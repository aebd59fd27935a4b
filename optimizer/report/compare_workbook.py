"""The compare workbook: Compare (side by side + clustered bar charts), Inputs per scenario, About."""
from __future__ import annotations

from pathlib import Path

from ..analysis.compare import CompareResult
from .about_sheet import add_about_sheet
from .files import write_atomic
from .inputs_sheet import add_inputs_sheet
from .xlsx import FMT_INT, FMT_MONEY, FMT_PCT, Book, Sheet, chart, col_letter, insert_chart, sheet_sub

SECTIONS = {"headline": "Headline", "units": "Units", "vendor_spend": "Spend by vendor", "binding": "Binding constraints"}
FIRST_VALUE_COL = 4  # Section, Figure, Unit, then one column per scenario
CHART_W, CHART_H = 18.0, 8.5  # cm


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


def _applied(a: dict) -> str:
    return f"variant {a['variant']}" if "variant" in a else f"--set {a['set']}={a['value']}"


def _compare_sheet(book: Book, res: CompareResult) -> Sheet:
    cur = res.currency
    ws = book.add_sheet("Compare")
    labels = [c.target.label for c in res.columns]
    k = len(labels)
    cols = ["Section", "Figure", "Unit"] + labels + [f"{lab} - {labels[0]}" for lab in labels[1:]]
    rows = res.rows()
    ws.header(1, cols, freeze=True, autofilter_rows=len(rows))
    spans: dict[str, list[int]] = {}
    first = col_letter(FIRST_VALUE_COL)
    for i, r in enumerate(rows, start=2):
        ws.put(i, 1, SECTIONS[r.section])
        ws.put(i, 2, r.name)
        ws.put(i, 3, r.unit)
        spans.setdefault(r.section, []).append(i)
        fmt, dfmt = _fmt(r.unit, cur), _dfmt(r.unit, cur)
        for j, v in enumerate(r.values):
            if isinstance(v, bool):
                v = "yes" if v else "no"
            ws.put(i, FIRST_VALUE_COL + j, v, fmt)
        for j in range(1, k):
            col = FIRST_VALUE_COL + k + j - 1
            d = r.diffs[j]
            if isinstance(d, (int, float)) and not isinstance(d, bool):
                other = col_letter(FIRST_VALUE_COL + j)
                ws.formula(i, col, f"={other}{i}-{first}{i}", sheet_sub(r.values[j], r.values[0]), dfmt)  # live
            elif isinstance(d, bool):
                ws.put(i, col, "changed" if d else "")
            else:
                ws.put(i, col, d)
    last = len(rows) + 1
    ws.note(last + 2, 1, f"Each column is one verified {res.solver} solve. Differences are against {labels[0]} "
                         f"(live formulas). Money in {cur}. A scenario without an optimal plan shows its status only; an "
                         "infeasible one also says which rules conflict and the smallest one-number fixes.")
    for j, c in enumerate(res.columns):
        applied = c.target.loaded.applied
        ws.note(last + 3 + j, 1, f"{c.target.label}: {c.target.file}; applied: "
                + (", ".join(_applied(a) for a in applied) if applied else "none"))
    ws.fit_columns(max_width=40, from_row=1)
    ws.widths[1] = 20
    y = last + 4 + len(res.columns)  # charts under the table and notes, side by side
    x = 0.0
    for section, title, axis, fmt in (("units", "Units by chip and site", "units", "#,##0"),
                                      ("vendor_spend", f"Spend by vendor ({cur})", cur, "#,##0")):
        span = spans.get(section)
        if not span:
            continue
        ch = chart(book, "column")
        ch.set_title({"name": title, "name_font": {"size": 12}})
        ch.set_y_axis({"name": axis, "num_format": fmt, "major_gridlines": {"visible": True}})
        ch.set_legend({"position": "bottom"})
        for j in range(k):
            c0 = FIRST_VALUE_COL + j - 1  # 0-based
            ch.add_series({"name": ["Compare", 0, c0], "values": ["Compare", span[0] - 1, c0, span[-1] - 1, c0],
                           "categories": ["Compare", span[0] - 1, 1, span[-1] - 1, 1]})
        insert_chart(ws, y, 1, ch, CHART_W, CHART_H, x_offset_cm=x)
        x += CHART_W + 0.5
    return ws


def build_compare_workbook(res: CompareResult) -> Book:
    book = Book()
    _compare_sheet(book, res)
    for j, c in enumerate(res.columns):
        add_inputs_sheet(book, c.target.loaded.scenario, c.target.loaded.applied,
                         title="Inputs" if j == 0 else f"Inputs {j + 1}", heading=f"Scenario inputs: {c.target.label}",
                         names=j == 0)
    first = res.columns[0].target
    extra: dict = {"Analysis": "compare", "Scenarios": len(res.columns)}
    for j, c in enumerate(res.columns, start=1):
        t = c.target
        extra[f"Scenario {j}"] = f"{t.label}: {t.file} (SHA-256 {t.loaded.source.sha256}); status {c.outcome.status}" + (
            "; applied " + ", ".join(_applied(a) for a in t.loaded.applied) if t.loaded.applied else "")
    add_about_sheet(
        book,
        scenario_path=first.file,
        scenario_sha256=first.loaded.source.sha256,
        solver=res.solver,
        solver_version=next((c.outcome.solver_version for c in res.columns if c.outcome.solver_version), ""),
        applied=first.loaded.applied,
        extra=extra,
    )
    return book


def write_compare_workbook(res: CompareResult, path: str | Path, force: bool = False, unique: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_compare_workbook(res).save(tmp), force, unique)
