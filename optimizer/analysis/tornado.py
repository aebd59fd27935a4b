"""Tornado: one-at-a-time low/high swings of numeric inputs.

Each parameter is moved to ``base x (1 - pct/100)`` and ``base x (1 + pct/100)``
with everything else at its base value, clipped into the range the schema
allows (a share or delivery rate never goes above 1, a flexibility factor
never above 10, whole-number fields are rounded); every clip is said in the
row's ``note``. Each end is one verified solve.

``swing`` is the spread of effective TOPS over the base and the feasible ends
(``max - min`` of the three), so a parameter that lowers TOPS whichever way
it moves still shows its full effect. Rows are sorted with parameters that
make an end infeasible (or unbounded) first, then by swing, largest first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .. import io
from ..errors import ChipallocError, InfeasibleError, InputError, SolveError, UnboundedError
from ..schema import Scenario
from .diagnose import diagnose
from .engine import Resolver
from .specs import apply, base_data, bounds, tidy, value_at
from .sweep import Outcome, outcome


def default_params(s: Scenario) -> list[str]:
    """Every chip's unit_price and int8_tops, every vendor's delivery_rate and capacity_units (where set),
    every flexibility factor, every budget amount and every domestic floor (where set)."""
    out: list[str] = []
    for cid in sorted(s.chips):
        out += [f"chips.{cid}.unit_price", f"chips.{cid}.int8_tops"]
    for vid in sorted(s.vendors):
        out.append(f"vendors.{vid}.delivery_rate")
        if s.vendors[vid].capacity_units is not None:
            out.append(f"vendors.{vid}.capacity_units")
    for arch in sorted(s.flexibility):
        out.append(f"flexibility.{arch}")
    for sid in sorted(s.sites):
        if s.sites[sid].budget is not None:
            out.append(f"sites.{sid}.budget.amount")
    if s.budget is not None:
        out.append("budget.amount")
    for sid in sorted(s.sites):
        if s.sites[sid].domestic_min_share is not None:
            out.append(f"sites.{sid}.domestic_min_share")
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
    if low == base and high == base:
        notes.append("no room to move within the valid range")
    low_sc = high_sc = None
    if low != base:
        _, low_sc = apply(data, {path: low}, file, origin="--param")
    if high != base:
        _, high_sc = apply(data, {path: high}, file, origin="--param")
    return _Ends(path, base, low, high, "; ".join(notes), low_sc, high_sc)


def _infeasible_base(s: Scenario, solver: str, plan) -> InfeasibleError:
    """The exit-3 error of an infeasible base, carrying its diagnosis (conflict and fixes) as solve does."""
    head = f"infeasible: the base scenario {s.name!r} has no plan that meets every rule; nothing to swing"
    try:
        d = diagnose(s, solver=solver, lm=plan.lm)
    except ChipallocError:
        d = None
    if d is None:
        return InfeasibleError(head)
    return InfeasibleError(d.render() + "\n\nnothing to swing: the tornado needs a feasible base scenario.", d)


def tornado(
    loaded: io.Loaded,
    pct: float = 20.0,
    params: list[str] | tuple[str, ...] = (),
    solver: str = "highs",
    resolver: Resolver | None = None,
    on_point: Callable[[int, int], None] | None = None,
) -> TornadoResult:
    """Solve the base and both ends of each parameter. Raises InputError before any solve on bad input,
    InfeasibleError (with ``.diagnosis``, as solve's) / UnboundedError when the base itself has no optimal plan."""
    if not (isinstance(pct, (int, float)) and math.isfinite(pct) and 0 < pct < 100):
        raise InputError(f"--pct {pct!r}: must be a percentage above 0 and below 100")
    s = loaded.scenario
    data = base_data(loaded)
    paths = list(dict.fromkeys(params)) if params else default_params(s)
    ends = [_ends(s, data, p, pct, loaded.path) for p in paths]
    resolver = resolver or Resolver(solver)
    base_plan = resolver.plan(s)
    st = base_plan.result.status.value
    if st == "infeasible":
        raise _infeasible_base(s, solver, base_plan)
    if st == "unbounded":
        raise UnboundedError(f"unbounded: the base scenario {s.name!r} has no limit on purchases")
    if st != "optimal":
        raise SolveError(f"the {solver} solver failed on the base scenario: {base_plan.result.message or st}")
    base = outcome(base_plan)
    total = 2 * len(ends)  # an end that equals the base (clipped) reuses the base solve but still counts
    done = 0
    rows: list[TornadoRow] = []
    for e in ends:
        got: list[Outcome] = []
        for sc in (e.low_sc, e.high_sc):
            got.append(base if sc is None else outcome(resolver.plan(sc)))
            done += 1
            if on_point is not None:
                on_point(done, total)
        lo, hi = got
        vals = [o.effective_tops for o in (lo, base, hi) if o.ok and o.effective_tops is not None]
        swing = max(vals) - min(vals)
        rows.append(TornadoRow(e.path, label(s, e.path), e.base, e.low, e.high, lo, hi, swing, e.note))
    # ties (to 1e-6 TOPS) are broken by path, so the order does not depend on rounding noise
    rows.sort(key=lambda r: (not r.infeasible_end, -round(r.swing, 6), r.path))
    notes = [f"{r.path}: {r.note}" for r in rows if r.note]
    return TornadoResult(loaded, float(pct), base, rows, solver, notes)
