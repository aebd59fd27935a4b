"""Tornado: one-at-a-time low/high swings of numeric inputs.

Each parameter is moved to ``base x (1 - pct/100)`` and ``base x (1 + pct/100)``
with everything else at its base value, clipped into the range the schema
allows (a share or delivery rate never goes above 1, a flexibility factor
never above 10, whole-number fields are rounded), and then, where another
field's rule refuses the end (a delivery rate of 1 with a ``delivery_sd``),
to the valid value nearest to it, found by bisection on validation alone;
every clip is said in the row's ``note``. Each end is one verified solve.

``swing`` is the spread of effective TOPS over the base and the feasible ends
(``max - min`` of the three), so a parameter that lowers TOPS whichever way
it moves still shows its full effect. Rows are sorted with parameters that
make an end infeasible (or unbounded) first, then by swing, largest first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .. import io
from ..errors import InputError, SolveError, UnboundedError
from ..schema import Scenario
from .diagnose import infeasible_error
from .executor import Executor, OnDone, SerialExecutor
from .specs import apply, base_data, bounds, tidy, value_at
from .sweep import Outcome, outcome, point_plan


def _by_period(s: Scenario, path: str, value: Any) -> list[str]:
    """``path`` for a single number; ``path.<period>`` for each entry of a per-period mapping (in period order)."""
    if value is None:
        return []
    if isinstance(value, dict):
        order = {p: i for i, p in enumerate(s.period_ids)}
        return [f"{path}.{p}" for p in sorted(value, key=lambda p: (order.get(p, len(order)), p))]
    return [path]


def used_currencies(s: Scenario) -> list[str]:
    """Currencies other than the reporting one that some price or budget is given in (their fx rate matters)."""
    used = {c.price_currency for c in s.chips.values()}
    used |= {o.price_currency for o in s.leases.values()}
    used |= {st.budget.currency for st in s.sites.values() if st.budget is not None}
    if s.budget is not None:
        used.add(s.budget.currency)
    return sorted(c for c in used if c is not None and c != s.currency and c in s.fx)


def default_params(s: Scenario) -> list[str]:
    """Every number in the scenario that can move the answer, as dotted paths, grouped by part.

    - chips: unit_price and int8_tops; price_by_period.<period>; min_units (when above 0), max_units and
      min_order_units (where set); power_w (when some site has a power envelope);
    - vendors: delivery_rate; capacity_units (or capacity_units.<period>) and max_share where set;
    - every flexibility factor;
    - sites: budget.amount and budget.per_period.<period>; domestic_min_share, power_mw (or power_mw.<period>),
      price overrides prices.<chip> and vendor_max_share.<vendor> where set;
    - the global budget (amount and per period); leases: price_per_period, max_units, delivery_rate;
    - fx.<currency> for every currency a price or budget is given in;
    - export_controls.tpp_caps.<country> for each country that has a site.

    Left out: whole-number settings that move in steps (lot_size, lead_time), numbers that only decide an
    export classification (tpp, die_area_mm2, the rules' thresholds), a min_units of 0 (no percentage moves
    it), and the uncertainty block (its probabilities must sum to 1). ``--param`` takes any of them.
    """
    out: list[str] = []
    powered = any(st.power_mw is not None for st in s.sites.values())
    for cid in sorted(s.chips):
        c = s.chips[cid]
        out += [f"chips.{cid}.unit_price", f"chips.{cid}.int8_tops"]
        out += _by_period(s, f"chips.{cid}.price_by_period", c.price_by_period or None)
        if c.min_units > 0:
            out.append(f"chips.{cid}.min_units")
        for f in ("max_units", "min_order_units"):
            if getattr(c, f) is not None:
                out.append(f"chips.{cid}.{f}")
        if powered and c.power_w is not None:
            out.append(f"chips.{cid}.power_w")
    for vid in sorted(s.vendors):
        v = s.vendors[vid]
        out.append(f"vendors.{vid}.delivery_rate")
        out += _by_period(s, f"vendors.{vid}.capacity_units", v.capacity_units)
        if v.max_share is not None:
            out.append(f"vendors.{vid}.max_share")
    for arch in sorted(s.flexibility):
        out.append(f"flexibility.{arch}")
    for sid in sorted(s.sites):
        b = s.sites[sid].budget
        if b is not None:
            out.append(f"sites.{sid}.budget.amount")
            out += _by_period(s, f"sites.{sid}.budget.per_period", b.per_period)
    if s.budget is not None:
        out.append("budget.amount")
        out += _by_period(s, "budget.per_period", s.budget.per_period)
    for sid in sorted(s.sites):
        st = s.sites[sid]
        if st.domestic_min_share is not None:
            out.append(f"sites.{sid}.domestic_min_share")
        out += _by_period(s, f"sites.{sid}.power_mw", st.power_mw)
        out += [f"sites.{sid}.prices.{cid}" for cid in sorted(st.prices)]
        out += [f"sites.{sid}.vendor_max_share.{vid}" for vid in sorted(st.vendor_max_share)]
    for oid in sorted(s.leases):
        o = s.leases[oid]
        out += [f"leases.{oid}.price_per_period", f"leases.{oid}.delivery_rate"]
        if o.max_units is not None:
            out.append(f"leases.{oid}.max_units")
    out += [f"fx.{cur}" for cur in used_currencies(s)]
    if s.export_controls is not None:
        countries = {st.country for st in s.sites.values()}
        out += [f"export_controls.tpp_caps.{k}" for k in sorted(s.export_controls.tpp_caps) if k in countries]
    return out


def label(s: Scenario, path: str) -> str:
    """A short human name for a parameter path."""
    p = path.split(".")
    if len(p) == 3 and p[0] == "chips" and p[1] in s.chips:
        return f"{s.chips[p[1]].model or p[1]} {p[2].replace('_', ' ')}"
    if len(p) == 3 and p[0] == "vendors" and p[1] in s.vendors:
        return f"{s.vendors[p[1]].name or p[1]} {p[2].replace('_', ' ')}"
    if len(p) == 2 and p[0] == "flexibility":
        return f"flexibility {p[1]}"
    if p[:1] == ["sites"] and len(p) >= 3 and p[1] in s.sites:
        rest = ".".join(p[2:])
        rest = {"budget.amount": "budget", "domestic_min_share": "domestic floor"}.get(rest, rest.replace("_", " "))
        return f"{p[1]} {rest}"
    if path == "budget.amount":
        return "global budget"
    return path


@dataclass
class TornadoRow:
    path: str
    label: str
    base_value: float
    low_value: float
    high_value: float
    low: Outcome
    high: Outcome
    swing: float
    note: str = ""

    @property
    def infeasible_end(self) -> bool:
        return not (self.low.ok and self.high.ok)


@dataclass
class TornadoResult:
    loaded: io.Loaded
    pct: float
    base: Outcome
    rows: list[TornadoRow]
    solver: str
    notes: list[str] = field(default_factory=list)


@dataclass
class _Ends:
    path: str
    base: float
    low: float
    high: float
    note: str
    low_sc: Scenario | None  # None: same as the base
    high_sc: Scenario | None


def _ends(s: Scenario, data: dict, path: str, pct: float, file: str | None) -> _Ends:
    io.set_path(data, path, None, file=file, origin="--param")  # unknown path: exit 2, nearest paths
    base = value_at(s, path)
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        got = "no value" if base is None else f"{base!r}"
        raise InputError(f"--param {path}: a tornado moves numbers, but the scenario has {got} there")
    b = bounds(path)
    f = pct / 100.0
    low, high = tidy(base * (1 - f)), tidy(base * (1 + f))
    notes: list[str] = []
    if b is not None:
        if b.upper is not None and high > b.upper:
            high = b.upper
            notes.append(f"high clipped to {b.upper:g} (the largest valid value)")
        if b.upper is not None and low > b.upper:  # negative base values are not in the schema; kept for safety
            low = b.upper
        if b.lower is not None and low < b.lower and b.lower_inclusive:
            low = b.lower
            notes.append(f"low clipped to {b.lower:g} (the smallest valid value)")
        if b.integer:
            lo_i, hi_i = math.ceil(low), math.floor(high)
            if (lo_i, hi_i) != (low, high):
                notes.append("rounded to whole numbers")
            low, high = lo_i, hi_i
    low, low_sc = _valid_end(data, path, base, low, "low", b is not None and b.integer, file, notes)
    high, high_sc = _valid_end(data, path, base, high, "high", b is not None and b.integer, file, notes)
    if low == base and high == base:
        notes.append("no room to move within the valid range")
    return _Ends(path, base, low, high, "; ".join(notes), low_sc, high_sc)


CLIP_STEPS = 40  # bisection steps towards the base for an end another field makes invalid


def _valid_end(data: dict, path: str, base: float, end: float, which: str, integer: bool, file: str | None,
               notes: list[str]) -> tuple[float, Scenario | None]:
    """``end`` and its validated scenario (None when it is the base). When another field's rule refuses
    ``end`` (a delivery rate whose ``delivery_sd`` only a rate below 1 can have), the valid value nearest to
    it on the way from the base, found by bisection on validation alone (no solve), with a note."""
    if end == base:
        return end, None
    try:
        return end, apply(data, {path: end}, file, origin="--param")[1]
    except InputError as e:
        first = e.problems[0] if e.problems else None
        why = str(e) if first is None else f"{first.path + ': ' if first.path else ''}{first.message.split('; ')[0]}"
    notes[:] = [n for n in notes if not n.startswith(f"{which} clipped to")]  # said again below, with the reason
    good, bad = base, end
    for _ in range(CLIP_STEPS):
        mid = (good + bad) / 2
        if integer:
            mid = math.floor(mid) if end > base else math.ceil(mid)
        if mid in (good, bad):
            break
        try:
            apply(data, {path: mid}, file, origin="--param")
            good = mid
        except InputError:
            bad = mid
    if good == base:
        notes.append(f"{which} stays at the base: {tidy(end):g} is not valid ({why})")
        return base, None
    # a shorter number where it is still valid: 6 significant digits, rounded towards the base
    q = 10.0 ** (math.floor(math.log10(abs(good))) - 5) if good else 1.0
    short = tidy((math.floor(good / q) if end > base else math.ceil(good / q)) * q)
    for value in (short, good) if short != base and short != good else (good,):
        try:
            sc = apply(data, {path: value}, file, origin="--param")[1]
        except InputError:
            continue
        notes.append(f"{which} clipped to {value:.12g}: {tidy(end):g} is not valid ({why})")
        return value, sc
    raise AssertionError("unreachable: the bisection kept a valid value")  # pragma: no cover


@dataclass
class EndWork:
    """What every chunk of a tornado shares (sent once to each worker)."""

    data: dict
    file: str | None
    solver: str


def solve_ends(work: EndWork, chunk: list[tuple[str, Any]]):
    """Executor task: each ``(path, value)`` end rebuilt from the base data (validated) and solved by the worker's Resolver."""
    for path, value in chunk:
        _, sc = apply(work.data, {path: value}, work.file, origin="--param")
        yield outcome(point_plan(sc, work.solver))


def tornado(
    loaded: io.Loaded,
    pct: float = 20.0,
    params: list[str] | tuple[str, ...] = (),
    solver: str = "highs",
    executor: Executor | None = None,
    on_done: OnDone | None = None,
) -> TornadoResult:
    """Solve the base and both ends of each parameter. Raises InputError before any solve on bad input,
    InfeasibleError (with ``.diagnosis``, as solve's) / UnboundedError when the base itself has no optimal plan.

    The base is solved here; the ends by ``executor`` (in this process by default), each from a fresh
    Resolver. ``on_done(n_finished, n_total)`` counts ends (an end clipped to the base value counts at once).
    Interrupted (Ctrl-C): raises KeyboardInterrupt after cancelling what is left (a tornado is not kept in part).
    """
    if not (isinstance(pct, (int, float)) and math.isfinite(pct) and 0 < pct < 100):
        raise InputError(f"--pct {pct!r}: must be a percentage above 0 and below 100")
    s = loaded.scenario
    data = base_data(loaded)
    paths = list(dict.fromkeys(params)) if params else default_params(s)
    ends = [_ends(s, data, p, pct, loaded.path) for p in paths]
    base_plan = point_plan(s, solver)
    st = base_plan.result.status.value
    if st == "infeasible":
        raise infeasible_error(
            s, solver, base_plan.lm,
            f"infeasible: the base scenario {s.name!r} has no plan that meets every rule; nothing to swing",
            "nothing to swing: the tornado needs a feasible base scenario.")
    if st == "unbounded":
        raise UnboundedError(f"unbounded: the base scenario {s.name!r} has no limit on purchases")
    if st != "optimal":
        raise SolveError(f"the {solver} solver failed on the base scenario: {base_plan.result.message or st}")
    base = outcome(base_plan)
    # an end that equals the base (clipped) reuses the base solve but still counts
    todo = [(e.path, v) for e in ends for v, sc in ((e.low, e.low_sc), (e.high, e.high_sc)) if sc is not None]
    total = 2 * len(ends)
    reused = total - len(todo)
    if on_done is not None and reused:
        on_done(reused, total)
    tick = None if on_done is None else (lambda n, _: on_done(reused + n, total))
    got = (executor or SerialExecutor()).run(solve_ends, EndWork(data, loaded.path, solver), todo, on_done=tick)
    if not got.complete:
        raise KeyboardInterrupt
    solved = iter(got.values)
    rows: list[TornadoRow] = []
    for e in ends:
        lo, hi = (base if sc is None else next(solved) for sc in (e.low_sc, e.high_sc))
        vals = [o.effective_tops for o in (lo, base, hi) if o.ok and o.effective_tops is not None]
        swing = max(vals) - min(vals)
        rows.append(TornadoRow(e.path, label(s, e.path), e.base, e.low, e.high, lo, hi, swing, e.note))
    # ties (to 1e-6 TOPS) are broken by path, so the order does not depend on rounding noise
    rows.sort(key=lambda r: (not r.infeasible_end, -round(r.swing, 6), r.path))
    notes = [f"{r.path}: {r.note}" for r in rows if r.note]
    return TornadoResult(loaded, float(pct), base, rows, solver, notes)
