"""Solver backends, status as a value, and one sign convention for duals.

Backends (``--solver``):

- ``highs``: HiGHS through PuLP's in-process HiGHS API (default).
- ``cbc``: CBC through PuLP (the one place that touches PuLP's CBC wrapper is
  :func:`_cbc`).

Sign convention for every dual we report, whatever the solver:
``shadow_price = d(effective TOPS) / d(rhs)`` of the row as written in
:mod:`optimizer.model`, and ``reduced_cost = d(effective TOPS) / d(units)``
when one more unit of a variable is forced into the plan (Excel's
convention for a maximisation). PuLP passes CBC's duals through in that
convention; PuLP's HiGHS API negates a maximisation objective before handing
it to HiGHS and copies HiGHS's duals back unchanged, so for HiGHS we negate.

Ties: after maximising effective TOPS, a second solve holds the objective at
its optimum within a relative 1e-7 and minimises total spend, so a plan never
spends money that buys nothing. For continuous plans the second solve is also
held to the optimal face (complementary slackness with the first solve's
duals), so it cannot trade a sliver of TOPS for money within that tolerance.

Status: PuLP reports HiGHS's "unbounded or infeasible" as infeasible; a
feasibility solve then tells the two apart (see :func:`_feasibility`).

With ``integer_units`` the duals come from the continuous relaxation (same
rows, continuous units) and are labelled ``basis="relaxation"``.
"""
from __future__ import annotations

import contextlib
import enum
import os
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pulp

from .errors import InputError, SolveError
from .model import LinearModel

TIE_REL = 1e-7  # relative tolerance for holding the objective in the tie-break solve
MIP_REL_GAP = 1e-9  # prove MILP optimality tightly, so solvers agree on plans
# The least-spend tie-break MILP (TOPS held within TIE_REL of the optimum) can be far harder
# than the maximisation: on global-2025 with a CNY 60B China budget and 200 MW in Malaysia it
# ran 168 s against 0.05 s. It stops after this many seconds and keeps the cheapest plan found
# that still meets the TOPS floor (or the maximisation's own plan), and says so.
# A looser gap (1e-6 of spend) solved that case in 0.1 s, but then the plan a sweep point got
# depended on the solve path (warm starts) and no longer matched an independent solve, so the
# gap stays exact and the time limit is what bounds the rare hard case.
TIE_GAP = MIP_REL_GAP
TIE_BREAK_SECONDS = 5.0
SOLVERS = ("highs", "cbc")


class Status(str, enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass
class SolveResult:
    status: Status
    solver: str
    units: np.ndarray  # per model var, in units (not lots)
    objective: float  # effective TOPS of the returned plan
    shadow_prices: np.ndarray | None = None  # per row, convention above
    reduced_costs: np.ndarray | None = None  # per var, per unit
    dual_basis: str = "lp"  # "lp" or "relaxation"
    solver_version: str = ""
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OPTIMAL


@contextlib.contextmanager
def silenced():
    """Send file descriptors 1 and 2 to /dev/null (HiGHS prints a banner in C)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # pragma: no cover
        yield
        return
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                pass
        yield
    finally:
        for fd, copy_fd in saved:
            os.dup2(copy_fd, fd)
            os.close(copy_fd)
        os.close(devnull)


def solver_version(name: str) -> str:
    if name == "highs":
        try:
            import highspy

            h = _highs_quiet()
            return f"HiGHS {h.version()}" if hasattr(h, "version") else f"highspy {highspy.__version__}"
        except Exception:  # pragma: no cover
            return "HiGHS"
    return "CBC (PuLP " + pulp.__version__ + ")"


def _highs_quiet():
    import highspy

    with silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _cbc(mip: bool, time_limit: float | None = None, gap: float = MIP_REL_GAP) -> pulp.LpSolver:
    """The one place that names PuLP's CBC wrapper (PULP_CBC_CMD is deprecated in PuLP 3.3)."""
    opts = dict(msg=False, mip=mip, gapRel=gap if mip else None, timeLimit=time_limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(**opts)
        if not solver.available():  # pragma: no cover - PuLP 4 ships CBC through the pulp[cbc] extra
            solver = pulp.COIN_CMD(**opts)
    if not solver.available():  # pragma: no cover
        raise SolveError("CBC is not available: install it with pip install 'pulp[cbc]'")
    return solver


def _backend(name: str, mip: bool, time_limit: float | None = None, gap: float = MIP_REL_GAP) -> pulp.LpSolver:
    if name == "highs":
        return pulp.HiGHS(msg=False, mip=mip, gapRel=gap if mip else None, timeLimit=time_limit)
    if name == "cbc":
        return _cbc(mip, time_limit, gap)
    raise InputError(f"unknown solver {name!r}; choose one of: {', '.join(SOLVERS)}")


_STATUS = {
    pulp.LpStatusOptimal: Status.OPTIMAL,
    pulp.LpStatusInfeasible: Status.INFEASIBLE,
    pulp.LpStatusUnbounded: Status.UNBOUNDED,
}


def row_scales(lm: LinearModel) -> np.ndarray:
    """Per-row divisors so each row's largest coefficient (per solver column) is 1.

    Money rows carry coefficients of 1e5 and right-hand sides of 1e10; share
    rows mix signs around 0. Unscaled, HiGHS's MIP can return a clearly
    suboptimal "optimal" plan when the optimum sits exactly on a share row
    (seen on h20-licence-denied.yaml). Every backend solves the scaled rows;
    duals are unscaled back (shadow = scaled dual / divisor).
    """
    if not len(lm.rows):
        return np.ones(0)
    if not len(lm.vars):
        return np.ones(len(lm.rows))
    return divisors(np.abs(lm.A * lm.scale))


def divisors(a: np.ndarray) -> np.ndarray:
    """Row divisors for a matrix of absolute coefficients: the row's largest, except wide rows.

    A row whose coefficients span more than 1e6 (a CNY 1 price next to a CNY 1e9 one)
    is divided by the geometric mean of its extremes instead, rounded to a power of two:
    dividing by the largest pushed the smallest below HiGHS's small_matrix_value (1e-9),
    which drops it as zero, so that chip became free and the scenario "unbounded".
    """
    a = np.atleast_2d(a)
    big = a.max(axis=1)
    small = np.where(a > 0, a, np.inf).min(axis=1)
    small = np.where(np.isfinite(small), small, big)
    wide = big > 1e6 * small
    gm = 2.0 ** np.round(np.log2(np.sqrt(big * small), where=wide, out=np.zeros_like(big)))
    m = np.where(wide, gm, big)
    m[m == 0] = 1.0
    return m


def unaffordable_columns(lm: LinearModel) -> list[int]:
    """Columns of which not even one lot fits a budget-like row (all coefficients >= 0, <=).

    Whole lots of them are 0 anyway; saying so as a bound matters because a MILP
    solver accepts 1e-6 of a lot as "whole" (HiGHS's mip_feasibility_tolerance):
    with a CNY 1,000 budget and a CNY 1e9 chip worth 2e9 TOPS, HiGHS's answer was
    1e-6 of that chip, which rounds to a plan that buys nothing at all.
    """
    if not len(lm.rows) or not len(lm.vars):
        return []
    step = lm.A * lm.scale  # per lot
    rhs = lm.b
    out = []
    for i, r in enumerate(lm.rows):
        if r.sense != "<=" or (step[i] < 0).any():
            continue
        out += [int(j) for j in np.flatnonzero(step[i] > max(rhs[i], 0.0) * (1 + 1e-9))]
    return sorted(set(out))


def _to_pulp(lm: LinearModel, integer: bool):
    prob = pulp.LpProblem("chipalloc", pulp.LpMaximize)
    xs = [prob.add_variable(f"x{i}", 0, None, cat=pulp.LpInteger if integer else pulp.LpContinuous) for i in range(len(lm.vars))]
    scale = lm.scale
    rs = row_scales(lm)
    if integer:
        for j in unaffordable_columns(lm):
            xs[j].upBound = 0
    prob += pulp.lpSum(float(lm.c[j] * scale[j]) * xs[j] for j in range(len(xs)) if lm.c[j] != 0)
    cons = []
    for i, r in enumerate(lm.rows):
        expr = pulp.LpAffineExpression([(xs[j], float(lm.A[i, j] * scale[j] / rs[i])) for j in np.flatnonzero(lm.A[i])])
        rhs = r.rhs / rs[i]
        con = expr <= rhs if r.sense == "<=" else expr >= rhs
        prob += con, f"r{i}"
        cons.append(f"r{i}")
    return prob, xs, cons


def _run(prob: pulp.LpProblem, name: str, mip: bool, time_limit: float | None = None,
         gap: float = MIP_REL_GAP) -> Status:
    """Solve; a time-limited MILP that stops early is *not* OPTIMAL here (PuLP says it is)."""
    solver = _backend(name, mip, time_limit, gap)
    try:
        with silenced():
            prob.solve(solver)
    except pulp.PulpSolverError as e:
        raise SolveError(f"{name} failed: {e}") from None
    st = _STATUS.get(prob.status)
    if st is None:
        # PuLP reports "Not Solved"/"Undefined" for both infeasible MILPs and solver failures
        return Status.INFEASIBLE if prob.status == pulp.LpStatusUndefined else Status.ERROR
    if time_limit is not None and st is Status.OPTIMAL and prob.sol_status != pulp.LpSolutionOptimal:
        return Status.ERROR  # stopped by the time limit with (at best) a feasible plan
    return st


def _lp_duals(lm: LinearModel, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Shadow prices per row and reduced costs per unit, from the continuous problem."""
    prob, xs, cons = _to_pulp(lm, integer=False)
    st = _run(prob, name, mip=False)
    if st is not Status.OPTIMAL:  # pragma: no cover - the MILP was optimal, so is its relaxation
        return np.full(len(lm.rows), np.nan), np.full(len(lm.vars), np.nan)
    return _duals(lm, name, prob, xs, cons)


def _duals(lm: LinearModel, name: str, prob, xs, cons) -> tuple[np.ndarray, np.ndarray]:
    """Duals in our convention, unscaled to the rows as written in the model."""
    sign = -1.0 if name == "highs" else 1.0
    pis = np.array([sign * (prob.get_constraint_by_name(c).pi or 0.0) for c in cons], dtype=float) / row_scales(lm)
    djs = np.array([sign * (x.dj or 0.0) for x in xs], dtype=float) / lm.scale
    return pis + 0.0, djs + 0.0


def _highs_ambiguous(prob: pulp.LpProblem) -> bool:
    """HiGHS answered "unbounded or infeasible", which PuLP reports as infeasible.

    HiGHS's MIP says this when nothing limits purchases (no budget, no
    capacity), so without a second look an unbounded scenario would exit 3.
    """
    model = getattr(prob, "solverModel", None)
    if model is None:
        return False
    try:
        import highspy

        return model.getModelStatus() == highspy.HighsModelStatus.kUnboundedOrInfeasible
    except Exception:  # pragma: no cover - not a highspy model
        return False


def _feasibility(lm: LinearModel, name: str, integer: bool) -> Status:
    """Tell infeasible from unbounded: does any plan meet every rule?

    Minimising the number of lots is bounded below by 0, so the answer is
    optimal (feasible: the maximisation was unbounded) or infeasible.
    """
    prob, xs, _ = _to_pulp(lm, integer)
    prob.sense = pulp.LpMinimize
    prob.setObjective(pulp.lpSum(xs))
    st = _run(prob, name, mip=integer)
    return Status.UNBOUNDED if st is Status.OPTIMAL else Status.INFEASIBLE


def _hold_optimal_face(lm: LinearModel, name: str, prob, xs, cons, prob2) -> None:
    """Restrict the LP tie-break solve to the set of TOPS-optimal plans.

    Complementary slackness: with the first solve's duals, a feasible plan is
    optimal iff it buys nothing whose reduced cost is negative and keeps every
    row with a non-zero dual tight. Holding only the objective within TIE_REL
    lets the spend-minimising solve trade up to 1e-7 of the optimum for money
    (LP plans came back with 12.499997 units and dust rows of 6e-06 units).
    """
    sign = -1.0 if name == "highs" else 1.0
    tol = 1e-9 * max(1.0, float(np.abs(lm.c * lm.scale).max()))
    for x in xs:
        if sign * (x.dj or 0.0) < -tol:
            x.upBound = 0
    for c in cons:
        if abs(prob.get_constraint_by_name(c).pi or 0.0) > tol:
            prob2.get_constraint_by_name(c).sense = pulp.LpConstraintEQ


def drop_dust(lm: LinearModel, units: np.ndarray) -> np.ndarray:
    """Zero solver noise: below 1e-9 units *and* negligible in every row and the objective.

    1e-9 units alone is not noise when a unit costs CNY 1e12 (CNY 1,000 of a domestic
    share row): zeroing it broke the plan the verifier then checked.
    """
    units = np.array(units, dtype=float)
    for j in np.flatnonzero(np.abs(units) < 1e-9):
        weight = np.abs(lm.A[:, j] * units[j]).max() if len(lm.rows) else 0.0
        if weight <= 1e-9 and abs(lm.c[j] * units[j]) <= 1e-9:
            units[j] = 0.0
    return units


def solve(lm: LinearModel, solver: str = "highs", tie_break: bool = True, duals: bool = True) -> SolveResult:
    """Maximise effective TOPS, then minimise spend among the maxima."""
    integer = lm.integer
    n = len(lm.vars)
    if n == 0:
        # nothing may be bought anywhere: feasible only if no row demands a purchase
        feas = all((r.sense == "<=" and r.rhs >= 0) or (r.sense == ">=" and r.rhs <= 0) for r in lm.rows)
        return SolveResult(
            Status.OPTIMAL if feas else Status.INFEASIBLE, solver, np.zeros(0), 0.0,
            np.zeros(len(lm.rows)), np.zeros(0), "relaxation" if integer else "lp", solver_version(solver),
        )
    prob, xs, cons = _to_pulp(lm, integer)
    st = _run(prob, solver, mip=integer)
    if st is Status.INFEASIBLE and _highs_ambiguous(prob):
        st = _feasibility(lm, solver, integer)
    if st is not Status.OPTIMAL:
        return SolveResult(st, solver, np.zeros(n), float("nan"), solver_version=solver_version(solver))
    lots = np.array([x.value() or 0.0 for x in xs], dtype=float)
    opt = float(np.dot(lm.c * lm.scale, lots))
    pis = djs = None
    basis = "relaxation" if integer else "lp"
    if duals:
        if integer:
            pis, djs = _lp_duals(lm, solver)
        else:
            pis, djs = _duals(lm, solver, prob, xs, cons)
    tie_note = ""
    if tie_break and opt > 0:
        floor = opt - TIE_REL * abs(opt)
        prob2 = pulp.LpProblem("chipalloc_tiebreak", pulp.LpMinimize)
        for c in cons:
            prob2 += prob.get_constraint_by_name(c).copy(), c
        if not integer:
            _hold_optimal_face(lm, solver, prob, xs, cons, prob2)
        cmax = float(divisors(np.abs(lm.c * lm.scale))[0])  # the largest, unless TOPS span > 1e6
        smax = float(np.abs(lm.spend * lm.scale).max()) or 1.0
        prob2 += pulp.lpSum(float(lm.c[j] * lm.scale[j] / cmax) * xs[j] for j in range(n)) >= floor / cmax, "objective_floor"
        prob2 += pulp.lpSum(float(lm.spend[j] * lm.scale[j] / smax) * xs[j] for j in range(n))
        st2 = _run(prob2, solver, mip=integer, time_limit=TIE_BREAK_SECONDS if integer else None, gap=TIE_GAP)
        found = [x.value() for x in xs]
        if st2 is Status.OPTIMAL:
            lots = np.array([v or 0.0 for v in found], dtype=float)
        elif integer:
            cand = np.round(np.array([v if v is not None else np.nan for v in found], dtype=float))
            lots, tie_note = tie_break_fallback(lm, lots, cand, floor)
    if integer:
        lots = np.round(lots)
    units = drop_dust(lm, lots * lm.scale)
    res = SolveResult(
        Status.OPTIMAL, solver, units, float(np.dot(lm.c, units)), pis, djs, basis, solver_version(solver)
    )
    if tie_note:
        res.extra["tie_break"] = tie_note
    return res


def tie_break_fallback(lm: LinearModel, lots: np.ndarray, cand: np.ndarray, floor: float) -> tuple[np.ndarray, str]:
    """After a tie-break stopped by its time limit: its incumbent if usable, else the first plan; and the note."""
    note = f"least-spend tie-break stopped after {TIE_BREAK_SECONDS:g} s; "
    if better_tie(lm, lots, cand, floor):
        return cand, note + "the plan is the cheapest found with maximum effective TOPS, not proven the cheapest"
    return lots, note + "the plan has maximum effective TOPS; a cheaper plan with the same TOPS may exist"


def better_tie(lm: LinearModel, lots: np.ndarray, cand: np.ndarray, floor: float) -> bool:
    """Is ``cand`` (lots) a usable tie-break answer: finite, feasible, at the TOPS floor, no dearer?"""
    if not np.all(np.isfinite(cand)) or np.any(cand < 0):
        return False
    if float(np.dot(lm.c * lm.scale, cand)) < floor:
        return False
    if float(np.dot(lm.spend * lm.scale, cand)) > float(np.dot(lm.spend * lm.scale, lots)):
        return False
    act = (lm.A * lm.scale) @ cand if len(lm.rows) else np.zeros(0)
    for r, a, full in zip(lm.rows, act, np.abs(lm.A * lm.scale) @ cand if len(lm.rows) else []):
        tol = 1e-9 * max(1.0, abs(r.rhs), full)
        if (r.sense == "<=" and a > r.rhs + tol) or (r.sense == ">=" and a < r.rhs - tol):
            return False
    return True
