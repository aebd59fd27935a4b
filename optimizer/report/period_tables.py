"""What the reports show for plans with periods and leases, computed from a Plan's own tables (pure, no I/O).

The terminal summary and the workbook present these; neither recomputes a
plan. Everything here is derived from ``plan.allocation``, ``plan.leases``,
``plan.periods`` and ``plan.compliance`` in one pass over each (never once per
period and row):

- :func:`extended`: whether a plan needs more than the version-1 reports (periods,
  leases or outcomes); :func:`objective_text`: what its objective measures, in words;
- :func:`compliance_runs`: the export decisions of a dated plan merged into runs
  of consecutive delivery periods with the same decision for the same reason
  (``h20 at cn, 2025q2-2025q3: deny``), then one per lease;
- :func:`orders_by_period`: units ordered per (site, chip[, outcome]) and order period;
- :func:`site_periods`: per site and period, the cash paid (orders placed plus lease
  payments) against the site's per-period cap, units delivered, effective TOPS in
  service, power in use against the envelope.

Per-period figures are shown only for plans without outcomes (``periods_shown``):
``Plan.periods`` holds one set of figures, and a plan with outcomes has one per
outcome (a shared order can be stranded in one outcome and not another).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..compliance import Decision
from ..plan import Plan


def extended(plan: Plan) -> bool:
    """Whether the plan needs more than the version-1 reports: periods, leases or outcomes."""
    return bool(plan.dated or plan.leases or plan.scenario.leases or plan.outcomes)


def objective_text(plan: Plan) -> str:
    """What the objective measures, in words: ``effective TOPS in service, averaged over the 4 periods 2025q1-2025q4``."""
    s = plan.scenario
    ids = s.period_ids
    if not plan.dated:
        what = "effective TOPS (INT8 x flexibility x delivery rate" + ("; purchases and leases)" if s.leases else ")")
    elif s.objective == "in_service":
        what = f"effective TOPS in service, averaged over the {len(ids)} periods {ids[0]}-{ids[-1]}"
    else:
        what = f"effective TOPS delivered by the end of {ids[-1]}"
    if plan.outcomes:
        measure = s.uncertainty.risk.measure if s.uncertainty is not None else "expected"
        how = {"expected": "expected value", "cvar": "risk-weighted (CVaR)", "worst": "worst case"}.get(measure, measure)
        what = f"{what}; {how} over the {len(plan.outcomes)} outcomes ({', '.join(plan.outcomes)})"
    return what


def period_span(first: str | None, last: str | None) -> str:
    """``2025q2-2025q3``, ``2025q2`` for one period, ``""`` without periods."""
    if first is None:
        return ""
    return first if last == first or last is None else f"{first}-{last}"


@dataclass(frozen=True)
class ComplianceRun:
    """One export decision that holds for a run of consecutive delivery periods (or for a lease)."""

    site: str
    country: str
    chip: str
    lease: str | None
    first: str | None  # first delivery period of the run (None: undated, or a lease)
    last: str | None
    decision: str
    rule: str
    tier: int | None
    tpp: float
    density: float | None
    controlled: bool
    reason: str  # the decision's sentence, naming the run's periods

    @property
    def periods(self) -> str:
        return period_span(self.first, self.last)


def _reason_key(d: Decision) -> str:
    """The reason with its own delivery period taken out, so equal decisions of consecutive periods compare equal."""
    return d.reason.replace(f" delivered in {d.period}", " delivered in {}") if d.period else d.reason


def compliance_runs(plan: Plan) -> list[ComplianceRun]:
    """Each (site, chip)'s dated decisions merged over consecutive periods with the same decision and reason.

    Decisions keep the plan's order (site, chip, period), then the leases. Two periods are merged when
    they are neighbours and the decision, the rule and the reason (apart from the period it names) agree;
    the merged reason names the run (``h20 to CN delivered in 2025q2-2025q3: licence ...``).
    """
    order = {p: i for i, p in enumerate(plan.scenario.period_ids)} if plan.dated else {}
    runs: list[list[Decision]] = []
    for d in plan.compliance:
        last = runs[-1][-1] if runs else None
        if (last is not None and d.lease is None and last.lease is None and d.period is not None
                and last.period is not None and (d.site, d.chip) == (last.site, last.chip)
                and order.get(d.period, -2) == order.get(last.period, -9) + 1
                and (d.decision, d.rule, _reason_key(d)) == (last.decision, last.rule, _reason_key(last))):
            runs[-1].append(d)
        else:
            runs.append([d])
    out = []
    for run in runs:
        d0, d1 = run[0], run[-1]
        span = period_span(d0.period, d1.period)
        reason = _reason_key(d0).replace(" delivered in {}", f" delivered in {span}") if d0.period else d0.reason
        out.append(ComplianceRun(d0.site, d0.country, d0.chip, d0.lease, d0.period, d1.period, d0.decision, d0.rule,
                                 d0.tier, d0.tpp, d0.density, d0.controlled, reason))
    return out


@dataclass
class OrdersByPeriod:
    periods: list[str]
    rows: list[tuple[str, str, str | None]]  # (site, chip, outcome), in the allocation's order
    units: dict[tuple[str, str, str | None], list[float]]  # row -> units ordered per period

    def total(self, row: tuple[str, str, str | None]) -> float:
        return sum(self.units[row])

    def period_total(self, t: int) -> float:
        return sum(u[t] for u in self.units.values())


def orders_by_period(plan: Plan) -> OrdersByPeriod:
    """Units ordered per (site, chip, outcome) and order period, rows sorted by site, chip, outcome."""
    ids = plan.scenario.period_ids
    index = {p: i for i, p in enumerate(ids)}
    units: dict[tuple[str, str, str | None], list[float]] = {}
    for a in plan.allocation:
        key = (a.site, a.chip, a.outcome)
        units.setdefault(key, [0.0] * len(ids))[index.get(a.period, 0)] += a.units
    rows = sorted(units, key=lambda k: (k[0], k[1], k[2] or ""))
    return OrdersByPeriod(list(ids), rows, units)


@dataclass
class SitePeriod:
    """One site in one period (money in the reporting currency)."""

    period: str
    site: str
    orders: float  # orders placed in the period
    lease_payments: float  # payments in the period for leases in service
    cap: float | None  # the site's per-period cash cap
    units_delivered: float
    effective_tops_in_service: float  # purchases delivered and leases started by the end of the period
    power_mw: float | None  # in use (purchases delivered by the period); None when the site has no envelope
    power_envelope_mw: float | None

    @property
    def spend(self) -> float:
        return self.orders + self.lease_payments

    @property
    def used(self) -> float | None:
        return self.spend / self.cap if self.cap else None


def periods_shown(plan: Plan) -> bool:
    """Whether the plan's per-period figures are shown: a dated plan without outcomes."""
    return plan.dated and not plan.outcomes and bool(plan.periods)


def power_envelope(plan: Plan, site: str, period: str) -> float | None:
    """The site's power envelope in the period (MW), or None."""
    pw = plan.scenario.sites[site].power_mw
    if isinstance(pw, dict):
        return pw.get(period)
    return pw


def site_periods(plan: Plan) -> list[SitePeriod]:
    """Per (period, site), in period then site order, from the allocation and lease rows.

    A purchase is paid in its order period and in service from its delivery period on; a lease is paid
    and in service in every period from its start. Power in use is the plan's own per-period figure.
    """
    s = plan.scenario
    ids = s.period_ids
    index = {p: i for i, p in enumerate(ids)}
    T = len(ids)
    sites = sorted(s.sites)
    zero = {sid: [0.0] * T for sid in sites}
    orders = {k: list(v) for k, v in zero.items()}
    delivered = {k: list(v) for k, v in zero.items()}
    new_tops = {k: list(v) for k, v in zero.items()}  # effective TOPS entering service in the period
    lease_pay = {k: list(v) for k, v in zero.items()}  # payments starting in the period (they run to the end)
    for a in plan.allocation:
        orders[a.site][index[a.period]] += a.spend
        if a.delivery_period is not None:
            d = index[a.delivery_period]
            delivered[a.site][d] += a.units
            new_tops[a.site][d] += a.effective_tops
    for r in plan.leases:
        t = index[r.start_period]
        lease_pay[r.site][t] += r.units * r.price_per_period
        new_tops[r.site][t] += r.effective_tops
    out = []
    running = {sid: [0.0, 0.0] for sid in sites}  # lease payments per period, TOPS in service
    by_period = {p.period: p for p in plan.periods}
    for t, pid in enumerate(ids):
        row = by_period.get(pid)
        for sid in sites:
            running[sid][0] += lease_pay[sid][t]
            running[sid][1] += new_tops[sid][t]
            envelope = power_envelope(plan, sid, pid)
            power = row.power_mw.get(sid) if row is not None and envelope is not None else None
            cap = row.site_budget.get(sid) if row is not None else None
            out.append(SitePeriod(pid, sid, orders[sid][t], running[sid][0], cap, delivered[sid][t], running[sid][1],
                                  power, envelope))
    return out
