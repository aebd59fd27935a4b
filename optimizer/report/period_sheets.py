"""Workbook sheets for plans with periods and leases: Orders by period, Leases, Cash by period.

Every figure is a live formula over the Allocation and Leases sheets (and the
Inputs cells for caps and envelopes), stored with the value it computes:

- **Orders by period**: units per site and chip (and outcome) in each order
  period, ``SUMIFS`` over Allocation, with SUM totals by row and column and a
  stacked column chart of units by period.
- **Leases**: one row per lease start; ``Spend = Units x Price per period x
  Periods in service`` and the payment schedule, one column per period
  (``Units x Price per period`` in every period the lease is in service), so the
  cash paid in a period is a SUM down that column. A Difference row checks the
  totals against the verified plan.
- **Cash by period**: for all sites and then each site, per period: orders placed
  (SUMIFS over Allocation by order period), lease payments (the Leases schedule),
  spend against the per-period cap (``budget.per_period``, from Inputs, converted
  by the FX names), used, cumulative spend, units delivered, effective TOPS
  entering service and in service (a running sum), power in use against the
  envelope; then the objective recomputed from the in-service column (the average
  over the periods, or the last period with ``objective: delivered``) against the
  solver's verified value, and a line chart of effective TOPS in service.

Cash by period is written only for plans without outcomes (see
:func:`optimizer.report.period_tables.periods_shown`).
"""
from __future__ import annotations

from typing import Any

from ..plan import Plan
from .inputs_sheet import fx_factor
from .period_tables import orders_by_period, power_envelope
from .xlsx import (
    FMT_INT,
    FMT_MONEY,
    FMT_MONEY_CENTS,
    FMT_NUM,
    FMT_PCT,
    FMT_RATIO,
    TOTAL,
    Book,
    Sheet,
    TableLayout,
    cell_ref,
    chart,
    col_letter,
    insert_chart,
    money_header,
    sheet_ref,
    sheet_sub,
    sheet_sum,
)

ORDERS_SHEET = "Orders by period"
LEASES_SHEET = "Leases"
CASH_SHEET = "Cash by period"
ALL_SITES = "all sites"
EVERY_OUTCOME = "every outcome"  # the Outcome cell of a row shared by every outcome (as on Allocation)
# plans over outcomes: the weight of each Allocation and Leases row in expected figures (1 for an order shared by
# every outcome, else its outcome's probability), which the Expected rows and the Summary's SUMPRODUCTs use
PROBABILITY = "Probability"
MAX_SERIES = 40  # the Orders chart stacks one series per row; beyond this it would not be readable
CHART_W, CHART_H = 17.0, 8.5  # cm
LINE_CHART_H = 7.0  # cm: under a landscape table and its notes, on the same page


def _units_fmt(values) -> str:
    return FMT_INT if all(float(v).is_integer() for v in values) else FMT_NUM


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# ---------------------------------------------------------------- Leases
def lease_columns(plan: Plan) -> list[str]:
    cols = ["Lease", "Site", "Chip", "Operator", "Start period"]
    if any(r.outcome for r in plan.leases):
        cols += ["Outcome", PROBABILITY]
    cols += ["Units", "Price", "Price currency", "Price per period", "Periods in service", "Spend", "INT8 TOPS",
             "Flexibility", "Delivery rate", "Effective TOPS"]
    if plan.dated:
        cols += [f"Paid {p}" for p in plan.scenario.period_ids]
    return cols


def leases_sheet(book: Book, sh: Sheet, plan: Plan) -> TableLayout:
    """One row per lease start, with live spend, effective TOPS and the payment schedule by period."""
    s = plan.scenario
    cur = s.currency
    ids = s.period_ids
    index = {p: i for i, p in enumerate(ids)}
    columns = lease_columns(plan)
    money_cols = {"Price per period", "Spend"} | {c for c in columns if c.startswith("Paid ")}
    names = [money_header(c, cur) if c in money_cols else c for c in columns]
    leases = plan.leases
    n = len(leases)
    sh.header(1, names, freeze=True, autofilter_rows=n)
    if n == 0:
        sh.ws.autofilter(0, 0, 0, len(names) - 1)
    col = {c: columns.index(c) + 1 for c in columns}
    L = {c: col_letter(col[c]) for c in columns}
    units_fmt = _units_fmt([r.units for r in leases])
    rows: list[dict[str, Any]] = []
    for i, r in enumerate(leases, start=2):
        g = plan.outcomes.get(r.outcome, s) if r.outcome else s
        o = g.leases[r.lease]
        currency = o.price_currency or cur
        factor, rate = fx_factor(book, s, currency)
        native = o.price_per_period
        if abs(native * rate - r.price_per_period) > 1e-9 * max(1.0, abs(r.price_per_period)):
            native = r.price_per_period / rate  # a price the plan derived otherwise: keep the plan's
        price = native * rate
        chip = g.chips[r.chip]
        flex = g.flexibility[chip.architecture]
        spend = r.units * price * r.periods_in_service
        eff = r.units * chip.int8_tops * flex * o.delivery_rate
        row: dict[str, Any] = {"Lease": r.lease, "Site": r.site, "Chip": r.chip, "Start period": r.start_period,
                               "Outcome": r.outcome or EVERY_OUTCOME, "Units": r.units, "Spend": spend,
                               "Effective TOPS": eff}
        sh.put(i, col["Lease"], r.lease)
        sh.put(i, col["Site"], r.site)
        sh.put(i, col["Chip"], r.chip)
        sh.put(i, col["Operator"], r.operator)
        sh.put(i, col["Start period"], r.start_period or "")
        if "Outcome" in col:
            sh.put(i, col["Outcome"], r.outcome or EVERY_OUTCOME)
            sh.put(i, col[PROBABILITY], plan.weight(r.outcome), FMT_PCT)
            row[PROBABILITY] = plan.weight(r.outcome)
        sh.put(i, col["Units"], r.units, units_fmt)
        whole = abs(native - round(native)) <= 1e-9 * max(1.0, native)
        sh.put(i, col["Price"], native, FMT_MONEY if whole else FMT_MONEY_CENTS)
        sh.put(i, col["Price currency"], currency)
        sh.formula(i, col["Price per period"], f"={L['Price']}{i}{factor}", price,
                   FMT_MONEY if whole and float(price).is_integer() else FMT_MONEY_CENTS)
        sh.put(i, col["Periods in service"], r.periods_in_service, FMT_INT)
        sh.formula(i, col["Spend"], f"={L['Units']}{i}*{L['Price per period']}{i}*{L['Periods in service']}{i}", spend,
                   FMT_MONEY)
        sh.put(i, col["INT8 TOPS"], chip.int8_tops, _units_fmt([chip.int8_tops]))
        sh.put(i, col["Flexibility"], flex, FMT_RATIO)
        sh.put(i, col["Delivery rate"], o.delivery_rate, FMT_PCT)
        sh.formula(i, col["Effective TOPS"],
                   f"={L['Units']}{i}*{L['INT8 TOPS']}{i}*{L['Flexibility']}{i}*{L['Delivery rate']}{i}", eff, FMT_INT)
        if plan.dated:
            start = index[r.start_period]
            for t, p in enumerate(ids):
                if t >= start:
                    paid = r.units * price
                    row[f"Paid {p}"] = paid
                    sh.formula(i, col[f"Paid {p}"], f"={L['Units']}{i}*{L['Price per period']}{i}", paid, FMT_MONEY)
        rows.append(row)
    layout = TableLayout(LEASES_SHEET, tuple(columns), 2, n + 1, n + 2, rows)
    view = layout.expected(PROBABILITY) if PROBABILITY in columns else layout

    tot = layout.total
    summed = {"Units": units_fmt, "Spend": FMT_MONEY, "Effective TOPS": FMT_INT}
    summed.update({c: FMT_MONEY for c in columns if c.startswith("Paid ")})
    sh.put(tot, 1, "Expected" if view.weight else "Total", style=TOTAL)
    totals = {c: view.sum(c) for c in summed}
    for c, fmt in summed.items():
        if n:
            expr = (f"=SUMPRODUCT({L[c]}2:{L[c]}{n + 1},{L[PROBABILITY]}2:{L[PROBABILITY]}{n + 1})" if view.weight
                    else f"=SUM({L[c]}2:{L[c]}{n + 1})")
            sh.formula(tot, col[c], expr, totals[c], fmt, style=TOTAL)
        else:
            sh.put(tot, col[c], 0, fmt, style=TOTAL)
    for j in range(1, len(columns) + 1):
        sh.style_blank(tot, j, TOTAL)
    t_ = plan.totals
    solver_row, diff_row = tot + 1, tot + 2
    sh.put(solver_row, 1, "Solver (verified)", bold=True)
    sh.put(diff_row, 1, "Difference", bold=True)
    for c, key in (("Units", "leased_units"), ("Spend", "lease_spend")):
        v = t_.get(key, totals[c])
        sh.put(solver_row, col[c], v, summed[c])
        sh.formula(diff_row, col[c], f"={L[c]}{tot}-{L[c]}{solver_row}", sheet_sub(totals[c], v), summed[c])
    note = diff_row + 2
    if n == 0:
        sh.note(note, 1, f"No lease is taken in this plan ({len(s.leases)} offered: {', '.join(sorted(s.leases))}; "
                         "see Inputs).")
        note += 1
    sh.note(note, 1, f"Price per period = Price x the exchange rate of its currency (FX_... on Inputs), per leased unit; "
                     f"Spend = Units x Price per period x Periods in service (from the start period to the last). "
                     f"Money in {cur}.")
    sh.note(note + 1, 1, "Effective TOPS = Units x INT8 TOPS x Flexibility x Delivery rate (the lease's own), in service "
                         "from the start period on." + (" Paid <period> = Units x Price per period in each period the "
                                                        "lease is in service: the cash it takes from that period's cap."
                                                        if plan.dated else ""))
    sh.note(note + 2, 1, "The Difference row compares the totals with the solver's verified figures; it reads 0 until an "
                         "exchange rate on Inputs is changed (the plan is not re-solved).")
    sh.fit_below_header(1, min_width=9)
    return layout


# ---------------------------------------------------------------- Orders by period
def orders_sheet(book: Book, sh: Sheet, plan: Plan, alloc: TableLayout) -> None:
    """Units ordered per site and chip (rows) and order period (columns), SUMIFS over Allocation, with totals."""
    ob = orders_by_period(plan)
    ids = ob.periods
    outcome = any(k[2] for k in ob.rows)
    keys = ["Site", "Chip"] + (["Outcome"] if outcome else [])
    first_p = len(keys) + 1
    total_col = first_p + len(ids)
    sh.header(1, keys + ids + ["Total"], freeze=True, autofilter_rows=len(ob.rows))
    sh.freeze(2, first_p)
    fmt = _units_fmt([a.units for a in plan.allocation])
    n = len(ob.rows)
    for k, (site, chip, oc) in enumerate(ob.rows, start=2):
        sh.put(k, 1, site)
        sh.put(k, 2, chip)
        crit = [("Site", f"$A{k}"), ("Chip", f"$B{k}")]
        match: dict[str, Any] = {"Site": site, "Chip": chip}
        if outcome:
            sh.put(k, 3, oc or EVERY_OUTCOME)
            crit.append(("Outcome", f"$C{k}"))
            match["Outcome"] = oc or EVERY_OUTCOME
        for t, p in enumerate(ids):
            c = first_p + t
            v = alloc.sum("Units", Period=p, **match)
            sh.formula(k, c, "=" + alloc.sumifs("Units", crit + [("Period", f"{col_letter(c)}$1")]), v, fmt)
        row_vals = [alloc.sum("Units", Period=p, **match) for p in ids]
        sh.formula(k, total_col, f"=SUM({cell_ref(k, first_p)}:{cell_ref(k, total_col - 1)})", sheet_sum(row_vals), fmt,
                   bold=True)
    tot = n + 2
    sh.put(tot, 1, "Total", style=TOTAL)
    for c in range(first_p, total_col + 1):
        if c < total_col:
            v = alloc.sum("Units", Period=ids[c - first_p])
        else:
            v = sheet_sum(alloc.sum("Units", Period=p) for p in ids)
        if n:
            sh.formula(tot, c, f"=SUM({cell_ref(2, c)}:{cell_ref(n + 1, c)})", v, fmt, style=TOTAL)
        else:
            sh.put(tot, c, 0, fmt, style=TOTAL)
    for j in range(1, total_col + 1):
        sh.style_blank(tot, j, TOTAL)
    note = tot + 2
    if n == 0:
        sh.note(note, 1, "No purchases in this plan.")
        note += 1
    sh.note(note, 1, "Units ordered in each order period (SUMIFS over the Allocation sheet); Allocation shows each "
                     "order's delivery period. Totals are SUMs by row and by column.")
    note += 2
    sh.fit_below_header(1, min_width=9)
    if 0 < n <= MAX_SERIES:
        ch = chart(book, "column", "stacked")
        ch.set_title({"name": "Units ordered by period", "name_font": {"size": 12}})
        ch.set_y_axis({"name": "units", "num_format": FMT_INT, "major_gridlines": {"visible": True}})
        ch.set_x_axis({"name": "order period"})
        ch.set_legend({"position": "right"})
        for k, (site, chip, oc) in enumerate(ob.rows, start=2):
            label = f"{site} {chip}" + (f" ({oc})" if oc else "")  # ids only: never a formula
            ch.add_series({"name": label, "categories": [sh.name, 0, first_p - 1, 0, total_col - 2],
                           "values": [sh.name, k - 1, first_p - 1, k - 1, total_col - 2], "gap": 60})
        insert_chart(sh, note, 1, ch, CHART_W, CHART_H, keep_on_page=True)
    elif n > MAX_SERIES:
        sh.note(note, 1, f"No chart: {n} rows are too many to stack in one chart; filter the table instead.")


# ---------------------------------------------------------------- Cash by period
def cash_columns(plan: Plan) -> list[str]:
    s = plan.scenario
    cols = ["Period", "Site", "Orders"]
    if s.leases:
        cols.append("Lease payments")
    cols += ["Spend", "Cap", "Used", "Cumulative spend", "Units delivered", "Effective TOPS delivered",
             "Effective TOPS in service"]
    if any(st.power_mw is not None for st in s.sites.values()):
        cols += ["Power in use (MW)", "Power envelope (MW)", "Power used"]
    return cols


def cash_sheet(book: Book, sh: Sheet, plan: Plan, alloc: TableLayout, leases: TableLayout | None,
               refs: dict[str, str]) -> tuple[str, float]:
    """Cash paid per period (all sites, then each site) against the per-period caps, deliveries, effective TOPS
    in service and power; returns the reference and value of the objective recomputed from it."""
    s = plan.scenario
    cur = s.currency
    ids = s.period_ids
    T = len(ids)
    columns = cash_columns(plan)
    col = {c: columns.index(c) + 1 for c in columns}
    L = {c: col_letter(col[c]) for c in columns}
    money_cols = {"Orders", "Lease payments", "Spend", "Cap", "Cumulative spend"}
    sites = sorted(s.sites)
    blocks = [ALL_SITES] + sites
    n = len(blocks) * T
    sh.header(1, [money_header(c, cur) if c in money_cols else c for c in columns], freeze=True, autofilter_rows=n)
    sh.freeze(2, 3)
    by_period = {p.period: p for p in plan.periods}
    unit_fmt = _units_fmt([a.units for a in plan.allocation])
    lease_n = leases.n if leases is not None else 0
    in_service: dict[str, list[float]] = {}
    r = 1
    for b in blocks:
        site = None if b == ALL_SITES else b
        cumulative = 0.0
        running = 0.0
        in_service[b] = []
        for t, p in enumerate(ids):
            r += 1
            sh.put(r, col["Period"], p)
            sh.put(r, col["Site"], b)
            where = {"Site": site} if site else {}
            site_crit = [("Site", f"$B{r}")] if site else []
            period_crit = ("Period", f"$A{r}")
            # orders placed in the period
            orders = alloc.sum("Spend", Period=p, **where)
            if alloc.n:
                sh.formula(r, col["Orders"], "=" + alloc.sumifs("Spend", site_crit + [period_crit]), orders, FMT_MONEY)
            else:
                sh.put(r, col["Orders"], 0.0, FMT_MONEY)
            spend_expr = f"={L['Orders']}{r}"
            payments = 0.0
            if "Lease payments" in col:
                payments = leases.sum(f"Paid {p}", **where) if leases is not None else 0.0
                if lease_n:
                    expr = (f"=SUM({leases.column(f'Paid {p}')})" if site is None
                            else "=" + leases.sumifs(f"Paid {p}", site_crit))
                    sh.formula(r, col["Lease payments"], expr, payments, FMT_MONEY)
                else:
                    sh.put(r, col["Lease payments"], 0.0, FMT_MONEY)
                spend_expr += f"+{L['Lease payments']}{r}"
            spend = orders + payments
            sh.formula(r, col["Spend"], spend_expr, spend, FMT_MONEY)
            # the per-period cap, from Inputs
            budget = s.budget if site is None else s.sites[site].budget
            amount = (budget.per_period or {}).get(p) if budget is not None else None
            if amount is None:
                sh.put(r, col["Cap"], "no cap", style={"align": "right"})
            else:
                factor, rate = fx_factor(book, s, budget.currency)
                path = f"budget.per_period.{p}" if site is None else f"sites.{site}.budget.per_period.{p}"
                cap = amount * rate
                if path in refs:
                    sh.formula(r, col["Cap"], f"={refs[path]}{factor}", cap, FMT_MONEY)
                else:
                    sh.put(r, col["Cap"], cap, FMT_MONEY)
                if cap > 0:
                    sh.formula(r, col["Used"], f"={L['Spend']}{r}/{L['Cap']}{r}", spend / cap, FMT_PCT)
            cumulative += spend
            prev = f"{L['Cumulative spend']}{r - 1}+" if t else ""
            sh.formula(r, col["Cumulative spend"], f"={prev}{L['Spend']}{r}", cumulative, FMT_MONEY)
            # deliveries and compute in service
            delivered_crit = site_crit + [("Delivery period", f"$A{r}")]
            units = alloc.sum("Units", **{"Delivery period": p}, **where)
            entering = alloc.sum("Effective TOPS", **{"Delivery period": p}, **where)
            parts = []
            if alloc.n:
                sh.formula(r, col["Units delivered"], "=" + alloc.sumifs("Units", delivered_crit), units, unit_fmt)
                parts.append(alloc.sumifs("Effective TOPS", delivered_crit))
            else:
                sh.put(r, col["Units delivered"], 0.0, unit_fmt)
            if lease_n:
                entering += leases.sum("Effective TOPS", **{"Start period": p}, **where)
                parts.append(leases.sumifs("Effective TOPS", site_crit + [("Start period", f"$A{r}")]))
            if parts:
                sh.formula(r, col["Effective TOPS delivered"], "=" + "+".join(parts), entering, FMT_INT)
            else:
                sh.put(r, col["Effective TOPS delivered"], 0.0, FMT_INT)
            running += entering
            in_service[b].append(running)
            prev = f"{L['Effective TOPS in service']}{r - 1}+" if t else ""
            sh.formula(r, col["Effective TOPS in service"], f"={prev}{L['Effective TOPS delivered']}{r}", running, FMT_INT)
            # power, per site
            if site is not None and "Power in use (MW)" in col:
                envelope = power_envelope(plan, site, p)
                if envelope is not None:
                    used_mw = by_period[p].power_mw.get(site, 0.0) if p in by_period else 0.0
                    sh.put(r, col["Power in use (MW)"], used_mw, FMT_NUM)
                    pw = s.sites[site].power_mw
                    path = f"sites.{site}.power_mw.{p}" if isinstance(pw, dict) else f"sites.{site}.power_mw"
                    if path in refs:
                        sh.formula(r, col["Power envelope (MW)"], f"={refs[path]}", envelope, FMT_NUM)
                    else:
                        sh.put(r, col["Power envelope (MW)"], envelope, FMT_NUM)
                    if envelope > 0:
                        sh.formula(r, col["Power used"], f"={L['Power in use (MW)']}{r}/{L['Power envelope (MW)']}{r}",
                                   used_mw / envelope, FMT_PCT)

    # the objective, recomputed from the all-sites in-service column
    k = col["Effective TOPS in service"]
    first, last = 2, 1 + T
    obj_row = r + 2
    if s.objective == "in_service":
        label = f"Average effective TOPS in service over the {T} periods (the objective)"
        value = sheet_sum(in_service[ALL_SITES]) / T
        expr = f"=AVERAGE({cell_ref(first, k)}:{cell_ref(last, k)})"
    else:
        label = f"Effective TOPS in service at the end of {ids[-1]} (the objective: delivered)"
        value = in_service[ALL_SITES][-1]
        expr = f"={cell_ref(last, k)}"
    sh.put(obj_row, 1, label, bold=True, counts=False)
    sh.formula(obj_row, k, expr, value, FMT_INT, bold=True)
    solver = plan.totals.get("effective_tops", value)
    sh.put(obj_row + 1, 1, "Solver (verified)", bold=True, counts=False)
    sh.put(obj_row + 1, k, solver, FMT_INT)
    sh.put(obj_row + 2, 1, "Difference", bold=True, counts=False)
    sh.formula(obj_row + 2, k, f"={cell_ref(obj_row, k)}-{cell_ref(obj_row + 1, k)}", sheet_sub(value, solver), FMT_INT)
    note = obj_row + 4
    sh.note(note, 1, "Orders: purchases placed in the period (paid when ordered), SUMIFS over Allocation."
                     + (" Lease payments: the Leases sheet's schedule (every period a lease is in service)." if s.leases
                        else "") + " Cap: budget.per_period on Inputs, converted with the FX names; "
                                   "Used = Spend / Cap; the horizon budgets are on Summary.")
    sh.note(note + 1, 1, "Effective TOPS delivered: purchases delivered in the period" +
                         (" and leases started in it" if s.leases else "") +
                         "; in service: the running sum to the period. Power in use: chips delivered by the period, "
                         "against the site's envelope (power_mw on Inputs).")
    sh.note(note + 2, 1, "The Difference row compares the objective recomputed here with the solver's verified value "
                         "(it reads 0).")
    sh.fit_below_header(1, min_width=9)

    ch = chart(book, "line")
    ch.set_title({"name": "Effective TOPS in service by period", "name_font": {"size": 12}})
    ch.set_y_axis({"name": "effective TOPS", "num_format": FMT_INT, "major_gridlines": {"visible": True}})
    ch.set_x_axis({"name": "period"})
    for j, b in enumerate(blocks if len(sites) > 1 else [ALL_SITES]):
        top = 2 + j * T
        ch.add_series({"name": b, "categories": [sh.name, 1, 0, T, 0],
                       "values": [sh.name, top - 1, k - 1, top + T - 2, k - 1],
                       "marker": {"type": "circle"}, "line": {"width": 2.25 if b == ALL_SITES else 1.5}})
    ch.set_legend({"position": "bottom"} if len(sites) > 1 else {"none": True})
    insert_chart(sh, note + 4, 1, ch, CHART_W, LINE_CHART_H, keep_on_page=True)
    return sheet_ref(sh.name, obj_row, k), value
