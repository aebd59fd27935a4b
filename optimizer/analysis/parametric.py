"""Exact 1-D sweeps of a continuous scenario: solve at the basis changes, fill every point from them.

When a sweep varies one number that enters the model only through the
right-hand sides (a budget, a capacity, a power limit) and the scenario is
continuous, the plan is piecewise affine in that number: as long as the
optimal basis stays feasible, ``x(t) = x(t0) + (t - t0) dx/dt``. So one solve
covers a whole interval of the parameter, and every requested point inside it
is filled from that solve exactly, by the same linear algebra the simplex
method uses (a parametric ratio test).

The plan chipalloc returns is lexicographic (the most effective TOPS, then
the least spend among those plans), so the basis that matters is the one of
the second stage, which :class:`optimizer.solve.Solver` solves on the first
stage's optimal face (columns with a negative reduced cost at zero, rows with
a non-zero shadow price tight). That face is defined by the first stage's
dual solution, which does not depend on the right-hand side; wherever the
second stage's basis stays feasible, the face is non-empty, so the dual
solution stays optimal there too and the filled plan has the maximum
effective TOPS. HiGHS's own ranging (``getRanging``) moves one row bound of
one LP; here the varied rows and the face move together, so the interval is
computed by the ratio test itself, from HiGHS's basis.

Every filled plan is then verified and certified like any other (the
independent verifier, and the LP duality bound with the solved point's
shadow prices); a plan that fails is solved directly instead.

Requested points are processed in increasing order: the first one not yet
covered is solved, its interval covers as many following points as it can,
and so on. Gaps between intervals that hold no requested point are probed
(at their midpoint) until the whole range is covered, so every breakpoint in
the range is found and reported. The number of solves is the number of
intervals: the breakpoints plus one, more only where a basis change does not
change the plan's slope (degenerate).

Where the method does not apply (whole lots, two varied numbers, a number
that also changes the constraint matrix or the objective such as a price or
a share, cvar / worst measures, another solver), :func:`exact_line` raises
:class:`NotApplicable` with the reason, and the sweep solves every point.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import model as model_mod
from ..errors import VerificationError
from ..plan import Plan, finish, outcome_scenarios
from ..schema import Scenario
from ..solve import Solver
from ..solve.result import SolveResult, Status
from .specs import PointScenario, Vary, apply

SAME_REL = 1e-12  # two models' numbers are "the same" to this (relative)
AFFINE_REL = 1e-12  # the right-hand sides must be affine in the parameter to this (relative)
FEAS_TOL = 1e-9  # a basic value within this (relative to its scale) of its bound counts as at the bound
SLOPE_REL = 1e-9  # slopes equal to this (relative) are the same slope: no breakpoint
TOUCH_REL = 1e-9  # interval ends this close (relative to the range) touch
HOW_RHS = "a right-hand side of a continuous scenario: the plan is linear between breakpoints"
HOW_OBJECTIVE = "an objective coefficient of a continuous scenario: the plan stays the same between breakpoints"
MAX_GAP_PROBES = 200  # solves spent looking for intervals between requested points (then gaps are reported)


class NotApplicable(Exception):
    """The sweep cannot be filled from breakpoints; the message says why (the sweep then solves each point)."""


@dataclass
class Interval:
    """A parameter interval on which the plan is ``units + (t - at) * slope``.

    A right-hand side moves the plan on a closed interval. An objective coefficient keeps it
    (``slope`` 0) on the open interval and at ``at`` (``open_ends``): at an end the optimal face grows,
    and the least-spend plan there may be another one, so a point exactly at an end is solved.
    """

    lo: float
    hi: float
    at: float
    units: np.ndarray
    slope: np.ndarray
    tops: float  # effective TOPS at ``at``
    tops_slope: float
    spend: float
    spend_slope: float
    open_ends: bool = False
    # an objective coefficient moves the duals: shadow prices y + (t - at) y', reduced costs d + (t - at) d'
    y: np.ndarray | None = None
    y_slope: np.ndarray | None = None
    d: np.ndarray | None = None
    d_slope: np.ndarray | None = None

    def tops_at(self, t: float) -> float:
        return self.tops + (t - self.at) * self.tops_slope

    def spend_at(self, t: float) -> float:
        return self.spend + (t - self.at) * self.spend_slope

    def covers(self, t: float, tol: float) -> bool:
        if self.open_ends and abs(t - self.at) > tol:
            return self.lo + tol < t < self.hi - tol
        return self.lo - tol <= t <= self.hi + tol


@dataclass
class Breakpoint:
    """Where the plan's slope changes: the parameter value, and effective TOPS and spend there.

    ``kind``: "value" where the slope of effective TOPS changes (a kink in the sweep's curve), "plan"
    where only the mix changes (effective TOPS keeps its slope, the units bought change theirs).
    """

    value: float
    effective_tops: float
    spend: float | None  # None where the plan jumps there (an objective coefficient)
    slope_before: float  # d effective TOPS / d parameter on the left
    slope_after: float
    kind: str = "value"

    def to_dict(self) -> dict:
        return {"value": self.value, "kind": self.kind, "effective_tops": self.effective_tops, "spend": self.spend,
                "tops_slope_before": self.slope_before, "tops_slope_after": self.slope_after}


@dataclass
class ExactLine:
    plans: list[Plan | None]  # one per requested point, in the order given (None: not reached, when partial)
    breakpoints: list[Breakpoint]
    solves: int  # solves of the scenario (the two-stage solve counted once)
    filled: int  # points filled from an interval rather than solved
    intervals: list[Interval] = field(default_factory=list)
    unresolved: list[tuple[float, float]] = field(default_factory=list)  # gaps left unexplored (probe budget)
    partial: bool = False  # interrupted (Ctrl-C): some plans are None, breakpoints are those found so far
    how: str = ""  # what was varied and what that means for the plan, in words


@dataclass
class _Shape:
    """What must not change along the line: everything but the right-hand sides."""

    n: int
    m: int
    sense: tuple
    A: sp.csr_matrix
    c: np.ndarray
    spend: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def _shape(m: model_mod.Model) -> _Shape:
    return _Shape(m.n, m.m, tuple(m.rows.sense), m.A.tocsr(), np.asarray(m.c, float), np.asarray(m.spend, float),
                  np.asarray(m.var.lower, float), np.asarray(m.var.upper, float))


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if a.shape != b.shape:
        return False
    same = a == b
    fin = np.isfinite(a) & np.isfinite(b)
    near = np.zeros(a.shape, dtype=bool)
    near[fin] = np.abs(a[fin] - b[fin]) <= SAME_REL * np.maximum(1.0, np.abs(b[fin]))
    return bool(np.all(same | near))


def _same_shape(s: _Shape, m: model_mod.Model, cost: bool | None) -> str | None:
    """Why ``m`` differs from ``s`` in more than one right-hand side (``cost`` False) or the objective (True)
    may; None when it does not (``cost`` None: check only what neither may change)."""
    if m.n != s.n or m.m != s.m or tuple(m.rows.sense) != s.sense:
        return "the varied number adds or removes rows or columns"
    A = m.A.tocsr()
    if A.shape != s.A.shape or (A.nnz and abs(A - s.A).max() > SAME_REL * max(1.0, abs(s.A).max())):
        return "the varied number changes the constraint matrix: a price, a share or a per-unit figure"
    if cost is False and not _close(m.c, s.c):
        return "the varied number changes both a right-hand side and the objective"
    if not _close(m.spend, s.spend):
        return "the varied number changes the spend per unit: a price, or an outcome's probability"
    if not (_close(m.var.lower, s.lower) and _close(m.var.upper, s.upper)):
        return "the varied number changes a column bound"
    return None


def exact_line(
    varies: list[Vary],
    points: list[PointScenario],
    data: dict,
    file: str | None,
    solver: str = "highs",
    solvers: dict | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> ExactLine:
    """Every point of a 1-D continuous right-hand-side sweep, from solves at its basis changes only.

    ``data``: the scenario's raw data the points were built from (gaps between points are probed
    with :func:`optimizer.analysis.specs.apply` on it). ``on_done(n_finished, n_total)`` as points are
    finished. Raises :class:`NotApplicable` (before any solve). Interrupted (KeyboardInterrupt, also
    from ``on_done``): the points finished so far, ``partial`` set.
    """
    if solver != "highs":
        raise NotApplicable(f"exact breakpoints use HiGHS's basis and the solver is {solver}")
    if len(varies) != 1:
        raise NotApplicable("two varied numbers make a grid, not a line")
    if len(points) < 2:
        raise NotApplicable("a one-point sweep")
    path = varies[0].path
    try:
        ts = [float(p.values[path]) for p in points]
    except (TypeError, ValueError):
        raise NotApplicable(f"{path} is not a number") from None
    if len(set(ts)) != len(ts):
        raise NotApplicable("the sweep repeats a value")
    def built(p: PointScenario):
        outs = outcome_scenarios(None, p.scenario)
        return model_mod.build(p.scenario, outs), outs

    first = built(points[0])  # what rules the method out is known from one model: the others are not built
    m0 = first[0]
    if m0.integer:
        raise NotApplicable("whole lots: a MILP has no basis to range over")
    if m0.c2 is not None:
        raise NotApplicable("the cvar / worst-outcome measure adds a second objective stage")
    models = [first] + [built(p) for p in points[1:]]
    shape = _shape(m0)
    order = np.argsort(ts)
    t_lo, t_hi = ts[order[0]], ts[order[-1]]
    m_lo, m_hi = models[order[0]][0], models[order[-1]][0]
    why = _same_shape(shape, m_hi, None)
    if why:
        raise NotApplicable(why)
    rhs_moves = not _close(m_hi.rows.rhs, m_lo.rows.rhs)
    cost = not rhs_moves and not _close(m_hi.c, m_lo.c)
    for m, _ in models[1:]:
        why = _same_shape(shape, m, cost)
        if why:
            raise NotApplicable(why)
    lo_v, hi_v, now = (m_lo.c, m_hi.c, "c") if cost else (m_lo.rows.rhs, m_hi.rows.rhs, "rhs")
    k = (np.asarray(hi_v, float) - np.asarray(lo_v, float)) / (t_hi - t_lo)
    for t, (m, _) in zip(ts, models):
        want = lo_v + (t - t_lo) * k
        got = m.c if cost else m.rows.rhs
        if not np.all(np.abs(got - want) <= AFFINE_REL * np.maximum(1.0, np.abs(want))):
            raise NotApplicable("the objective is not affine in the varied number" if cost else
                                "the right-hand sides are not affine in the varied number")
    if not np.any(k):
        raise NotApplicable("the varied number does not enter the model")
    if cost and not rhs_moves and any(not _close(m.rows.rhs, m_lo.rows.rhs) for m, _ in models):
        raise NotApplicable("the varied number changes both a right-hand side and the objective")

    width = t_hi - t_lo
    held = solvers if solvers is not None else {}
    plans: list[Plan | None] = [None] * len(points)
    intervals: list[Interval] = []
    solves = 0
    filled = 0

    def solver_for(m: model_mod.Model) -> Solver:
        key = m.structure_key()
        s = held.get(key)
        if s is None:
            s = held[key] = Solver(m, solver)
        else:
            s.update(m)
        return s

    def solve_at(m, outs, sc: Scenario, t: float, want_plan: bool):
        nonlocal solves
        solves += 1
        s = solver_for(m)
        res = s.solve()
        iv = None
        if res.ok:
            iv = (_cost_interval(s, m, res, k, t, t_lo, t_hi, width) if cost
                  else _interval(s, m, res, k, t, t_lo, t_hi, width))
        plan = finish(sc, m, res, None, outs, solver, raise_on_status=False, duals=True,
                      solver_obj=s) if want_plan else None
        return plan, iv, res

    def fill(i: int, iv: Interval, res: SolveResult) -> Plan | None:
        m, outs = models[i]
        t = ts[i]
        units = iv.units + (t - iv.at) * iv.slope
        units = np.where(np.abs(units) <= 1e-12 * np.maximum(1.0, np.abs(iv.units)), 0.0, units)
        pis, djs = res.shadow_prices, res.reduced_costs
        if iv.y is not None:  # an objective coefficient: the duals move with it
            pis = iv.y + (t - iv.at) * iv.y_slope + 0.0
            djs = iv.d + (t - iv.at) * iv.d_slope + 0.0
        r = SolveResult(Status.OPTIMAL, res.solver, units, float(np.dot(m.c, units)), pis, djs, res.dual_basis,
                        res.solver_version, extra=dict(res.extra))
        try:
            return finish(points[i].scenario, m, r, None, outs, solver, raise_on_status=False, duals=True)
        except VerificationError:
            return None

    done = 0
    total = len(points)

    def tick(i: int) -> None:
        nonlocal done
        done += 1
        if on_done is not None:
            on_done(done, total)

    unresolved: list[tuple[float, float]] = []
    try:
        pos = 0
        while pos < len(order):
            i = int(order[pos])
            if plans[i] is not None:
                pos += 1
                continue
            m, outs = models[i]
            plan, iv, res = solve_at(m, outs, points[i].scenario, ts[i], True)
            plans[i] = plan
            pos += 1
            tick(i)
            if iv is None:
                continue
            intervals.append(iv)
            while pos < len(order) and iv.covers(ts[int(order[pos])], TOUCH_REL * width):
                j = int(order[pos])
                got = fill(j, iv, res)
                if got is None:
                    break  # solved directly on the next turn
                plans[j] = got
                filled += 1
                pos += 1
                tick(j)

        # gaps between intervals with no requested point: probe until the range is covered
        probes = 0
        while True:
            intervals.sort(key=lambda v: (v.lo, v.hi))
            gap = _first_gap(intervals, t_lo, t_hi, width, skip=unresolved)
            if gap is None:
                break
            if probes >= MAX_GAP_PROBES:
                unresolved.append(gap)
                continue
            probes += 1
            mid = 0.5 * (gap[0] + gap[1])
            _, sc = apply(data, {path: mid}, file=file)
            outs = outcome_scenarios(None, sc)
            m = model_mod.build(sc, outs)
            _, iv, _ = solve_at(m, outs, sc, mid, False)
            if iv is None or (iv.hi <= gap[0] + TOUCH_REL * width and iv.lo >= gap[1] - TOUCH_REL * width):
                unresolved.append(gap)  # infeasible there, or a degenerate interval: leave it
                continue
            intervals.append(iv)
        partial = False
    except KeyboardInterrupt:
        partial = True
    intervals.sort(key=lambda v: (v.lo, v.hi))
    how = (HOW_OBJECTIVE if cost else HOW_RHS)
    return ExactLine(list(plans), _breakpoints(intervals, t_lo, t_hi, width), solves, filled, intervals, unresolved,
                     partial, how)


def _first_gap(intervals: list[Interval], t_lo: float, t_hi: float, width: float,
               skip: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The first stretch of [t_lo, t_hi] no interval covers (not one of ``skip``), or None."""
    tol = TOUCH_REL * width
    reach = t_lo
    for v in intervals:
        if v.lo > reach + tol:
            g = (reach, v.lo)
            if not any(abs(g[0] - a) <= tol and abs(g[1] - b) <= tol for a, b in skip):
                return g
        reach = max(reach, v.hi)
        if reach >= t_hi - tol:
            return None
    if reach < t_hi - tol:
        g = (reach, t_hi)
        if not any(abs(g[0] - a) <= tol and abs(g[1] - b) <= tol for a, b in skip):
            return g
    return None


def _breakpoints(intervals: list[Interval], t_lo: float, t_hi: float, width: float) -> list[Breakpoint]:
    """Where consecutive intervals meet with different slopes (inside the range)."""
    out: list[Breakpoint] = []
    tol = TOUCH_REL * width
    for a, b in zip(intervals, intervals[1:]):
        if b.lo > a.hi + tol:
            continue  # a gap (unresolved): no claim
        t = b.lo if b.lo > a.lo else a.hi
        if not (t_lo + tol < t < t_hi - tol):
            continue
        scale = max(1.0, float(np.abs(a.slope).max(initial=0.0)), float(np.abs(b.slope).max(initial=0.0)))
        ua, ub = a.units + (t - a.at) * a.slope, b.units + (t - b.at) * b.slope
        same_plan = bool(np.all(np.abs(a.slope - b.slope) <= SLOPE_REL * scale)) and bool(
            np.all(np.abs(ua - ub) <= SLOPE_REL * np.maximum(1.0, np.maximum(np.abs(ua), np.abs(ub)))))
        sa, sb = _slope(a, width), _slope(b, width)
        same_value = abs(sa - sb) <= SLOPE_REL * max(abs(sa), abs(sb), 1e-300) or sa == sb
        if same_plan and same_value:
            continue  # a degenerate basis change: the same plan line
        if out and abs(out[-1].value - t) <= tol:
            continue
        spend = None if (a.open_ends or b.open_ends) else a.spend_at(t)
        out.append(Breakpoint(t, a.tops_at(t), spend, sa, sb, "plan" if same_value else "value"))
    return out


def _slope(v: Interval, width: float) -> float:
    """The interval's d effective TOPS / d parameter, 0 where it moves TOPS by less than rounding over the range."""
    return 0.0 if abs(v.tops_slope) * width <= SLOPE_REL * max(1.0, abs(v.tops)) else v.tops_slope


def _interval(s: Solver, m: model_mod.Model, res: SolveResult, k: np.ndarray, t0: float,
              t_lo: float, t_hi: float, width: float) -> Interval | None:
    """The parameter interval around ``t0`` where the solved plan's basis stays feasible, and the plan's
    slope on it; None when HiGHS's basis does not describe the plan (then the point stands alone)."""
    h = getattr(s.main, "h", None)
    if h is None:
        return None
    basis = h.getBasis()
    if not basis.valid:
        return None
    import highspy

    BS = highspy.HighsBasisStatus
    n, mm = m.n, m.m
    col_basic = np.array([st == BS.kBasic for st in list(basis.col_status)[:n]], dtype=bool)
    row_status = list(basis.row_status)
    row_basic = np.array([st == BS.kBasic for st in row_status[:mm]], dtype=bool)
    floor_basic = all(st == BS.kBasic for st in row_status[mm:])
    if not floor_basic:
        return None  # the objective floor is tight: the plan sits on it, not on the face alone
    Bc = np.flatnonzero(col_basic)
    Nr = np.flatnonzero(~row_basic)
    if Bc.size != Nr.size:
        return None
    x0 = np.asarray(res.units, float)
    A = m.A.tocsr()
    rhs = np.asarray(m.rows.rhs, float)
    act = A @ x0 if mm else np.zeros(0)
    # the basis must describe the plan: non-basic rows tight, non-basic columns at a bound (each row judged
    # against its own magnitude: the right-hand side, or the sum of |coefficient x value|)
    scale_r = np.maximum(1.0, np.maximum(np.abs(rhs), abs(A) @ np.abs(x0))) if mm else np.zeros(0)
    if Nr.size and np.any(np.abs(act[Nr] - rhs[Nr]) > FEAS_TOL * scale_r[Nr]):
        return None
    lower, upper = np.asarray(m.var.lower, float), np.asarray(m.var.upper, float)
    nb = ~col_basic
    at_bound = (np.abs(x0 - np.where(np.isfinite(lower), lower, np.inf)) <= 1e-9 * np.maximum(1.0, np.abs(x0))) | (
        np.abs(x0 - np.where(np.isfinite(upper), upper, np.inf)) <= 1e-9 * np.maximum(1.0, np.abs(x0))) | (x0 == 0)
    if np.any(nb & ~at_bound):
        return None
    slope = np.zeros(n)
    if Bc.size:
        M = A[Nr][:, Bc]
        rhs_dir = k[Nr]
        try:
            if Bc.size <= 400:
                lu = scipy.linalg.lu_factor(M.toarray())
                dB = scipy.linalg.lu_solve(lu, rhs_dir)
            else:
                dB = spla.spsolve(sp.csc_matrix(M), rhs_dir)
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            return None
        if not np.all(np.isfinite(dB)):
            return None
        slope[Bc] = dB
    lo, hi = t_lo, t_hi
    lo, hi = _ratio(x0[Bc] - lower[Bc], slope[Bc], t0, lo, hi, x0[Bc], width)  # x >= lower
    lo, hi = _ratio(upper[Bc] - x0[Bc], -slope[Bc], t0, lo, hi, x0[Bc], width)  # x <= upper
    if mm:
        dact = A @ slope
        rb = np.flatnonzero(row_basic)
        le = np.array([m.rows.sense[i] == "<=" for i in rb], dtype=bool)
        slack = np.where(le, rhs[rb] - act[rb], act[rb] - rhs[rb])
        dslack = np.where(le, k[rb] - dact[rb], dact[rb] - k[rb])
        lo, hi = _ratio(slack, dslack, t0, lo, hi, scale_r[rb], width)
    if not (lo <= t0 <= hi):
        return None
    c = np.asarray(m.c, float)
    spend = np.asarray(m.spend, float)
    return Interval(lo, hi, t0, x0, slope, float(c @ x0), float(c @ slope), float(spend @ x0), float(spend @ slope))


def _ratio(g: np.ndarray, dg: np.ndarray, t0: float, lo: float, hi: float, scale: np.ndarray,
           width: float) -> tuple[float, float]:
    """Narrow [lo, hi] so that every ``g + (t - t0) dg`` stays >= 0 (values within tolerance of 0 are 0)."""
    if g.size == 0:
        return lo, hi
    sc = np.maximum(1.0, np.abs(scale))
    g = np.where(g < FEAS_TOL * sc, np.maximum(g, 0.0), g)
    moving = np.abs(dg) * max(width, 1e-300) > FEAS_TOL * sc
    dec = moving & (dg < 0)
    inc = moving & (dg > 0)
    if dec.any():
        hi = min(hi, float(np.min(t0 + g[dec] / -dg[dec])))
    if inc.any():
        lo = max(lo, float(np.max(t0 - g[inc] / dg[inc])))
    return lo, hi


def _cost_interval(s: Solver, m: model_mod.Model, res: SolveResult, k: np.ndarray, t0: float,
                   t_lo: float, t_hi: float, width: float) -> Interval | None:
    """The parameter interval around ``t0`` over which the solved plan stays optimal while the objective
    moves by ``k`` per unit of the parameter (an objective coefficient), and the duals on it.

    An optimal basis at the plan (HiGHS crossover from the plan, as the sensitivity report does) gives
    the duals ``y`` (rows) and reduced costs ``d`` and their rates of change ``y'``, ``d'`` (one solve
    each with the transposed basis matrix); the plan stays optimal while every non-basic column keeps
    its reduced cost's sign and every tight row its dual's sign (the dual ratio test)."""
    from ..solve.highs import ranging

    prob = s.prob
    lots = np.asarray(res.units, float) / prob.col_scale
    got = ranging(prob, target_lots=lots)
    if got is None:
        return None
    x_h, _, _, _, col_basic, row_basic, _ = got
    if not np.allclose(x_h[: m.n] * prob.col_scale, res.units, rtol=1e-7, atol=1e-7):
        return None  # the basis found is at another optimal plan
    n, mm = m.n, m.m
    col_basic = np.asarray(col_basic[:n], dtype=bool)
    row_basic = np.asarray(row_basic[:mm], dtype=bool)
    Bc, Nr = np.flatnonzero(col_basic), np.flatnonzero(~row_basic)
    if Bc.size != Nr.size:
        return None
    A = sp.csr_matrix(m.A) if mm else sp.csr_matrix((0, n))
    c = np.asarray(m.c, float)
    y, yk = np.zeros(mm), np.zeros(mm)
    if Bc.size:
        MT = A[Nr][:, Bc].T
        try:
            if Bc.size <= 400:
                lu = scipy.linalg.lu_factor(MT.toarray())
                y[Nr] = scipy.linalg.lu_solve(lu, c[Bc])
                yk[Nr] = scipy.linalg.lu_solve(lu, k[Bc])
            else:
                MT = sp.csc_matrix(MT)
                y[Nr] = spla.spsolve(MT, c[Bc])
                yk[Nr] = spla.spsolve(MT, k[Bc])
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            return None
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(yk))):
            return None
    d = c - A.T @ y
    dk = k - A.T @ yk
    x0 = np.asarray(res.units, float)
    lower, upper = np.asarray(m.var.lower, float), np.asarray(m.var.upper, float)
    nb = np.flatnonzero(~col_basic)
    tolx = 1e-9 * np.maximum(1.0, np.abs(x0[nb]))
    at_lo = np.isfinite(lower[nb]) & (np.abs(x0[nb] - lower[nb]) <= tolx)
    at_up = np.isfinite(upper[nb]) & (np.abs(x0[nb] - upper[nb]) <= tolx)
    if np.any(~at_lo & ~at_up):
        return None  # a non-basic column between its bounds: not a basis of this plan
    scale_c = np.maximum(1.0, np.abs(c) + abs(A).T @ np.abs(y)) if mm else np.maximum(1.0, np.abs(c))
    lo, hi = t_lo, t_hi
    # maximisation: at its lower bound a column needs d <= 0, at its upper d >= 0 (fixed: either)
    only_lo = nb[at_lo & ~at_up]
    only_up = nb[at_up & ~at_lo]
    lo, hi = _ratio(-d[only_lo], -dk[only_lo], t0, lo, hi, scale_c[only_lo], width)
    lo, hi = _ratio(d[only_up], dk[only_up], t0, lo, hi, scale_c[only_up], width)
    if Nr.size:
        le = np.array([m.rows.sense[i] == "<=" for i in Nr], dtype=bool)
        sign = np.where(le, 1.0, -1.0)  # a tight <= row has y >= 0, a tight >= row y <= 0
        scale_y = np.maximum(1.0, np.abs(y[Nr]) + float(np.abs(c).max(initial=0.0)))
        lo, hi = _ratio(sign * y[Nr], sign * yk[Nr], t0, lo, hi, scale_y, width)
    if not (lo <= t0 <= hi):
        return None
    spend = np.asarray(m.spend, float)
    return Interval(lo, hi, t0, x0, np.zeros(n), float(c @ x0), float(k @ x0), float(spend @ x0), 0.0,
                    open_ends=True, y=y, y_slope=yk, d=d, d_slope=dk)
