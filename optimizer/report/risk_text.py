"""What a plan under uncertainty is worth, in words: the sentences the terminal and the Risk sheet share."""
from __future__ import annotations

from ..analysis.risk import RiskFigures
from ..numbers import pct
from .terminal import money

MEASURE = {
    "expected": "the expected effective TOPS",
    "cvar": "{w} x CVaR at alpha {a} + {rest} x the expected effective TOPS",
    "worst": "the effective TOPS of the worst outcome",
}


def _n(x: float) -> str:
    return f"{(round(x) or 0):,.0f}"  # never "-0"


def measure_words(measure: str, alpha: float, weight: float) -> str:
    """What a risk measure maximises, in words."""
    if measure == "cvar":
        if weight == 1:
            return f"CVaR at alpha {alpha:g} (the mean effective TOPS of the worst {pct(1 - alpha)} of the probability)"
        return MEASURE["cvar"].format(w=f"{weight:g}", a=f"{alpha:g}", rest=f"{1 - weight:g}")
    return MEASURE[measure]


def measure_text(f: RiskFigures) -> str:
    return measure_words(f.measure, f.alpha, f.weight)


def evpi_sentence(f: RiskFigures) -> str:
    if f.evpi is None:
        return "the value of knowing the outcome in advance is not known (an outcome has no plan on its own)"
    return (f"knowing the outcome in advance would be worth {_n(f.evpi)} effective TOPS "
            f"(wait-and-see {_n(f.wait_and_see)} against the hedged plan's {_n(f.objective)})")


def hedging_sentence(f: RiskFigures) -> str:
    if f.base_plan_value is None:
        return f"the plan for the base scenario alone cannot be hedged after the fact: {f.base_plan_reason}"
    return (f"hedging is worth {_n(f.value_of_hedging)} effective TOPS against committing to the plan for the base "
            f"scenario alone ({_n(f.base_plan_value)} once its later orders are re-optimised in every outcome)")


def _what(o: dict) -> str:
    return f"lease {o['lease']}" if o["kind"] == "lease" else o["chip"]


def order_lines(orders: list[dict]) -> list[str]:
    """Orders of :func:`optimizer.analysis.risk._orders_before`, aligned:
    ``    cn     h20                in 2025q1       46,909 units``."""
    site_w = max([6] + [len(o["site"]) for o in orders])
    what_w = max([14] + [len(_what(o)) for o in orders])
    out = []
    for o in orders:
        when = f"in {o['period']}" if o["period"] else ""
        out.append(f"    {o['site']:<{site_w}} {_what(o):<{what_w}} {when:<10} {o['units']:>14,.0f} units")
    return out


def risk_lines(f: RiskFigures, currency: str) -> list[str]:
    """The terminal section: what was maximised, the shared orders, each outcome, EVPI and hedging."""
    out = [f"uncertainty: {len(f.outcomes)} outcomes, maximising {measure_text(f)}"
           + (f"; orders from {f.revealed} may depend on the outcome" if f.revealed else "; every order is shared")]
    out.append(f"  expected {_n(f.expected_effective_tops)}   CVaR({f.alpha:g}) {_n(f.cvar_effective_tops)}   "
               f"worst {_n(f.worst_effective_tops)} effective TOPS")
    if f.shared_orders:
        out.append("  orders placed before the outcome is known (shared by every outcome):")
        out += order_lines(f.shared_orders)
    else:
        out.append("  no order is placed before the outcome is known")
    rows = [["outcome", "prob.", "effective TOPS", "spend", "stranded units", "lost", "own optimum", "regret"]]
    for o in f.outcomes:
        rows.append([o.name, f"{o.probability:.3g}", _n(o.effective_tops), money(o.spend, currency),
                     _n(o.stranded_units), money(o.stranded_spend, currency),
                     _n(o.own_optimum) if o.own_optimum is not None else "-",
                     _n(o.regret) if o.regret is not None else "-"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    out.append(f"  {evpi_sentence(f)}")
    out.append(f"  {hedging_sentence(f)}")
    return out
