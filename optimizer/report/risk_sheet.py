"""The Risk sheet of the solve workbook, for a plan over outcomes (``uncertainty`` in the scenario).

- **Outcomes**: per outcome its probability, the hedged plan's effective TOPS and spend there, the units and
  money stranded there, the outcome's own optimum, the regret (a formula: own optimum - the hedged plan's
  TOPS) and the base plan's TOPS there (the plan for the file alone, its orders before ``revealed`` fixed,
  the later ones re-optimised); an Expected row of SUMPRODUCTs with the probabilities.
- **Figures**: the expected, CVaR and worst effective TOPS, the measure that was maximised, wait-and-see,
  EVPI (= wait-and-see - the maximised measure), the base plan value and the value of hedging (= the
  maximised measure - the base plan value): formulas over the Outcomes table where the measure is a
  SUMPRODUCT or a MIN (CVaR is written as its value), each with its computed value. Under them EVPI and
  the value of hedging in words, the same sentences the terminal prints (:mod:`optimizer.report.risk_text`).
- **Orders before the outcome is known**: the hedged plan's shared orders beside the base plan's orders for
  the same periods, and the difference.
- A chart of effective TOPS by outcome for the hedged plan and the base plan.

The figures come from :func:`optimizer.analysis.risk.risk_figures`; nothing is solved here.
"""
from __future__ import annotations

from typing import Any

from ..analysis.risk import RiskFigures
from .risk_text import evpi_sentence, hedging_sentence, measure_text
from .xlsx import (
    FMT_INT, FMT_MONEY, FMT_PCT, FMT_SIGNED, TOTAL, WRAP_TOP, Book, Sheet, cell_ref, chart, col_letter, insert_chart,
    money_header,
)

RISK_SHEET = "Risk"
CHART_W, CHART_H = 15.0, 7.0  # cm: beside the Figures table


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _range(col: int, first: int, last: int) -> str:
    return f"${col_letter(col)}${first}:${col_letter(col)}${last}"


def _order_key(o: dict) -> tuple:
    return (o["kind"], o["site"], o.get("chip") or "", o.get("lease") or "", o.get("period") or "")


def risk_sheet(book: Book, sh: Sheet, f: RiskFigures, currency: str) -> None:
    """Fill the Risk sheet ``sh`` (see the module doc)."""
    n = len(f.outcomes)
    sh.title(1, f"Risk: the hedged plan over {n} outcomes")
    sh.note(2, 1, f"Maximising {measure_text(f)}"
            + (f"; orders from {f.revealed} may depend on the outcome, earlier ones are shared by every outcome."
               if f.revealed else "; every order is shared by every outcome.")
            + f" Money in {currency}; stranded money is what is lost, net of a refund of "
              f"{100 * f.refund_on_denial:g}%.")

    # ---- outcomes
    row = sh.section(4, "Outcomes")
    base_tops = f.base_plan_outcomes or {}
    cols = ["Outcome", "Probability", "Effective TOPS", money_header("Spend", currency), "Stranded units",
            money_header("Stranded", currency), "Own optimum", "Regret", "Base plan TOPS", "Description"]
    head = row
    sh.header(head, cols, freeze=False)
    first, last = head + 1, head + n
    c = {name: j for j, name in enumerate(cols, start=1)}
    for i, o in enumerate(f.outcomes):
        r = first + i
        sh.put(r, c["Outcome"], o.name)
        sh.put(r, c["Probability"], o.probability, FMT_PCT)
        sh.put(r, c["Effective TOPS"], o.effective_tops, FMT_INT)
        sh.put(r, c[cols[3]], o.spend, FMT_MONEY)
        sh.put(r, c["Stranded units"], o.stranded_units, FMT_INT)
        sh.put(r, c[cols[5]], o.stranded_spend, FMT_MONEY)
        if o.own_optimum is not None:
            sh.put(r, c["Own optimum"], o.own_optimum, FMT_INT)
            sh.formula(r, c["Regret"], f"={cell_ref(r, c['Own optimum'])}-{cell_ref(r, c['Effective TOPS'])}",
                       o.own_optimum - o.effective_tops, FMT_INT)
        else:
            sh.put(r, c["Own optimum"], "no plan")
        if o.name in base_tops:
            sh.put(r, c["Base plan TOPS"], base_tops[o.name], FMT_INT)
        sh.put(r, c["Description"], o.description or "", style=WRAP_TOP)
    # the Expected row: SUMPRODUCT with the probabilities
    er = last + 1
    prob = _range(c["Probability"], first, last)
    sh.put(er, 1, "Expected", style=TOTAL)
    sh.formula(er, c["Probability"], f"=SUM({prob})", sum(o.probability for o in f.outcomes), FMT_PCT, style=TOTAL)

    def expected(col: str, values: list[float | None], fmt: str) -> None:
        if any(v is None for v in values):
            sh.style_blank(er, c[col], TOTAL)
            return
        total = sum(o.probability * v for o, v in zip(f.outcomes, values))
        sh.formula(er, c[col], f"=SUMPRODUCT({prob},{_range(c[col], first, last)})", total, fmt, style=TOTAL)

    expected("Effective TOPS", [o.effective_tops for o in f.outcomes], FMT_INT)
    expected(cols[3], [o.spend for o in f.outcomes], FMT_MONEY)
    expected("Stranded units", [o.stranded_units for o in f.outcomes], FMT_INT)
    expected(cols[5], [o.stranded_spend for o in f.outcomes], FMT_MONEY)
    expected("Own optimum", [o.own_optimum for o in f.outcomes], FMT_INT)
    expected("Regret", [o.regret for o in f.outcomes], FMT_INT)
    expected("Base plan TOPS", [base_tops.get(o.name) for o in f.outcomes] if base_tops else [None], FMT_INT)
    sh.style_blank(er, c["Description"], TOTAL)
    sh.note(er + 1, 1, "Own optimum: the outcome solved as if known from the start (its own data, nothing shared, "
                       "nothing stranded). Regret: what the hedge gives up there. Base plan TOPS: the plan for the file "
                       "alone, its orders before the outcome is known fixed, the later ones re-optimised in the outcome.")

    # ---- figures: the two sentences, the table, and the chart beside it
    row = sh.section(er + 3, "Figures")
    sh.note(row, 1, _cap(evpi_sentence(f)) + ".")
    sh.note(row + 1, 1, _cap(hedging_sentence(f)) + ".")
    fh = row + 2
    sh.header(fh, ["Figure", "Effective TOPS"], freeze=False)
    tops = _range(c["Effective TOPS"], first, last)
    own = _range(c["Own optimum"], first, last)
    base = _range(c["Base plan TOPS"], first, last)
    r_exp, r_cvar, r_worst, r_obj, r_ws, r_evpi, r_base, r_hedge = range(fh + 1, fh + 9)
    sh.put(r_exp, 1, "Expected")
    sh.formula(r_exp, 2, f"=SUMPRODUCT({prob},{tops})", f.expected_effective_tops, FMT_INT)
    sh.put(r_cvar, 1, f"CVaR at alpha {f.alpha:g}")
    sh.put(r_cvar, 2, f.cvar_effective_tops, FMT_INT)
    sh.put(r_worst, 1, "Worst outcome")
    sh.formula(r_worst, 2, f"=MIN({tops})", f.worst_effective_tops, FMT_INT)
    sh.put(r_obj, 1, f"Maximised ({f.measure})", bold=True)
    if f.measure == "expected":
        sh.formula(r_obj, 2, f"={cell_ref(r_exp, 2)}", f.objective, FMT_INT, bold=True)
    elif f.measure == "worst":
        sh.formula(r_obj, 2, f"={cell_ref(r_worst, 2)}", f.objective, FMT_INT, bold=True)
    else:
        sh.formula(r_obj, 2, f"={1 - f.weight:g}*{cell_ref(r_exp, 2)}+{f.weight:g}*{cell_ref(r_cvar, 2)}",
                   f.objective, FMT_INT, bold=True)

    def measure_of(rng: str, value: float | None) -> tuple[str | None, Any]:
        """The maximised measure of a column, as a formula where it is one (CVaR is written as a value)."""
        if value is None:
            return None, None
        if f.measure == "expected":
            return f"=SUMPRODUCT({prob},{rng})", value
        if f.measure == "worst":
            return f"=MIN({rng})", value
        return None, value

    def figure(r: int, label: str, expr: str | None, value: float | None, fmt: str, bold: bool = False) -> None:
        sh.put(r, 1, label, bold=bold)
        if value is None:
            sh.put(r, 2, "-", style={"align": "right"})
        elif expr:
            sh.formula(r, 2, expr, value, fmt, bold=bold)
        else:
            sh.put(r, 2, value, fmt, bold=bold)

    figure(r_ws, "Wait-and-see", *measure_of(own, f.wait_and_see), FMT_INT)
    figure(r_evpi, "EVPI", f"={cell_ref(r_ws, 2)}-{cell_ref(r_obj, 2)}", f.evpi, FMT_INT, bold=True)
    figure(r_base, "Base plan value", *measure_of(base, f.base_plan_value), FMT_INT)
    figure(r_hedge, "Value of hedging", f"={cell_ref(r_obj, 2)}-{cell_ref(r_base, 2)}", f.value_of_hedging,
           FMT_SIGNED, bold=True)
    chart_row, chart_end = fh, fh + int(CHART_H * 96 / 2.54 / 20) + 1
    after = max(r_hedge, chart_end) + 1
    sh.note(after, 1, f"CVaR at alpha {f.alpha:g}: the mean effective TOPS of the worst {100 * (1 - f.alpha):g}% "
                      "of the probability. Wait-and-see: the maximised measure of the outcomes' own optima. "
                      "EVPI = wait-and-see - maximised. Value of hedging = maximised - base plan value.")

    # ---- orders before the outcome is known: hedged beside base
    row = sh.section(after + 2, "Orders before the outcome is known",
                     ("placed before " + f.revealed if f.revealed else "every order (all are shared)")
                     + ": the hedged plan's (shared by every outcome) beside the base plan's")
    oh = row
    ocols = ["Kind", "Site", "Chip", "Lease", "Period", "Hedged plan", "Base plan", "Difference"]
    sh.header(oh, ocols, freeze=False)
    hedged = {_order_key(o): o["units"] for o in f.shared_orders}
    based = {_order_key(o): o["units"] for o in f.base_orders}
    keys = sorted(set(hedged) | set(based))
    for i, k in enumerate(keys):
        r = oh + 1 + i
        for j, v in enumerate(k, start=1):
            sh.put(r, j, v)
        sh.put(r, 6, hedged.get(k, 0.0), FMT_INT)
        sh.put(r, 7, based.get(k, 0.0), FMT_INT)
        sh.formula(r, 8, f"={cell_ref(r, 6)}-{cell_ref(r, 7)}", hedged.get(k, 0.0) - based.get(k, 0.0), FMT_SIGNED)
    if not keys:
        sh.note(oh + 1, 1, "Neither plan places an order before the outcome is known.")

    # ---- chart: effective TOPS by outcome, hedged and base
    ch = chart(book, "column")
    ch.set_title({"name": "Effective TOPS by outcome", "name_font": {"size": 12}})
    cats = [RISK_SHEET, first - 1, 0, last - 1, 0]
    ch.add_series({"name": "Hedged plan", "categories": cats, "values": [RISK_SHEET, first - 1, c["Effective TOPS"] - 1,
                                                                        last - 1, c["Effective TOPS"] - 1],
                   "fill": {"color": "#1F4E78"}, "gap": 80})
    if base_tops:
        col = c["Base plan TOPS"] - 1
        ch.add_series({"name": "Base plan", "categories": cats, "values": [RISK_SHEET, first - 1, col, last - 1, col],
                       "fill": {"color": "#A5A5A5"}})
    ch.set_y_axis({"name": "effective TOPS", "num_format": "#,##0", "major_gridlines": {"visible": True}})
    ch.set_x_axis({"name": "outcome"})
    ch.set_legend({"position": "bottom"})
    # widths first: the chart spans columns by their widths
    sh.fit_below_header(head, max_width=22)
    sh.widths[1] = min(44, max(sh.widths.get(1, 8), 26))
    sh.widths[c["Description"]] = 32
    insert_chart(sh, chart_row, 4, ch, CHART_W, CHART_H, x_offset_cm=0.3)
    sh.repeat_row = None
    sh.freeze(3)


def add_risk_sheet(book: Book, f: RiskFigures, currency: str) -> Sheet:
    sh = book.add_sheet(RISK_SHEET)
    risk_sheet(book, sh, f, currency)
    return sh


__all__ = ["RISK_SHEET", "risk_sheet", "add_risk_sheet"]
