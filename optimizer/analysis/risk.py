"""What a plan under uncertainty is worth, in the figures every planner asks for.

For a plan solved over outcomes (``uncertainty`` in the scenario; see
:mod:`optimizer.model.build` for the extensive form), :func:`risk_figures` returns:

- per outcome: the hedged plan's effective TOPS and spend there, the units and
  money stranded there (shared orders whose delivery that outcome denies; the
  money is what is lost, net of ``refund_on_denial``), the outcome's own optimum
  (solved as if it were known from the start: its own data, nothing shared,
  nothing stranded) and the regret (own optimum minus the hedged plan's TOPS);
- the risk measures of the hedged plan (expected, CVaR at ``alpha``, worst) and
  the one that was maximised;
- **wait-and-see** (WS): the chosen risk measure of the outcomes' own optima;
- **EVPI** = WS - the stochastic optimum: what knowing the outcome in advance is worth;
- **base plan value**: the plan for the base scenario alone (the file without
  ``uncertainty``), its orders before ``revealed`` fixed, the later orders
  re-optimised in every outcome; the risk measure of that, or None with the
  reason when some outcome then has no feasible plan;
- **value of hedging** = the stochastic optimum - the base plan value.

Analysis returns data; :mod:`optimizer.report` says it in words.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .. import model as model_mod
from ..model import BUY, LEASE, NONE
from ..plan import Plan, make_plan
from ..schema import Scenario
from ..solve import Solver, Status


@dataclass
class OutcomeFigures:
    name: str
    probability: float
    description: str | None
    status: str  # the outcome's status in the hedged plan ("optimal": the plan holds there)
    effective_tops: float
    spend: float
    stranded_units: float
    stranded_spend: float  # lost, net of the refund
    own_optimum: float | None  # the outcome solved as if known from the start
    regret: float | None


@dataclass
class RiskFigures:
    revealed: str | None
    measure: str
    alpha: float
    weight: float
    refund_on_denial: float
    outcomes: list[OutcomeFigures]
    objective: float  # the measure that was maximised
    expected_effective_tops: float
    cvar_effective_tops: float
    worst_effective_tops: float
    wait_and_see: float | None
    evpi: float | None
    base_plan_value: float | None
    base_plan_reason: str  # why the base plan value is None ("" otherwise)
    value_of_hedging: float | None
    shared_orders: list[dict] = field(default_factory=list)  # the hedged plan's orders before revealed
    base_orders: list[dict] = field(default_factory=list)  # the base plan's orders before revealed
    base_plan_outcomes: dict = field(default_factory=dict)  # outcome -> TOPS of the base plan, re-optimised

    def to_dict(self) -> dict:
        return {
            "revealed": self.revealed, "measure": self.measure, "alpha": self.alpha, "weight": self.weight,
            "refund_on_denial": self.refund_on_denial,
            "outcomes": [
                {"name": o.name, "probability": o.probability, "status": o.status, "effective_tops": o.effective_tops,
                 "spend": o.spend, "stranded_units": o.stranded_units, "stranded_spend": o.stranded_spend,
                 "own_optimum": o.own_optimum, "regret": o.regret}
                for o in self.outcomes
            ],
            "expected_effective_tops": self.expected_effective_tops,
            "cvar_effective_tops": self.cvar_effective_tops,
            "worst_effective_tops": self.worst_effective_tops,
            "wait_and_see": self.wait_and_see,
            "evpi": self.evpi,
            "base_plan_value": self.base_plan_value,
            "base_plan_reason": self.base_plan_reason or None,
            "value_of_hedging": self.value_of_hedging,
            "shared_orders": self.shared_orders,
            "base_orders": self.base_orders,
        }


def cvar(values: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """The mean of the worst (1 - alpha) probability mass of ``values`` (lower is worse)."""
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    mass, left, total = 1.0 - alpha, 1.0 - alpha, 0.0
    for i in order:
        take = min(float(probs[i]), left)
        total += take * float(values[i])
        left -= take
        if left <= 1e-15:
            break
    return total / mass


def measure_value(s: Scenario, values, probs) -> float:
    """The scenario's risk measure of per-outcome values."""
    risk = s.uncertainty.risk
    v = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    expected = float(p @ v)
    if risk.measure == "expected":
        return expected
    if risk.measure == "worst":
        return float(v.min())
    return (1 - risk.weight) * expected + risk.weight * cvar(v, p, risk.alpha)


def _orders_before(plan_or_model, units: np.ndarray, shared_only: bool) -> list[dict]:
    m = plan_or_model
    co = m.coords
    out = []
    for j in np.flatnonzero(units > 0):
        k = int(m.var.kind[j])
        if shared_only and int(m.var.outcome[j]) != NONE:
            continue
        period = co.periods[m.var.period[j]] if co.dated else None
        if k == BUY:
            out.append({"kind": "purchase", "site": co.sites[m.var.site[j]], "chip": co.chips[m.var.chip[j]],
                        "period": period, "units": float(units[j])})
        elif k == LEASE:
            out.append({"kind": "lease", "lease": co.leases[m.var.lease[j]], "site": co.sites[m.var.site[j]],
                        "chip": co.chips[m.var.chip[j]], "period": period, "units": float(units[j])})
    return out


def risk_figures(plan: Plan, solver: str = "highs") -> RiskFigures | None:
    """The figures above for an optimal plan over outcomes (None for a plan without outcomes)."""
    m = plan.model
    s = plan.scenario
    if s.uncertainty is None or not plan.outcomes or not plan.result.ok:
        return None
    unc = s.uncertainty
    units = np.asarray(plan.result.units, dtype=float)
    names = list(m.coords.outcomes)
    probs = np.array([unc.outcomes[n].probability for n in names])
    tops = m.tops @ units
    spend = m.layer_spend @ units
    outcomes: list[OutcomeFigures] = []
    own: list[float | None] = []
    from .engine import Resolver

    resolver = Resolver(solver)  # outcomes of one structure reuse one solver model
    for k, name in enumerate(names):
        L = m.layers[k]
        strand = L.stranded & (units[L.cols] > 0)
        T = L.scenario.n_periods
        lost = np.where(L.kind == LEASE, L.price * (T - L.period), L.price) * (1.0 - L.refund)
        alone = resolver.plan(plan.outcomes[name], duals=False)
        best = float(alone.totals["effective_tops"]) if alone.result.ok else None
        own.append(best)
        outcomes.append(OutcomeFigures(
            name, float(probs[k]), unc.outcomes[name].description, "optimal", float(tops[k]), float(spend[k]),
            float(units[L.cols][strand].sum()), float((lost * units[L.cols])[strand].sum()), best,
            None if best is None else best - float(tops[k]),
        ))
    objective = float(plan.totals["effective_tops"])
    ws = measure_value(s, own, probs) if all(v is not None for v in own) else None
    base_value, reason, base_orders, base_tops = _base_plan_value(plan, solver)
    shared = _orders_before(m, units, shared_only=True)
    return RiskFigures(
        unc.revealed, unc.risk.measure, unc.risk.alpha, unc.risk.weight, unc.refund_on_denial, outcomes, objective,
        float(probs @ tops), cvar(tops, probs, unc.risk.alpha), float(tops.min()),
        ws, None if ws is None else ws - objective,
        base_value, reason, None if base_value is None else objective - base_value,
        shared, base_orders, base_tops,
    )


def _base_plan_value(plan: Plan, solver: str) -> tuple[float | None, str, list[dict], dict]:
    """The base scenario's own plan, its shared orders fixed in the extensive form, later orders re-optimised."""
    s = plan.scenario
    m = plan.model
    base_s = s.model_copy(update={"uncertainty": None})
    base = make_plan(base_s, solver=solver, raise_on_status=False, duals=False)
    if not base.result.ok:
        return None, f"the base scenario alone is {base.status}", [], {}
    r = s.period_index(s.uncertainty.revealed, s.n_periods)
    bm = base.model
    value_of = {bm.var.name[j]: float(u) for j, u in enumerate(base.result.units)}
    fixed = np.zeros(m.n, dtype=bool)
    at = np.zeros(m.n)
    for j in range(m.n):
        if int(m.var.outcome[j]) != NONE or int(m.var.kind[j]) not in (BUY, LEASE):
            continue
        fixed[j] = True
        at[j] = value_of.get(m.var.name[j], 0.0)  # a shared column the base plan has no column for: 0
    base_orders = _orders_before(bm, np.asarray([value_of[n] if bm.var.period[j] < r else 0.0
                                                 for j, n in enumerate(bm.var.name)]), shared_only=False)
    var = dataclasses.replace(m.var, lower=np.where(fixed, at, m.var.lower), upper=np.where(fixed, at, m.var.upper))
    fm = dataclasses.replace(m, var=var)
    res = Solver(fm, solver).solve(tie_break=False, duals=False)
    if res.status is not Status.OPTIMAL:
        bad = _infeasible_outcomes(fm, solver)
        who = ", ".join(bad) if bad else "some outcome"
        return None, (f"with the base plan's orders before {s.uncertainty.revealed or 'the outcome is known'} fixed, "
                      f"no plan meets every rule in outcome {who}"), base_orders, {}
    tops = fm.tops @ res.units
    probs = [s.uncertainty.outcomes[n].probability for n in m.coords.outcomes]
    return measure_value(s, tops, probs), "", base_orders, {n: float(t) for n, t in zip(m.coords.outcomes, tops)}


def _infeasible_outcomes(fm: model_mod.Model, solver: str) -> list[str]:
    from ..solve import backend_for_model

    out = []
    backend = backend_for_model(solver, fm, fm.integer)
    for k, name in enumerate(fm.coords.outcomes):
        keep = np.asarray(fm.rows.outcome == k)
        if not backend.feasible(keep):
            out.append(name)
    return out
