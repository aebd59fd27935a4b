"""`chipalloc simulate` in words and as JSON: the terminal lines, the JSON document, and the sentences the
simulation workbook shares with the terminal (one place for each).

``chipalloc.simulation/1`` (:meth:`optimizer.analysis.simulate.SimulationResult.to_dict`, plus where it came from)::

    {"schema", "scenario", "file", "applied": [...], "solver", "seed", "draws", "draws_done", "partial",
     "target", "plan_effective_tops", "measure",
     "effective_tops": {"mean", "sd", "p5", "p50", "p95"},
     "prob_below_target",
     "contributions": [{"source", "kind": "vendor"|"outcome", "share"}],
     "outcomes": [{"name", "draws", "mean"}],
     "shared_orders": [{"kind", "site", "chip", "period", "units"[, "lease"]}],
     "draws_table": [{"draw", "outcome", "rates": {VENDOR: RATE}, "effective_tops"}],
     "report", "warnings"}

``partial`` is true when the run was interrupted (Ctrl-C): the figures are then over the ``draws_done`` draws
that finished, in draw order, out of ``draws``.
"""
from __future__ import annotations

import textwrap

from ..analysis.simulate import SimulationResult
from ..schema import Scenario
from .json_out import clean
from .risk_text import measure_words, order_lines
from .terminal import _applied

SHARES_CAVEAT = (
    "Shares are first order: a vendor's is the squared correlation of effective TOPS with its drawn delivery "
    "rate, the outcome's is the variance between the outcomes' means over the total. Sources that move together "
    "(an outcome that changes a vendor's rate) are each counted in full, so the shares need not add up to 1."
)


WIDTH = 110  # long sentences wrap on the terminal


def _n(x: float | None) -> str:
    return "-" if x is None else f"{(round(x) or 0):,.0f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def drawn_vendors(s: Scenario) -> list[str]:
    """The vendors whose delivery rate is drawn (a positive ``delivery_sd``, in the file or an outcome)."""
    found = {v for v, vd in s.vendors.items() if vd.delivery_sd}
    if s.uncertainty is not None:
        for o in s.uncertainty.outcomes.values():
            for path, value in (o.changes or {}).items():
                parts = str(path).split(".")
                if len(parts) == 3 and parts[0] == "vendors" and parts[2] == "delivery_sd" and value:
                    found.add(parts[1])
    return sorted(found)


def draw_sentence(res: SimulationResult, s: Scenario) -> str:
    """What one draw does, for this scenario."""
    vendors = drawn_vendors(s)
    rates = (f"takes the delivery rates of {', '.join(vendors)} from Beta distributions (mean delivery_rate, "
             "standard deviation delivery_sd)" if vendors else "keeps every delivery rate (no vendor has delivery_sd)")
    if res.measure is not None:
        revealed = s.uncertainty.revealed
        later = (f"keeps the orders placed before {revealed} and re-optimises the later ones ({res.solver})"
                 if revealed else "keeps every order (all are placed before the outcome is known)")
        return f"each draw picks an outcome by its probability, {rates}, {later}"
    return f"each draw {rates} and evaluates the plan under them"


def objective_sentence(res: SimulationResult, s: Scenario) -> str:
    """The plan's own figure, which the draws spread around."""
    if res.measure is None:
        return f"the plan's effective TOPS at the planned delivery rates: {_n(res.plan_effective_tops)}"
    r = s.uncertainty.risk
    return f"the plan maximises {measure_words(res.measure, r.alpha, r.weight)}: {_n(res.plan_effective_tops)}"


def partial_line(res: SimulationResult) -> str:
    return (f"partial simulation: interrupted after {len(res.draws):,} of {res.draws_requested:,} draws; "
            "the figures are over the finished draws")


def target_sentence(res: SimulationResult) -> str | None:
    p = res.prob_below_target()
    if p is None:
        return None
    return f"below the target of {_n(res.target)} effective TOPS in {_pct(p)} of the draws"


def simulation_doc(res: SimulationResult, file: str | None, applied: list, report: str | None = None) -> dict:
    d = res.to_dict()
    head = {k: d.pop(k) for k in ("schema", "scenario")}
    return clean({**head, "file": file, "applied": applied, **d, "report": report})


def simulation_text(res: SimulationResult, s: Scenario, applied: list, report: str | None = None) -> str:
    lines = [f"chipalloc simulate: {s.name}"]
    if applied:
        lines.append("applied: " + "; ".join(_applied(a) for a in applied))
    if res.partial:
        lines.append(partial_line(res))
    lines += textwrap.wrap(f"{len(res.draws):,} draws, seed {res.seed}: {draw_sentence(res, s)}", WIDTH,
                           subsequent_indent="  ")
    lines.append(objective_sentence(res, s))
    st = res.stats()
    lines += ["", "effective TOPS over the draws:",
              f"  mean {_n(st['mean'])}   sd {_n(st['sd'])}",
              f"  P5 {_n(st['p5'])}   P50 {_n(st['p50'])}   P95 {_n(st['p95'])}"]
    t = target_sentence(res)
    if t:
        lines.append(f"  {t}")
    shares = sorted(res.contributions(), key=lambda c: (-c["share"], c["source"]))
    if shares:
        width = max(len(c["source"]) for c in shares)
        lines += ["", "share of the variance, by source:"]
        for c in shares:
            what = "which outcome is drawn" if c["kind"] == "outcome" else "its drawn delivery rate"
            lines.append(f"  {c['source']:<{width}}  {_pct(c['share']):>6}  ({what})")
        lines += textwrap.wrap(SHARES_CAVEAT, WIDTH, initial_indent="  ", subsequent_indent="  ")
    by = res.by_outcome()
    if by:
        probs = {n: o.probability for n, o in s.uncertainty.outcomes.items()} if s.uncertainty else {}
        rows = [["outcome", "prob.", "draws", "mean effective TOPS"]]
        rows += [[o["name"], f"{probs.get(o['name'], 0):.3g}", f"{o['draws']:,}", _n(o["mean"])] for o in by]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines += ["", "by outcome:"]
        for r in rows:
            lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    if res.shared_orders:
        lines += ["", ("orders placed before the outcome is known, kept in every draw:" if res.measure is not None
                       and s.uncertainty.revealed else "the plan's orders, kept in every draw:")]
        lines += order_lines(res.shared_orders)
    if report:
        lines += ["", f"workbook: {report}"]
    return "\n".join(lines)
