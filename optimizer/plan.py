"""From a validated scenario to a verified plan: the library's main entry point.

``make_plan`` runs the phases in order, each separate: build the model,
solve it, verify the result independently (repairing a plan that breaks a row
only within the solver's own tolerance by re-solving with tighter tolerances),
then assemble every table the reports need (allocation, leases, periods,
constraints with shadow prices and their meaning, per-site figures,
compliance). Reports only read a :class:`Plan`; they never solve.
:meth:`Plan.frames` gives the tables as pandas DataFrames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import model as model_mod
from . import verify as verify_mod
from .compliance import Decision
from .errors import InfeasibleError, SolveError, UnboundedError, VerificationError
from .io import Loaded
from .model import BUY, LEASE, NONE, family
from .schema import Scenario
from .solve import Solver, SolveResult, Status, scaled, solve


@dataclass
class AllocationRow:
    site: str
    chip: str
    model: str
    vendor: str
    origin: str
    domestic: bool
    units: float
    unit_price: float  # reporting currency, at the order period
    spend: float
    int8_tops: float  # per unit
    flexibility: float
    delivery_rate: float
    effective_tops: float  # units x INT8 x flexibility x delivery rate (0 when stranded)
    period: str | None = None  # order period (None without periods)
    delivery_period: str | None = None
    outcome: str | None = None  # None: shared by every outcome (or no outcomes)
    objective_tops: float = 0.0  # the row's contribution to the objective (time-weighted for in_service)
    price_currency: str = ""  # the chip's own currency
    native_price: float = 0.0  # unit price in the chip's own currency


@dataclass
class LeaseRow:
    lease: str
    site: str
    chip: str
    operator: str
    start_period: str | None
    units: float
    price_per_period: float  # reporting currency, per unit and period in service
    periods_in_service: int
    spend: float  # payments over the horizon
    effective_tops: float  # units x INT8 x flexibility x lease delivery rate
    outcome: str | None = None
    objective_tops: float = 0.0


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
    unit: str = ""
    outcome: str | None = None


@dataclass
class SiteRow:
    site: str
    name: str
    country: str
    spend: float  # purchases and lease payments
    budget: float | None
    domestic_share: float | None  # on the site's basis (floor or not); None when nothing is bought
    domestic_min_share: float | None
    domestic_basis: str
    power_mw: float | None  # envelope (the last period's, with periods)
    power_used_mw: float | None  # in service at the end of the horizon


@dataclass
class PeriodRow:
    period: str | None
    spend: float  # orders placed in the period + lease payments in it
    budget: float | None  # the global per-period cap, if any
    units_delivered: float
    effective_tops_in_service: float  # delivered by the period (and leases started), effective TOPS
    power_mw: dict[str, float]  # per site, MW in use (purchases delivered by the period)
    site_spend: dict[str, float] = field(default_factory=dict)
    site_budget: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Plan:
    scenario: Scenario
    loaded: Loaded | None
    model: model_mod.Model
    result: SolveResult
    allocation: list[AllocationRow]
    constraints: list[ConstraintRow]
    sites: list[SiteRow]
    _compliance: list[Decision]
    totals: dict[str, float] = field(default_factory=dict)
    optimality: dict = field(default_factory=dict)  # dual-bound check, see make_plan
    leases: list[LeaseRow] = field(default_factory=list)
    periods: list[PeriodRow] = field(default_factory=list)
    outcomes: dict = field(default_factory=dict)  # outcome name -> its validated scenario (stochastic plans)

    @property
    def lm(self) -> model_mod.Model:
        return self.model

    @property
    def compliance(self) -> list[Decision]:
        """Every export decision (per site, chip and delivery period, and per lease), computed when first read."""
        return self._compliance or self.model.decisions

    @property
    def status(self) -> str:
        return self.result.status.value

    @property
    def dated(self) -> bool:
        return self.scenario.has_periods

    def weight(self, outcome: str | None) -> float:
        """An order's weight in expected figures: 1 for a shared order (or a plan without outcomes), else its
        outcome's probability (as in ``totals``)."""
        if outcome is None:
            return 1.0
        return next((L.probability for L in self.model.layers if L.name == outcome), 0.0)

    def units(self) -> dict[tuple[str, str], float]:
        """Units bought per (site, chip), summed over periods. Over outcomes, the expectation: a shared order
        counts once, an outcome's own order with that outcome's probability (as ``totals["units"]``)."""
        out: dict[tuple[str, str], float] = {}
        m = self.model
        probs = np.ones(len(m.coords.outcomes) or 1)
        for k, name in enumerate(m.coords.outcomes):
            probs[k] = self.weight(name)
        for j in np.flatnonzero(m.var.kind == BUY):
            key = (m.coords.sites[m.var.site[j]], m.coords.chips[m.var.chip[j]])
            o = int(m.var.outcome[j])
            out[key] = out.get(key, 0.0) + (1.0 if o == NONE else float(probs[o])) * float(self.result.units[j])
        return out

    def orders(self) -> verify_mod.Orders:
        """Every order with its period and outcome, as the verifier reads a plan."""
        return orders_of(self.model, self.result.units)

    @property
    def binding(self) -> list[str]:
        return [c.name for c in self.constraints if c.binding]

    def spend_by_vendor(self) -> dict[str, float]:
        """Purchase spend per vendor; over outcomes, the expectation (weighted as :meth:`units`)."""
        out = {v: 0.0 for v in sorted(self.scenario.vendors)}
        for a in self.allocation:
            out[a.vendor] += self.weight(a.outcome) * a.spend
        return out

    def frames(self) -> dict:
        """The plan's tables as pandas DataFrames: allocation, leases, periods, constraints, sites, compliance.

        Over outcomes, allocation and leases carry ``probability``, each row's weight in expectations (1 for an
        order shared by every outcome, else its outcome's probability), as the workbook's Probability column."""
        import dataclasses

        import pandas as pd

        def df(rows, cls) -> "pd.DataFrame":
            cols = [f.name for f in dataclasses.fields(cls)]
            return pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=cols)

        periods = pd.DataFrame([{k: v for k, v in dataclasses.asdict(p).items() if k not in ("power_mw", "site_spend", "site_budget")}
                                | {f"power_mw[{s}]": mw for s, mw in p.power_mw.items()} for p in self.periods])
        allocation, leases = df(self.allocation, AllocationRow), df(self.leases, LeaseRow)
        if self.outcomes:  # each row's weight in expectations: 1 for a shared order, else its outcome's probability
            allocation["probability"] = [self.weight(a.outcome) for a in self.allocation]
            leases["probability"] = [self.weight(r.outcome) for r in self.leases]
        return {
            "allocation": allocation,
            "leases": leases,
            "periods": periods,
            "constraints": df(self.constraints, ConstraintRow),
            "sites": df(self.sites, SiteRow),
            "compliance": df(self.compliance, Decision),
        }


def orders_of(m: model_mod.Model, units: np.ndarray) -> verify_mod.Orders:
    co = m.coords
    out = verify_mod.Orders()
    for j in np.flatnonzero(units != 0):
        k = int(m.var.kind[j])
        o = int(m.var.outcome[j])
        outcome = co.outcomes[o] if o != NONE else None
        period = co.periods[m.var.period[j]] if co.dated else None
        if k == BUY:
            key = (co.sites[m.var.site[j]], co.chips[m.var.chip[j]], period, outcome)
            out.purchases[key] = out.purchases.get(key, 0.0) + float(units[j])
        elif k == LEASE:
            key = (co.leases[m.var.lease[j]], period, outcome)
            out.leases[key] = out.leases.get(key, 0.0) + float(units[j])
    return out


@dataclass(frozen=True)
class _Row:
    """One row of a CSR matrix, as the arrays it holds (no new sparse matrix per row)."""

    indices: np.ndarray
    data: np.ndarray


def _row(A: sp.csr_matrix, i: int) -> _Row:
    lo, hi = A.indptr[i], A.indptr[i + 1]
    return _Row(A.indices[lo:hi], A.data[lo:hi])


def _is_binding(m: model_mod.Model, A: sp.csr_matrix, i: int, slack: float, units: np.ndarray, scale_: float) -> bool:
    """One rule, documented in the README: a row binds when its slack is within the verifier's tolerance,
    or, with whole lots, when it is smaller than one lot of a chip the row limits (for a ``<=`` row a
    chip with a positive coefficient, for a ``>=`` row one that would lower it, e.g. one more foreign lot
    under a domestic floor): less room than one lot means the row decides what is bought."""
    own = family(m.rows.family[i]).binding(m.var, _row(A, i), units, slack, verify_mod.REL_TOL * scale_)
    if own is not None:
        return own if m.rows.family[i] != "order_link" else False
    if slack <= verify_mod.REL_TOL * scale_:
        return True
    if not m.integer:
        return False
    a = _row(A, i)
    steps = a.data * m.var.scale[a.indices]
    steps = steps if m.rows.sense[i] == "<=" else -steps
    steps = steps[(steps > 0) & m.var.integer[a.indices]]
    return bool(steps.size) and slack < float(steps.max())


def assemble(s: Scenario, m: model_mod.Model, res: SolveResult, loaded: Loaded | None = None,
             outcomes: dict | None = None) -> Plan:
    units = np.asarray(res.units, dtype=float)
    co = m.coords
    T = s.n_periods
    base = m.layers[0] if len(m.layers) == 1 else None
    alloc: list[AllocationRow] = []
    leases: list[LeaseRow] = []
    for j in np.flatnonzero(units > 0):
        o = int(m.var.outcome[j])
        outcome = co.outcomes[o] if o != NONE else None
        g = (outcomes or {}).get(outcome, s) if outcome is not None else s  # an outcome's own order: its data
        k = int(m.var.kind[j])
        u = float(units[j])
        if k == BUY:
            sid, cid = co.sites[m.var.site[j]], co.chips[m.var.chip[j]]
            c = g.chips[cid]
            vd = g.vendors[c.vendor]
            t = int(m.var.period[j])
            price = g.price_reporting(sid, cid, t)
            flex = g.flexibility[c.architecture]
            d = t + vd.lead_time
            alloc.append(AllocationRow(
                sid, cid, c.model or cid, c.vendor, vd.origin, g.is_domestic(sid, cid), u, price, u * price,
                c.int8_tops, flex, vd.delivery_rate, u * c.int8_tops * flex * vd.delivery_rate,
                co.periods[t] if co.dated else None, co.periods[d] if co.dated and d < T else None, outcome,
                float(m.c[j] * u), c.price_currency or s.currency, g.price(sid, cid, t),
            ))
        elif k == LEASE:
            lid = co.leases[m.var.lease[j]]
            o = g.leases[lid]
            t = int(m.var.period[j])
            pp = g.lease_price_reporting(lid)
            leases.append(LeaseRow(lid, o.site, o.chip, o.operator, co.periods[t] if co.dated else None, u, pp, T - t,
                                   u * pp * (T - t), u * g.lease_tops_per_unit(lid), outcome, float(m.c[j] * u)))
    alloc.sort(key=lambda a: (a.site, a.chip, a.period or "", a.outcome or ""))
    if co.dated:
        order = {p: i for i, p in enumerate(co.periods)}
        alloc.sort(key=lambda a: (a.outcome or "", a.site, a.chip, order.get(a.period, 0)))
        leases.sort(key=lambda r: (r.outcome or "", r.lease, order.get(r.start_period, 0)))
    lhs_all = m.A @ units if m.m else np.zeros(0)
    abs_all = abs(m.A) @ np.abs(units) if m.m else np.zeros(0)
    cons: list[ConstraintRow] = []
    A = sp.csr_matrix(m.A) if m.m else None
    for i in range(m.m):
        ref = m.ref(i)
        fam = family(ref.family)
        lhs = float(lhs_all[i]) + 0.0  # + 0.0: no -0.0 in reports
        slack = (ref.rhs - lhs if ref.sense == "<=" else lhs - ref.rhs) + 0.0
        scale_ = max(1.0, abs(ref.rhs), float(abs_all[i]))
        binding = _is_binding(m, A, i, slack, units, scale_)
        sp_ = None if res.shadow_prices is None else float(res.shadow_prices[i]) + 0.0
        L = m.layer_of_row(i)
        g = L.scenario
        weight = fam.weight(L, units, ref)
        cons.append(ConstraintRow(ref.name, ref.family, lhs, ref.sense, ref.rhs, slack, binding, sp_,
                                  _meaning(fam, g, ref, sp_, weight, binding, slack, m.integer),
                                  fam.unit(g, ref), ref.outcome))
    sites = _site_rows(s, m, units, base)
    totals = _totals(m, units, alloc, leases, res)
    plan = Plan(s, loaded, m, res, alloc, cons, sites, [], totals, leases=leases, outcomes=outcomes or {})
    plan.periods = _period_rows(s, m, units, base)
    return plan


def _meaning(fam, s: Scenario, ref, shadow: float | None, weight: float, binding: bool, slack: float,
             integer: bool) -> str:
    sp_ = shadow if shadow is not None and math.isfinite(shadow) else None
    base = fam.meaning(s, ref, sp_, weight) if sp_ is not None else ""
    if binding:
        return base
    if sp_:
        # a whole-lot plan can leave room in a row the relaxation prices: say both, never "not binding" alone
        return f"slack remains in this whole-lot plan; in the continuous relaxation, {base}" if integer else base
    return "not binding: slack remains"


def _expected(rows_by_layer: list[list], probs: list[float]) -> list:
    """Probability-weighted rows of the layers (a plan over outcomes): numbers and number dicts averaged,
    None kept only where every outcome has None; text from the first."""
    import dataclasses

    if len(rows_by_layer) == 1:
        return rows_by_layer[0]
    out = []
    for group in zip(*rows_by_layer):
        first = group[0]
        vals = {}
        for f in dataclasses.fields(first):
            xs = [getattr(r, f.name) for r in group]
            if isinstance(xs[0], dict):
                keys = list(xs[0])
                vals[f.name] = {k: _wmean([x.get(k) for x in xs], probs) for k in keys}
            elif all(isinstance(x, (int, float)) and not isinstance(x, bool) or x is None for x in xs) and any(
                    x is not None for x in xs) and f.name not in ("domestic_min_share",):
                vals[f.name] = _wmean(xs, probs)
            else:
                vals[f.name] = xs[0]
        out.append(dataclasses.replace(first, **vals))
    return out


def _wmean(xs: list, probs: list[float]):
    got = [(x, p) for x, p in zip(xs, probs) if x is not None]
    if not got:
        return None
    w = sum(p for _, p in got)
    return float(sum(x * p for x, p in got) / w) if w > 0 else float(got[0][0])


def _site_rows(s: Scenario, m: model_mod.Model, units: np.ndarray, base) -> list[SiteRow]:
    """One row per site; for a plan over outcomes, the expectation over them (each outcome's own view)."""
    if base is None and len(m.layers) > 1:
        return _expected([_site_rows_of(L.scenario, m, units, L) for L in m.layers], [L.probability for L in m.layers])
    return _site_rows_of(s, m, units, base or m.layers[0])


def _site_rows_of(s: Scenario, m: model_mod.Model, units: np.ndarray, L) -> list[SiteRow]:
    rows: list[SiteRow] = []
    T = s.n_periods
    buy = (L.kind == BUY) & ~L.stranded
    lease = L.kind == LEASE
    u = units[L.cols]
    for si, sid in enumerate(m.coords.sites):
        st = s.sites[sid]
        here = L.site == si
        paid = L.price * np.where(L.stranded, 1.0 - L.refund, 1.0) * u  # a stranded order still costs its net price
        spend = float(np.sum(paid[(L.kind == BUY) & here]) + np.sum((paid * (T - L.period))[lease & here]))
        w = {"spend": L.price, "units": np.ones(len(L.cols)), "tops": L.int8}[st.domestic_basis]
        mask = buy & here
        tot = float(np.sum((w * u)[mask]))
        dom = float(np.sum((w * u)[mask & L.domestic]))
        share = dom / tot if tot > 0 else None
        power_used = None
        if any(c.power_w is not None for c in s.chips.values()):
            power_used = float(np.sum((L.power_w * u)[mask])) / 1e6
        pw = st.power_mw
        envelope = (pw.get(s.period_ids[-1]) if isinstance(pw, dict) else pw)
        rows.append(SiteRow(sid, st.name or sid, st.country, spend, s.money(st.budget), share, st.domestic_min_share,
                            st.domestic_basis, envelope, power_used))
    return rows


def _period_rows(s: Scenario, m: model_mod.Model, units: np.ndarray, base) -> list[PeriodRow]:
    """One row per period; for a plan over outcomes, the expectation over them."""
    if base is None and len(m.layers) > 1:
        return _expected([_period_rows_of(L.scenario, m, units, L) for L in m.layers], [L.probability for L in m.layers])
    return _period_rows_of(s, m, units, base or m.layers[0])


def _period_rows_of(s: Scenario, m: model_mod.Model, units: np.ndarray, L) -> list[PeriodRow]:
    T = s.n_periods
    u = units[L.cols]
    buy = (L.kind == BUY) & ~L.stranded
    lease = (L.kind == LEASE) & ~L.stranded
    money = (L.kind == BUY) | (L.kind == LEASE)
    out = []
    for t in range(T):
        placed = (L.kind == BUY) & (L.period == t)
        paying = (L.kind == LEASE) & (L.period <= t)
        spend_vec = np.where(placed, L.price * u, 0.0) + np.where(paying, L.price * u, 0.0)
        delivered = buy & (L.delivery == t)
        in_service = (buy & (L.delivery <= t)) | (lease & (L.period <= t))
        power = {}
        site_spend = {}
        site_budget = {}
        for si, sid in enumerate(m.coords.sites):
            here = L.site == si
            power[sid] = float(np.sum((L.power_w * u)[buy & here & (L.delivery <= t)])) / 1e6
            site_spend[sid] = float(np.sum(spend_vec[here & money]))
            b = s.sites[sid].budget
            pp = (b.per_period or {}).get(s.period_ids[t]) if (b is not None and s.has_periods) else None
            site_budget[sid] = pp * s.rate(b.currency) if pp is not None else None
        g = s.budget
        gp = (g.per_period or {}).get(s.period_ids[t]) if (g is not None and s.has_periods) else None
        out.append(PeriodRow(
            s.period_ids[t] if s.has_periods else None, float(spend_vec.sum()),
            gp * s.rate(g.currency) if gp is not None else None,
            float(u[delivered].sum()), float(np.sum((L.effective * u)[in_service])), power, site_spend, site_budget,
        ))
    return out


def _totals(m: model_mod.Model, units: np.ndarray, alloc, leases, res: SolveResult) -> dict[str, float]:
    """Plan totals. Over outcomes, every figure is the expectation: a shared order counts once, an outcome's
    own order with that outcome's probability (``spend`` is the expected spend the tie-break minimised)."""
    p = {L.name: L.probability for L in m.layers}

    def w(row) -> float:
        return 1.0 if row.outcome is None else p.get(row.outcome, 0.0)

    out = {
        "spend": float(np.dot(m.spend, units)),
        "units": float(sum(w(a) * a.units for a in alloc)),
        "int8_tops": float(sum(w(a) * a.units * a.int8_tops for a in alloc)),
        "delivered_tops": float(sum(w(a) * a.units * a.int8_tops * a.delivery_rate for a in alloc)),
        "effective_tops": float(np.dot(m.c, units)),
    }
    if m.scenario.schema_version >= 2:
        # effective TOPS delivered by the end of the horizon (not averaged over periods), and leases
        out["effective_tops_delivered"] = float(sum(w(a) * a.effective_tops for a in alloc)
                                                + sum(w(r) * r.effective_tops for r in leases))
        out["leased_units"] = float(sum(w(r) * r.units for r in leases))
        out["lease_spend"] = float(sum(w(r) * r.spend for r in leases))
    return out


OPTIMALITY_REL_TOL = 1e-6  # LP: primal within this of the dual bound


def check_optimality(s: Scenario, plan: Plan) -> dict:
    """Check the plan against the dual bound recomputed from the scenario.

    Continuous plans must meet the bound (an optimality certificate); whole-lot plans report their
    gap to the relaxation bound and the MILP gap the solver proved.
    """
    extra = plan.result.extra
    tie = {"tie_break": extra["tie_break"]} if extra.get("tie_break") else {}
    if "mip_gap" in extra:
        tie["mip_gap"] = extra["mip_gap"]
    if plan.result.shadow_prices is None or not np.all(np.isfinite(plan.result.shadow_prices)):
        return {"certificate": "none", "bound": None, "gap": None, **tie}
    if plan.model.measure in ("cvar", "worst"):
        return {"certificate": "none", "bound": None, "gap": None, **tie}
    shadow = {c.name: c.shadow_price or 0.0 for c in plan.constraints}
    primal, bound, problems = verify_mod.duality_gap(s, plan.orders(), shadow, plan.outcomes or None)
    gap = (bound - primal) / max(1.0, abs(bound))
    if not plan.model.integer:
        if problems or gap > OPTIMALITY_REL_TOL:
            raise VerificationError(
                problems + [f"optimality: plan gives {primal:,.6g} effective TOPS but the dual bound is {bound:,.6g}"]
            )
        return {"certificate": "lp-duality", "bound": bound, "gap": max(gap, 0.0), **tie}
    return {"certificate": "relaxation-bound", "bound": bound, "gap": max(gap, 0.0), **tie}


def outcome_scenarios(loaded: Loaded | None, s: Scenario) -> dict[str, Scenario] | None:
    """The validated scenario of each outcome of ``s`` (None without ``uncertainty``)."""
    if s.uncertainty is None:
        return None
    got = getattr(loaded, "outcomes", None) if loaded is not None else None
    if got:
        return dict(got)
    from .outcomes import outcome_scenarios as build_outcomes

    return build_outcomes(s)


def verified(s: Scenario, m: model_mod.Model, res: SolveResult, outcomes: dict | None) -> None:
    verify_mod.verify(s, orders_of(m, res.units), res.objective, outcomes)


def make_plan(scenario: Scenario | Loaded, solver: str = "highs", raise_on_status: bool = True,
              duals: bool = True) -> Plan:
    """Build, solve, verify. Raises InfeasibleError / UnboundedError / VerificationError."""
    loaded = scenario if isinstance(scenario, Loaded) else None
    s = loaded.scenario if loaded else scenario
    outcomes = outcome_scenarios(loaded, s)
    m = model_mod.build(s, outcomes)
    res = solve(m, solver, duals=duals)
    return finish(s, m, res, loaded, outcomes, solver, raise_on_status, duals)


def finish(s: Scenario, m: model_mod.Model, res: SolveResult, loaded: Loaded | None, outcomes: dict | None,
           solver: str, raise_on_status: bool, duals: bool, solver_obj: Solver | None = None) -> Plan:
    """Verify (repairing a plan that breaks a row within the solver's tolerance), assemble, certify."""
    if res.status is Status.OPTIMAL:
        try:
            verified(s, m, res, outcomes)
        except VerificationError:
            if not within_solver_tolerance(m, res.units):
                raise
            res = _repair(m, solver, duals, res)
            verified(s, m, res, outcomes)
        plan = assemble(s, m, res, loaded, outcomes)
        if duals:
            plan.optimality = check_optimality(s, plan)
        return plan
    if not raise_on_status:
        return Plan(s, loaded, m, res, [], [], [], [], {}, outcomes=outcomes or {})
    if res.status is Status.INFEASIBLE:
        raise InfeasibleError(f"scenario {s.name!r} has no feasible plan")
    if res.status is Status.UNBOUNDED:
        raise UnboundedError(
            f"scenario {s.name!r} is unbounded: nothing limits purchases (give each site a budget or a global budget)"
        )
    raise SolveError(f"the {solver} solver failed: {res.message or res.status.value}")


REPAIRABLE = 1e-5  # a row broken by at most this, in the solver's scaled units, is a tolerance matter


def within_solver_tolerance(m: model_mod.Model, units: np.ndarray) -> bool:
    """Does the plan break its rows only by what a solver's feasibility tolerance allows (scaled rows)?"""
    prob = scaled(m)
    lots = np.asarray(units, dtype=float) / prob.col_scale
    act = prob.A @ lots if prob.m else np.zeros(0)
    worst = np.max(np.maximum(prob.row_lo - act, act - prob.row_up), initial=0.0)
    return bool(worst <= REPAIRABLE)


def _repair(m: model_mod.Model, solver: str, duals: bool, res: SolveResult) -> SolveResult:
    """Re-solve with the solver's feasibility tolerances tightened 100-fold (HiGHS); the verifier then
    decides again. A plan still breaking a rule is never shown."""
    if solver != "highs":
        return res
    s2 = Solver(m, solver)
    for b in (s2.main,):
        b.h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        if b.mip:
            b.h.setOptionValue("mip_feasibility_tolerance", 1e-8)
    return s2.solve(duals=duals)
