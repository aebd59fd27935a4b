"""The solve workbook: what finance opens.

Sheets, in order: [first_sheets...], Summary, Risk (a plan over outcomes),
Allocation, [Orders by period, Leases, Cash by period], Constraints,
Compliance, [extra_sheets...], Inputs, About.

- Money is in the scenario's reporting currency, named in every money header
  (``Spend (CNY)``); the header text starts with the plain name (``Spend``).
- Allocation is the audit trail: each row shows the price in the chip's own
  currency, and the reporting-currency ``Unit price`` is a live formula
  ``= Price x FX_<currency>`` over the exchange-rate input cell on Inputs
  (a workbook defined name). ``Spend``, ``Effective TOPS``, ordered and
  delivered TOPS are live formulas over the row, the totals are SUMs, and
  under them the solver's verified figures and a Difference row (reads 0).
- Summary's figures and tables are formulas over the Allocation columns
  (SUM, SUMIFS by site, vendor and chip), so changing an exchange rate
  moves spend, budget use and shares everywhere.
- Every formula is written with its computed value, so readers that do not
  calculate (pandas, previews, phones) see the numbers.
- Every string that came from a scenario file is written as text, never as
  a formula.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..plan import Plan
from .about_sheet import add_about_sheet  # noqa: F401 - re-exported
from .files import write_atomic
from .inputs_sheet import add_inputs_sheet, add_scenario_inputs, fx_factor  # noqa: F401 - re-exported
from .compliance_sheet import compliance_sheet
from .period_sheets import (
    CASH_SHEET, LEASES_SHEET, ORDERS_SHEET, PROBABILITY, cash_sheet, leases_sheet, orders_sheet,
)
from .period_tables import extended, objective_text, periods_shown
from .xlsx import (
    BOLD,
    DENY_BG,
    FMT_INT,
    FMT_MONEY,
    FMT_MONEY_CENTS,
    FMT_NUM,
    FMT_PCT,
    FMT_RATIO,
    FMT_SHADOW,
    TOTAL,
    WRAP_TOP,
    Book,
    Sheet,
    TableLayout,
    cell_ref,
    chart,
    col_letter,
    insert_chart,
    money_header,
    sheet_sub,
)

SheetFn = Callable[[Book], Any]

SHEETS = ("Summary", "Allocation", "Constraints", "Compliance", "Inputs", "About")

# Allocation columns in order; money columns get the currency appended to the header.
ALLOCATION_COLUMNS = (
    "Site", "Chip", "Model", "Vendor", "Origin", "Domestic", "Units", "Price", "Price currency", "Unit price", "Spend",
    "INT8 TOPS", "Flexibility", "Delivery rate", "Effective TOPS", "Ordered TOPS", "Delivered TOPS",
)
ALLOCATION_MONEY = ("Unit price", "Spend")
ALLOCATION_SUMMED = ("Units", "Spend", "Effective TOPS", "Ordered TOPS", "Delivered TOPS")
CONSTRAINT_COLUMNS = ("Name", "Kind", "LHS", "Sense", "RHS", "Unit", "Slack", "Binding", "Shadow price", "Meaning")

CHART_ROWS = 19  # rows kept free for the Summary charts (height 8.5 cm)
CHART_W, CHART_H = 17.0, 8.5  # cm

SHADOW_CONVENTION = (
    "Shadow price = change in effective TOPS per one-unit increase of the constraint's right-hand side (RHS), "
    "in the RHS's unit (column Unit); the same sign convention whatever the solver."
)
RELAXATION_NOTE = (
    "Units are bought in whole lots (integer_units: true), so these shadow prices come from the continuous "
    "relaxation (the LP with fractional units allowed): a guide to the value of each limit, not an exact promise."
)
SHARE_TOLERANCE = 1e-9  # a share within this of its floor meets it (as the verifier counts)


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def rows_are_the_totals(plan: Plan) -> bool:
    """Whether the solver's totals are the sums of the Allocation rows (one period, no leases, no outcomes)."""
    return not (getattr(plan, "dated", False) or getattr(plan, "leases", None) or getattr(plan, "outcomes", None)
                or any(getattr(a, "outcome", None) for a in plan.allocation))


def allocation_columns(plan: Plan) -> tuple[str, ...]:
    """ALLOCATION_COLUMNS, with the order period, delivery period and outcome after Chip when the plan has them."""
    extra = []
    if getattr(plan, "dated", False):
        extra += ["Period", "Delivery period"]
    if any(getattr(a, "outcome", None) for a in plan.allocation):
        extra += ["Outcome", PROBABILITY]
    i = ALLOCATION_COLUMNS.index("Chip") + 1
    return ALLOCATION_COLUMNS[:i] + tuple(extra) + ALLOCATION_COLUMNS[i:]


EXPECTED_NOTE = ("Over outcomes, the Expected row and the Summary weight each row by its Probability (1 for an "
                 "order shared by every outcome, else its outcome's probability): SUMPRODUCT, not SUM, since each "
                 "outcome's own orders are alternatives, not additions.")


def expected_view(layout: TableLayout) -> TableLayout:
    """The table read as expectations when it has a Probability column (a plan over outcomes), else itself."""
    return layout.expected(PROBABILITY) if PROBABILITY in layout.columns else layout


def _fmt_for(values: Iterable[float], whole: str, fraction: str) -> str:
    """``whole`` when every value is a whole number, else ``fraction``."""
    return whole if all(float(v).is_integer() for v in values) else fraction


# ---------------------------------------------------------------- Allocation
def _allocation_sheet(book: Book, sh: Sheet, plan: Plan) -> TableLayout:
    s = plan.scenario
    cur = s.currency
    columns = allocation_columns(plan)

    def _col(name: str) -> int:
        return columns.index(name) + 1

    names = [money_header(c, cur) if c in ALLOCATION_MONEY else c for c in columns]
    alloc = plan.allocation
    n = len(alloc)
    sh.header(1, names, freeze=True, autofilter_rows=n)
    if n == 0:  # nothing bought: filter the header alone, never the totals row
        sh.ws.autofilter(0, 0, 0, len(names) - 1)
    units_fmt = _fmt_for([a.units for a in alloc], FMT_INT, FMT_NUM)
    tops_fmt = _fmt_for([a.int8_tops for a in alloc], FMT_INT, FMT_NUM)
    L = {c: col_letter(_col(c)) for c in columns}
    rows: list[dict[str, Any]] = []
    for i, a in enumerate(alloc, start=2):
        currency = getattr(a, "price_currency", "") or s.chips[a.chip].price_currency or cur
        factor, rate = fx_factor(book, s, currency)
        native = getattr(a, "native_price", 0.0) or s.price(a.site, a.chip)
        if abs(native * rate - a.unit_price) > 1e-9 * max(1.0, abs(a.unit_price)):
            native = a.unit_price / rate  # a price the plan derived otherwise: keep the plan's
        price_fmt = FMT_MONEY if abs(native - round(native)) <= 1e-9 * max(1.0, native) else FMT_MONEY_CENTS
        unit_price = native * rate
        spend = a.units * unit_price
        eff = a.units * a.int8_tops * a.flexibility * a.delivery_rate
        ordered = a.units * a.int8_tops
        delivered = a.units * a.int8_tops * a.delivery_rate
        rows.append({"Site": a.site, "Chip": a.chip, "Vendor": a.vendor, "Domestic": _yes(a.domestic), "Units": a.units,
                     "Spend": spend, "Effective TOPS": eff, "Ordered TOPS": ordered, "Delivered TOPS": delivered,
                     "Period": a.period, "Delivery period": a.delivery_period or "after the horizon",
                     "Outcome": a.outcome or "every outcome", PROBABILITY: plan.weight(a.outcome)})
        sh.put(i, _col("Site"), a.site)
        sh.put(i, _col("Chip"), a.chip)
        if "Period" in columns:
            sh.put(i, _col("Period"), a.period)
            sh.put(i, _col("Delivery period"), a.delivery_period or "after the horizon")
        if "Outcome" in columns:
            sh.put(i, _col("Outcome"), a.outcome or "every outcome")
            sh.put(i, _col(PROBABILITY), plan.weight(a.outcome), FMT_PCT)
        sh.put(i, _col("Model"), a.model)
        sh.put(i, _col("Vendor"), a.vendor)
        sh.put(i, _col("Origin"), a.origin)
        sh.put(i, _col("Domestic"), _yes(a.domestic))
        sh.put(i, _col("Units"), a.units, units_fmt)
        sh.put(i, _col("Price"), native, price_fmt)
        sh.put(i, _col("Price currency"), currency)
        sh.formula(i, _col("Unit price"), f"={L['Price']}{i}{factor}", unit_price,
                   FMT_MONEY if price_fmt == FMT_MONEY and float(unit_price).is_integer() else FMT_MONEY_CENTS)
        sh.formula(i, _col("Spend"), f"={L['Units']}{i}*{L['Unit price']}{i}", spend, FMT_MONEY)
        sh.put(i, _col("INT8 TOPS"), a.int8_tops, tops_fmt)
        sh.put(i, _col("Flexibility"), a.flexibility, FMT_RATIO)
        sh.put(i, _col("Delivery rate"), a.delivery_rate, FMT_PCT)
        sh.formula(i, _col("Effective TOPS"),
                   f"={L['Units']}{i}*{L['INT8 TOPS']}{i}*{L['Flexibility']}{i}*{L['Delivery rate']}{i}", eff, FMT_INT)
        sh.formula(i, _col("Ordered TOPS"), f"={L['Units']}{i}*{L['INT8 TOPS']}{i}", ordered, FMT_INT)
        sh.formula(i, _col("Delivered TOPS"), f"={L['Units']}{i}*{L['INT8 TOPS']}{i}*{L['Delivery rate']}{i}",
                   delivered, FMT_INT)
    layout = TableLayout("Allocation", columns, 2, n + 1, n + 2, rows)
    view = expected_view(layout)

    summed = {"Units": units_fmt, "Spend": FMT_MONEY, "Effective TOPS": FMT_INT, "Ordered TOPS": FMT_INT,
              "Delivered TOPS": FMT_INT}
    tot = layout.total
    sh.put(tot, 1, "Expected" if view.weight else "Total", style=TOTAL)
    totals = {c: view.sum(c) for c in summed}
    for c, fmt in summed.items():
        if n:
            expr = (f"=SUMPRODUCT({L[c]}2:{L[c]}{n + 1},{L[PROBABILITY]}2:{L[PROBABILITY]}{n + 1})" if view.weight
                    else f"=SUM({L[c]}2:{L[c]}{n + 1})")
            sh.formula(tot, _col(c), expr, totals[c], fmt, style=TOTAL)
        else:
            sh.put(tot, _col(c), 0, fmt, style=TOTAL)
    for j in range(1, len(columns) + 1):
        sh.style_blank(tot, j, TOTAL)

    if plan.result.ok and not rows_are_the_totals(plan):
        note_row = tot + 2
        sh.note(note_row, 1, "With periods, leases or outcomes the solver's totals are not sums of these rows "
                             "(effective TOPS in service weighted over the periods, lease payments, expected spend), "
                             "so no Difference row is shown; the verified totals are in the JSON output.", warn=True)
        note_row += 1
    elif plan.result.ok:
        t = plan.totals
        solver_row, diff_row = tot + 1, tot + 2
        sh.put(solver_row, 1, "Solver (verified)", bold=True)
        sh.put(diff_row, 1, "Difference", bold=True)
        solver_vals = {"Units": t["units"], "Spend": t["spend"], "Effective TOPS": t["effective_tops"],
                       "Ordered TOPS": t["int8_tops"], "Delivered TOPS": t["delivered_tops"]}
        for c, fmt in summed.items():
            sh.put(solver_row, _col(c), solver_vals[c], fmt)
            sh.formula(diff_row, _col(c), f"={L[c]}{tot}-{L[c]}{solver_row}", sheet_sub(totals[c], solver_vals[c]), fmt)
        note_row = diff_row + 2
    else:
        note_row = tot + 2
        sh.note(note_row, 1, f"No allocation: the scenario is {plan.status}.")
        note_row += 1
    sh.note(note_row, 1, f"Unit price = Price x the exchange rate of its currency (cells on Inputs, names FX_...); "
                         f"Spend = Units x Unit price. Money in {cur}; prices are per unit after site price overrides.")
    sh.note(note_row + 1, 1, "Effective TOPS = Units x INT8 TOPS x Flexibility x Delivery rate; "
                             "Ordered TOPS = Units x INT8 TOPS; Delivered TOPS = Ordered TOPS x Delivery rate."
                             + (f" {EXPECTED_NOTE}" if view.weight else ""))
    if rows_are_the_totals(plan):
        sh.note(note_row + 2, 1, "The Difference row compares these live formulas with the solver's verified figures; "
                                 "it reads 0 until an exchange rate on Inputs is changed (the plan is not re-solved).")

    sh.fit_columns(min_width=9, max_width=40, from_row=1)
    sh.comment(1, _col("Delivery rate"), "Share of ordered units expected to arrive (the vendor's delivery_rate).")
    sh.comment(1, _col("Flexibility"), "Multiplier on TOPS for the chip's architecture (scenario flexibility).")
    sh.comment(1, _col("Price"), "Per unit, in the chip's price currency, after site price overrides.")
    sh.comment(1, _col("Unit price"), f"Per unit, in {cur}: Price x the exchange rate (Inputs).")
    return layout


# ---------------------------------------------------------------- Summary
def _sumifs(layout: TableLayout, column: str, criteria: Sequence[tuple[str, str]]) -> str:
    """``SUMIFS(Allocation!$K$2:$K$5,Allocation!$A$2:$A$5,A12,...)``; criteria are (column, cell or literal)."""
    return layout.sumifs(column, criteria)


def _summary_sheet(book: Book, sh: Sheet, plan: Plan, layout: TableLayout, refs: dict[str, str],
                   leases: TableLayout | None = None, objective: tuple[str, float] | None = None) -> None:
    s = plan.scenario
    cur = s.currency
    ok = plan.result.ok
    t = plan.totals
    wide = extended(plan)  # periods, leases or outcomes: the objective is not a sum of Allocation rows
    sh.title(1, s.name)
    relax = plan.result.dual_basis == "relaxation"
    others = (["Leases"] if leases is not None else []) + (["Cash by period"] if objective else [])
    over = ("the Allocation sheet" if not others
            else "the Allocation, " + ", ".join(others[:-1]) + (", " if len(others) > 2 else "")
            + ("and " if len(others) == 1 else " and ") + others[-1] + " sheets")
    sh.note(2, 1, f"All money in {cur} (the scenario's reporting currency). TOPS are dense INT8 TOPS. "
                  + (f"Plan verified independently of the solver. Figures are formulas over {over}."
                     if ok else f"No plan: the scenario is {plan.status}."))
    sh.freeze(3)
    n = layout.n
    layout = expected_view(layout)
    leases = expected_view(leases) if leases is not None else None
    if ok and plan.outcomes:
        sh.note(3, 1, f"This plan has {len(plan.outcomes)} outcomes: the figures and tables below are expectations "
                      "(SUMPRODUCT of the Allocation and Leases rows with their Probability: an order shared by every "
                      "outcome counts once, an outcome's own order with its probability); the objective and the "
                      "expected spend are the solver's verified values.", warn=True)

    def over_allocation(name: str) -> tuple[str, float]:
        return "=" + layout.total_expr(name), (layout.sum(name) if n else 0.0)

    row = sh.section(4, "Key figures")
    hdr = row
    sh.header(hdr, ["Figure", "Value", "Unit", "Note"], freeze=False)
    r = hdr
    fig_rows: dict[str, int] = {}

    def figure(name: str, value: Any, unit: str, note: str, fmt: str | None = None, expr: str | None = None) -> None:
        nonlocal r
        r += 1
        fig_rows[name] = r
        sh.put(r, 1, name, bold=True, counts=False)
        if expr is not None:
            sh.formula(r, 2, expr, value, fmt, style={"align": "right"})
        else:
            sh.put(r, 2, value, fmt, style={"align": "right"}, counts=False)
        sh.put(r, 3, unit, counts=False)
        sh.put(r, 4, note, counts=False)
        sh.wrap_across(r, 4)  # a long note wraps across the page instead of running off it

    figure("Status", plan.status, "", "verified: every constraint and the objective recomputed from the scenario" if ok else "")
    figure("Solver", plan.result.solver, "", plan.result.solver_version)
    figure("Units", "whole lots (MILP)" if s.integer_units else "continuous (LP)", "",
           ("shadow prices from the continuous relaxation" if relax else "shadow prices from the LP") if ok else "")
    site_table_rows: dict[str, int] = {}
    eff_name = "Effective TOPS"  # the figure the chip table's shares divide by
    spend_name = "Total spend"  # the figure the vendor table's shares divide by
    if ok and wide:
        eff_name, spend_name = _extended_figures(plan, figure, fig_rows, over_allocation, leases, objective)
        spend_total = sh.value(fig_rows["Total spend"], 2)
        purchase_total = sh.value(fig_rows[spend_name], 2)
    elif ok:
        for name, col, note in (("Effective TOPS", "Effective TOPS", "INT8 TOPS x flexibility x delivery rate (the objective)"),
                                ("Delivered TOPS", "Delivered TOPS", "INT8 TOPS x delivery rate"),
                                ("Ordered TOPS", "Ordered TOPS", "INT8 TOPS as ordered")):
            expr, v = over_allocation(col)
            figure(name, v, "TOPS", note, FMT_INT, expr)
        expr, v = over_allocation("Units")
        figure("Units ordered", v, "units", "", _fmt_for([t["units"]], FMT_INT, FMT_NUM), expr)
        expr, spend_total = over_allocation("Spend")
        figure("Total spend", spend_total, cur, "", FMT_MONEY, expr)
        purchase_total = spend_total
    if ok:
        budget_sites = [x for x in plan.sites if x.budget is not None]
        # the Sites table below starts after the charts; its rows are known now
        n_fig = (r - hdr - 3) + (1 if budget_sites else 0) + (2 if s.budget is not None else 0)
        sites_hdr = hdr + 3 + n_fig + 2 + CHART_ROWS + 2  # section title and note, then the header
        for k, x in enumerate(plan.sites, start=sites_hdr + 1):
            site_table_rows[x.site] = k
        if budget_sites:
            col_b = col_letter(5)
            expr = f"=SUM({col_b}{sites_hdr + 1}:{col_b}{sites_hdr + len(plan.sites)})"
            figure("Site budgets", sum(x.budget for x in budget_sites), cur, "sum over sites with a budget", FMT_MONEY, expr)
        if s.budget is not None:
            g = s.money(s.budget)
            factor, rate = fx_factor(book, s, s.budget.currency)
            amount_ref = refs.get("budget.amount")
            gv = s.budget.amount * rate
            if amount_ref:
                figure("Global budget", gv, cur, f"{s.budget.amount:,.0f} {s.budget.currency or cur} (Inputs)", FMT_MONEY,
                       f"={amount_ref}{factor}")
            else:
                figure("Global budget", g, cur, f"{s.budget.amount:,.0f} {s.budget.currency or cur}", FMT_MONEY)
            spend_cell = cell_ref(fig_rows["Total spend"], 2)
            figure("Global budget used", spend_total / gv if gv else 0.0, "%", "", FMT_PCT,
                   f"={spend_cell}/{cell_ref(fig_rows['Global budget'], 2)}" if gv else None)
    row = r + 2
    chart_row = row
    if ok:
        row += CHART_ROWS  # the charts go here, side by side, above the detail tables
    tables_from = row
    fit_to = None
    spend_total_cell = cell_ref(fig_rows[spend_name], 2, True) if ok else None

    if ok and plan.sites:
        row = sh.section(row, "Sites", "Budget used = spend / budget; the domestic share is measured on the site's basis.")
        if row != sites_hdr:  # the Site budgets figure above sums this table's Budget column
            raise RuntimeError(f"Summary layout: Sites header at row {row}, expected {sites_hdr}")
        cols = ["Site", "Name", "Country", money_header("Spend", cur), money_header("Budget", cur), "Budget used",
                "Domestic share", "Domestic floor", "Basis", "Floor met", "Power used (MW)", "Power (MW)"]
        sh.header(row, cols, freeze=False)
        basis_col = {"spend": "Spend", "units": "Units", "tops": "Ordered TOPS"}
        for k, x in enumerate(plan.sites, start=row + 1):
            site_crit = ("Site", cell_ref(k, 1))
            sh.put(k, 1, x.site)
            sh.put(k, 2, x.name)
            sh.put(k, 3, x.country)
            spend = layout.sum("Spend", Site=x.site)
            parts = ([_sumifs(layout, "Spend", [site_crit])] if n else [])
            if leases is not None and leases.n:  # lease payments count in the site's budget
                spend += leases.sum("Spend", Site=x.site)
                parts.append(leases.sumifs("Spend", [site_crit]))
            if parts:
                sh.formula(k, 4, "=" + "+".join(parts), spend, FMT_MONEY)
            else:
                sh.put(k, 4, 0.0, FMT_MONEY)
            budget = None
            st = s.sites[x.site]
            if st.budget is not None:
                factor, rate = fx_factor(book, s, st.budget.currency)
                budget = st.budget.amount * rate
                ref = refs.get(f"sites.{x.site}.budget.amount")
                if ref:
                    sh.formula(k, 5, f"={ref}{factor}", budget, FMT_MONEY)
                else:
                    sh.put(k, 5, budget, FMT_MONEY)
                if budget:
                    sh.formula(k, 6, f"={cell_ref(k, 4)}/{cell_ref(k, 5)}", spend / budget, FMT_PCT)
            bcol = basis_col[x.domestic_basis]
            whole = layout.sum(bcol, Site=x.site)
            share = None
            if n and whole > 0:
                dom = layout.sum(bcol, Site=x.site, Domestic="yes")
                share = dom / whole
                sh.formula(k, 7, f"={_sumifs(layout, bcol, [site_crit, ('Domestic', chr(34) + 'yes' + chr(34))])}"
                                 f"/{_sumifs(layout, bcol, [site_crit])}", share, FMT_PCT)
            sh.put(k, 8, x.domestic_min_share, FMT_PCT)
            sh.put(k, 9, x.domestic_basis)
            if x.domestic_min_share is None:
                sh.put(k, 10, "no floor")
            elif share is None:
                sh.put(k, 10, "nothing bought")
            else:
                met = _yes(share >= x.domestic_min_share - SHARE_TOLERANCE)
                sh.formula(k, 10, f'=IF({cell_ref(k, 7)}>={cell_ref(k, 8)}-{SHARE_TOLERANCE:.9f},"yes","no")', met,
                           style={"bg_color": DENY_BG} if met == "no" else None)
            sh.put(k, 11, x.power_used_mw, FMT_NUM)
            sh.put(k, 12, x.power_mw, FMT_NUM)
        row = row + len(plan.sites) + 2

    if ok:
        # spend by vendor
        row = sh.section(row, "Spend by vendor")
        hdr_v = row
        cols = ["Vendor", "Name", "Origin", "Units", money_header("Spend", cur),
                "Share of purchase spend" if spend_name != "Total spend" else "Share of spend", "Effective TOPS"]
        sh.header(hdr_v, cols, freeze=False)
        vendors = list(plan.spend_by_vendor())
        for k, v in enumerate(vendors, start=hdr_v + 1):
            crit = [("Vendor", cell_ref(k, 1))]
            sh.put(k, 1, v)
            sh.put(k, 2, s.vendors[v].name or v)
            sh.put(k, 3, s.vendors[v].origin)
            sp = layout.sum("Spend", Vendor=v)
            for j, colname, fmt in ((4, "Units", FMT_INT), (5, "Spend", FMT_MONEY), (7, "Effective TOPS", FMT_INT)):
                val = layout.sum(colname, Vendor=v)
                if n:
                    sh.formula(k, j, "=" + _sumifs(layout, colname, crit), val, fmt)
                else:
                    sh.put(k, j, val, fmt)
            if purchase_total:
                sh.formula(k, 6, f"={cell_ref(k, 5)}/{spend_total_cell}", sp / purchase_total, FMT_PCT)
        last_v = hdr_v + len(vendors)
        row = last_v + 2

        # effective TOPS by chip
        row = sh.section(row, "Effective TOPS by chip")
        hdr_c = row
        cols = ["Chip", "Model", "Vendor", "Units", money_header("Spend", cur), "Effective TOPS", "Share of TOPS"]
        sh.header(hdr_c, cols, freeze=False)
        chips = sorted({a.chip for a in plan.allocation})
        eff_total = layout.sum("Effective TOPS")
        eff_cell = cell_ref(fig_rows[eff_name], 2, True)
        for k, c in enumerate(chips, start=hdr_c + 1):
            crit = [("Chip", cell_ref(k, 1))]
            sh.put(k, 1, c)
            sh.put(k, 2, s.chips[c].model or c)
            sh.put(k, 3, s.chips[c].vendor)
            for j, colname, fmt in ((4, "Units", FMT_INT), (5, "Spend", FMT_MONEY), (6, "Effective TOPS", FMT_INT)):
                sh.formula(k, j, "=" + _sumifs(layout, colname, crit), layout.sum(colname, Chip=c), fmt)
            if eff_total:
                sh.formula(k, 7, f"={cell_ref(k, 6)}/{eff_cell}", layout.sum("Effective TOPS", Chip=c) / eff_total, FMT_PCT)
        last_c = hdr_c + len(chips)
        row = last_c + 2
        fit_to = row - 1

        binding = [c for c in plan.constraints if c.binding]
        row = sh.section(row, "Binding constraints", RELAXATION_NOTE if relax else SHADOW_CONVENTION)
        if binding:
            last = sh.table(["Constraint", "Shadow price", "Meaning"], [[c.name, c.shadow_price, c.meaning] for c in binding],
                            [None, FMT_SHADOW, None], start_row=row, freeze=False, autofilter=False)
            row = last + 2
        else:
            sh.note(row, 1, "none: no limit is reached")
            row += 2

    # widths follow the detail tables; key-figure notes may run on into the empty cells to their right
    sh.fit_columns(max_width=45, from_row=tables_from, to_row=fit_to)
    names = [sh.value(k, 1) for k in fig_rows.values()] + [c.name for c in plan.constraints if c.binding]
    sh.widths[1] = max(sh.widths.get(1, 0), max(len(str(x)) for x in names) + 4)
    sh.widths[2] = max(sh.widths.get(2, 0), 18)

    if ok:
        charts = []
        if vendors:
            ch = _bar_chart(book, f"Spend by vendor ({cur})", cur, FMT_MONEY)
            ch.add_series({"name": ["Summary", hdr_v - 1, 4], "values": ["Summary", hdr_v, 4, last_v - 1, 4],
                           "categories": ["Summary", hdr_v, 1, last_v - 1, 1], "gap": 80})
            charts.append(ch)
        if chips:
            ch = _bar_chart(book, "Effective TOPS by chip", "effective TOPS", FMT_INT)
            ch.add_series({"name": ["Summary", hdr_c - 1, 5], "values": ["Summary", hdr_c, 5, last_c - 1, 5],
                           "categories": ["Summary", hdr_c, 1, last_c - 1, 1], "gap": 80})
            charts.append(ch)
        for k, ch in enumerate(charts):
            insert_chart(sh, chart_row, 1, ch, CHART_W, CHART_H, x_offset_cm=k * (CHART_W + 0.5))


def _extended_figures(plan: Plan, figure: Callable, fig_rows: dict[str, int], over_allocation: Callable,
                      leases: TableLayout | None, objective: tuple[str, float] | None) -> tuple[str, str]:
    """Key figures of a plan with periods, leases or outcomes: what the objective is (from Cash by period when the
    plan has periods), purchases and leases apart, and the total spend; returns the names of the figures the
    chip and vendor shares divide by (effective TOPS purchased, purchase spend)."""
    s = plan.scenario
    cur = s.currency
    t = plan.totals
    ids = s.period_ids
    rows_note = " (expected over the outcomes)" if plan.outcomes else ""
    units_fmt = _fmt_for([t["units"]], FMT_INT, FMT_NUM)
    eff_expr, eff = over_allocation("Effective TOPS")
    lease_eff_expr, lease_eff = None, 0.0
    if leases is not None:
        lease_eff = leases.sum("Effective TOPS")
        lease_eff_expr = "=" + leases.total_expr("Effective TOPS")
    # the objective
    if objective is not None:
        ref, value = objective
        if s.objective == "in_service":
            figure("Effective TOPS in service (average)", value, "TOPS",
                   f"the objective (in_service): the average over the {len(ids)} periods {ids[0]}-{ids[-1]} of the "
                   "effective TOPS in service (purchases delivered and leases started by each period); "
                   "see Cash by period", FMT_INT, f"={ref}")
        else:
            figure("Effective TOPS by the end", value, "TOPS",
                   f"the objective (delivered): effective TOPS delivered by the end of {ids[-1]}, purchases and "
                   "leases; see Cash by period", FMT_INT, f"={ref}")
    elif plan.outcomes:
        figure("Objective", t["effective_tops"], "TOPS", f"{objective_text(plan)}: the solver's verified value", FMT_INT)
        figure("Expected spend", t["spend"], cur, "the solver's verified value: each outcome's spend weighted by its "
               "probability", FMT_MONEY)
    else:  # one period with leases: purchases and leases delivered
        expr = eff_expr + ("+" + lease_eff_expr[1:] if lease_eff_expr else "")
        figure("Effective TOPS", eff + lease_eff, "TOPS",
               "the objective: INT8 TOPS x flexibility x delivery rate, purchases and leases", FMT_INT, expr)
    figure("Effective TOPS purchased", eff, "TOPS",
           "purchases delivered by the end: INT8 TOPS x flexibility x delivery rate" + rows_note, FMT_INT, eff_expr)
    if leases is not None:
        figure("Effective TOPS leased", lease_eff, "TOPS", "leased units x INT8 TOPS x flexibility x the lease's "
               "delivery rate" + rows_note, FMT_INT, lease_eff_expr)
    for name, col, note in (("Delivered TOPS", "Delivered TOPS", "purchases: INT8 TOPS x delivery rate"),
                            ("Ordered TOPS", "Ordered TOPS", "purchases: INT8 TOPS as ordered")):
        expr, v = over_allocation(col)
        figure(name, v, "TOPS", note + rows_note, FMT_INT, expr)
    expr, v = over_allocation("Units")
    figure("Units ordered", v, "units", rows_note.strip(" ()"), units_fmt, expr)
    expr, purchase = over_allocation("Spend")
    # over outcomes, the rows count a shared order once at its Allocation price; the solver's expected spend (above)
    # counts it in each outcome at that outcome's price, and a stranded order net of its refund
    gross = ("at the Allocation prices; Expected spend: each outcome's own prices, refunds deducted"
             if plan.outcomes else "")
    if leases is None:
        figure("Total spend", purchase, cur, gross or rows_note.strip(" ()"), FMT_MONEY, expr)
        return "Effective TOPS purchased", "Total spend"
    units = leases.sum("Units")
    figure("Leased units", units, "units", "units in service from their start period to the end" + rows_note,
           _fmt_for([units], FMT_INT, FMT_NUM), "=" + leases.total_expr("Units"))
    figure("Purchase spend", purchase, cur, "orders, paid in the order period" + rows_note, FMT_MONEY, expr)
    lease_spend = leases.sum("Spend")
    figure("Lease spend", lease_spend, cur, "units x price per period x periods in service" + rows_note, FMT_MONEY,
           "=" + leases.total_expr("Spend"))
    figure("Total spend", purchase + lease_spend, cur, "purchases and leases" + (f", {gross}" if gross else ""), FMT_MONEY,
           f"={cell_ref(fig_rows['Purchase spend'], 2)}+{cell_ref(fig_rows['Lease spend'], 2)}")
    return "Effective TOPS purchased", "Purchase spend"


def _bar_chart(book: Book, title: str, axis_title: str, num_fmt: str) -> Any:
    ch = chart(book, "column")
    ch.set_title({"name": title, "name_font": {"size": 12}})
    ch.set_y_axis({"name": axis_title, "num_format": num_fmt, "major_gridlines": {"visible": True}})
    ch.set_legend({"none": True})
    return ch


# ---------------------------------------------------------------- Constraints
def _constraints_sheet(sh: Sheet, plan: Plan) -> None:
    relax = plan.result.dual_basis == "relaxation"
    rows = []
    for c in plan.constraints:
        rows.append([c.name, c.kind, c.lhs, c.sense, c.rhs, c.unit, c.slack,
                     _yes(c.binding), c.shadow_price, c.meaning])
    cols = list(CONSTRAINT_COLUMNS)
    fmts = [None, None, FMT_NUM, None, FMT_NUM, None, FMT_NUM, None, FMT_SHADOW, None]
    sh.header(1, cols, freeze=True, autofilter_rows=len(rows))
    for i, r in enumerate(rows, start=2):
        for j, (v, f) in enumerate(zip(r, fmts), start=1):
            style = None
            if j == 4:
                style = {"align": "center"}
            elif j == 8 and v == "yes":
                style = BOLD
            elif j == 10:
                style = WRAP_TOP
            sh.put(i, j, v, f, style=style)
    sp_col = cols.index("Shadow price") + 1
    sh.comment(1, sp_col, SHADOW_CONVENTION + (" " + RELAXATION_NOTE if relax else ""))
    row = len(rows) + 3
    if not rows:
        sh.note(row, 1, "No constraints." if plan.result.ok else f"No plan: the scenario is {plan.status}.")
        row += 1
    sh.note(row, 1, SHADOW_CONVENTION)
    if relax:
        sh.note(row + 1, 1, RELAXATION_NOTE, warn=True)
    sh.note(row + 2, 1,
            "Slack = room left (RHS - LHS for <=, LHS - RHS for >=). Binding = no room for even one more lot of any chip "
            "in the row. Share rows are written as sum((share - floor) x weight x units) >= 0, so their RHS is 0.")
    sh.fit_columns(max_width=90, from_row=1)


# ---------------------------------------------------------------- the workbook
def build_plan_workbook(plan: Plan, extra_sheets: Sequence[SheetFn] = (), first_sheets: Sequence[SheetFn] = (),
                        about_extra: dict[str, Any] | None = None, risk: Any = None) -> Book:
    """The workbook in memory (``write_plan_workbook`` saves it atomically).

    A plan over outcomes gets the Risk sheet from ``risk`` (its :class:`~optimizer.analysis.risk.RiskFigures`),
    worked out here when not given.
    """
    book = Book()
    for fn in first_sheets:
        fn(book)
    ok = plan.result.ok
    summary = book.add_sheet("Summary")
    if ok and getattr(plan, "outcomes", None):
        if risk is None:
            from ..analysis.risk import risk_figures

            risk = risk_figures(plan, solver=plan.result.solver)
        if risk is not None:
            from .risk_sheet import add_risk_sheet

            add_risk_sheet(book, risk, plan.scenario.currency)
    allocation = book.add_sheet("Allocation")
    # plans with periods and leases: their own sheets after Allocation (filled once Inputs defines the FX names)
    orders = book.add_sheet(ORDERS_SHEET) if ok and plan.dated else None
    leases = book.add_sheet(LEASES_SHEET) if ok and plan.scenario.leases else None
    cash = book.add_sheet(CASH_SHEET) if ok and periods_shown(plan) else None
    _constraints_sheet(book.add_sheet("Constraints"), plan)
    compliance_sheet(book.add_sheet("Compliance"), plan)
    for fn in extra_sheets:
        fn(book)
    applied = plan.loaded.applied if plan.loaded is not None else []
    # the scenario as solved, in chipalloc's own layout: re-solvable, and the FX names the price formulas use
    refs = add_scenario_inputs(book, plan.scenario, _as_solved(plan), applied=applied)
    layout = _allocation_sheet(book, allocation, plan)
    lease_layout = leases_sheet(book, leases, plan) if leases is not None else None
    if orders is not None:
        orders_sheet(book, orders, plan, layout)
    objective = cash_sheet(book, cash, plan, layout, lease_layout, refs) if cash is not None else None
    _summary_sheet(book, summary, plan, layout, refs, lease_layout, objective)
    src = plan.loaded.source if plan.loaded is not None else None
    add_about_sheet(
        book,
        scenario_path=src.path if src else None,
        scenario_sha256=src.sha256 if src else None,
        solver=plan.result.solver,
        solver_version=plan.result.solver_version,
        applied=applied,
        extra={"Status": plan.status, "Shadow prices": "continuous relaxation" if plan.result.dual_basis == "relaxation" else "LP",
               **(about_extra or {})},
        solved_at=plan.result.extra.get("solved_at"),
    )
    return book


def _as_solved(plan: Plan) -> dict | None:
    """The scenario data as solved (the file with its variants and --set applied), when read from a file."""
    loaded = plan.loaded
    return getattr(loaded, "data", None) if loaded is not None else None


def write_plan_workbook(
    plan: Plan,
    path: str | Path,
    force: bool = False,
    extra_sheets: Sequence[SheetFn] = (),
    first_sheets: Sequence[SheetFn] = (),
    unique: bool = False,
    risk: Any = None,
) -> Path:
    """Write the solve workbook to ``path`` atomically; an existing file is replaced only with ``force``.

    With ``unique`` (default report names) a taken name gets a ``-2``... suffix; returns the path written.
    """

    def write(tmp: str) -> None:
        build_plan_workbook(plan, extra_sheets=extra_sheets, first_sheets=first_sheets, risk=risk).save(tmp)

    return write_atomic(path, write, force, unique)
