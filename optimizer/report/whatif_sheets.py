"""The `Sensitivity` and `Break-even` sheets of the solve workbook.

``solve`` passes them to :func:`optimizer.report.workbook.write_plan_workbook`
as ``extra_sheets`` (after Compliance, before Inputs)::

    extra_sheets=[lambda book: add_sensitivity_sheet(book, sens), lambda book: add_breakeven_sheet(book, rows)]

Sensitivity is laid out like Excel Solver's Sensitivity Report (Variable
Cells, then Constraints, with Excel's column names); an unlimited allowance
reads ``1E+30`` as in Excel. Every string that may come from a scenario goes
through :meth:`~optimizer.report.xlsx.Sheet.put`, so it is text, never a formula.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..analysis.breakeven import MAX_FACTOR, REL_TOL, BreakEven
from ..analysis.sensitivity import Sensitivity
from .xlsx import EXCEL_INF, FMT_NUM, FMT_PCT, FMT_SHADOW, WRAP_TOP, Book, Sheet, excel_number

SENSITIVITY_SHEET = "Sensitivity"
BREAKEVEN_SHEET = "Break-even"
VARIABLE_COLUMNS = ("Name", "Final value", "Reduced cost", "Objective coefficient", "Allowable increase", "Allowable decrease")
CONSTRAINT_COLUMNS = ("Name", "Final value", "Shadow price", "Constraint R.H. side", "Allowable increase", "Allowable decrease")
BREAKEVEN_COLUMNS = (
    "Site", "Chip", "Model", "Direction", "Price currency", "Current price", "Break-even price", "Change vs today",
    "Units in plan", "In words",
)
FMT_INF = "0E+00"  # 1E+30, as Excel prints an unlimited allowance
DIRECTION_WORDS = {"enters_below": "enters below", "exits_above": "leaves above"}


def _num_fmt(x: float, fmt: str) -> tuple[Any, str]:
    """Value and number format for a cell: infinities become 1E+30, NaN an empty cell."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None, fmt
    if isinstance(x, float) and math.isinf(x):
        return excel_number(x) if x > 0 else -EXCEL_INF, FMT_INF
    return x, fmt


def _row(sh: Sheet, r: int, values: Sequence[Any], fmts: Sequence[str | None]) -> None:
    for j, (v, f) in enumerate(zip(values, fmts), start=1):
        if isinstance(v, float):
            v, f = _num_fmt(v, f or FMT_NUM)
        sh.put(r, j, v, f)


def add_sensitivity_sheet(book: Book, sens: Sensitivity, title: str = SENSITIVITY_SHEET) -> Sheet:
    """Excel Solver's Sensitivity Report for the plan's continuous model (or its relaxation)."""
    ws = book.add_sheet(title)
    ws.title(1, "Sensitivity report: maximise effective TOPS")
    relax = sens.basis == "relaxation"
    basis = (
        "Basis: continuous relaxation of the integer plan (integer_units: true). Final values, reduced costs and "
        "ranges are the relaxation's; the plan's whole lots are on the Allocation sheet."
        if relax else "Basis: the linear programme's optimal basis (integer_units: false)."
    )
    ws.note(2, 1, basis, warn=relax)
    ws.note(3, 1,
              "Signs as in Constraints: shadow price = change in effective TOPS per unit increase of the right-hand side; "
              "reduced cost = change in effective TOPS per unit of the chip forced into the plan. 1E+30 means unlimited.")
    row = ws.section(5, "Variable Cells", "Units of each chip at each site; objective coefficient = effective TOPS per unit.")
    ws.header(row, VARIABLE_COLUMNS, freeze=False)
    ws.comment(row, 4, "Effective TOPS per unit: INT8 TOPS x flexibility x delivery rate.")
    ws.comment(row, 5, "How far the objective coefficient can rise with the same plan optimal.")
    ws.comment(row, 6, "How far the objective coefficient can fall with the same plan optimal.")
    fmts_v = [None, FMT_NUM, FMT_SHADOW, FMT_NUM, FMT_NUM, FMT_NUM]
    first_table = row
    for v in sens.variables:
        row += 1
        _row(ws, row, [v.name, v.final_value, v.reduced_cost, v.objective_coefficient, v.allowable_increase,
                       v.allowable_decrease], fmts_v)
    if not sens.variables:
        row += 1
        ws.note(row, 1, "No variable cells: nothing may be bought at any site.")
    row = ws.section(row + 2, "Constraints",
                     "Final value = the row's left-hand side; R.H. side in the row's own unit (money in the reporting currency).")
    ws.header(row, CONSTRAINT_COLUMNS, freeze=False)
    ws.comment(row, 5, "How far the right-hand side can rise with the shadow price unchanged.")
    ws.comment(row, 6, "How far the right-hand side can fall with the shadow price unchanged.")
    fmts_c = [None, FMT_NUM, FMT_SHADOW, FMT_NUM, FMT_NUM, FMT_NUM]
    for c in sens.constraints:
        row += 1
        _row(ws, row, [c.name, c.final_value, c.shadow_price, c.rhs, c.allowable_increase, c.allowable_decrease], fmts_c)
    if not sens.constraints:
        row += 1
        ws.note(row, 1, "No constraints.")
    if sens.note and not sens.variables:
        ws.note(row + 2, 1, sens.note)
    ws.fit_columns(max_width=40, from_row=first_table)
    return ws


def _price_fmt(x: float | None) -> str:
    return "#,##0" if x is not None and abs(x) >= 100 else "#,##0.00##"


def _units_fmt(x: float | None) -> str:
    """Whole units without a trailing decimal point; fractional (LP) units with two decimals."""
    return "#,##0" if x is None or float(x).is_integer() else "#,##0.00"


def add_breakeven_sheet(book: Book, rows: Sequence[BreakEven], title: str = BREAKEVEN_SHEET) -> Sheet:
    """One row per chip and site: the price at which the chip enters or leaves the plan there."""
    ws = book.add_sheet(title)
    ws.header(1, BREAKEVEN_COLUMNS, freeze=True, autofilter_rows=len(rows))
    ws.comment(1, 7,
            "Enters below: the highest price at which some is bought. Leaves above: the lowest price above which none is "
            f"bought. Within {REL_TOL:.1%}; in the chip's price currency. Empty: no price changes it (see In words).")
    r = 1
    for b in rows:
        r += 1
        change = None if b.break_even_price is None else b.break_even_price / b.current_price - 1.0
        ws.put(r, 1, b.site)
        ws.put(r, 2, b.chip)
        ws.put(r, 3, b.model)
        if b.break_even_price is None:
            ws.put(r, 4, "stays in" if b.direction == "exits_above" else "stays out")
        else:
            ws.put(r, 4, DIRECTION_WORDS.get(b.direction, b.direction))
        ws.put(r, 5, b.currency)
        ws.put(r, 6, b.current_price, _price_fmt(b.current_price))
        ws.put(r, 7, b.break_even_price, _price_fmt(b.break_even_price))
        ws.put(r, 8, change, FMT_PCT)
        ws.put(r, 9, b.current_units, _units_fmt(b.current_units))
        ws.put(r, 10, b.sentence, style=WRAP_TOP)
    note_row = r + 2
    if not rows:
        ws.note(2, 1, "No rows: the plan is not optimal, or nothing may be bought.")
        note_row = 4
    ws.note(note_row, 1,
              "Each price comes from re-solving the scenario with only that site's price changed "
              "(sites.<site>.prices.<chip>), bracketing from today's price and bisecting to within "
              f"{REL_TOL:.1%}; the search goes down to 1/{MAX_FACTOR:,.0f} and up to {MAX_FACTOR:,.0f} times today's price.")
    ws.note(note_row + 1, 1,
            "Between today's price and the break-even price the chip stays in (or out) of the plan, but its volume "
            "can move: sweep sites.<site>.prices.<chip> to see how.")
    ws.fit_columns(max_width=90)
    return ws
