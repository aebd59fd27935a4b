"""Independent verification of a plan, straight from the scenario.

Nothing here uses the solver, PuLP or :mod:`optimizer.model`: every
constraint and the objective are recomputed in plain Python from the
validated scenario and the plan's units per (site, chip). Export decisions
are recomputed here too, written independently of :mod:`optimizer.compliance`.

Tolerances (documented in the README):

- a constraint ``lhs <= rhs`` may be violated by at most
  ``REL_TOL x max(1, |rhs|, sum of |terms|)`` (relative, so a CNY 1e15 budget
  and a 10-unit minimum are judged alike);
- units must be >= ``-ABS_UNIT_TOL`` and, with ``integer_units``, within
  ``ABS_UNIT_TOL`` of a whole number of lots;
- the solver's reported objective must match the recomputed effective TOPS to
  ``REL_TOL`` relative.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import VerificationError
from .schema import Scenario

REL_TOL = 1e-6
ABS_UNIT_TOL = 1e-6


@dataclass(frozen=True)
class Check:
    name: str
    lhs: float
    sense: str
    rhs: float
    scale: float  # sum of |terms|, for the relative tolerance

    @property
    def violation(self) -> float:
        if self.sense == "<=":
            return max(0.0, self.lhs - self.rhs)
        if self.sense == ">=":
            return max(0.0, self.rhs - self.lhs)
        return abs(self.lhs - self.rhs)

    @property
    def ok(self) -> bool:
        return self.violation <= REL_TOL * max(1.0, abs(self.rhs), self.scale)


def _export_decision(s: Scenario, site: str, chip: str) -> str:
    ec = s.export_controls
    if ec is None:
        return "allow"
    c = s.chips[chip]
    country = s.sites[site].country
    explicit = [lic.status for lic in ec.licenses if lic.chip == chip and lic.country == country]
    if explicit:
        return explicit[0]
    if s.vendors[c.vendor].origin not in ec.origins:
        return "allow"
    tpp = c.tpp if c.tpp is not None else 8 * c.int8_tops
    controlled = any(
        tpp >= k.tpp_min
        and (k.density_min is None or c.die_area_mm2 is None or tpp / c.die_area_mm2 >= k.density_min)
        for k in ec.controlled_if
    )
    if not controlled:
        return "allow"
    return ec.tier_rules[ec.tiers.get(country, ec.default_tier)]


def checks(s: Scenario, units: dict[tuple[str, str], float]) -> list[Check]:
    """Every constraint of the scenario, evaluated on ``units`` (site, chip) -> units."""

    def fx(cur):
        return 1.0 if cur is None or cur == s.currency else s.fx[cur]

    def price(site, chip):
        c = s.chips[chip]
        return s.sites[site].prices.get(chip, c.unit_price) * fx(c.price_currency)

    def q(site, chip):
        return units.get((site, chip), 0.0)

    def terms(pairs):
        t = list(pairs)
        return sum(t), sum(abs(x) for x in t)

    out: list[Check] = []
    for site, st in s.sites.items():
        if st.budget is not None:
            lhs, sc = terms(price(site, c) * q(site, c) for c in s.chips)
            out.append(Check(f"budget[{site}]", lhs, "<=", st.budget.amount * fx(st.budget.currency), sc))
    if s.budget is not None:
        lhs, sc = terms(price(site, c) * q(site, c) for site in s.sites for c in s.chips)
        out.append(Check("budget[global]", lhs, "<=", s.budget.amount * fx(s.budget.currency), sc))
    for site, st in s.sites.items():
        if st.domestic_min_share:
            def weight(c):
                return {"spend": price(site, c), "units": 1.0, "tops": s.chips[c].int8_tops}[st.domestic_basis]
            dom = sum(weight(c) * q(site, c) for c in s.chips if s.vendors[s.chips[c].vendor].origin == st.country)
            tot = sum(weight(c) * q(site, c) for c in s.chips)
            out.append(Check(f"domestic_share[{site}]", dom, ">=", st.domestic_min_share * tot, tot))
    for vid, v in s.vendors.items():
        mine = [c for c in s.chips if s.chips[c].vendor == vid]
        if v.capacity_units is not None:
            lhs, sc = terms(q(site, c) for site in s.sites for c in mine)
            out.append(Check(f"capacity[{vid}]", lhs, "<=", v.capacity_units, sc))
        if v.max_share is not None and v.max_share < 1:
            spend_v = sum(price(site, c) * q(site, c) for site in s.sites for c in mine)
            spend_all = sum(price(site, c) * q(site, c) for site in s.sites for c in s.chips)
            out.append(Check(f"vendor_share[{vid}]", spend_v, "<=", v.max_share * spend_all, spend_all))
    for cid, c in s.chips.items():
        tot, sc = terms(q(site, cid) for site in s.sites)
        if c.min_units > 0:
            out.append(Check(f"chip_min[{cid}]", tot, ">=", c.min_units, sc))
        if c.max_units is not None:
            out.append(Check(f"chip_max[{cid}]", tot, "<=", c.max_units, sc))
    for site, st in s.sites.items():
        if st.power_mw is not None:
            lhs, sc = terms((s.chips[c].power_w or 0.0) * q(site, c) for c in s.chips)
            out.append(Check(f"power[{site}]", lhs, "<=", st.power_mw * 1e6, sc))
    if s.export_controls is not None:
        for country, cap in s.export_controls.tpp_caps.items():
            lhs, sc = terms(
                (s.chips[c].tpp if s.chips[c].tpp is not None else 8 * s.chips[c].int8_tops) * q(site, c)
                for site, st in s.sites.items() if st.country == country
                for c in s.chips if _export_decision(s, site, c) == "cap"
            )
            out.append(Check(f"tpp_cap[{country}]", lhs, "<=", cap, sc))
    return out


def effective_tops(s: Scenario, units: dict[tuple[str, str], float]) -> float:
    total = 0.0
    for (site, chip), u in units.items():
        c = s.chips[chip]
        total += u * c.int8_tops * s.flexibility[c.architecture] * s.vendors[c.vendor].delivery_rate
    return total


def violations(s: Scenario, units: dict[tuple[str, str], float], objective: float | None = None) -> list[str]:
    """Human-readable list of everything wrong with the plan (empty when it is valid)."""
    bad: list[str] = []
    for (site, chip), u in units.items():
        if site not in s.sites or chip not in s.chips:
            bad.append(f"units[{site},{chip}]: no such site or chip in the scenario")
            continue
        if not math.isfinite(u):
            bad.append(f"units[{site},{chip}] = {u}: not a finite number")
            continue
        if u < -ABS_UNIT_TOL:
            bad.append(f"units[{site},{chip}] = {u:g}: negative")
        if s.integer_units:
            lots = u / s.chips[chip].lot_size
            if abs(lots - round(lots)) > ABS_UNIT_TOL:  # absolute: half a lot is never whole, however many lots
                bad.append(f"units[{site},{chip}] = {u:g}: not a whole number of lots of {s.chips[chip].lot_size}")
        if abs(u) > ABS_UNIT_TOL:
            d = _export_decision(s, site, chip)
            if d == "deny":
                bad.append(f"units[{site},{chip}] = {u:g}: export of {chip} to {s.sites[site].country} is denied")
    if bad:
        return bad
    for ch in checks(s, units):
        if not ch.ok:
            bad.append(f"{ch.name}: {ch.lhs:,.6g} {ch.sense} {ch.rhs:,.6g} is violated by {ch.violation:,.6g}")
    if objective is not None:
        actual = effective_tops(s, units)
        if abs(actual - objective) > REL_TOL * max(1.0, abs(actual)):
            bad.append(f"objective: solver reports {objective:,.6g} effective TOPS, the plan gives {actual:,.6g}")
    return bad


def verify(s: Scenario, units: dict[tuple[str, str], float], objective: float | None = None) -> None:
    """Raise VerificationError if the plan breaks any rule of the scenario."""
    bad = violations(s, units, objective)
    if bad:
        raise VerificationError(bad)


def duality_gap(
    s: Scenario, units: dict[tuple[str, str], float], shadow: dict[str, float]
) -> tuple[float, float, list[str]]:
    """Certificate of optimality for a continuous plan, from the scenario alone.

    ``shadow`` maps row names to shadow prices in chipalloc's convention
    (d effective TOPS / d rhs). Coefficients are recovered by evaluating every
    rule of :func:`checks` on unit plans, so nothing of the model matrix is
    trusted. Returns ``(primal, dual_bound, problems)``: with dual feasibility
    (no chip earns more TOPS than its shadow-priced resource use) the bound is
    an upper limit on any feasible plan's effective TOPS, so ``primal`` equal
    to ``dual_bound`` proves the plan optimal. ``problems`` lists dual
    infeasibilities beyond tolerance.
    """
    keys = [(site, chip) for site in s.sites for chip in s.chips if _export_decision(s, site, chip) != "deny"]

    def g(plan: dict) -> dict[str, float]:
        # each rule as g(x) = lhs - rhs, linear in x
        return {c.name: c.lhs - c.rhs for c in checks(s, plan)}

    g0 = g({})
    problems: list[str] = []
    dual_bound = sum(shadow.get(name, 0.0) * -val for name, val in g0.items())
    for key in keys:
        gj = g({key: 1.0})
        c = s.chips[key[1]]
        cj = c.int8_tops * s.flexibility[c.architecture] * s.vendors[c.vendor].delivery_rate
        terms = [shadow.get(name, 0.0) * (gj[name] - g0[name]) for name in gj]
        used = sum(terms)
        reduced = cj - used
        # relative to the size of the terms, not their sum: CBC's duals reach PuLP with about
        # 8 significant digits, so large terms that nearly cancel leave 1e-8 of their size
        if reduced > REL_TOL * max(1.0, abs(cj), sum(abs(t) for t in terms)) * 10:
            problems.append(f"units[{key[0]},{key[1]}]: earns {cj:.6g} TOPS but its resources are priced at {used:.6g}")
    primal = effective_tops(s, units)
    return primal, dual_bound, problems
