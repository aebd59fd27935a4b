"""From a validated scenario to a verified plan: the library's main entry point.

``make_plan`` builds the model, solves it, verifies the result independently
and assembles every table the reports need (allocation, constraints with
shadow prices and their meaning, per-site figures, compliance). Reports only
read a :class:`Plan`; they never solve.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import model as model_mod
from . import verify as verify_mod
from .compliance import Decision
from .errors import InfeasibleError, SolveError, UnboundedError, VerificationError
from .io import Loaded
from .schema import Scenario
from .solve import SolveResult, Status, solve


@dataclass
class AllocationRow:
    site: str
    chip: str
    model: str
    vendor: str
    origin: str
    domestic: bool
    units: float
    unit_price: float  # reporting currency
    spend: float
    int8_tops: float  # per unit
    flexibility: float
    delivery_rate: float
    effective_tops: float  # total for the row


@dataclass
class ConstraintRow:
    name: str
    kind: str
    lhs: float
    sense: str
    rhs: float
    slack: float
    binding: bool
    shadow_price: float | None
    meaning: str


@dataclass
class SiteRow:
    site: str
    name: str
    country: str
    spend: float
    budget: float | None
    domestic_share: float | None  # on the site's basis (floor or not); None when nothing is bought
    domestic_min_share: float | None
    domestic_basis: str
    power_mw: float | None  # envelope
    power_used_mw: float | None


@dataclass
class Plan:
    scenario: Scenario
    loaded: Loaded | None
    lm: model_mod.LinearModel
    result: SolveResult
    allocation: list[AllocationRow]
    constraints: list[ConstraintRow]
    sites: list[SiteRow]
    compliance: list[Decision]
    totals: dict[str, float] = field(default_factory=dict)
    optimality: dict = field(default_factory=dict)  # dual-bound check, see make_plan

    @property
    def status(self) -> str:
        return self.result.status.value

    def units(self) -> dict[tuple[str, str], float]:
        return {(v.site, v.chip): float(u) for v, u in zip(self.lm.vars, self.result.units)}

    @property
    def binding(self) -> list[str]:
        return [c.name for c in self.constraints if c.binding]

    def spend_by_vendor(self) -> dict[str, float]:
        out = {v: 0.0 for v in sorted(self.scenario.vendors)}
        for a in self.allocation:
            out[a.vendor] += a.spend
        return out


def _fmt_num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _meaning(s: Scenario, row: model_mod.Row, shadow: float | None, lhs_weight: float, binding: bool) -> str:
    cur = s.currency
    sp = shadow if shadow is not None and math.isfinite(shadow) else None
    if row.kind == "budget":
        who = "the global" if row.subject == "global" else f"{row.subject}"
        base = f"each extra {cur} 1M of {who} budget adds {_fmt_num(sp * 1e6)} effective TOPS" if sp is not None else ""
    elif row.kind == "domestic_share":
        base = (
            f"raising the {row.subject} domestic floor by 1 point changes effective TOPS by {_fmt_num(sp * lhs_weight * 0.01)}"
            if sp is not None else ""
        )
    elif row.kind == "capacity":
        base = f"each extra unit of {row.subject} capacity adds {_fmt_num(sp)} effective TOPS" if sp is not None else ""
    elif row.kind == "vendor_share":
        base = (
            f"raising {row.subject}'s cap by 1 point of total spend adds {_fmt_num(sp * lhs_weight * 0.01)} effective TOPS"
            if sp is not None else ""
        )
    elif row.kind == "chip_min":
        base = f"each extra unit of {row.subject} that must be bought changes effective TOPS by {_fmt_num(sp)}" if sp is not None else ""
    elif row.kind == "chip_max":
        base = f"each extra unit of {row.subject} allowed adds {_fmt_num(sp)} effective TOPS" if sp is not None else ""
    elif row.kind == "power":
        base = f"each extra MW at {row.subject} adds {_fmt_num(sp * 1e6)} effective TOPS" if sp is not None else ""
    elif row.kind == "tpp_cap":
        base = f"each extra million TPP of the {row.subject} cap adds {_fmt_num(sp * 1e6)} effective TOPS" if sp is not None else ""
    else:  # pragma: no cover
        base = ""
    if not binding:
        return "not binding: slack remains" + (f"; {base}" if base and sp else "")
    return base


def _is_binding(lm: model_mod.LinearModel, i: int, slack: float, units: np.ndarray) -> bool:
    a = lm.A[i]
    scale_ = max(1.0, abs(lm.rows[i].rhs), float(np.abs(a * units).sum()))
    if slack <= verify_mod.REL_TOL * scale_:
        return True
    if lm.integer:
        # with whole lots, a row is binding when it is within one lot of its limit: less
        # slack than the largest single lot that would use it up (for <= rows chips with a
        # positive coefficient, for >= rows a negative one, e.g. one more foreign lot under
        # a domestic floor). CNY 80k left in a budget whose chips cost 45k-206k binds.
        steps = a * lm.scale if lm.rows[i].sense == "<=" else -a * lm.scale
        steps = steps[steps > 0]
        return bool(steps.size) and slack < float(steps.max())
    return False


def assemble(s: Scenario, lm: model_mod.LinearModel, res: SolveResult, loaded: Loaded | None = None) -> Plan:
    units = res.units
    alloc: list[AllocationRow] = []
    for v, u in zip(lm.vars, units):
        if u <= 0:
            continue
        c = s.chips[v.chip]
        vd = s.vendors[c.vendor]
        price = s.price_reporting(v.site, v.chip)
        flex = s.flexibility[c.architecture]
        alloc.append(
            AllocationRow(
                v.site, v.chip, c.model or v.chip, c.vendor, vd.origin, s.is_domestic(v.site, v.chip), float(u), price,
                float(u * price), c.int8_tops, flex, vd.delivery_rate, float(u * c.int8_tops * flex * vd.delivery_rate),
            )
        )
    alloc.sort(key=lambda a: (a.site, a.chip))
    lhs_all = lm.A @ units if len(lm.rows) else np.zeros(0)
    total_spend = float(np.dot(lm.spend, units))
    cons: list[ConstraintRow] = []
    for i, r in enumerate(lm.rows):
        lhs = float(lhs_all[i]) + 0.0  # + 0.0: no -0.0 in reports
        slack = (r.rhs - lhs if r.sense == "<=" else lhs - r.rhs) + 0.0
        binding = _is_binding(lm, i, slack, units)
        sp = None if res.shadow_prices is None else float(res.shadow_prices[i]) + 0.0
        weight = 0.0
        if r.kind == "domestic_share":
            # the floor applies to this site's purchases only
            at = np.array([v.site == r.subject for v in lm.vars], dtype=float)
            weight = float(np.sum(np.abs(_basis_weights(s, lm, r.subject)) * at * units))
        elif r.kind == "vendor_share":
            weight = total_spend
        cons.append(ConstraintRow(r.name, r.kind, lhs, r.sense, r.rhs, slack, binding, sp, _meaning(s, r, sp, weight, binding)))
    sites: list[SiteRow] = []
    for sid in sorted(s.sites):
        st = s.sites[sid]
        at = np.array([v.site == sid for v in lm.vars], dtype=float)
        spend = float(np.dot(lm.spend * at, units))
        w = _basis_weights(s, lm, sid) * at
        tot = float(np.dot(w, units))
        dom = float(np.dot(w * np.array([s.is_domestic(v.site, v.chip) for v in lm.vars], dtype=float), units))
        share = dom / tot if tot > 0 else None
        power_used = None
        if any(c.power_w is not None for c in s.chips.values()):
            pw = np.array([s.chips[v.chip].power_w or 0.0 for v in lm.vars]) * at
            power_used = float(np.dot(pw, units)) / 1e6
        sites.append(
            SiteRow(sid, st.name or sid, st.country, spend, s.money(st.budget), share, st.domestic_min_share, st.domestic_basis,
                    st.power_mw, power_used)
        )
    int8 = float(sum(a.units * a.int8_tops for a in alloc))
    delivered = float(sum(a.units * a.int8_tops * a.delivery_rate for a in alloc))
    totals = {
        "spend": total_spend,
        "units": float(units.sum()),
        "int8_tops": int8,
        "delivered_tops": delivered,
        "effective_tops": float(np.dot(lm.c, units)),
    }
    return Plan(s, loaded, lm, res, alloc, cons, sites, lm.decisions, totals)


def _basis_weights(s: Scenario, lm: model_mod.LinearModel, site: str) -> np.ndarray:
    basis = s.sites[site].domestic_basis
    if basis == "spend":
        return lm.spend.copy()
    if basis == "units":
        return np.ones(len(lm.vars))
    return np.array([s.chips[v.chip].int8_tops for v in lm.vars], dtype=float)


OPTIMALITY_REL_TOL = 1e-6  # LP: primal within this of the dual bound (the tie-break allows 1e-7)


def check_optimality(s: Scenario, plan: Plan) -> dict:
    """Check the plan against the dual bound recomputed from the scenario.

    Continuous plans must meet the bound (an optimality certificate);
    integer plans report their gap to the relaxation bound.
    """
    tie = {"tie_break": plan.result.extra["tie_break"]} if plan.result.extra.get("tie_break") else {}
    if plan.result.shadow_prices is None or not np.all(np.isfinite(plan.result.shadow_prices)):
        return {"certificate": "none", "bound": None, "gap": None, **tie}
    shadow = {c.name: c.shadow_price or 0.0 for c in plan.constraints}
    primal, bound, problems = verify_mod.duality_gap(s, plan.units(), shadow)
    gap = (bound - primal) / max(1.0, abs(bound))
    if not s.integer_units:
        if problems or gap > OPTIMALITY_REL_TOL:
            raise VerificationError(
                problems + [f"optimality: plan gives {primal:,.6g} effective TOPS but the dual bound is {bound:,.6g}"]
            )
        return {"certificate": "lp-duality", "bound": bound, "gap": max(gap, 0.0), **tie}
    return {"certificate": "relaxation-bound", "bound": bound, "gap": max(gap, 0.0), **tie}


def make_plan(scenario: Scenario | Loaded, solver: str = "highs", raise_on_status: bool = True) -> Plan:
    """Build, solve, verify. Raises InfeasibleError / UnboundedError / VerificationError."""
    loaded = scenario if isinstance(scenario, Loaded) else None
    s = loaded.scenario if loaded else scenario
    lm = model_mod.build(s)
    res = solve(lm, solver)
    if res.status is Status.OPTIMAL:
        units = {(v.site, v.chip): float(u) for v, u in zip(lm.vars, res.units)}
        verify_mod.verify(s, units, res.objective)
        plan = assemble(s, lm, res, loaded)
        plan.optimality = check_optimality(s, plan)
        return plan
    if not raise_on_status:
        return Plan(s, loaded, lm, res, [], [], [], lm.decisions, {})
    if res.status is Status.INFEASIBLE:
        raise InfeasibleError(f"scenario {s.name!r} has no feasible plan")
    if res.status is Status.UNBOUNDED:
        raise UnboundedError(
            f"scenario {s.name!r} is unbounded: nothing limits purchases (give each site a budget or a global budget)"
        )
    raise SolveError(f"the {solver} solver failed: {res.message or res.status.value}")
