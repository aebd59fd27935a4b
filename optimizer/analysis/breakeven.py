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

Rows are independent: :func:`break_even` hands the rows that need a search to
an :class:`~optimizer.analysis.executor.Executor` (in this process, or on Dask
workers with ``solve --workers/--scheduler``), one row per task. Each row is
searched by its process's Resolver with its own probe budget, so its answer
is a function of the row alone and the same wherever it runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..errors import VerificationError
from ..model import BUY
from ..plan import Plan
from ..schema import Scenario
from .engine import Resolver
from .executor import Executor, OnDone, SerialExecutor

REL_TOL = 1e-3  # bracket width at which bisection stops (relative)
# whole-lot re-solves per row, at most: a count, so the answer never depends on the clock. The search itself
# needs at most 36 (16 guided, then 10 halving or doubling and 10 bisecting, or 14 bisecting a guided bracket
# as wide as the whole 1/1024..1024 range), so this guards the search rather than cutting it short.
ROW_PROBES = 40
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
        self.budget = budget  # [probes left] for this row, or None

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


@dataclass(frozen=True)
class RowWork:
    """What every row of one break-even search shares (sent once to each worker on a cluster).

    ``relaxed``: the plan's continuous relaxation (optimal), whose search guides each whole-lot one;
    None for a plain search. ``resolver``: a caller's own Resolver, in this process only (never sent to
    a worker); None: the process's own (:func:`process_resolver`).
    """

    scenario: Scenario
    relaxed: Scenario | None
    rel_tol: float = REL_TOL
    max_factor: float = MAX_FACTOR
    max_probes: int | None = ROW_PROBES
    resolver: Resolver | None = None


_RESOLVER: Resolver | None = None


def process_resolver() -> Resolver:
    """This process's HiGHS Resolver for break-even probes (one per worker process, kept between rows and runs).

    A probe's plan does not depend on what the Resolver solved before (see
    :func:`optimizer.analysis.sweep.point_plan`), so neither does a row.
    """
    global _RESOLVER
    if _RESOLVER is None:
        _RESOLVER = Resolver("highs")
    return _RESOLVER


def search_row(work: RowWork, site: str, chip: str, units_now: float) -> BreakEven:
    """One searched row: a function of the row and ``work`` alone (its own probe budget, no clock)."""
    resolver = work.resolver or process_resolver()
    s = work.scenario
    try:
        guess: float | None | str = "none"
        if work.relaxed is not None:
            hint = break_even_row(work.relaxed, site, chip, units_now, resolver, work.rel_tol, work.max_factor)
            guess = hint.break_even_price
        budget = [work.max_probes] if work.max_probes is not None else None
        return break_even_row(s, site, chip, units_now, resolver, work.rel_tol, work.max_factor, guess, budget=budget)
    except OutOfProbes:
        return _undetermined_row(s, site, chip, units_now, f"the search used its budget of {work.max_probes} re-solves")
    except ProbeFailed:
        return _undetermined_row(s, site, chip, units_now, "a re-solve failed independent verification")


def search_rows(work: RowWork, chunk: list[tuple[str, str, float]]):
    """Executor task: each ``(site, chip, units today)`` searched by this process's Resolver."""
    for site, chip, now in chunk:
        yield search_row(work, site, chip, now)


def break_even(
    plan: Plan, resolver: Resolver | None = None, rel_tol: float = REL_TOL, max_factor: float = MAX_FACTOR,
    guided: bool = True, max_probes: int | None = ROW_PROBES, executor: Executor | None = None,
    on_row: Callable[[BreakEven], None] | None = None, on_done: OnDone | None = None,
) -> list[BreakEven]:
    """One row per (site, chip) that may be bought, of an optimal plan, sorted by site then chip.

    The search uses HiGHS whatever solver made the plan (both solvers give the
    same plans; CBC would make each probe a process). With ``integer_units`` and
    ``guided``, each row is first searched on the continuous relaxation (cheap LPs)
    and the whole-lot search starts from that price; every reported price is still
    bracketed by whole-lot solves. A continuous plan's pairs that are not bought get
    their entering price from the duals where they can (no re-solve).

    The rows that need a search run on ``executor`` (in this process by default; see
    :mod:`optimizer.analysis.executor`), one row per item, each by its process's
    Resolver with its own probe budget, so a row's answer is a function of the row
    alone: the same in-process, on two workers or twenty. ``max_probes`` (a count of
    whole-lot re-solves per row, None for none) bounds each row: a row not finished
    within it gets no price and a sentence that says so; a probe whose plan fails
    verification leaves only its own row undetermined. ``resolver``: search with this
    Resolver in this process (no executor then).

    ``on_row(row)`` is called for each row in the returned order, as soon as it and every
    row before it are known; ``on_done(n_finished, n_rows)`` counts finished rows (across
    workers). Interrupted (Ctrl-C, or a KeyboardInterrupt from a callback): the executor's
    outstanding rows are cancelled and KeyboardInterrupt is raised.
    """
    if not plan.result.ok:
        return []
    if resolver is not None and executor is not None and not isinstance(executor, SerialExecutor):
        raise ValueError("break_even: a resolver= searches in this process; give resolver= or executor=, not both")
    s = plan.scenario
    units = plan.units()
    keys = sorted(purchasable(plan))
    analytic = entering_prices(plan)
    rows: list[BreakEven | None] = [None] * len(keys)
    todo: list[int] = []  # indices of the rows to search
    for i, (site, chip) in enumerate(keys):
        now = units.get((site, chip), 0.0)
        exact = analytic.get((site, chip), "search")
        if exact == "search":
            todo.append(i)
        else:
            rows[i] = _entering_row(s, site, chip, now, exact, max_factor)
    shown = 0

    def show() -> None:  # every row known from the front, in order
        nonlocal shown
        while shown < len(rows) and rows[shown] is not None:
            if on_row is not None:
                on_row(rows[shown])
            shown += 1

    fixed = len(keys) - len(todo)
    show()
    if on_done is not None and fixed:
        on_done(fixed, len(keys))
    if not todo:
        return [r for r in rows if r is not None]
    relaxed = None
    if guided and s.integer_units:
        r = s.model_copy(update={"integer_units": False})
        if (resolver or process_resolver()).plan(r, duals=False).result.ok:
            relaxed = r
    work = RowWork(s, relaxed, rel_tol, max_factor, max_probes, resolver)
    items = [(keys[i][0], keys[i][1], units.get(keys[i], 0.0)) for i in todo]

    def found(k: int, row: BreakEven) -> None:
        rows[todo[k]] = row
        show()

    def progress(n: int, total: int) -> None:
        if on_done is not None:
            on_done(fixed + n, len(keys))

    # a row is many re-solves (seconds on a plan by period): while a local cluster starts, one row solved here
    # would leave its workers idle, so wait for them
    got = (executor or SerialExecutor()).run(search_rows, work, items, chunk_size=1, on_done=progress, on_item=found,
                                             here_while_starting=False)
    if not got.complete:
        raise KeyboardInterrupt
    return [r for r in rows if r is not None]


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
