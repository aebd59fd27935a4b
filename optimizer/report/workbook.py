"""The solve workbook: what finance opens.

Sheets, in order: [first_sheets...], Summary, Allocation, Constraints,
Compliance, [extra_sheets...], Inputs, About.

- Money is in the scenario's reporting currency, named in every money header
  (``Spend (CNY)``); the header text starts with the plain name (``Spend``),
  so code finds columns with :func:`xlsx.find_column`.
- On Allocation, ``Spend`` and ``Effective TOPS`` (and ordered/delivered TOPS)
  are live formulas over the row's own cells and the totals row uses SUM, so
  finance can audit the arithmetic; under the totals the solver's verified
  figures and a live difference row show that the two agree.
- Every string that came from a scenario file (names, models, notes, regime,
  description, variant names, override values) is written with
  :func:`xlsx.put`, so it is text, never a formula.

:func:`add_inputs_sheet` and :func:`add_about_sheet` are shared with the
sweep, tornado and compare workbooks.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..plan import Plan
from ..schema import Scenario
from .files import write_atomic
from .xlsx import (
    BOLD,
    FMT_INT,
    FMT_MONEY,
    FMT_MONEY_CENTS,
    FMT_NUM,
    FMT_PCT,
    FMT_RATIO,
    FMT_SHADOW,
    TITLE_FONT,
    TOTAL_FILL,
    command_line,
    comment,
    fit_columns,
    formula,
    header,
    money_header,
    note_cell,
    now_text,
    print_setup,
    put,
    section,
    table,
)

SheetFn = Callable[[Workbook], Any]

SHEETS = ("Summary", "Allocation", "Constraints", "Compliance", "Inputs", "About")

# Allocation columns in order; money columns get the currency appended to the header.
ALLOCATION_COLUMNS = (
    "Site", "Chip", "Model", "Vendor", "Origin", "Domestic", "Units", "Unit price", "Spend",
    "INT8 TOPS", "Flexibility", "Delivery rate", "Effective TOPS", "Ordered TOPS", "Delivered TOPS",
)
ALLOCATION_MONEY = ("Unit price", "Spend")
CONSTRAINT_COLUMNS = ("Name", "Kind", "LHS", "Sense", "RHS", "Unit", "Slack", "Binding", "Shadow price", "Meaning")
COMPLIANCE_COLUMNS = (
    "Site", "Country", "Chip", "Model", "Origin", "TPP", "Density (TPP/mm²)", "Controlled", "Tier", "Decision", "Reason",
)

CHART_ROWS = 19  # rows kept free for the Summary charts (height 8.5 cm)
CHART_WIDTH_CHARS = 17 / 0.22  # chart width 17 cm in column-width characters (0.19 cm in Excel, 0.25 in LibreOffice)

DENY_FILL = PatternFill("solid", fgColor="F8CBAD")
CAP_FILL = PatternFill("solid", fgColor="FFE699")
SHORT_FILL = PatternFill("solid", fgColor="F8CBAD")

SHADOW_CONVENTION = (
    "Shadow price = change in effective TOPS per one-unit increase of the constraint's right-hand side (RHS), "
    "in the RHS's unit (column Unit); the same sign convention whatever the solver."
)
RELAXATION_NOTE = (
    "Units are bought in whole lots (integer_units: true), so these shadow prices come from the continuous "
    "relaxation (the LP with fractional units allowed): a guide to the value of each limit, not an exact promise."
)


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def _col(name: str) -> int:
    return ALLOCATION_COLUMNS.index(name) + 1


def _letter(name: str) -> str:
    return get_column_letter(_col(name))


def _fmt_for(values: Iterable[float], whole: str, fraction: str) -> str:
    """``whole`` when every value is a whole number, else ``fraction``."""
    return whole if all(float(v).is_integer() for v in values) else fraction


def _value_text(v: Any) -> Any:
    """An override or variant value as a cell value: numbers stay numbers, anything else is text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)) or v is None:
        return v
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str, sort_keys=False)


def applied_rows(applied: Sequence[dict]) -> list[tuple[str, str, str, Any]]:
    """(kind, name, path, value) for each applied variant change and --set override, in order."""
    out: list[tuple[str, str, str, Any]] = []
    for a in applied:
        if "variant" in a:
            changes = a.get("changes") or {}
            if not changes:
                out.append(("variant", str(a["variant"]), "", None))
            for path, v in changes.items():
                out.append(("variant", str(a["variant"]), str(path), _value_text(v)))
        elif "set" in a:
            out.append(("--set", "", str(a["set"]), _value_text(a.get("value"))))
        else:  # unknown shape: keep it visible rather than drop it
            out.append(("change", "", "", _value_text(a)))
    return out


def applied_summary(applied: Sequence[dict]) -> str:
    """One line: ``variant h20_licence_denied; --set sites.cn.budget.amount=32e9`` or ``none``."""
    parts = []
    for a in applied:
        if "variant" in a:
            parts.append(f"variant {a['variant']}")
        elif "set" in a:
            parts.append(f"--set {a['set']}={_value_text(a.get('value'))}")
        else:
            parts.append(str(a))
    return "; ".join(parts) if parts else "none"


# ---------------------------------------------------------------- Summary
def _summary_sheet(wb: Workbook, plan: Plan) -> Worksheet:
    s = plan.scenario
    cur = s.currency
    ok = plan.result.ok
    t = plan.totals
    ws = wb.create_sheet("Summary")
    title = put(ws, 1, 1, s.name)
    title.font = TITLE_FONT
    relax = plan.result.dual_basis == "relaxation"
    note_cell(
        ws, 2, 1,
        f"All money in {cur} (the scenario's reporting currency). TOPS are dense INT8 TOPS. "
        + ("Plan verified independently of the solver." if ok else f"No plan: the scenario is {plan.status}."),
    )
    ws.freeze_panes = "A3"

    row = section(ws, 4, "Key figures")
    figures: list[tuple[str, Any, str, str, str | None]] = [
        ("Status", plan.status, "", "verified: every constraint and the objective recomputed from the scenario" if ok else "", None),
        ("Solver", plan.result.solver, "", plan.result.solver_version, None),
        ("Units", "whole lots (MILP)" if s.integer_units else "continuous (LP)", "",
         ("shadow prices from the continuous relaxation" if relax else "shadow prices from the LP") if ok else "", None),
    ]
    if ok:
        figures += [
            ("Effective TOPS", t["effective_tops"], "TOPS", "INT8 TOPS x flexibility x delivery rate (the objective)", FMT_INT),
            ("Delivered TOPS", t["delivered_tops"], "TOPS", "INT8 TOPS x delivery rate", FMT_INT),
            ("Ordered TOPS", t["int8_tops"], "TOPS", "INT8 TOPS as ordered", FMT_INT),
            ("Units ordered", t["units"], "units", "", _fmt_for([t["units"]], FMT_INT, FMT_NUM)),
            ("Total spend", t["spend"], cur, "", FMT_MONEY),
        ]
        budgets = [r.budget for r in plan.sites if r.budget is not None]
        if budgets:
            total_budget = sum(budgets)
            figures.append(("Site budgets", total_budget, cur, "sum over sites with a budget", FMT_MONEY))
        if s.budget is not None:
            g = s.money(s.budget)
            figures.append(("Global budget", g, cur, f"{s.budget.amount:,.0f} {s.budget.currency or cur}", FMT_MONEY))
            figures.append(("Global budget used", t["spend"] / g if g else None, "%", "", FMT_PCT))
    hdr = row
    table(ws, ["Figure", "Value", "Unit", "Note"], [], start_row=hdr, freeze=False, autofilter=False)
    for i, (name, value, unit, note, fmt) in enumerate(figures, start=hdr + 1):
        put(ws, i, 1, name, bold=True)
        c = put(ws, i, 2, value, fmt)
        c.alignment = Alignment(horizontal="right")
        put(ws, i, 3, unit)
        put(ws, i, 4, note)
    row = hdr + len(figures) + 2
    chart_row = row
    if ok:
        row += CHART_ROWS  # the charts go here, side by side, above the detail tables
    tables_from = row

    if ok and plan.sites:
        row = section(ws, row, "Sites", "Budget used = spend / budget; the domestic share is measured on the site's basis.")
        cols = ["Site", "Name", "Country", money_header("Spend", cur), money_header("Budget", cur), "Budget used",
                "Domestic share", "Domestic floor", "Basis", "Floor met", "Power used (MW)", "Power (MW)"]
        rows = []
        for r in plan.sites:
            used = r.spend / r.budget if r.budget else None
            if r.domestic_min_share is None:
                met = "no floor"
            elif r.domestic_share is None:
                met = "nothing bought"
            else:
                met = _yes(r.domestic_share >= r.domestic_min_share - 1e-9)
            rows.append([r.site, r.name, r.country, r.spend, r.budget, used, r.domestic_share, r.domestic_min_share,
                         r.domestic_basis, met, r.power_used_mw, r.power_mw])
        last = table(ws, cols, rows, [None, None, None, FMT_MONEY, FMT_MONEY, FMT_PCT, FMT_PCT, FMT_PCT, None, None, FMT_NUM, FMT_NUM],
                     start_row=row, freeze=False, autofilter=False)
        for i, r in enumerate(rows, start=row + 1):
            if r[9] == "no":
                ws.cell(row=i, column=10).fill = SHORT_FILL
        row = last + 2

    charts: list[BarChart] = []
    if ok:
        # spend by vendor
        row = section(ws, row, "Spend by vendor")
        by_vendor = plan.spend_by_vendor()
        units_v = {v: 0.0 for v in by_vendor}
        eff_v = {v: 0.0 for v in by_vendor}
        for a in plan.allocation:
            units_v[a.vendor] += a.units
            eff_v[a.vendor] += a.effective_tops
        total = t["spend"] or 0.0
        cols = ["Vendor", "Name", "Origin", "Units", money_header("Spend", cur), "Share of spend", "Effective TOPS"]
        rows = [[v, s.vendors[v].name or v, s.vendors[v].origin, units_v[v], sp, sp / total if total else None, eff_v[v]]
                for v, sp in by_vendor.items()]
        hdr_v = row
        last = table(ws, cols, rows, [None, None, None, FMT_INT, FMT_MONEY, FMT_PCT, FMT_INT], start_row=row, freeze=False,
                     autofilter=False)
        if rows:
            ch = _bar_chart(f"Spend by vendor ({cur})", cur, FMT_MONEY)
            ch.add_data(Reference(ws, min_col=5, min_row=hdr_v, max_row=last), titles_from_data=True)
            ch.set_categories(Reference(ws, min_col=2, min_row=hdr_v + 1, max_row=last))
            charts.append(ch)
        row = last + 2

        # effective TOPS by chip
        row = section(ws, row, "Effective TOPS by chip")
        eff_c: dict[str, list[float]] = {}
        for a in plan.allocation:
            acc = eff_c.setdefault(a.chip, [0.0, 0.0, 0.0])
            acc[0] += a.units
            acc[1] += a.spend
            acc[2] += a.effective_tops
        te = t["effective_tops"] or 0.0
        cols = ["Chip", "Model", "Vendor", "Units", money_header("Spend", cur), "Effective TOPS", "Share of TOPS"]
        rows = [[c, s.chips[c].model or c, s.chips[c].vendor, u, sp, e, e / te if te else None]
                for c, (u, sp, e) in sorted(eff_c.items())]
        hdr_c = row
        last = table(ws, cols, rows, [None, None, None, FMT_INT, FMT_MONEY, FMT_INT, FMT_PCT], start_row=row, freeze=False,
                     autofilter=False)
        if rows:
            ch = _bar_chart("Effective TOPS by chip", "effective TOPS", FMT_INT)
            ch.add_data(Reference(ws, min_col=6, min_row=hdr_c, max_row=last), titles_from_data=True)
            ch.set_categories(Reference(ws, min_col=2, min_row=hdr_c + 1, max_row=last))
            charts.append(ch)
        row = last + 2

        fit_to = row - 1
        binding = [c for c in plan.constraints if c.binding]
        row = section(ws, row, "Binding constraints", RELAXATION_NOTE if relax else SHADOW_CONVENTION)
        if binding:
            last = table(ws, ["Constraint", "Shadow price", "Meaning"],
                         [[c.name, c.shadow_price, c.meaning] for c in binding], [None, FMT_SHADOW, None],
                         start_row=row, freeze=False, autofilter=False)
            row = last + 2
        else:
            note_cell(ws, row, 1, "none: no limit is reached")
            row += 2

    # widths follow the detail tables; key-figure notes may run on into the empty cells to their right
    fit_columns(ws, max_width=45, from_row=tables_from, to_row=fit_to if ok else None)
    dims = ws.column_dimensions
    names = [f[0] for f in figures] + [c.name for c in plan.constraints if c.binding]
    dims["A"].width = max(dims["A"].width or 0, max(len(n) for n in names) + 4)
    dims["B"].width = max(dims["B"].width or 0, 18)
    col = 1
    for ch in charts:
        ws.add_chart(ch, f"{get_column_letter(col)}{chart_row}")
        used = 0.0
        while used < CHART_WIDTH_CHARS and col < 200:  # next chart starts past this one
            used += dims[get_column_letter(col)].width or 9.0
            col += 1
        col += 1
    return ws


def _bar_chart(title: str, axis_title: str, num_fmt: str) -> BarChart:
    ch = BarChart()
    ch.type = "col"
    ch.style = 10
    ch.title = title
    ch.y_axis.title = axis_title
    ch.y_axis.numFmt = num_fmt
    ch.legend = None
    # openpyxl 3.1 hides both axes unless told otherwise
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    ch.height = 8.5
    ch.width = 17
    return ch


# ---------------------------------------------------------------- Allocation
def _allocation_sheet(wb: Workbook, plan: Plan) -> Worksheet:
    s = plan.scenario
    cur = s.currency
    ws = wb.create_sheet("Allocation")
    names = [money_header(c, cur) if c in ALLOCATION_MONEY else c for c in ALLOCATION_COLUMNS]
    rows = plan.allocation
    n = len(rows)
    header(ws, 1, names, freeze=True, autofilter_rows=n)
    if n == 0:  # nothing bought: filter the header alone, never the totals row
        ws.auto_filter.ref = f"A1:{get_column_letter(len(names))}1"
    units_fmt = _fmt_for([a.units for a in rows], FMT_INT, FMT_NUM)
    price_fmt = FMT_MONEY if all(abs(a.unit_price - round(a.unit_price)) <= 1e-6 for a in rows) else FMT_MONEY_CENTS
    tops_fmt = _fmt_for([a.int8_tops for a in rows], FMT_INT, FMT_NUM)
    L = {c: _letter(c) for c in ALLOCATION_COLUMNS}
    for i, a in enumerate(rows, start=2):
        put(ws, i, _col("Site"), a.site)
        put(ws, i, _col("Chip"), a.chip)
        put(ws, i, _col("Model"), a.model)
        put(ws, i, _col("Vendor"), a.vendor)
        put(ws, i, _col("Origin"), a.origin)
        put(ws, i, _col("Domestic"), _yes(a.domestic))
        put(ws, i, _col("Units"), a.units, units_fmt)
        put(ws, i, _col("Unit price"), a.unit_price, price_fmt)
        formula(ws, i, _col("Spend"), f"={L['Units']}{i}*{L['Unit price']}{i}", FMT_MONEY)
        put(ws, i, _col("INT8 TOPS"), a.int8_tops, tops_fmt)
        put(ws, i, _col("Flexibility"), a.flexibility, FMT_RATIO)
        put(ws, i, _col("Delivery rate"), a.delivery_rate, FMT_PCT)
        formula(ws, i, _col("Effective TOPS"),
                f"={L['Units']}{i}*{L['INT8 TOPS']}{i}*{L['Flexibility']}{i}*{L['Delivery rate']}{i}", FMT_INT)
        formula(ws, i, _col("Ordered TOPS"), f"={L['Units']}{i}*{L['INT8 TOPS']}{i}", FMT_INT)
        formula(ws, i, _col("Delivered TOPS"), f"={L['Units']}{i}*{L['INT8 TOPS']}{i}*{L['Delivery rate']}{i}", FMT_INT)

    summed = {"Units": units_fmt, "Spend": FMT_MONEY, "Effective TOPS": FMT_INT, "Ordered TOPS": FMT_INT,
              "Delivered TOPS": FMT_INT}
    tot = n + 2
    put(ws, tot, 1, "Total", bold=True)
    for c, fmt in summed.items():
        if n:
            formula(ws, tot, _col(c), f"=SUM({L[c]}2:{L[c]}{n + 1})", fmt, bold=True)
        else:
            put(ws, tot, _col(c), 0, fmt, bold=True)
    for j in range(1, len(ALLOCATION_COLUMNS) + 1):
        ws.cell(row=tot, column=j).fill = TOTAL_FILL

    if plan.result.ok:
        t = plan.totals
        solver_row, diff_row = tot + 1, tot + 2
        put(ws, solver_row, 1, "Solver (verified)", bold=True)
        put(ws, diff_row, 1, "Difference", bold=True)
        solver_vals = {"Units": t["units"], "Spend": t["spend"], "Effective TOPS": t["effective_tops"],
                       "Ordered TOPS": t["int8_tops"], "Delivered TOPS": t["delivered_tops"]}
        for c, fmt in summed.items():
            put(ws, solver_row, _col(c), solver_vals[c], fmt)
            formula(ws, diff_row, _col(c), f"={L[c]}{tot}-{L[c]}{solver_row}", fmt)
        note_row = diff_row + 2
    else:
        note_row = tot + 2
        note_cell(ws, note_row, 1, f"No allocation: the scenario is {plan.status}.")
        note_row += 1
    note_cell(ws, note_row, 1,
              f"Spend = Units x Unit price; Effective TOPS = Units x INT8 TOPS x Flexibility x Delivery rate; "
              f"Ordered TOPS = Units x INT8 TOPS; Delivered TOPS = Ordered TOPS x Delivery rate. "
              f"Money in {cur}; unit prices are per unit after site price overrides, converted at the scenario's fx rates.")
    note_cell(ws, note_row + 1, 1,
              "The Difference row compares these live formulas with the solver's verified figures; it should read 0.")

    fit_columns(ws, min_width=9, max_width=40, from_row=1)
    comment(ws.cell(row=1, column=_col("Delivery rate")), "Share of ordered units expected to arrive (the vendor's delivery_rate).")
    comment(ws.cell(row=1, column=_col("Flexibility")), "Multiplier on TOPS for the chip's architecture (scenario flexibility).")
    comment(ws.cell(row=1, column=_col("Unit price")), f"Per unit, in {cur}, after site price overrides and fx conversion.")
    return ws


# ---------------------------------------------------------------- Constraints
def _constraints_sheet(wb: Workbook, plan: Plan) -> Worksheet:
    ws = wb.create_sheet("Constraints")
    relax = plan.result.dual_basis == "relaxation"
    rows = []
    for c in plan.constraints:
        rows.append([c.name, c.kind, c.lhs, c.sense, c.rhs, c.unit, c.slack,
                     _yes(c.binding), c.shadow_price, c.meaning])
    cols = list(CONSTRAINT_COLUMNS)
    last = table(ws, cols, rows, [None, None, FMT_NUM, None, FMT_NUM, None, FMT_NUM, None, FMT_SHADOW, None])
    for i, r in enumerate(rows, start=2):
        ws.cell(row=i, column=4).alignment = Alignment(horizontal="center")
        if r[7] == "yes":
            ws.cell(row=i, column=8).font = BOLD
    sp_col = cols.index("Shadow price") + 1
    comment(ws.cell(row=1, column=sp_col), SHADOW_CONVENTION + (" " + RELAXATION_NOTE if relax else ""))
    row = last + 2
    if not rows:
        note_cell(ws, row, 1, "No constraints." if plan.result.ok else f"No plan: the scenario is {plan.status}.")
        row += 1
    note_cell(ws, row, 1, SHADOW_CONVENTION)
    if relax:
        note_cell(ws, row + 1, 1, RELAXATION_NOTE, warn=True)
    note_cell(ws, row + 2, 1,
              "Slack = room left (RHS - LHS for <=, LHS - RHS for >=). Binding = no room for even one more lot of any chip "
              "in the row. Share rows are written as sum((share - floor) x weight x units) >= 0, so their RHS is 0.")
    fit_columns(ws, max_width=90, from_row=1)
    return ws


# ---------------------------------------------------------------- Compliance
def _compliance_sheet(wb: Workbook, plan: Plan) -> Worksheet:
    s = plan.scenario
    ws = wb.create_sheet("Compliance")
    rows = []
    for d in plan.compliance:
        chip = s.chips.get(d.chip)
        origin = s.vendors[chip.vendor].origin if chip is not None else ""
        rows.append([d.site, d.country, d.chip, (chip.model if chip is not None else None) or d.chip, origin, d.tpp,
                     d.density if d.density is not None else "unknown", _yes(d.controlled),
                     d.tier if d.tier is not None else "-", d.decision, d.reason])
    table(ws, list(COMPLIANCE_COLUMNS), rows, [None, None, None, None, None, FMT_INT, FMT_RATIO, None, None, None, None])
    dec_col = COMPLIANCE_COLUMNS.index("Decision") + 1
    for i, r in enumerate(rows, start=2):
        fill = {"deny": DENY_FILL, "cap": CAP_FILL}.get(r[dec_col - 1])
        if fill is not None:
            ws.cell(row=i, column=dec_col).fill = fill
        ws.cell(row=i, column=len(COMPLIANCE_COLUMNS)).alignment = Alignment(wrap_text=True, vertical="top")
    ec = s.export_controls
    note_cell(ws, len(rows) + 3, 1,
              f"Rules: {ec.regime}. TPP = total processing performance; density = TPP per mm² of die. "
              "A denied chip is not bought at that site; a capped chip counts against the country's TPP cap."
              if ec is not None else "No export controls in this scenario: every chip is allowed everywhere.")
    fit_columns(ws, max_width=90, from_row=1)
    return ws


# ---------------------------------------------------------------- Inputs
def add_inputs_sheet(wb: Workbook, scenario: Scenario, applied: Sequence[dict] = ()) -> Worksheet:
    """The scenario as readable tables, so the assumptions travel with the numbers.

    Sections: scenario settings, exchange rates, flexibility, vendors, chips,
    sites (and site price overrides), export controls, the variants and
    ``--set`` overrides applied to this run, and the variants the file defines.
    """
    s = scenario
    cur = s.currency
    ws = wb.create_sheet("Inputs")
    t = put(ws, 1, 1, "Scenario inputs")
    t.font = TITLE_FONT
    note_cell(ws, 2, 1, "The scenario as solved: the file's values after the variants and --set overrides listed under "
                        f"'Applied to this run'. Converted money is in {cur}.")
    ws.freeze_panes = "A3"
    row = 4

    def block(title: str, cols: list[str], rows: list[list[Any]], fmts: list[str | None] | None = None,
              note: str | None = None, empty: str = "none") -> None:
        nonlocal row
        row = section(ws, row, title, note)
        if rows:
            row = table(ws, cols, rows, fmts, start_row=row, freeze=False, autofilter=False) + 2
        else:
            note_cell(ws, row, 1, empty)
            row += 2

    g = s.budget
    settings = [
        ["Name", s.name, ""],
        ["Description", s.description or "", ""],
        ["Schema version", s.schema_version, ""],
        ["Reporting currency", cur, "all money in the reports"],
        ["Units", "whole lots (MILP)" if s.integer_units else "continuous (LP)", f"integer_units: {str(s.integer_units).lower()}"],
        ["Global budget", g.amount if g else "none", (g.currency or cur) if g else "no cap across sites"],
    ]
    if g is not None and (g.currency or cur) != cur:
        settings.append([money_header("Global budget", cur), s.money(g), f"at {s.rate(g.currency):g} {cur} per {g.currency}"])
    row = section(ws, row, "Scenario")
    hdr = row
    desc_row = hdr + 2
    row = table(ws, ["Setting", "Value", "Note"], settings, start_row=row, freeze=False, autofilter=False)
    for i in range(hdr + 1, row + 1):
        v = ws.cell(row=i, column=2)
        if isinstance(v.value, float):
            v.number_format = FMT_MONEY
        v.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        for j in (1, 3):
            ws.cell(row=i, column=j).alignment = Alignment(vertical="top")
    row += 2

    block("Exchange rates", ["Currency", f"{cur} per unit"], [[k, v] for k, v in sorted(s.fx.items())], [None, "0.0000"],
          empty=f"none: every price and budget is in {cur}")
    block("Flexibility", ["Architecture", "Multiplier", "Chips"],
          [[a, m, ", ".join(sorted(c for c, ch in s.chips.items() if ch.architecture == a))] for a, m in sorted(s.flexibility.items())],
          [None, FMT_RATIO, None], note="Multiplier on INT8 TOPS per architecture (preference for flexible parts).")
    block("Vendors", ["Vendor", "Name", "Origin", "Capacity (units)", "Delivery rate", "Max share of spend"],
          [[v, vd.name or "", vd.origin, vd.capacity_units if vd.capacity_units is not None else "no cap", vd.delivery_rate,
            vd.max_share if vd.max_share is not None else "no cap"] for v, vd in sorted(s.vendors.items())],
          [None, None, None, FMT_INT, FMT_PCT, FMT_PCT])
    chips = []
    for cid, c in sorted(s.chips.items()):
        chips.append([
            cid, c.model or "", c.vendor, c.architecture, c.int8_tops, c.unit_price, c.price_currency or cur,
            c.unit_price * s.rate(c.price_currency), c.tpp_value, "given" if c.tpp is not None else "8 x INT8 TOPS",
            c.die_area_mm2 if c.die_area_mm2 is not None else "unknown",
            c.density if c.density is not None else "unknown", c.power_w if c.power_w is not None else "-",
            c.min_units, c.max_units if c.max_units is not None else "no cap", c.lot_size,
        ])
    block("Chips", ["Chip", "Model", "Vendor", "Architecture", "INT8 TOPS", "Unit price", "Price currency",
                    money_header("Unit price", cur), "TPP", "TPP source", "Die area (mm²)", "Density (TPP/mm²)",
                    "Power (W)", "Min units", "Max units", "Lot size"],
          chips, [None, None, None, None, FMT_INT, FMT_MONEY_CENTS, None, FMT_MONEY_CENTS, FMT_INT, None, FMT_NUM, FMT_RATIO,
                  FMT_INT, FMT_INT, FMT_INT, FMT_INT],
          note="Min and max units are totals over all sites.")
    sites = []
    overrides = []
    for sid, st in sorted(s.sites.items()):
        b = st.budget
        sites.append([sid, st.name or "", st.country, b.amount if b else "none", (b.currency or cur) if b else "",
                      s.money(b) if b else None, st.domestic_min_share if st.domestic_min_share is not None else "none",
                      st.domestic_basis, st.power_mw if st.power_mw is not None else "none"])
        for cid, p in sorted(st.prices.items()):
            pc = s.chips[cid].price_currency if cid in s.chips else None
            overrides.append([sid, cid, p, pc or cur, p * s.rate(pc)])
    block("Sites", ["Site", "Name", "Country", "Budget", "Budget currency", money_header("Budget", cur), "Domestic floor",
                    "Domestic basis", "Power (MW)"],
          sites, [None, None, None, FMT_MONEY, None, FMT_MONEY, FMT_PCT, None, FMT_NUM],
          note="A chip is domestic at a site when its vendor's origin is the site's country.")
    block("Site price overrides", ["Site", "Chip", "Unit price", "Price currency", money_header("Unit price", cur)],
          overrides, [None, None, FMT_MONEY_CENTS, None, FMT_MONEY_CENTS], empty="none: every site pays the chip's unit_price")

    ec = s.export_controls
    if ec is None:
        row = section(ws, row, "Export controls")
        note_cell(ws, row, 1, "none: every chip is allowed everywhere")
        row += 2
    else:
        block("Export controls", ["Setting", "Value"],
              [["Regime", ec.regime], ["Governed origins", ", ".join(ec.origins)], ["Default tier", ec.default_tier]])
        block("Control clauses", ["Clause", "TPP at least", "Density at least (TPP/mm²)"],
              [[i + 1, cl.tpp_min, cl.density_min if cl.density_min is not None else "-"] for i, cl in enumerate(ec.controlled_if)],
              [None, FMT_INT, FMT_RATIO], note="A governed chip is controlled when any clause holds.",
              empty="none: no chip is controlled")
        tiers = sorted(ec.tiers.items())
        block("Destination tiers", ["Country", "Tier", "Rule for controlled chips"],
              [[k, v, ec.tier_rules.get(v, "")] for k, v in tiers] + [["(any other)", ec.default_tier, ec.tier_rules.get(ec.default_tier, "")]])
        block("TPP caps", ["Country", "Cap (TPP)"], [[k, v] for k, v in sorted(ec.tpp_caps.items())], [None, FMT_INT],
              note="Total TPP of capped chips per destination country.")
        block("Licences", ["Chip", "Country", "Status", "Note"],
              [[lic.chip, lic.country, lic.status, lic.note or ""] for lic in ec.licenses],
              note="Explicit decisions; they override the rules above for one chip and country.")

    applied_from = row
    block("Applied to this run", ["Kind", "Variant", "Path", "Value"], [list(r) for r in applied_rows(applied)],
          empty="none: the scenario as written in the file")
    variants = []
    for name, body in sorted(s.variants.items()):
        if not body:
            variants.append([name, "", None])
        for path, v in body.items():
            variants.append([name, str(path), _value_text(v)])
    block("Variants defined in the file", ["Variant", "Path", "Value"], variants,
          note="Available with --variant NAME; not applied unless listed above.", empty="none")

    for r in ws.iter_rows(min_row=applied_from):
        for c in r:
            if c.data_type == "n" and isinstance(c.value, (int, float)) and c.number_format == "General":
                c.number_format = FMT_INT if float(c.value).is_integer() else "#,##0.########"
    fit_columns(ws, max_width=50, from_row=3)
    desc = ws.cell(row=desc_row, column=2)
    width = ws.column_dimensions["B"].width or 50
    lines = sum(max(1, -(-len(part) // int(width))) for part in str(desc.value or "").split("\n"))
    if lines > 1:
        ws.row_dimensions[desc_row].height = 15 * lines
    return ws


# ---------------------------------------------------------------- About
def add_about_sheet(
    wb: Workbook,
    *,
    scenario_path: str | None,
    scenario_sha256: str | None,
    solver: str | None,
    solver_version: str | None,
    applied: Sequence[dict] = (),
    extra: dict[str, Any] | None = None,
    solved_at: _dt.datetime | str | None = None,
) -> Worksheet:
    """Provenance: tool and solver versions, scenario file and SHA-256, time, command line, plus ``extra``."""
    from .. import __version__
    import openpyxl

    when = solved_at if isinstance(solved_at, str) else now_text(solved_at)
    items: list[tuple[str, Any]] = [
        ("Tool", f"chipalloc {__version__}"),
        ("Solver", solver or "-"),
        ("Solver version", solver_version or "-"),
        ("Scenario file", str(scenario_path) if scenario_path else "-"),
        ("Scenario SHA-256", scenario_sha256 or "-"),
        ("Applied variants and overrides", applied_summary(applied)),
        ("Solved at", when),
        ("Command line", command_line()),
        ("Python", platform.python_version()),
        ("openpyxl", openpyxl.__version__),
        ("Platform", platform.platform(terse=True)),
    ]
    for k, v in (extra or {}).items():
        items.append((str(k), _value_text(v) if isinstance(v, (list, tuple, dict, set)) else v))
    ws = wb.create_sheet("About")
    table(ws, ["Item", "Value"], items)
    for r in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for c in r:
            c.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
    fit_columns(ws, max_width=100)
    return ws


# ---------------------------------------------------------------- the workbook
def build_plan_workbook(plan: Plan, extra_sheets: Sequence[SheetFn] = (), first_sheets: Sequence[SheetFn] = (),
                        about_extra: dict[str, Any] | None = None) -> Workbook:
    """The workbook in memory (``write_plan_workbook`` saves it atomically)."""
    wb = Workbook()
    wb.remove(wb.active)
    for fn in first_sheets:
        fn(wb)
    _summary_sheet(wb, plan)
    _allocation_sheet(wb, plan)
    _constraints_sheet(wb, plan)
    _compliance_sheet(wb, plan)
    for fn in extra_sheets:
        fn(wb)
    applied = plan.loaded.applied if plan.loaded is not None else []
    add_inputs_sheet(wb, plan.scenario, applied)
    src = plan.loaded.source if plan.loaded is not None else None
    add_about_sheet(
        wb,
        scenario_path=src.path if src else None,
        scenario_sha256=src.sha256 if src else None,
        solver=plan.result.solver,
        solver_version=plan.result.solver_version,
        applied=applied,
        extra={"Status": plan.status, "Shadow prices": "continuous relaxation" if plan.result.dual_basis == "relaxation" else "LP",
               **(about_extra or {})},
        solved_at=plan.result.extra.get("solved_at"),
    )
    for ws in wb.worksheets:
        if ws.title in SHEETS:  # sheets from other modules keep their own page setup
            print_setup(ws)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is wb.worksheets[0]
    return wb


def write_plan_workbook(
    plan: Plan,
    path: str | Path,
    force: bool = False,
    extra_sheets: Sequence[SheetFn] = (),
    first_sheets: Sequence[SheetFn] = (),
) -> Path:
    """Write the solve workbook to ``path`` atomically; an existing file is replaced only with ``force``."""

    def write(tmp: str) -> None:
        build_plan_workbook(plan, extra_sheets=extra_sheets, first_sheets=first_sheets).save(tmp)

    return write_atomic(path, write, force)
