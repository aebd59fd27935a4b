"""Independent verification of a plan, straight from the scenario.

Nothing here uses the solver, PuLP, :mod:`optimizer.model` or
:mod:`optimizer.compliance`: every rule, every export decision (dated
licences, the buyer-headquarters rule, tiers) and the objective are
recomputed from the validated scenario and the plan's orders, written
independently of the model builder. Rules are evaluated vectorised: each is a
linear function of the orders, kept as sparse rows (scipy) over the orders,
so checking a plan and its optimality certificate is linear in the size of
the plan.

A plan is a set of orders: purchases ``(site, chip, order period, outcome)
-> units`` and leases ``(lease, start period, outcome) -> units``; period is
None without ``periods``, outcome None for an order shared by every outcome
(or a scenario without outcomes). ``{(site, chip): units}`` is accepted for a
one-period plan.

Tolerances (documented in the README):

- a rule ``lhs <= rhs`` may be violated by at most
  ``REL_TOL x max(1, |rhs|, sum of |terms|, largest coefficient per unit)``: relative,
  so a CNY 1e15 budget and a 10-unit minimum are judged alike, and never tighter than
  the solvers' own tolerance on one unit of the rule (HiGHS and CBC hold rows to 1e-7
  of their largest coefficient);
- units must be >= ``-ABS_UNIT_TOL`` and, with ``integer_units``, within
  ``ABS_UNIT_TOL`` of a whole number of lots;
- the solver's reported objective must match the recomputed one to ``REL_TOL`` relative.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

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
    coef: float = 0.0  # the largest |coefficient| per unit of the rule

    @property
    def violation(self) -> float:
        if self.sense == "<=":
            return max(0.0, self.lhs - self.rhs)
        if self.sense == ">=":
            return max(0.0, self.rhs - self.lhs)
        return abs(self.lhs - self.rhs)

    @property
    def ok(self) -> bool:
        return self.violation <= REL_TOL * max(1.0, abs(self.rhs), self.scale, self.coef)


# ----------------------------------------------------------------------------- the scenario, read independently
def _fx(s: Scenario, cur: str | None) -> float:
    return 1.0 if cur is None or cur == s.currency else s.fx[cur]


def _periods(s: Scenario) -> list[str]:
    return list(s.periods) if s.periods else ["-"]


def _pi(s: Scenario, pid: str | None, default: int) -> int:
    return default if pid is None else list(s.periods or []).index(pid)


def _price(s: Scenario, site: str, chip: str, t: int) -> float:
    c = s.chips[chip]
    if chip in s.sites[site].prices:
        p = s.sites[site].prices[chip]
    elif s.periods and s.periods[t] in c.price_by_period:
        p = c.price_by_period[s.periods[t]]
    else:
        p = c.unit_price
    return p * _fx(s, c.price_currency)


def _tpp(s: Scenario, chip: str) -> float:
    c = s.chips[chip]
    return c.tpp if c.tpp is not None else 8 * c.int8_tops


def _is_controlled(s: Scenario, chip: str) -> bool:
    ec = s.export_controls
    c = s.chips[chip]
    if ec is None or s.vendors[c.vendor].origin not in ec.origins:
        return False
    tpp = _tpp(s, chip)
    return any(
        tpp >= k.tpp_min and (k.density_min is None or c.die_area_mm2 is None or tpp / c.die_area_mm2 >= k.density_min)
        for k in ec.controlled_if
    )


def _licences(s: Scenario):
    ec = s.export_controls
    lic = ec.licenses if ec is not None else []
    return list(lic.values()) if isinstance(lic, dict) else list(lic)


def _export_decision(s: Scenario, site: str, chip: str, delivery: int = 0) -> str:
    """allow | cap | deny for ``chip`` delivered to ``site`` in period index ``delivery``."""
    ec = s.export_controls
    if ec is None:
        return "allow"
    country = s.sites[site].country
    T = len(_periods(s))
    for lic in _licences(s):
        if lic.chip == chip and lic.country == country:
            lo, hi = _pi(s, lic.from_, 0), _pi(s, lic.until, T - 1)
            if lo <= delivery <= hi:
                return lic.status
    if not _is_controlled(s, chip):
        return "allow"
    if s.buyer is not None and s.buyer.headquarters in ec.headquarters_countries:
        return "deny"
    return ec.tier_rules[ec.tiers.get(country, ec.default_tier)]


def _lease_decision(s: Scenario, lease: str) -> str:
    ec = s.export_controls
    o = s.leases[lease]
    if ec is None or not _is_controlled(s, o.chip):
        return "allow"
    return ec.tier_rules[ec.tiers.get(s.sites[o.site].country, ec.default_tier)]


def _eff(s: Scenario, chip: str) -> float:
    c = s.chips[chip]
    return c.int8_tops * s.flexibility[c.architecture] * s.vendors[c.vendor].delivery_rate


def _weight(s: Scenario, when: int) -> float:
    T = len(_periods(s))
    return (T - when) / T if s.objective == "in_service" else 1.0


# ----------------------------------------------------------------------------- plans
Purchase = tuple  # (site, chip, period | None, outcome | None)
LeaseKey = tuple  # (lease, period | None, outcome | None)


@dataclass
class Orders:
    """A plan's orders, keyed as in the module doc."""

    purchases: dict = field(default_factory=dict)
    leases: dict = field(default_factory=dict)

    @staticmethod
    def of(units) -> "Orders":
        if isinstance(units, Orders):
            return units
        out = Orders()
        for k, u in units.items():
            if len(k) == 2:
                out.purchases[(k[0], k[1], None, None)] = u
            else:
                out.purchases[tuple(k) + (None,) * (4 - len(k))] = u
        return out


@dataclass
class _World:
    name: str | None
    s: Scenario
    p: float


def _worlds(s: Scenario, outcomes: dict[str, Scenario] | None) -> list[_World]:
    if s.uncertainty is not None and outcomes:
        return [_World(k, outcomes[k], s.uncertainty.outcomes[k].probability) for k in outcomes]
    return [_World(None, s, 1.0)]


class _Rules:
    """Linear rules over the plan's keys: lhs = L.x  (sense)  rhs = R.x + b0; tolerance scale = S.|x|."""

    def __init__(self, n: int):
        self.n = n
        self.names: list[str] = []
        self.sense: list[str] = []
        self.b0: list[float] = []
        self.t: dict[str, list] = {"L": [[], [], []], "R": [[], [], []], "S": [[], [], []]}

    def add(self, name: str, sense: str, b0: float) -> int:
        self.names.append(name)
        self.sense.append(sense)
        self.b0.append(float(b0))
        return len(self.names) - 1

    def put(self, which: str, i: int, keys: list[int], vals: list[float]) -> None:
        r, c, v = self.t[which]
        r.extend([i] * len(keys))
        c.extend(keys)
        v.extend(vals)

    def matrix(self, which: str) -> sp.csr_matrix:
        r, c, v = self.t[which]
        return sp.csr_matrix((np.array(v, dtype=float), (np.array(r, dtype=np.int64), np.array(c, dtype=np.int64))),
                             shape=(len(self.names), self.n))


@dataclass
class _Keys:
    """The verifier's columns: every order it evaluates (the plan's, and for the certificate every allowed one)."""

    purchases: list = field(default_factory=list)  # (site, chip, t, outcome)
    leases: list = field(default_factory=list)  # (lease, t, outcome)

    @property
    def n(self) -> int:
        return len(self.purchases) + len(self.leases)


def _period_index(s: Scenario, pid: str | None) -> int:
    if s.periods is None:
        if pid is not None:
            raise KeyError(pid)
        return 0
    if pid is None:
        raise KeyError(pid)
    return list(s.periods).index(pid)


def _revealed(s: Scenario) -> int:
    T = len(_periods(s))
    if s.uncertainty is None or s.uncertainty.revealed is None:
        return T
    return list(s.periods).index(s.uncertainty.revealed)


def entry_problems(s: Scenario, orders: Orders, outcomes: dict[str, Scenario] | None) -> list[str]:
    """Orders that cannot exist at all: unknown ids, negative or fractional units, denied exports,
    orders outside their window, shared orders after the outcome is revealed."""
    bad: list[str] = []
    stochastic = s.uncertainty is not None and bool(outcomes)
    T = len(_periods(s))
    r = _revealed(s) if stochastic else T

    def gov(o):
        return outcomes[o] if (o is not None and stochastic) else s

    for (site, chip, pid, o), u in orders.purchases.items():
        label = f"units[{site},{chip}" + (f",{pid}" if pid is not None else "") + "]" + (f"@{o}" if o else "")
        if site not in s.sites or chip not in s.chips:
            bad.append(f"{label}: no such site or chip in the scenario")
            continue
        if o is not None and (not stochastic or o not in outcomes):
            bad.append(f"{label}: no such outcome in the scenario")
            continue
        try:
            t = _period_index(s, pid)
        except (KeyError, ValueError):
            bad.append(f"{label}: no such period in the scenario")
            continue
        if not math.isfinite(u):
            bad.append(f"{label} = {u}: not a finite number")
            continue
        if u < -ABS_UNIT_TOL:
            bad.append(f"{label} = {u:g}: negative")
        g = gov(o)
        if g.integer_units:
            lots = u / g.chips[chip].lot_size
            if abs(lots - round(lots)) > ABS_UNIT_TOL:  # absolute: half a lot is never whole, however many lots
                bad.append(f"{label} = {u:g}: not a whole number of lots of {g.chips[chip].lot_size}")
        if abs(u) <= ABS_UNIT_TOL:
            continue
        if stochastic and o is None and t >= r:
            bad.append(f"{label}: a shared order placed after the outcome is revealed ({s.uncertainty.revealed})")
        if stochastic and o is not None and t < r:
            bad.append(f"{label}: an outcome's own order placed before the outcome is revealed")
        c = g.chips[chip]
        lo, hi = _pi(g, c.available_from, 0), _pi(g, c.available_until, T - 1)
        if not lo <= t <= hi:
            bad.append(f"{label}: {chip} cannot be ordered in {pid} (available {_periods(g)[lo]} to {_periods(g)[hi]})")
        allowed = g.sites[site].chips
        if allowed is not None and chip not in allowed:
            bad.append(f"{label}: site {site} may not buy {chip} (sites.{site}.chips)")
        d = t + g.vendors[c.vendor].lead_time
        if d > T - 1:
            bad.append(f"{label}: delivered after the last period")
        elif _export_decision(g, site, chip, d) == "deny":
            bad.append(f"{label} = {u:g}: export of {chip} to {g.sites[site].country} is denied")
    for (lid, pid, o), u in orders.leases.items():
        label = f"lease[{lid}" + (f",{pid}" if pid is not None else "") + "]" + (f"@{o}" if o else "")
        if lid not in s.leases or (o is not None and (not stochastic or o not in outcomes)):
            bad.append(f"{label}: no such lease or outcome in the scenario")
            continue
        try:
            t = _period_index(s, pid)
        except (KeyError, ValueError):
            bad.append(f"{label}: no such period in the scenario")
            continue
        if not math.isfinite(u):
            bad.append(f"{label} = {u}: not a finite number")
            continue
        if u < -ABS_UNIT_TOL:
            bad.append(f"{label} = {u:g}: negative")
        g = gov(o)
        if g.integer_units and abs(u - round(u)) > ABS_UNIT_TOL:
            bad.append(f"{label} = {u:g}: not a whole number of units")
        if abs(u) <= ABS_UNIT_TOL:
            continue
        if stochastic and o is None and t >= r:
            bad.append(f"{label}: a shared lease started after the outcome is revealed")
        if stochastic and o is not None and t < r:
            bad.append(f"{label}: an outcome's own lease started before the outcome is revealed")
        lease = g.leases[lid]
        lo, hi = _pi(g, lease.available_from, 0), _pi(g, lease.available_until, T - 1)
        if not lo <= t <= hi:
            bad.append(f"{label}: lease {lid} cannot start in {pid}")
        if _lease_decision(g, lid) == "deny":
            bad.append(f"{label} = {u:g}: leasing {lease.chip} in {g.sites[lease.site].country} is denied")
    return bad


def _keys_of(orders: Orders, s: Scenario) -> _Keys:
    k = _Keys()
    for (site, chip, pid, o) in orders.purchases:
        k.purchases.append((site, chip, _period_index(s, pid), o))
    for (lid, pid, o) in orders.leases:
        k.leases.append((lid, _period_index(s, pid), o))
    return k


def _allowed(s: Scenario, outcomes: dict[str, Scenario] | None) -> _Keys:
    """Every order the scenario allows (for the optimality certificate)."""
    stochastic = s.uncertainty is not None and bool(outcomes)
    T = len(_periods(s))
    r = _revealed(s) if stochastic else T
    k = _Keys()

    def add(g: Scenario, periods: range, o: str | None) -> None:
        for site in g.sites:
            for chip, c in g.chips.items():
                allowed = g.sites[site].chips
                if allowed is not None and chip not in allowed:
                    continue
                lo, hi = _pi(g, c.available_from, 0), _pi(g, c.available_until, T - 1)
                lead = g.vendors[c.vendor].lead_time
                for t in periods:
                    if lo <= t <= hi and t + lead <= T - 1 and _export_decision(g, site, chip, t + lead) != "deny":
                        k.purchases.append((site, chip, t, o))
        for lid, lease in g.leases.items():
            if _lease_decision(g, lid) == "deny":
                continue
            lo, hi = _pi(g, lease.available_from, 0), _pi(g, lease.available_until, T - 1)
            k.leases.extend((lid, t, o) for t in periods if lo <= t <= hi)

    add(s, range(r), None)
    if stochastic:
        for name, g in outcomes.items():
            add(g, range(r, T), name)
    return k


def _rules(s: Scenario, keys: _Keys, worlds: list[_World]) -> tuple[_Rules, dict[str, np.ndarray]]:
    """Every rule of every world over ``keys``; and the objective per unit of each key in each world."""
    R = _Rules(keys.n)
    n_p = len(keys.purchases)
    T = len(_periods(s))
    refund = s.uncertainty.refund_on_denial if s.uncertainty is not None else 0.0
    per_world: dict[str, np.ndarray] = {}
    for w in worlds:
        g = w.s
        sfx = f"@{w.name}" if w.name is not None else ""
        pers = _periods(g)
        dated = g.periods is not None
        tops = np.zeros(keys.n)
        # what each visible order is in this world
        P = []  # (key, site, chip, t, d, price, stranded, decision)
        for j, (site, chip, t, o) in enumerate(keys.purchases):
            if o is not None and o != w.name:
                continue
            c = g.chips[chip]
            d = t + g.vendors[c.vendor].lead_time
            dec = _export_decision(g, site, chip, d) if d <= T - 1 else "deny"
            stranded = dec == "deny"
            P.append((j, site, chip, t, d, _price(g, site, chip, t), stranded, dec))
            if not stranded:
                tops[j] = _eff(g, chip) * _weight(g, d)
        Lz = []  # (key, lease id, t, price per period, stranded, decision)
        for i, (lid, t, o) in enumerate(keys.leases):
            if o is not None and o != w.name:
                continue
            j = n_p + i
            lease = g.leases[lid]
            dec = _lease_decision(g, lid)
            stranded = dec == "deny"
            Lz.append((j, lid, t, lease.price_per_period * _fx(g, lease.price_currency), stranded, dec))
            if not stranded:
                c = g.chips[lease.chip]
                tops[j] = c.int8_tops * g.flexibility[c.architecture] * lease.delivery_rate * _weight(g, t)
        per_world[w.name or ""] = tops
        live = [x for x in P if not x[6]]
        by_site: dict[str, list] = {}
        by_vendor: dict[str, list] = {}
        by_chip: dict[str, list] = {}
        for x in live:
            by_site.setdefault(x[1], []).append(x)
            by_vendor.setdefault(g.chips[x[2]].vendor, []).append(x)
            by_chip.setdefault(x[2], []).append(x)
        P_site: dict[str, list] = {}
        for x in P:
            P_site.setdefault(x[1], []).append(x)
        L_site: dict[str, list] = {}
        for x in Lz:
            L_site.setdefault(g.leases[x[1]].site, []).append(x)

        def money_terms(sites: list[str] | None, period: int | None) -> tuple[list[int], list[float]]:
            ps = P if sites is None else [x for st in sites for x in P_site.get(st, [])]
            ls = Lz if sites is None else [x for st in sites for x in L_site.get(st, [])]
            ks, vals = [], []
            for (j, site, chip, t, d, price, stranded, dec) in ps:
                if period is None or t == period:
                    ks.append(j)
                    vals.append(price * ((1 - refund) if stranded else 1.0))
            for (j, lid, t, pp, stranded, dec) in ls:
                if period is None:
                    ks.append(j)
                    vals.append(pp * (T - t) * ((1 - refund) if stranded else 1.0))
                elif t <= period:
                    ks.append(j)
                    vals.append(pp * ((1 - refund) if stranded else 1.0))
            return ks, vals

        def budget(name_who: str, money, sites: list[str] | None) -> None:
            if money is None:
                return
            rate = _fx(g, money.currency)
            i = R.add(f"budget[{name_who}]{sfx}", "<=", money.amount * rate)
            ks, vals = money_terms(sites, None)
            R.put("L", i, ks, vals)
            R.put("S", i, ks, [abs(v) for v in vals])
            for pid, cap in (money.per_period or {}).items():
                i = R.add(f"budget[{name_who},{pid}]{sfx}", "<=", cap * rate)
                ks, vals = money_terms(sites, pers.index(pid))
                R.put("L", i, ks, vals)
                R.put("S", i, ks, [abs(v) for v in vals])

        for site in sorted(g.sites):
            budget(site, g.sites[site].budget, [site])
        budget("global", g.budget, None)
        # domestic share: dom >= floor x total, purchases only
        for site in sorted(g.sites):
            st = g.sites[site]
            if not st.domestic_min_share:
                continue
            i = R.add(f"domestic_share[{site}]{sfx}", ">=", 0.0)
            kl, vl, kr, vr, vs = [], [], [], [], []
            for (j, s2, chip, t, d, price, stranded, dec) in by_site.get(site, []):
                wgt = {"spend": price, "units": 1.0, "tops": g.chips[chip].int8_tops}[st.domestic_basis]
                kr.append(j)
                vr.append(st.domestic_min_share * wgt)
                vs.append(wgt)
                if g.vendors[g.chips[chip].vendor].origin == st.country:
                    kl.append(j)
                    vl.append(wgt)
            R.put("L", i, kl, vl)
            R.put("R", i, kr, vr)
            R.put("S", i, kr, vs)
        # capacity: units delivered (in a period)
        for vid in sorted(g.vendors):
            cap = g.vendors[vid].capacity_units
            if cap is None:
                continue
            mine = by_vendor.get(vid, [])
            if isinstance(cap, dict):
                for pid, units in cap.items():
                    tp = pers.index(pid)
                    i = R.add(f"capacity[{vid},{pid}]{sfx}", "<=", units)
                    ks = [x[0] for x in mine if x[4] == tp]
                    R.put("L", i, ks, [1.0] * len(ks))
                    R.put("S", i, ks, [1.0] * len(ks))
            else:
                i = R.add(f"capacity[{vid}]{sfx}", "<=", cap)
                ks = [x[0] for x in mine]
                R.put("L", i, ks, [1.0] * len(ks))
                R.put("S", i, ks, [1.0] * len(ks))
        # vendor shares: spend with v <= share x spend (all sites, or one site)
        for vid in sorted(g.vendors):
            share = g.vendors[vid].max_share
            if share is not None and share < 1:
                i = R.add(f"vendor_share[{vid}]{sfx}", "<=", 0.0)
                mine = by_vendor.get(vid, [])
                R.put("L", i, [x[0] for x in mine], [x[5] for x in mine])
                R.put("R", i, [x[0] for x in live], [share * x[5] for x in live])
                R.put("S", i, [x[0] for x in live], [x[5] for x in live])
        for site in sorted(g.sites):
            for vid, share in sorted(g.sites[site].vendor_max_share.items()):
                if share >= 1:
                    continue
                here = by_site.get(site, [])
                i = R.add(f"vendor_share[{site},{vid}]{sfx}", "<=", 0.0)
                mine = [x for x in here if g.chips[x[2]].vendor == vid]
                R.put("L", i, [x[0] for x in mine], [x[5] for x in mine])
                R.put("R", i, [x[0] for x in here], [share * x[5] for x in here])
                R.put("S", i, [x[0] for x in here], [x[5] for x in here])
        # chip bounds: units ordered
        for cid in sorted(g.chips):
            c = g.chips[cid]
            ks = [x[0] for x in by_chip.get(cid, [])]
            if c.min_units > 0:
                i = R.add(f"chip_min[{cid}]{sfx}", ">=", c.min_units)
                R.put("L", i, ks, [1.0] * len(ks))
                R.put("S", i, ks, [1.0] * len(ks))
            if c.max_units is not None:
                i = R.add(f"chip_max[{cid}]{sfx}", "<=", c.max_units)
                R.put("L", i, ks, [1.0] * len(ks))
                R.put("S", i, ks, [1.0] * len(ks))
        # power in service: watts of units delivered by t
        for site in sorted(g.sites):
            pw = g.sites[site].power_mw
            if pw is None:
                continue
            if isinstance(pw, dict):
                limits = [(f"power[{site},{pid}]{sfx}", pers.index(pid), mw) for pid, mw in pw.items()]
            else:
                label = f"power[{site},{pers[-1]}]" if dated else f"power[{site}]"
                limits = [(label + sfx, T - 1, pw)]
            for name, tp, mw in limits:
                i = R.add(name, "<=", mw * 1e6)
                here = [x for x in by_site.get(site, []) if x[4] <= tp]
                vals = [g.chips[x[2]].power_w or 0.0 for x in here]
                R.put("L", i, [x[0] for x in here], vals)
                R.put("S", i, [x[0] for x in here], vals)
        # TPP caps: capped purchases and the capped leases that count
        if g.export_controls is not None:
            for country, cap in sorted(g.export_controls.tpp_caps.items()):
                ks, vals = [], []
                for x in live:
                    if x[7] == "cap" and g.sites[x[1]].country == country:
                        ks.append(x[0])
                        vals.append(_tpp(g, x[2]))
                for (j, lid, t, pp, stranded, dec) in Lz:
                    lease = g.leases[lid]
                    if (not stranded and dec == "cap" and lease.counts_toward_tpp_cap
                            and g.sites[lease.site].country == country):
                        ks.append(j)
                        vals.append(_tpp(g, lease.chip))
                i = R.add(f"tpp_cap[{country}]{sfx}", "<=", cap)
                R.put("L", i, ks, vals)
                R.put("S", i, ks, vals)
        # leases in service
        for lid in sorted(g.leases):
            cap = g.leases[lid].max_units
            if cap is None:
                continue
            ks = [x[0] for x in Lz if x[1] == lid and not x[4]]
            i = R.add(f"lease_max[{lid}" + (f",{pers[-1]}" if dated else "") + f"]{sfx}", "<=", cap)
            R.put("L", i, ks, [1.0] * len(ks))
            R.put("S", i, ks, [1.0] * len(ks))
    return R, per_world


def _measure(s: Scenario, worlds: list[_World], values: list[float]) -> float:
    """The risk measure of the worlds' effective TOPS, computed directly (not as a linear program)."""
    if len(worlds) == 1 and worlds[0].name is None:
        return values[0]
    risk = s.uncertainty.risk
    p = np.array([w.p for w in worlds])
    v = np.array(values)
    expected = float(p @ v)
    if risk.measure == "expected":
        return expected
    if risk.measure == "worst":
        return float(v.min())
    return (1 - risk.weight) * expected + risk.weight * cvar(v, p, risk.alpha)


def cvar(values: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """The mean of the worst (1 - alpha) probability mass of ``values`` (lower is worse)."""
    order = np.argsort(values, kind="stable")
    mass = 1.0 - alpha
    left = mass
    total = 0.0
    for i in order:
        take = min(probs[i], left)
        total += take * values[i]
        left -= take
        if left <= 1e-15:
            break
    return total / mass


@dataclass
class Evaluation:
    """A plan recomputed from the scenario: every rule as a Check, per-world TOPS, the objective."""

    checks: list[Check]
    world_tops: dict[str | None, float]
    objective: float
    problems: list[str]


def _evaluate(s: Scenario, orders: Orders, outcomes: dict[str, Scenario] | None) -> Evaluation:
    worlds = _worlds(s, outcomes)
    problems = entry_problems(s, orders, outcomes)
    if problems:
        return Evaluation([], {}, float("nan"), problems)
    keys = _keys_of(orders, s)
    x = np.array(list(orders.purchases.values()) + list(orders.leases.values()), dtype=float)
    R, per_world = _rules(s, keys, worlds)
    Lm, Rm, Sm = R.matrix("L"), R.matrix("R"), R.matrix("S")
    lhs = Lm @ x
    rhs = Rm @ x + np.array(R.b0)
    scale = Sm @ np.abs(x)
    D = abs(Lm - Rm).tocsr()
    coef = np.zeros(len(R.names))
    nz = np.flatnonzero(np.diff(D.indptr))
    if nz.size:
        coef[nz] = np.maximum.reduceat(D.data, D.indptr[nz])
    checks = [Check(n, float(a), sn, float(b), float(c), float(k))
              for n, a, sn, b, c, k in zip(R.names, lhs, R.sense, rhs, scale, coef)]
    problems += _min_order_problems(s, orders, worlds)
    tops = {w.name: float(per_world[w.name or ""] @ x) for w in worlds}
    obj = _measure(s, worlds, [tops[w.name] for w in worlds])
    return Evaluation(checks, tops, obj, problems)


def _min_order_problems(s: Scenario, orders: Orders, worlds: list[_World]) -> list[str]:
    """min_order_units: an order placed at all (site, chip, order period) is at least that many units."""
    out = []
    for (site, chip, pid, o), u in sorted(orders.purchases.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        g = next((w.s for w in worlds if w.name == o), s) if o is not None else s
        m = g.chips[chip].min_order_units
        if m is not None and ABS_UNIT_TOL < u < m - REL_TOL * max(1.0, m):
            label = f"min_order[{site},{chip}" + (f",{pid}" if pid is not None else "") + "]" + (f"@{o}" if o else "")
            when = f" in {pid}" if pid is not None else ""
            out.append(f"{label}: an order of {u:,.6g} units of {chip} at {site}{when}, below the minimum order of {m:,.6g}")
    return out


# ----------------------------------------------------------------------------- the public API
def checks(s: Scenario, units, outcomes: dict[str, Scenario] | None = None) -> list[Check]:
    """Every rule of the scenario, evaluated on the plan."""
    ev = _evaluate(s, Orders.of(units), outcomes)
    return ev.checks


def effective_tops(s: Scenario, units, outcomes: dict[str, Scenario] | None = None) -> float:
    """The objective recomputed: effective TOPS (or its risk measure over the outcomes)."""
    return _evaluate(s, Orders.of(units), outcomes).objective


def world_tops(s: Scenario, units, outcomes: dict[str, Scenario] | None = None) -> dict[str | None, float]:
    return _evaluate(s, Orders.of(units), outcomes).world_tops


def violations(s: Scenario, units, objective: float | None = None,
               outcomes: dict[str, Scenario] | None = None) -> list[str]:
    """Human-readable list of everything wrong with the plan (empty when it is valid)."""
    ev = _evaluate(s, Orders.of(units), outcomes)
    if ev.problems and not ev.checks:
        return ev.problems
    bad = list(ev.problems)
    for ch in ev.checks:
        if not ch.ok:
            bad.append(f"{ch.name}: {ch.lhs:,.6g} {ch.sense} {ch.rhs:,.6g} is violated by {ch.violation:,.6g}")
    if objective is not None:
        actual = ev.objective
        if abs(actual - objective) > REL_TOL * max(1.0, abs(actual)):
            bad.append(f"objective: solver reports {objective:,.6g} effective TOPS, the plan gives {actual:,.6g}")
    return bad


def verify(s: Scenario, units, objective: float | None = None, outcomes: dict[str, Scenario] | None = None) -> None:
    """Raise VerificationError if the plan breaks any rule of the scenario."""
    bad = violations(s, units, objective, outcomes)
    if bad:
        raise VerificationError(bad)


def duality_gap(s: Scenario, units, shadow: dict[str, float],
                outcomes: dict[str, Scenario] | None = None) -> tuple[float, float, list[str]]:
    """Certificate of optimality for a continuous plan, from the scenario alone, in O(nonzeros).

    ``shadow`` maps rule names to shadow prices in chipalloc's convention
    (d objective / d rhs; >= 0 for a ``<=`` rule, <= 0 for a ``>=`` rule). Every
    rule is ``g(x) = lhs - rhs``, linear in the orders, recomputed here over every
    order the scenario allows. With dual feasibility (no order earns more than its
    shadow-priced use of the rules, signs right) the bound ``sum shadow x (-g(0))``
    is an upper limit on any plan's objective, so ``primal`` equal to the bound
    proves the plan optimal. Returns ``(primal, dual_bound, problems)``.
    """
    orders = Orders.of(units)
    worlds = _worlds(s, outcomes)
    keys = _allowed(s, outcomes)
    R, per_world = _rules(s, keys, worlds)
    G = (R.matrix("L") - R.matrix("R")).tocsr()
    b0 = np.array(R.b0)
    y = np.array([shadow.get(n, 0.0) for n in R.names], dtype=float)
    problems: list[str] = []
    for n, sn, yi in zip(R.names, R.sense, y):
        wrong = (sn == "<=" and yi < 0) or (sn == ">=" and yi > 0)
        if wrong and abs(yi) > 1e-9 * max(1.0, float(np.abs(y).max())):
            problems.append(f"{n}: shadow price {yi:.6g} has the wrong sign for a {sn} rule")
    measure_w = _objective_weights(s, worlds)
    c = sum(measure_w[w.name] * per_world[w.name or ""] for w in worlds)
    used = G.T @ y
    size = abs(G).T @ np.abs(y)
    reduced = c - used
    tol = REL_TOL * np.maximum(np.maximum(1.0, np.abs(c)), size) * 10
    for j in np.flatnonzero(reduced > tol):
        problems.append(f"{_key_name(keys, j)}: earns {c[j]:.6g} TOPS but its resources are priced at {used[j]:.6g}")
    bound = float(y @ b0)
    primal = _evaluate(s, orders, outcomes).objective
    return primal, bound, problems


def _objective_weights(s: Scenario, worlds: list[_World]) -> dict[str | None, float]:
    if len(worlds) == 1 and worlds[0].name is None:
        return {None: 1.0}
    return {w.name: w.p for w in worlds}  # the expected measure (the certificate is for it)


def _key_name(keys: _Keys, j: int) -> str:
    if j < len(keys.purchases):
        site, chip, t, o = keys.purchases[j]
        return f"units[{site},{chip}]" + (f"@{o}" if o else "") + (f" (period {t + 1})" if t else "")
    lid, t, o = keys.leases[j - len(keys.purchases)]
    return f"lease[{lid}]" + (f"@{o}" if o else "")
