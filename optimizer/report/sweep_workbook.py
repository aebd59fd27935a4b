"""The sweep workbook: Sweep (one row per point, charts), Grid (two --vary), Inputs, About."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.sweep import SweepResult
from .about_sheet import add_about_sheet, applied_summary
from .files import write_atomic
from .inputs_sheet import add_inputs_sheet
from .whatif_out import method_lines, vary_notes
from .xlsx import (
    FMT_GENERAL, FMT_INT, FMT_MONEY, FMT_NUM, FMT_PCT, HEADER, WRAP_TOP, Book, Sheet, chart, insert_chart, money_header,
)

SHEETS_1D = ("Sweep", "Inputs", "About")
SHEETS_2D = ("Sweep", "Grid", "Inputs", "About")
CHART_W, CHART_H = 17.0, 8.5  # cm


def value_format(values: list[Any]) -> str | None:
    """Thousands separators for large values (``36,000,000,000``), plain digits for small ones (0.6, 1600)."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums:
        return None
    if max(abs(v) for v in nums) >= 1000:
        return FMT_INT if all(float(v).is_integer() for v in nums) else FMT_NUM
    return FMT_GENERAL


def applied_line(res_loaded) -> str:
    """``Applied to every point: variant rich; --set chips.b.unit_price=9`` (or ``... none``)."""
    return "Applied to every point (before the varied values): " + applied_summary(res_loaded.applied)


def _x_axis(title: str, values: list[Any]) -> dict[str, Any]:
    """The varied value on the category axis, in the same number format as its column."""
    fmt = value_format(values)
    return {"name": title, **({"num_format": fmt} if fmt and fmt != FMT_GENERAL else {})}


def _line_chart(book: Book, title: str, x_title: str, x_values: list[Any]) -> Any:
    ch = chart(book, "line")
    ch.set_title({"name": title, "name_font": {"size": 12}})
    ch.set_y_axis({"name": "effective TOPS", "num_format": "#,##0", "major_gridlines": {"visible": True}})
    ch.set_x_axis(_x_axis(x_title, x_values))
    return ch


def _sweep_sheet(book: Book, res: SweepResult) -> Sheet:
    s = res.loaded.scenario
    cur = s.currency
    ws = book.add_sheet("Sweep")
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
    last = ws.table(cols, rows, fmts)
    n = len(rows)
    for i, row in enumerate(rows, start=2):  # long text wraps in its column instead of running off the page
        for j in range(len(cols) - 2, len(cols) + 1):
            ws.put(i, j, row[j - 1], style=WRAP_TOP)
    how = " ".join(method_lines(res)[:1])
    ws.note(last + 2, 1, f"{how[0].upper()}{how[1:]}. Money in {cur}; domestic share on each "
                         "site's basis. A point without an optimal plan shows its status and no figures; an "
                         "infeasible one says which rules conflict (Diagnosis) and the smallest change of one "
                         "number that makes it feasible (Fixes: paste after that point's --set).")
    ws.note(last + 3, 1, applied_line(res.loaded))
    at = last + 4
    if res.partial:
        ws.note(at, 1, partial_note(res))
        at += 1
    bp_rows = _breakpoints_table(ws, res, at + 1) if res.breakpoints else None
    if bp_rows is not None:
        at = bp_rows[1] + 1
    ws.fit_columns(max_width=40)
    if nv == 1 and n >= 1:
        # charts under the table: the sheet prints one page wide and the charts stay readable
        at += 1
        cats = ["Sweep", 1, 0, n, 0]
        values = list(res.varies[0].values)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            # the varied number on a value axis: points where they are, breakpoints marked where they fall
            line = chart(book, "scatter", "straight_with_markers")
            line.set_title({"name": "Effective TOPS", "name_font": {"size": 12}})
            line.set_y_axis({"name": "effective TOPS", "num_format": "#,##0", "major_gridlines": {"visible": True}})
            line.set_x_axis(_x_axis(res.varies[0].path, values))
        else:
            line = _line_chart(book, "Effective TOPS", res.varies[0].path, values)
        line.add_series({"name": ["Sweep", 0, nv + 1], "values": ["Sweep", 1, nv + 1, n, nv + 1], "categories": cats,
                         "marker": {"type": "circle", "size": 5}, "smooth": False})
        if bp_rows is not None:
            first, lastr = bp_rows
            line.add_series({"name": "Breakpoints", "categories": ["Sweep", first - 1, 0, lastr - 1, 0],
                             "values": ["Sweep", first - 1, 2, lastr - 1, 2], "line": {"none": True},
                             "marker": {"type": "diamond", "size": 8, "fill": {"color": "#C00000"},
                                        "border": {"color": "#C00000"}}})
            line.set_legend({"position": "bottom", "delete_series": [0]})
        else:
            line.set_legend({"none": True})
        insert_chart(ws, at, 1, line, CHART_W, CHART_H)
        if pairs:
            first_units = nv + 3 + len(res.sites)  # 0-based column of the first Units column
            bar = chart(book, "column", "stacked")
            bar.set_title({"name": "Units by chip and site", "name_font": {"size": 12}})
            bar.set_y_axis({"name": "units", "num_format": "#,##0", "major_gridlines": {"visible": True}})
            bar.set_x_axis(_x_axis(res.varies[0].path, list(res.varies[0].values)))
            bar.set_legend({"position": "bottom"})
            for j in range(len(pairs)):
                c = first_units + j
                bar.add_series({"name": ["Sweep", 0, c], "values": ["Sweep", 1, c, n, c], "categories": cats, "gap": 60})
            insert_chart(ws, at, 1, bar, CHART_W, CHART_H, x_offset_cm=CHART_W + 0.5)
    return ws


def _grid_sheet(book: Book, res: SweepResult) -> Sheet:
    a, b = res.varies
    ws = book.add_sheet("Grid")
    ws.put(1, 1, f"{a.path} \\ {b.path}", style=HEADER, counts=False)
    fa, fb = value_format(list(a.values)), value_format(list(b.values))
    for j, vb in enumerate(b.values, start=2):
        ws.put(1, j, vb, fb, style=HEADER)
    for i, va in enumerate(a.values, start=2):
        ws.put(i, 1, va, fa, style=HEADER)
    tops = {(tuple(p.values.items())): p.outcome for p in res.points}
    diags = {(tuple(p.values.items())): p.diagnosis for p in res.points}
    not_ok = []
    for i, va in enumerate(a.values, start=2):
        for j, vb in enumerate(b.values, start=2):
            o = tops.get(((a.path, va), (b.path, vb)))
            if o is None:  # a partial sweep: this point was not solved
                continue
            ws.put(i, j, o.effective_tops if o.ok else None, FMT_INT)
            if not o.ok:
                d = diags[((a.path, va), (b.path, vb))]
                why = f" (conflict: {', '.join(d.conflict)})" if d is not None else ""
                not_ok.append(f"{a.path}={va}, {b.path}={vb}: {o.status}{why}")
    ws.freeze(2, 2)
    ws.repeat_row = 1
    last_row, last_col = len(a.values) + 1, len(b.values) + 1
    ws.ws.conditional_format(1, 1, last_row - 1, last_col - 1, {
        "type": "3_color_scale", "min_color": "#F8696B", "mid_type": "percentile", "mid_value": 50,
        "mid_color": "#FFEB84", "max_color": "#63BE7B"})
    r = last_row + 2
    ws.note(r, 1, "Effective TOPS at each point: rows are " + a.path + ", columns " + b.path
            + ". Colour: red lowest, green highest. Blank: no optimal plan"
            + (", or not solved (" + partial_note(res) + ")" if res.partial else "") + ".")
    ws.note(r + 1, 1, applied_line(res.loaded))
    for k, text in enumerate(not_ok[:50], start=2):
        ws.note(r + k, 1, text)
    ws.fit_columns(max_width=30, from_row=1)
    ws.widths[1] = min(40, max(14, len(f"{a.path} \\ {b.path}") + 2))
    line = _line_chart(book, f"Effective TOPS by {a.path}, one line per {b.path}", a.path, list(a.values))
    for j in range(1, last_col):
        line.add_series({"name": ["Grid", 0, j], "values": ["Grid", 1, j, last_row - 1, j],
                         "categories": ["Grid", 1, 0, last_row - 1, 0], "marker": {"type": "circle", "size": 5}})
    line.set_legend({"position": "bottom"})
    insert_chart(ws, r + 2 + min(len(not_ok), 50), 1, line, CHART_W, CHART_H)
    return ws


def _breakpoints_table(ws: Sheet, res: SweepResult, row: int) -> tuple[int, int]:
    """The breakpoints under the notes: value, kind, effective TOPS and spend there, slopes. Returns its first
    and last data rows (1-based)."""
    cur = res.loaded.scenario.currency
    path = res.varies[0].path
    ws.put(row, 1, "Breakpoints: where the plan's slope changes (kind value: the slope of effective TOPS too)",
           bold=True, counts=False)
    head = [path, "Kind", "Effective TOPS", money_header("Spend", cur), "TOPS per unit before", "TOPS per unit after"]
    fmts = [value_format([b.value for b in res.breakpoints]), None, FMT_INT, FMT_MONEY, FMT_GENERAL, FMT_GENERAL]
    for j, h in enumerate(head, start=1):
        ws.put(row + 1, j, h, style=HEADER, counts=False)
    for i, b in enumerate(res.breakpoints, start=row + 2):
        for j, (v, f) in enumerate(zip([b.value, b.kind, b.effective_tops, b.spend, b.slope_before, b.slope_after],
                                       fmts), start=1):
            ws.put(i, j, v, f)
    return row + 2, row + 1 + len(res.breakpoints)


def partial_note(res: SweepResult) -> str:
    return (f"PARTIAL SWEEP: interrupted after {len(res.points):,} of {res.n_total:,} points; "
            "only the points that finished are here")


def build_sweep_workbook(res: SweepResult) -> Book:
    book = Book()
    _sweep_sheet(book, res)
    if len(res.varies) == 2:
        _grid_sheet(book, res)
    loaded = res.loaded
    add_inputs_sheet(book, loaded.scenario, loaded.applied)
    add_about_sheet(
        book,
        scenario_path=loaded.path,
        scenario_sha256=loaded.source.sha256,
        solver=res.solver,
        solver_version=res.solver_version,
        applied=loaded.applied,
        extra={
            "Analysis": "sweep",
            "Varied": "; ".join(f"{v.path}={v.spec} ({len(v.values)} values)" for v in res.varies),
            "Points": len(res.points) if not res.partial else f"{len(res.points)} of {res.n_total}: {partial_note(res)}",
            "Method": " ".join(method_lines(res)),
            **({"Probabilities": "; ".join(vary_notes(res))} if vary_notes(res) else {}),
            "Points without an optimal plan": sum(not p.outcome.ok for p in res.points),
        },
    )
    return book


def write_sweep_workbook(res: SweepResult, path: str | Path, force: bool = False, unique: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_sweep_workbook(res).save(tmp), force, unique)
