"""The Inputs sheet (the scenario as solved) and the workbook's defined names for input cells.

:func:`add_inputs_sheet` writes the scenario as readable tables and returns,
for every scenario value it wrote, its dotted path -> absolute cell
reference (``"fx.USD" -> "Inputs!$B$12"``), the same contract as the
scenario-workbook writer's ``add_scenario_sheets``. :func:`define_input_names`
is the ONE place that turns such references into defined names
(``FX_USD``); report formulas use the names (:func:`fx_factor`), so
swapping the Inputs layout only needs new references, never new formulas.

Version 2: a value given per period is written as one column per period,
headed ``field.period`` (``capacity_units.2025q1``), with its reference under
the dotted path with the period (``vendors.huawei.capacity_units.2025q1``); a
value given as one number stays in the field's own column. Periods, the
objective and the buyer are settings; leases, licences by id with their
``from``/``until`` window, per-period budgets and outcomes are tables. A
scenario that uses none of these gets exactly the version-1 sheet.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..schema import Scenario
from .about_sheet import applied_rows, value_text
from .xlsx import (
    FMT_INT,
    FMT_MONEY,
    FMT_MONEY_CENTS,
    FMT_NUM,
    FMT_PCT,
    FMT_RATE,
    FMT_RATIO,
    FMT_GENERAL,
    INPUT,
    WRAP_TOP,
    Book,
    cell_ref,
    money_header,
    sheet_ref,
)

INPUTS_SHEET = "Inputs"
FX_NAME_PREFIX = "FX_"


def fx_name(currency: str) -> str:
    """Defined name of the cell holding the rate of ``currency``: ``FX_USD``."""
    return f"{FX_NAME_PREFIX}{currency}"


def define_input_names(book: Book, refs: dict[str, str]) -> dict[str, str]:
    """Define a workbook name for each input cell that formulas reference; returns name -> reference.

    Today: one name per exchange rate, ``fx.USD`` -> ``FX_USD``.
    """
    out = {}
    for path, ref in refs.items():
        if path.startswith("fx.") and path.count(".") == 1:
            name = fx_name(path.split(".", 1)[1])
            book.define_name(name, ref)
            out[name] = ref
    return out


def fx_factor(book: Book, scenario: Scenario, currency: str | None) -> tuple[str, float]:
    """The multiplier that turns ``currency`` into the reporting currency in a formula, and its value.

    ``("", 1.0)`` for the reporting currency; ``("*FX_USD", 7.2)`` otherwise.
    A rate without its defined name is a bug in the workbook writer.
    """
    if currency is None or currency == scenario.currency:
        return "", 1.0
    name = fx_name(currency)
    if name not in book.names:
        raise RuntimeError(f"the workbook has no defined name {name}; write the Inputs sheet first")
    return f"*{name}", scenario.rate(currency)


def add_scenario_inputs(book: Book, scenario: Scenario, data: dict | None = None, title: str = INPUTS_SHEET,
                        applied: Sequence[dict] = ()) -> dict[str, str]:
    """The Inputs sheet in chipalloc's scenario layout (stacked blocks), so the workbook can be re-solved:
    finance changes a price or a rate there and runs ``chipalloc solve`` on the workbook itself. The FX cells
    get their defined names (the price formulas use them). Returns dotted path -> absolute cell reference.

    ``data``: the scenario as solved, in the file's own form (variants and --set applied); else every value
    of ``scenario``, defaults included.
    """
    from ..scenario_xlsx.write import add_scenario_sheets

    from .about_sheet import applied_summary

    said = applied_summary(applied)
    replaced = [f"{r[2]} replaces {r[4]}" for r in applied_rows(applied) if r[4]]
    note = (f"Values as solved: the file with {said} applied" + (f" ({'; '.join(replaced)})" if replaced else "") + "."
            if applied else "Values as solved: the file as written.")
    refs = add_scenario_sheets(book.wb, data if data is not None else scenario, stacked=title, note=note)
    if data is not None:  # every rate a formula may need has a cell, also one the file leaves to its default
        missing = [c for c in scenario.fx if f"fx.{c}" not in refs]
        if missing:  # pragma: no cover - the file's own fx always holds every rate the scenario uses
            raise RuntimeError(f"the Inputs sheet has no cell for fx {', '.join(missing)}")
    define_input_names(book, refs)
    return refs


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _split(v: Any) -> tuple[Any, dict[str, float]]:
    """A number-or-mapping value: (the number or None, the per-period mapping or {})."""
    return (None, dict(v)) if isinstance(v, dict) else (v, {})


def _period_columns(s: Scenario, field: str, values: list[Any]) -> list[str]:
    """The periods that get a ``field.period`` column: those named by any of ``values`` (mappings), in period order."""
    named = {p for v in values if isinstance(v, dict) for p in v}
    return [p for p in s.period_ids if p in named] if named else []


def _capacity(v: Any) -> Any:
    """The Capacity (units) cell: the number, ``by period`` (its columns follow), or ``no cap``."""
    if v is None:
        return "no cap"
    return "by period" if isinstance(v, dict) else v


def _add_column(cols: list, rows: list, fmts: list, paths: list, name: str, fmt: str | None,
                cells: list[tuple[Any, str | None]]) -> None:
    """Append one column to a block's columns, rows, formats and paths (``cells``: (value, path) per row)."""
    cols.append(name)
    fmts.append(fmt)
    for r, p, (v, path) in zip(rows, paths, cells):
        r.append(v)
        p.append(path)


def _add_period_columns(s: Scenario, cols: list, rows: list, fmts: list, paths: list, field: str, fmt: str | None,
                        cells: list[tuple[Any, str]]) -> None:
    """One ``field.period`` column per period that some row's mapping names; a row's cell is its value then (else blank)."""
    for p in _period_columns(s, field, [v for v, _ in cells]):
        _add_column(cols, rows, fmts, paths, f"{field}.{p}", fmt,
                    [((v.get(p) if isinstance(v, dict) else None), f"{path}.{p}") for v, path in cells])


def _window_text(s: Scenario, first: str | None, last: str | None) -> tuple[str, str]:
    """(from, until) as shown: the period, or ``first`` / ``last`` for an open end."""
    return (first or "first", last or "last")


def add_inputs_sheet(book: Book, scenario: Scenario, applied: Sequence[dict] = (), *, title: str = INPUTS_SHEET,
                     heading: str = "Scenario inputs", names: bool = True) -> dict[str, str]:
    """The scenario as readable tables, so the assumptions travel with the numbers.

    Sections: scenario settings, exchange rates (the input cells that price
    formulas reference by name), flexibility, vendors, chips, sites (and site
    price overrides), export controls, the variants and ``--set`` overrides
    applied to this run, and the variants the file defines. With ``names``,
    the exchange-rate cells get their defined names (``FX_USD``). Returns
    dotted scenario path -> absolute cell reference.
    """
    s = scenario
    cur = s.currency
    v2 = s.schema_version >= 2  # a version-1 file gets the version-1 sheet, whatever version-2 fields it reads
    sh = book.add_sheet(title)
    refs: dict[str, str] = {}
    sh.title(1, heading)
    sh.note(2, 1, "The scenario as solved: the file's values after the variants and --set overrides listed under "
                  f"'Applied to this run'. Converted money is in {cur}.")
    sh.freeze(3)
    row = 4

    def ref(path: str, r: int, c: int) -> None:
        refs[path] = sheet_ref(title, r, c)

    def block(heading_: str, cols: list[str], rows: list[list[Any]], fmts: list[str | None] | None = None,
              note: str | None = None, empty: str = "none", paths: list[list[str | None]] | None = None) -> int:
        """A titled table; ``paths[i][j]`` names the scenario value in row i, column j. Returns its header row."""
        nonlocal row
        row = sh.section(row, heading_, note)
        hdr = row
        if rows:
            row = sh.table(cols, rows, fmts, start_row=row, freeze=False, autofilter=False) + 2
            for i, prow in enumerate(paths or []):
                for j, p in enumerate(prow):
                    if p and _num(rows[i][j]):
                        ref(p, hdr + 1 + i, j + 1)
        else:
            sh.note(row, 1, empty)
            row += 2
        return hdr

    # ---- settings
    g = s.budget
    row = sh.section(row, "Scenario")
    hdr = row
    settings: list[tuple[str, Any, str, str | None]] = [
        ("Name", s.name, "", None),
        ("Description", s.description or "", "", None),
        ("Schema version", s.schema_version, "", None),
        ("Reporting currency", cur, "all money in the reports", None),
        ("Units", "whole lots (MILP)" if s.integer_units else "continuous (LP)",
         f"integer_units: {str(s.integer_units).lower()}", None),
        ("Global budget", g.amount if g else "none", (g.currency or cur) if g else "no cap across sites", "budget.amount"),
    ]
    if s.has_periods:
        settings.insert(4, ("Periods", ", ".join(s.period_ids), f"{s.n_periods} equal-length periods, in order", None))
    if s.has_periods or s.schema_version >= 2 and s.objective != "in_service":
        settings.insert(5 if s.has_periods else 4, (
            "Objective", s.objective,
            "the average over the periods of the effective TOPS in service" if s.objective == "in_service"
            else "effective TOPS delivered by the end of the last period", None))
    if v2 and s.buyer is not None:
        settings.insert(len(settings) - 1, ("Buyer", s.buyer.name or "", f"headquartered in {s.buyer.headquarters}", None))
    sh.header(hdr, ["Setting", "Value", "Note"], freeze=False)
    r = hdr
    for name, value, note, path in settings:
        r += 1
        sh.put(r, 1, name, style={"valign": "top"})
        sh.put(r, 2, value, FMT_MONEY if isinstance(value, float) else None, style={**WRAP_TOP, "align": "left"})
        sh.put(r, 3, note, style={"valign": "top"})
        if path and _num(value):
            ref(path, r, 2)
    row = r + 2 + (1 if g is not None and (g.currency or cur) != cur else 0)
    # exchange rates first: the cells that the workbook's price formulas reference
    fx_rows = [[k, v, fx_name(k)] for k, v in sorted(s.fx.items())]
    row = sh.section(row, "Exchange rates",
                     "Input cells: change a rate here and every converted price, spend and the Summary follow "
                     "(the plan itself is not re-solved; the Allocation sheet's Difference row shows the change)."
                     if names else None)
    hdr_fx = row
    if fx_rows:
        sh.header(hdr_fx, ["Currency", f"{cur} per unit"] + (["Name in formulas"] if names else []), freeze=False)
        for i, (k, v, nm) in enumerate(fx_rows, start=hdr_fx + 1):
            sh.put(i, 1, k)
            sh.put(i, 2, v, FMT_RATE, style=INPUT if names else None)
            if names:
                sh.put(i, 3, nm)
            ref(f"fx.{k}", i, 2)
        row = hdr_fx + len(fx_rows) + 2
    else:
        sh.note(row, 1, f"none: every price and budget is in {cur}")
        row += 2
    if names:
        define_input_names(book, refs)
    if g is not None and (g.currency or cur) != cur:
        # the converted global budget, under the settings: a live formula over the amount and the rate
        r += 1
        sh.put(r, 1, money_header("Global budget", cur), style={"valign": "top"})
        factor, rate = fx_factor(book, s, g.currency) if names else ("", s.rate(g.currency))
        if names:
            sh.formula(r, 2, f"={cell_ref(r - 1, 2)}{factor}", g.amount * rate, FMT_MONEY, style={"align": "left"})
        else:
            sh.put(r, 2, g.amount * rate, FMT_MONEY, style={"align": "left"})
        sh.put(r, 3, f"at {s.rate(g.currency):g} {cur} per {g.currency}", style={"valign": "top"})

    block("Flexibility", ["Architecture", "Multiplier", "Chips"],
          [[a, m, ", ".join(sorted(c for c, ch in s.chips.items() if ch.architecture == a))] for a, m in sorted(s.flexibility.items())],
          [None, FMT_RATIO, None], note="Multiplier on INT8 TOPS per architecture (preference for flexible parts).",
          paths=[[None, f"flexibility.{a}", None] for a in sorted(s.flexibility)])
    vendors = sorted(s.vendors.items())
    v_cols = ["Vendor", "Name", "Origin", "Capacity (units)", "Delivery rate", "Max share of spend"]
    v_rows = [[v, vd.name or "", vd.origin, _capacity(vd.capacity_units), vd.delivery_rate,
               vd.max_share if vd.max_share is not None else "no cap"] for v, vd in vendors]
    v_fmts: list[str | None] = [None, None, None, FMT_INT, FMT_PCT, FMT_PCT]
    v_paths: list[list[str | None]] = [[None, None, None, f"vendors.{v}.capacity_units", f"vendors.{v}.delivery_rate",
                                        f"vendors.{v}.max_share"] for v, _ in vendors]
    if s.has_periods or any(vd.lead_time for _, vd in vendors):
        _add_column(v_cols, v_rows, v_fmts, v_paths, "Lead time (periods)", FMT_INT,
                    [(vd.lead_time, f"vendors.{v}.lead_time") for v, vd in vendors])
    if v2 and any(vd.delivery_sd is not None for _, vd in vendors):
        _add_column(v_cols, v_rows, v_fmts, v_paths, "Delivery rate s.d.", FMT_RATE,
                    [(vd.delivery_sd if vd.delivery_sd is not None else "-", f"vendors.{v}.delivery_sd") for v, vd in vendors])
    _add_period_columns(s, v_cols, v_rows, v_fmts, v_paths, "capacity_units", FMT_INT,
                        [(vd.capacity_units, f"vendors.{v}.capacity_units") for v, vd in vendors])
    block("Vendors", v_cols, v_rows, v_fmts, paths=v_paths,
          note="Capacity by period (capacity_units.<period>) limits the units delivered in that period; one number "
               "limits the deliveries over the whole horizon." if len(v_cols) > 7 and s.has_periods else None)

    # chips: the converted price is a live formula over the price and the rate's name
    chip_items = sorted(s.chips.items())
    chip_cols = ["Chip", "Model", "Vendor", "Architecture", "INT8 TOPS", "Unit price", "Price currency",
                 money_header("Unit price", cur), "TPP", "TPP source", "Die area (mm²)", "Density (TPP/mm²)",
                 "Power (W)", "Min units", "Max units", "Lot size"]
    chips = []
    for cid, c in chip_items:
        chips.append([
            cid, c.model or "", c.vendor, c.architecture, c.int8_tops, c.unit_price, c.price_currency or cur,
            None, c.tpp_value, "given" if c.tpp is not None else "8 x INT8 TOPS",
            c.die_area_mm2 if c.die_area_mm2 is not None else "unknown",
            c.density if c.density is not None else "unknown", c.power_w if c.power_w is not None else "-",
            c.min_units, c.max_units if c.max_units is not None else "no cap", c.lot_size,
        ])
    c_fmts: list[str | None] = [None, None, None, None, FMT_INT, FMT_MONEY_CENTS, None, FMT_MONEY_CENTS, FMT_INT, None,
                                FMT_NUM, FMT_RATIO, FMT_INT, FMT_INT, FMT_INT, FMT_INT]
    c_paths: list[list[str | None]] = [
        [None, None, None, None, f"chips.{cid}.int8_tops", f"chips.{cid}.unit_price", None, None,
         f"chips.{cid}.tpp" if c.tpp is not None else None, None, f"chips.{cid}.die_area_mm2",
         None, f"chips.{cid}.power_w", f"chips.{cid}.min_units", f"chips.{cid}.max_units",
         f"chips.{cid}.lot_size"] for cid, c in chip_items]
    c_note = "Min and max units are totals over all sites."
    if v2 and any(c.min_order_units is not None for _, c in chip_items):
        _add_column(chip_cols, chips, c_fmts, c_paths, "Min order at a site", FMT_INT,
                    [(c.min_order_units if c.min_order_units is not None else "-", f"chips.{cid}.min_order_units")
                     for cid, c in chip_items])
        c_note += " Min order at a site: if a site buys the chip at all, at least this many."
    if any(c.available_from is not None or c.available_until is not None for _, c in chip_items):
        windows = [_window_text(s, c.available_from, c.available_until) for _, c in chip_items]
        _add_column(chip_cols, chips, c_fmts, c_paths, "Order from", None, [(w[0], None) for w in windows])
        _add_column(chip_cols, chips, c_fmts, c_paths, "Order until", None, [(w[1], None) for w in windows])
        c_note += " Order from / until: the first and last period in which the chip can be ordered."
    if any(c.price_by_period for _, c in chip_items):
        _add_period_columns(s, chip_cols, chips, c_fmts, c_paths, "price_by_period", FMT_MONEY_CENTS,
                            [(c.price_by_period, f"chips.{cid}.price_by_period") for cid, c in chip_items])
        c_note += (" price_by_period.<period>: the unit price (in the chip's price currency) for orders placed in "
                   "that period; Unit price in the other periods.")
    hdr_c = block("Chips", chip_cols, chips, c_fmts, note=c_note, paths=c_paths)
    if names:
        for i, (cid, c) in enumerate(chip_items, start=hdr_c + 1):
            factor, rate = fx_factor(book, s, c.price_currency)
            sh.formula(i, 8, f"={cell_ref(i, 6)}{factor}", c.unit_price * rate, FMT_MONEY_CENTS)
    else:
        for i, (cid, c) in enumerate(chip_items, start=hdr_c + 1):
            sh.put(i, 8, c.unit_price * s.rate(c.price_currency), FMT_MONEY_CENTS)

    # sites and price overrides
    site_items = sorted(s.sites.items())
    sites, overrides, override_keys = [], [], []
    for sid, st in site_items:
        b = st.budget
        sites.append([sid, st.name or "", st.country, b.amount if b else "none", (b.currency or cur) if b else "",
                      None, st.domestic_min_share if st.domestic_min_share is not None else "none",
                      st.domestic_basis, st.power_mw if st.power_mw is not None else "none"])
        for cid, p in sorted(st.prices.items()):
            pc = s.chips[cid].price_currency if cid in s.chips else None
            overrides.append([sid, cid, p, pc or cur, None])
            override_keys.append((sid, cid, p, pc))
    s_cols = ["Site", "Name", "Country", "Budget", "Budget currency", money_header("Budget", cur),
              "Domestic floor", "Domestic basis", "Power (MW)"]
    s_fmts: list[str | None] = [None, None, None, FMT_MONEY, None, FMT_MONEY, FMT_PCT, None, FMT_NUM]
    s_paths: list[list[str | None]] = [[None, None, None, f"sites.{sid}.budget.amount", None, None,
                                        f"sites.{sid}.domestic_min_share", None, f"sites.{sid}.power_mw"]
                                       for sid, _ in site_items]
    s_note = "A chip is domestic at a site when its vendor's origin is the site's country."
    if any(isinstance(st.power_mw, dict) for _, st in site_items):
        for row_, (_, st) in zip(sites, site_items):
            if isinstance(st.power_mw, dict):
                row_[8] = "by period"
        _add_period_columns(s, s_cols, sites, s_fmts, s_paths, "power_mw", FMT_NUM,
                            [(st.power_mw, f"sites.{sid}.power_mw") for sid, st in site_items])
        s_note += " power_mw.<period>: MW available for chips in service in that period."
    per_period_budget = [(st.budget.per_period if st.budget is not None and st.budget.per_period else None,
                          f"sites.{sid}.budget.per_period") for sid, st in site_items]
    if any(v for v, _ in per_period_budget):
        _add_period_columns(s, s_cols, sites, s_fmts, s_paths, "budget.per_period", FMT_MONEY, per_period_budget)
        s_note += (" budget.per_period.<period>: the most the site may pay in that period (orders placed and lease "
                   "payments), in the budget's currency.")
    if v2 and any(st.chips is not None or st.vendor_max_share for _, st in site_items):
        _add_column(s_cols, sites, s_fmts, s_paths, "Chips it may buy", None,
                    [(", ".join(st.chips) if st.chips is not None else "every chip", None) for _, st in site_items])
        _add_column(s_cols, sites, s_fmts, s_paths, "Vendor caps at the site", None,
                    [(", ".join(f"{v} {100 * x:g}%" for v, x in sorted(st.vendor_max_share.items())) or "-", None)
                     for _, st in site_items])
    hdr_s = block("Sites", s_cols, sites, s_fmts, note=s_note, paths=s_paths)
    for i, (sid, st) in enumerate(site_items, start=hdr_s + 1):
        b = st.budget
        if b is None:
            continue
        factor, rate = fx_factor(book, s, b.currency) if names else ("", s.rate(b.currency))
        if names:
            sh.formula(i, 6, f"={cell_ref(i, 4)}{factor}", b.amount * rate, FMT_MONEY)
        else:
            sh.put(i, 6, b.amount * rate, FMT_MONEY)
    hdr_o = block("Site price overrides", ["Site", "Chip", "Unit price", "Price currency", money_header("Unit price", cur)],
                  overrides, [None, None, FMT_MONEY_CENTS, None, FMT_MONEY_CENTS],
                  empty="none: every site pays the chip's unit_price",
                  paths=[[None, None, f"sites.{sid}.prices.{cid}", None, None] for sid, cid, _, _ in override_keys])
    for i, (sid, cid, p, pc) in enumerate(override_keys, start=hdr_o + 1):
        factor, rate = fx_factor(book, s, pc) if names else ("", s.rate(pc))
        if names:
            sh.formula(i, 5, f"={cell_ref(i, 3)}{factor}", p * rate, FMT_MONEY_CENTS)
        else:
            sh.put(i, 5, p * rate, FMT_MONEY_CENTS)

    if g is not None and g.per_period:
        gp = [pid for pid in s.period_ids if pid in g.per_period]
        hdr_g = block("Global budget by period", ["Period", "Cap", "Currency", money_header("Cap", cur)],
                      [[pid, g.per_period[pid], g.currency or cur, None] for pid in gp], [None, FMT_MONEY, None, FMT_MONEY],
                      note="budget.per_period: the most all sites together may pay in the period (orders placed and "
                           "lease payments).", paths=[[None, f"budget.per_period.{pid}", None, None] for pid in gp])
        for i, pid in enumerate(gp, start=hdr_g + 1):
            factor, rate = fx_factor(book, s, g.currency) if names else ("", s.rate(g.currency))
            if names:
                sh.formula(i, 4, f"={cell_ref(i, 2)}{factor}", g.per_period[pid] * rate, FMT_MONEY)
            else:
                sh.put(i, 4, g.per_period[pid] * rate, FMT_MONEY)

    if s.leases:
        lease_items = sorted(s.leases.items())
        l_rows = []
        for lid, o in lease_items:
            w = _window_text(s, o.available_from, o.available_until)
            l_rows.append([lid, o.site, o.chip, o.operator, o.price_per_period, o.price_currency or cur, None,
                           o.max_units if o.max_units is not None else "no cap", w[0], w[1],
                           "yes" if o.counts_toward_tpp_cap else "no", o.delivery_rate])
        hdr_l = block("Leases", ["Lease", "Site", "Chip", "Operator", "Price per period", "Price currency",
                                 money_header("Price per period", cur), "Max units", "Start from", "Start until",
                                 "Counts toward TPP cap", "Delivery rate"], l_rows,
                      [None, None, None, None, FMT_MONEY_CENTS, None, FMT_MONEY_CENTS, FMT_INT, None, None, None, FMT_PCT],
                      note="Third-party capacity: leased units are in service from their start period to the end and "
                           "paid per unit and period in service; max units in service in any period.",
                      paths=[[None, None, None, None, f"leases.{lid}.price_per_period", None, None, f"leases.{lid}.max_units",
                              None, None, None, f"leases.{lid}.delivery_rate"] for lid, _ in lease_items])
        for i, (lid, o) in enumerate(lease_items, start=hdr_l + 1):
            factor, rate = fx_factor(book, s, o.price_currency) if names else ("", s.rate(o.price_currency))
            if names:
                sh.formula(i, 7, f"={cell_ref(i, 5)}{factor}", o.price_per_period * rate, FMT_MONEY_CENTS)
            else:
                sh.put(i, 7, o.price_per_period * rate, FMT_MONEY_CENTS)

    # export controls
    ec = s.export_controls
    if ec is None:
        row = sh.section(row, "Export controls")
        sh.note(row, 1, "none: every chip is allowed everywhere")
        row += 2
    else:
        ec_rows = [["Regime", ec.regime], ["Governed origins", ", ".join(ec.origins)], ["Default tier", ec.default_tier]]
        if v2 and ec.headquarters_countries:
            ec_rows.append(["Headquarters rule", "controlled chips denied everywhere, without a licence, to buyers "
                                                 f"headquartered in {', '.join(ec.headquarters_countries)}"])
        block("Export controls", ["Setting", "Value"], ec_rows)
        block("Control clauses", ["Clause", "TPP at least", "Density at least (TPP/mm²)"],
              [[i + 1, cl.tpp_min, cl.density_min if cl.density_min is not None else "-"] for i, cl in enumerate(ec.controlled_if)],
              [None, FMT_INT, FMT_RATIO], note="A governed chip is controlled when any clause holds.",
              empty="none: no chip is controlled")
        tiers = sorted(ec.tiers.items())
        block("Destination tiers", ["Country", "Tier", "Rule for controlled chips"],
              [[k, v, ec.tier_rules.get(v, "")] for k, v in tiers]
              + [["(any other)", ec.default_tier, ec.tier_rules.get(ec.default_tier, "")]])
        block("TPP caps", ["Country", "Cap (TPP)"], [[k, v] for k, v in sorted(ec.tpp_caps.items())], [None, FMT_INT],
              note="Total TPP of capped chips per destination country.",
              paths=[[None, f"export_controls.tpp_caps.{k}"] for k in sorted(ec.tpp_caps)])
        lic = s.licences()
        if isinstance(ec.licenses, dict) or any(x.from_ is not None or x.until is not None for _, x in lic):
            block("Licences", ["Licence", "Chip", "Country", "Status", "From", "Until", "Note"],
                  [[lid, x.chip, x.country, x.status, *_window_text(s, x.from_, x.until), x.note or ""] for lid, x in lic],
                  note="Explicit decisions; they override the rules above for one chip and country, for deliveries "
                       "from the From period to the Until period (first / last: the plan's ends); the first licence "
                       "that covers a delivery period decides.")
        else:
            block("Licences", ["Chip", "Country", "Status", "Note"],
                  [[x.chip, x.country, x.status, x.note or ""] for _, x in lic],
                  note="Explicit decisions; they override the rules above for one chip and country.")

    u = s.uncertainty
    if v2 and u is not None:
        block("Uncertainty", ["Setting", "Value"],
              [["Revealed", u.revealed or "-"], ["Refund on denial", u.refund_on_denial], ["Risk measure", u.risk.measure],
               ["Alpha", u.risk.alpha], ["Weight", u.risk.weight]],
              [None, FMT_GENERAL],
              note="Orders placed before the Revealed period are shared by every outcome; later orders may differ.",
              paths=[[None, None], [None, "uncertainty.refund_on_denial"], [None, None], [None, "uncertainty.risk.alpha"],
                     [None, "uncertainty.risk.weight"]])
        outcomes = list(u.outcomes.items())
        o_rows = []
        o_paths = []
        for name, o in outcomes:
            changes = o.changes or {"": None}
            for k, (path, v) in enumerate(changes.items()):
                o_rows.append([name if k == 0 else "", o.probability if k == 0 else None,
                               (o.description or "") if k == 0 else "", str(path), value_text(v)])
                o_paths.append([None, f"uncertainty.outcomes.{name}.probability" if k == 0 else None, None, None, None])
        hdr_u = block("Outcomes", ["Outcome", "Probability", "Description", "Change", "Value"], o_rows,
                      [None, FMT_PCT, None, None, None], paths=o_paths,
                      note="Each outcome is the scenario with its changes applied (dotted path = value).")
        for i, r_ in enumerate(o_rows, start=hdr_u + 1):
            sh.put(i, 5, r_[4], _value_fmt(r_[4]))

    # what this run applied, and what the file offers
    applied_list = applied_rows(applied)
    with_replaces = any(r[4] for r in applied_list)
    cols = ["Kind", "Variant", "Path", "Value"] + (["Replaces"] if with_replaces else [])
    hdr_a = block("Applied to this run", cols, [list(r[:4]) + ([r[4]] if with_replaces else []) for r in applied_list],
                  empty="none: the scenario as written in the file")
    for i, r_ in enumerate(applied_list, start=hdr_a + 1):
        sh.put(i, 4, r_[3], _value_fmt(r_[3]))
    variants = []
    for name, body in sorted(s.variants.items()):
        if not body:
            variants.append([name, "", None])
        for path, v in body.items():
            variants.append([name, str(path), value_text(v)])
    hdr_v = block("Variants defined in the file", ["Variant", "Path", "Value"], variants,
                  note="Available with --variant NAME; not applied unless listed above.", empty="none")
    for i, v in enumerate(variants, start=hdr_v + 1):
        sh.put(i, 3, v[2], _value_fmt(v[2]))

    sh.fit_columns(max_width=50, from_row=3)
    return refs


def _value_fmt(v: Any) -> str | None:
    """Thousands separators for an override value that is a number (every digit kept)."""
    if not _num(v):
        return None
    return FMT_INT if float(v).is_integer() else "#,##0.0#######"
