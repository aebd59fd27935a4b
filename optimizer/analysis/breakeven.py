"""Break-even prices: at what unit price a chip enters or leaves the plan at a site.

For every chip that may be bought at a site (a model variable; denied chips
have none):

- not bought there today -> ``enters_below``: the highest price at which the
  optimal plan buys some of it there;
- bought there today -> ``exits_above``: the lowest price above which the
  optimal plan buys none of it there.

Only that site's price moves: each probe is the scenario with the override
``sites.<site>.prices.<chip>`` set (in the chip's price currency), re-solved
by a :class:`~optimizer.analysis.engine.Resolver` (verified plans, the same
maximise-then-cheapest semantics as ``solve``). The search brackets the price
by halving (enters) or doubling (exits) from today's price, at most
``MAX_FACTOR`` away, then bisects (geometrically) until the bracket is within
``REL_TOL`` relative, so the reported price is within 0.1% of the true one:

- ``enters_below`` reports the highest price probed at which it is bought;
- ``exits_above`` reports the lowest price probed at which it is not.

``break_even_price`` is ``None`` when no price within the factor changes the
plan: a chip never bought even at 1/1024 of its price (other limits keep it
out) or bought at any price up to 1024x (e.g. a ``chip_min``), or whose higher
prices leave no feasible plan at all (the sentence says which).

The search assumes "bought" changes once along the price axis near today's
price, which holds for the LP (the chip's column only gets more expensive)
and in practice for whole lots; the tests re-solve just above and below every
reported price.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import VerificationError
from ..model import BUY
from ..plan import Plan
from ..schema import Scenario
from .engine import Resolver

REL_TOL = 1e-3  # bracket width at which bisection stops (relative)
MAX_PROBES = 400  # re-solves for the whole search (a count, so the answer never depends on the clock)
MAX_FACTOR = 1024.0  # search at most this far below / above today's price
UNITS_TOL = 1e-9  # "bought" means more units than this


@dataclass
class BreakEven:
    site: str
    chip: str
    model: str  # display name
    currency: str  # the chip's price currency
    current_price: float
    current_units: float
    break_even_price: float | None
    direction: str  # "enters_below" | "exits_above"
    sentence: str
    probes: int = 0  # re-solves spent on this row

    def to_dict(self) -> dict:
        return {
            "site": self.site, "chip": self.chip, "current_price": self.current_price,
            "break_even_price": self.break_even_price, "direction": self.direction, "sentence": self.sentence,
        }


def with_site_price(s: Scenario, site: str, chip: str, price: float) -> Scenario:
    """``s`` with ``sites.<site>.prices.<chip>`` set to ``price`` (the chip's price currency)."""
    st = s.sites[site]
    prices = dict(st.prices)
    prices[chip] = float(price)
    return s.model_copy(update={"sites": {**s.sites, site: st.model_copy(update={"prices": prices})}})


def money(currency: str, x: float) -> str:
    """'CNY 38,200' (whole units from 100 up, else 4 significant digits)."""
    if abs(x) >= 100:
        return f"{currency} {x:,.0f}"
    return f"{currency} {x:,.4g}"


class OutOfProbes(Exception):
    """The break-even search used its probe budget (a count, never a clock)."""


class ProbeFailed(Exception):
    """A probe's plan failed verification: only this row is left undetermined."""


class _Probe:
    def __init__(self, s: Scenario, site: str, chip: str, resolver: Resolver, budget: list[int] | None = None):
        self.s, self.site, self.chip, self.resolver = s, site, chip, resolver
        self.count = 0
        self.budget = budget  # shared [probes left] for the whole search, or None

    def __call__(self, price: float) -> str:
        """'in', 'out', or the status of a plan that is not optimal."""
        if self.budget is not None and self.budget[0] <= 0:
            raise OutOfProbes
        if self.budget is not None:
            self.budget[0] -= 1
        self.count += 1
        try:
            plan = self.resolver.plan(with_site_price(self.s, self.site, self.chip, price), duals=False)
        except VerificationError as e:
            raise ProbeFailed(str(e)) from None
        if not plan.result.ok:
            return plan.status
        return "in" if plan.units().get((self.site, self.chip), 0.0) > UNITS_TOL else "out"


def _bisect(probe: _Probe, lo: float, hi: float, rel_tol: float) -> tuple[float, float]:
    """Shrink [lo, hi] (bought at lo, not at hi) to a relative width <= rel_tol."""
    while hi > lo * (1.0 + rel_tol):
        mid = math.sqrt(lo * hi)
        if probe(mid) == "in":
            lo = mid
        else:
            hi = mid
    return lo, hi


@dataclass
class _Found:
    lo: float | None = None  # highest price known bought
    hi: float | None = None  # lowest price known not bought
    stop: str = ""  # why the search gave up (no threshold in range)
    stop_price: float = 0.0


def _scan(probe: _Probe, price: float, bought: bool, steps: int) -> _Found:
    """Plain bracket search: halve (not bought) or double (bought) from today's price."""
    if not bought:
        hi = price
        for k in range(1, steps + 1):
            p = price / 2.0**k
            if probe(p) == "in":
                return _Found(p, hi)
            hi = p
        return _Found(None, hi, "floor", price / 2.0**steps)
    lo = price
    for k in range(1, steps + 1):
        p = price * 2.0**k
        got = probe(p)
        if got == "out":
            return _Found(lo, p)
        if got != "in":
            return _Found(lo, None, got, p)
        lo = p
    return _Found(lo, None, "cap", price * 2.0**steps)


def _guided(probe: _Probe, price: float, bought: bool, steps: int, guess: float | None, margin: float) -> _Found:
    """Bracket search started from a guess (the relaxation's break-even price).

    Probes ``guess x (1 + margin)`` (expecting not bought) and ``guess / (1 + margin)``
    (expecting bought); a side that contradicts the guess is widened (the factor
    is raised to the 4th power each round, so a few rounds reach the search
    limit). Falls back to :func:`_scan` when a probe has no optimal plan.
    """
    floor, cap = price / 2.0**steps, price * 2.0**steps
    if guess is None:
        # the relaxation keeps its side at every price tried: check the far end once
        end = cap if bought else floor
        got = probe(end)
        if got == ("in" if bought else "out"):
            return _Found(end if bought else None, None if bought else end, "cap" if bought else "floor", end)
        return _scan(probe, price, bought, steps)
    f = 1.0 + margin
    # the answer lies above today's price when bought, below it when not
    g = min(max(guess, price * f), cap / f) if bought else max(min(guess, price / f), floor * f)
    lo, hi = (price, None) if bought else (None, price)
    for _ in range(8):
        up, down = min(g * f, cap), max(g / f, floor)
        if hi is None or hi > up * (1 + 1e-12):
            got = probe(up)
            if got == "out":
                hi = up
            elif got == "in":
                lo = up if lo is None else max(lo, up)
                if up >= cap:
                    return _Found(lo, None, "cap", cap)
            else:
                return _scan(probe, price, bought, steps)
        if lo is None or lo < down * (1 - 1e-12):
            got = probe(down)
            if got == "in":
                lo = down
            elif got == "out":
                hi = down if hi is None else min(hi, down)
                if down <= floor:
                    return _Found(None, hi, "floor", floor)
            else:
                return _scan(probe, price, bought, steps)
        if lo is not None and hi is not None and lo < hi and hi <= up * (1 + 1e-12) and lo >= down * (1 - 1e-12):
            return _Found(lo, hi)
        f = f**4  # widen: 1.01, 1.04, 1.17, 1.89, 12.7, ...
    if lo is None or hi is None or not lo < hi:
        return _scan(probe, price, bought, steps)
    return _Found(lo, hi)


def break_even_row(
    s: Scenario, site: str, chip: str, units_now: float, resolver: Resolver,
    rel_tol: float = REL_TOL, max_factor: float = MAX_FACTOR, guess: float | None | str = "none",
    margin: float = 0.01, budget: list[int] | None = None,
) -> BreakEven:
    """One row. ``guess``: a hint for the break-even price (``None``: the hint says there is none;
    ``"none"``: no hint, plain halving / doubling)."""
    c = s.chips[chip]
    cur = c.price_currency or s.currency
    name = c.model or chip
    price = s.price(site, chip)
    probe = _Probe(s, site, chip, resolver, budget)
    bought = units_now > UNITS_TOL
    steps = max(1, int(math.ceil(math.log2(max_factor))))
    direction = "exits_above" if bought else "enters_below"
    if isinstance(guess, str):
        found = _scan(probe, price, bought, steps)
    else:
        found = _guided(probe, price, bought, steps, guess, margin)
    today = f"today {money(cur, price)}"
    if found.lo is None or found.hi is None:
        if not bought:
            sentence = (f"{name} at {site}: no break-even price down to 1/{max_factor:g} of today's price "
                        f"(it stays out of the plan); {today}")
        elif found.stop == "cap":
            sentence = (f"{name} at {site}: no break-even price up to {max_factor:g}x today's price "
                        f"(it stays in the plan); {today}")
        else:
            why = "no plan meets every rule" if found.stop == "infeasible" else f"the solve is {found.stop}"
            sentence = (
                f"{name} at {site} stays in the plan at every price that leaves a feasible plan "
                f"(at {money(cur, found.stop_price)} {why}); {today}"
            )
        return BreakEven(site, chip, name, cur, price, units_now, None, direction, sentence, probe.count)
    lo, hi = _bisect(probe, found.lo, found.hi, rel_tol)
    if bought:
        sentence = f"{name} at {site} leaves the plan above {money(cur, hi)}; {today}"
        return BreakEven(site, chip, name, cur, price, units_now, hi, direction, sentence, probe.count)
    sentence = f"{name} at {site} enters the plan below {money(cur, lo)}; {today}"
    return BreakEven(site, chip, name, cur, price, units_now, lo, direction, sentence, probe.count)


def break_even(
    plan: Plan, resolver: Resolver | None = None, rel_tol: float = REL_TOL, max_factor: float = MAX_FACTOR,
    guided: bool = True, max_probes: int | None = MAX_PROBES, on_row=None,
) -> list[BreakEven]:
    """One row per (site, chip) that may be bought, of an optimal plan, sorted by site then chip.

    The search uses HiGHS through a Resolver whatever solver made the plan
    (both solvers give the same plans; CBC would make each probe a process).
    With ``integer_units`` and ``guided``, each row is first searched on the
    continuous relaxation (cheap LPs) and the whole-lot search starts from
    that price; every reported price is still bracketed by whole-lot solves.
    ``max_probes`` (a count of whole-lot re-solves, None for none) bounds the whole search:
    rows not finished within it get no price and a sentence that says so. A probe whose plan
    fails verification leaves only its own row undetermined.
    """
    if not plan.result.ok:
        return []
    resolver = resolver or Resolver("highs")
    s = plan.scenario
    units = plan.units()
    budget = [max_probes] if max_probes is not None else None
    lp_resolver = lp_plan = None
    if guided and s.integer_units:
        relaxed = s.model_copy(update={"integer_units": False})
        lp_resolver = Resolver("highs")
        lp_plan = lp_resolver.plan(relaxed, duals=False)
        if not lp_plan.result.ok:
            lp_resolver = None
    analytic = entering_prices(plan)
    rows = []
    for site, chip in purchasable(plan):
        now = units.get((site, chip), 0.0)
        exact = analytic.get((site, chip), "search")
        if exact != "search":
            rows.append(_entering_row(s, site, chip, now, exact, max_factor))
            if on_row is not None:
                on_row(len(rows))
            continue
        try:
            guess: float | None | str = "none"
            if lp_resolver is not None:
                hint = break_even_row(lp_plan.scenario, site, chip, now, lp_resolver, rel_tol, max_factor)
                guess = hint.break_even_price
            rows.append(break_even_row(s, site, chip, now, resolver, rel_tol, max_factor, guess, budget=budget))
        except OutOfProbes:
            rows.append(_undetermined_row(s, site, chip, now, f"the search used its budget of {max_probes} re-solves"))
        except ProbeFailed:
            rows.append(_undetermined_row(s, site, chip, now, "a re-solve failed independent verification"))
        if on_row is not None:
            on_row(len(rows))
    rows.sort(key=lambda r: (r.site, r.chip))
    return rows


PRICE_FAMILIES = ("budget", "vendor_share")  # rows whose coefficients are the unit price (domestic: spend basis)


def entering_prices(plan: Plan) -> dict[tuple[str, str], float | None | str]:
    """For a continuous plan: the price below which each (site, chip) not bought enters, from the LP duals.

    Lowering the site's price p of a chip changes only its own columns, so while it stays out of the plan
    every other number of the optimal basis stands and its reduced cost moves linearly:
    ``d_j(p) = d_j(p0) - (p - p0) G_j / p0`` with ``G_j`` the shadow value of the rows whose coefficient is
    the price (budgets, vendor shares, spend-based domestic shares). It enters where ``d_j = 0``: the pair's
    price is the highest over its columns (one per order period). ``None``: no lower price makes it enter.
    Exact for the LP (the tests re-solve either side of every price). A column with a zero reduced cost is
    held out by another row whose shadow price would move with the price: such a pair says ``"search"``.
    """
    m = plan.model
    res = plan.result
    if m.integer or res.shadow_prices is None or res.reduced_costs is None:
        return {}
    y = res.shadow_prices
    fam = m.rows.family
    price_rows = [i for i in range(m.m) if fam[i] in PRICE_FAMILIES
                  or (fam[i] == "domestic_share" and m.scenario_of_row(i).sites[m.rows.key[i][0]].domestic_basis == "spend")]
    A = m.A[price_rows].tocsc() if price_rows else None
    yp = y[price_rows] if price_rows else None
    units = plan.units()
    out: dict[tuple[str, str], float | None] = {}
    co = m.coords
    for j in range(m.n):
        if m.var.kind[j] != BUY or m.var.outcome[j] != -1:
            continue
        key = (co.sites[m.var.site[j]], co.chips[m.var.chip[j]])
        if units.get(key, 0.0) > UNITS_TOL:
            continue
        p0 = plan.scenario.price(key[0], key[1], int(m.var.period[j]))
        G = float(A[:, j].toarray().ravel() @ yp) if A is not None else 0.0
        d = float(res.reduced_costs[j])
        if d > -1e-9 * max(1.0, abs(float(m.c[j]))):
            out[key] = "search"  # at the edge (a zero reduced cost): another row holds it out; search instead
            continue
        best = out.get(key)
        if best == "search":
            continue
        if G > 0:
            p = p0 * (1.0 + d / G)
            if p > 0 and (best is None or p > best):
                out[key] = p
                continue
        out.setdefault(key, None)
    return out


def purchasable(plan: Plan) -> list[tuple[str, str]]:
    """(site, chip) pairs with at least one purchase column, in model order."""
    m = plan.model
    out: list[tuple[str, str]] = []
    seen: set = set()
    for j in range(m.n):
        if m.var.kind[j] != BUY:
            continue
        key = (m.coords.sites[m.var.site[j]], m.coords.chips[m.var.chip[j]])
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def _entering_row(s: Scenario, site: str, chip: str, units_now: float, price: float | None, max_factor: float) -> BreakEven:
    """A row from the LP duals (see entering_prices), worded as a searched one."""
    c = s.chips[chip]
    cur = c.price_currency or s.currency
    name = c.model or chip
    today_price = s.price(site, chip)
    today = f"today {money(cur, today_price)}"
    if price is None or price < today_price / max_factor:
        sentence = f"{name} at {site}: no break-even price down to 1/{max_factor:g} of today's price (it stays out of the plan); {today}"
        price = None
    else:
        sentence = f"{name} at {site} enters the plan below {money(cur, price)}; {today}"
    return BreakEven(site, chip, name, cur, today_price, units_now, price, "enters_below", sentence, 0)


def _undetermined_row(s: Scenario, site: str, chip: str, units_now: float, why: str) -> BreakEven:
    c = s.chips[chip]
    cur = c.price_currency or s.currency
    name = c.model or chip
    price = s.price(site, chip)
    direction = "exits_above" if units_now > UNITS_TOL else "enters_below"
    sentence = f"{name} at {site}: break-even price not determined ({why}); today {money(cur, price)}"
    return BreakEven(site, chip, name, cur, price, units_now, None, direction, sentence)
