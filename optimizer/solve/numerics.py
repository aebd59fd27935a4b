"""What every backend solves: the model scaled for the solver, and the numerics around it.

Columns are solved in *lots* (units / lot size) and every row is divided by
a divisor so that its largest coefficient per lot is 1 (budget rows carry
prices of 1e5 against right-hand sides of 1e10; share rows mix signs around
0). Unscaled, HiGHS's MIP returned a clearly suboptimal "optimal" plan when
the optimum sat on a share row. Divisors are computed without columns fixed
at 0 (a lot nobody can afford must not set a budget row's scale: one lot of a
CNY 21.6M chip made HiGHS's 1e-6 tolerance mean CNY 21.6 there). A row whose
coefficients span more than 1e6 is divided by the geometric mean of its
extremes instead (rounded to a power of two), so the smallest coefficient
stays above HiGHS's small_matrix_value. Duals are unscaled back, so nothing a
user sees depends on the scaling.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce

import numpy as np
import scipy.sparse as sp

from ..model import Model

MIP_REL_GAP = 1e-9  # relative optimality gap a whole-lot plan is proven to (the gap reached is reported)
DUST_LOTS = 1e-9  # solver values this small (in lots) are noise, when zeroing them keeps every row


@dataclass
class ScaledProblem:
    """``max c.x  s.t.  row_lo <= A x <= row_up,  col_lo <= x <= col_up`` in lots and scaled rows."""

    A: sp.csr_matrix
    c: np.ndarray  # objective per lot
    spend: np.ndarray  # spend per lot
    row_lo: np.ndarray
    row_up: np.ndarray
    col_lo: np.ndarray
    col_up: np.ndarray
    integer: np.ndarray  # bool per column
    row_div: np.ndarray  # divisors: scaled row = model row / row_div
    col_scale: np.ndarray  # units per lot
    unaffordable: np.ndarray  # bool per column: whole, and not one lot fits a budget-like row
    c2: np.ndarray | None = None  # the secondary objective per lot (expected TOPS under cvar / worst), or None

    def upper(self, mip: bool, keep: np.ndarray | None = None) -> np.ndarray:
        """Column upper bounds: whole columns nobody can afford one lot of are 0 in the MILP (not in its
        relaxation); with ``keep`` (rows kept, for feasibility of a subset), judged on those rows only."""
        if not mip:
            return self.col_up
        bad = self.unaffordable
        if keep is not None and not np.all(keep):
            rows = np.flatnonzero(keep)
            le = np.isfinite(self.row_up[rows])
            rhs = np.where(le, self.row_up[rows], self.row_lo[rows])
            bad = np.zeros(self.n, dtype=bool)
            bad[unaffordable_columns(self.A[rows], ["<=" if x else ">=" for x in le], rhs, self.integer)] = True
        return np.where(bad, 0.0, self.col_up)

    @property
    def n(self) -> int:
        return self.A.shape[1]

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def mip(self) -> bool:
        return bool(self.integer.any())


def scaled(model: Model, row_scaling: bool = True) -> ScaledProblem:
    """The model in lots with scaled rows (``row_scaling=False``: rows as written, for export)."""
    var = model.var
    scale = var.scale.astype(float)
    col_lo = np.where(np.isfinite(var.lower), var.lower / scale, -np.inf)
    col_up = np.where(np.isfinite(var.upper), var.upper / scale, np.inf)
    A_lots = model.A @ sp.diags(scale) if model.m else sp.csr_matrix((0, model.n))
    A_lots = sp.csr_matrix(A_lots)
    unaffordable = np.zeros(model.n, dtype=bool)
    if var.integer.any():
        unaffordable[unaffordable_columns(A_lots, model.rows.sense, model.rows.rhs, var.integer)] = True
    div = row_divisors(A_lots, unaffordable | (col_up == 0), model.rows.rhs) if row_scaling else np.ones(model.m)
    A_s = sp.csr_matrix(sp.diags(1.0 / div) @ A_lots) if model.m else A_lots
    rhs = model.rows.rhs / div if model.m else np.zeros(0)
    le = np.array([s == "<=" for s in model.rows.sense], dtype=bool)
    row_lo = np.where(le, -np.inf, rhs)
    row_up = np.where(le, rhs, np.inf)
    return ScaledProblem(A_s, model.c * scale, model.spend * scale, row_lo, row_up, col_lo, col_up,
                         var.integer.copy(), div, scale, unaffordable,
                         None if model.c2 is None else model.c2 * scale)


MAX_SCALED_RHS = 1e9  # a right-hand side above this after scaling is brought down (CBC mistook 1e15 for infinite)
MIN_SCALED_COEF = 1e-6  # ... but never so far that a coefficient falls below this


def row_divisors(A: sp.csr_matrix, fixed: np.ndarray, rhs: np.ndarray | None = None) -> np.ndarray:
    """Per row: the largest |coefficient| over columns that are not fixed at 0; the geometric mean of the
    extremes (rounded to a power of two) where they span more than 1e6; 1 for an empty row. Where the
    right-hand side is still above MAX_SCALED_RHS (a CNY 1e15 budget of CNY 1 chips), a larger divisor
    (a power of two) as long as the smallest coefficient stays above MIN_SCALED_COEF."""
    m = A.shape[0]
    if m == 0:
        return np.ones(0)
    absA = abs(A).tocsr()
    if fixed.any():
        absA = sp.csr_matrix(absA @ sp.diags((~fixed).astype(float)))
        absA.eliminate_zeros()
    big = _reduce_rows(absA, np.maximum, 0.0)
    small = _reduce_rows(absA, np.minimum, np.inf)
    small = np.where(np.isfinite(small), small, big)
    wide = big > 1e6 * small
    gm = np.zeros(m)
    if wide.any():
        gm[wide] = 2.0 ** np.round(np.log2(np.sqrt(big[wide] * small[wide])))
    out = np.where(wide, gm, big)
    out[out == 0] = 1.0
    if rhs is not None:
        huge = np.abs(rhs) / out > MAX_SCALED_RHS
        if huge.any():
            want = np.abs(rhs[huge]) / MAX_SCALED_RHS
            most = small[huge] / MIN_SCALED_COEF
            out[huge] = 2.0 ** np.floor(np.log2(np.maximum(out[huge], np.minimum(want, most))))
    return out


def _reduce_rows(A: sp.csr_matrix, op, empty: float) -> np.ndarray:
    """``op`` (np.maximum / np.minimum) over each row's stored entries; ``empty`` for rows without any."""
    m = A.shape[0]
    out = np.full(m, empty, dtype=float)
    counts = np.diff(A.indptr)
    rows = np.flatnonzero(counts)
    if rows.size:
        out[rows] = op.reduceat(A.data, A.indptr[rows])
    return out


def unaffordable_columns(A_lots: sp.csr_matrix, sense: list[str], rhs: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """Whole columns of which not even one lot fits a budget-like row (a ``<=`` row with no negative entry).

    Whole lots of them are 0 anyway; saying so as a bound matters because a MILP solver
    accepts 1e-6 of a lot as "whole" (HiGHS's mip_feasibility_tolerance): with a CNY 1,000
    budget and a CNY 1e9 chip worth 2e9 TOPS, HiGHS's answer was 1e-6 of that chip.
    """
    if A_lots.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    le = np.array([s == "<=" for s in sense], dtype=bool)
    neg_min = _reduce_rows(A_lots, np.minimum, 0.0)
    budget_like = le & (neg_min >= 0)
    coo = A_lots.tocoo()
    row_ok = budget_like[coo.row]
    too_big = coo.data > np.maximum(rhs[coo.row], 0.0) * (1 + 1e-9)
    cols = np.unique(coo.col[row_ok & too_big])
    return cols[integer[cols]]


def lot_step(model: Model) -> Fraction | None:
    """The exact step between effective-TOPS values of whole-lot plans (gcd of the objective per lot), or None.

    Every plan's objective is a whole multiple of this step, so a plan whose objective is more than half
    a step below another's is worse by at least one step.
    """
    exact = model.exact_objective
    if exact is None:
        return None
    per_lot = [exact[j] * int(model.var.scale[j]) for j in range(model.n) if exact[j] != 0]
    if not per_lot:
        return None
    nums = reduce(math.gcd, (f.numerator for f in per_lot))
    dens = reduce(lambda a, b: a * b // math.gcd(a, b), (f.denominator for f in per_lot))
    return Fraction(nums, dens)


def exact_value(model: Model, lots: np.ndarray) -> Fraction | None:
    """The objective of a whole-lot plan in exact arithmetic, or None when not known exactly."""
    exact = model.exact_objective
    if exact is None:
        return None
    total = Fraction(0)
    for j in np.flatnonzero(np.round(lots) != 0):
        total += exact[j] * int(model.var.scale[j]) * int(round(float(lots[j])))
    return total


def clean_dust(prob: ScaledProblem, lots: np.ndarray) -> np.ndarray:
    """Zero values below DUST_LOTS whose removal keeps every row as satisfied as the solver left it.

    1e-10 units at a site that can buy nothing domestic fail its domestic floor if kept; 1e-9 units of
    a CNY 1e12 chip may be the whole plan of a CNY 1,000 budget, and stay.
    """
    lots = np.array(lots, dtype=float)
    tiny = (np.abs(lots) < DUST_LOTS) & (lots != 0)
    if not tiny.any():
        return lots
    before = prob.A @ lots if prob.m else np.zeros(0)
    trial = np.where(tiny, 0.0, lots)
    after = prob.A @ trial if prob.m else np.zeros(0)
    viol_before = np.maximum(np.maximum(prob.row_lo - before, before - prob.row_up), 0.0)
    viol_after = np.maximum(np.maximum(prob.row_lo - after, after - prob.row_up), 0.0)
    worse = viol_after > viol_before + 1e-12
    if worse.any():
        # keep the tiny values that the worsened rows depend on
        keep = np.zeros(prob.n, dtype=bool)
        sub = prob.A[np.flatnonzero(worse)]
        keep[np.unique(sub.indices)] = True
        trial = np.where(tiny & ~keep, 0.0, lots)
    return trial + 0.0


def round_lots(prob: ScaledProblem, lots: np.ndarray) -> np.ndarray:
    """Whole columns to whole numbers (a MILP's 0.9999999 is 1)."""
    return np.where(prob.integer, np.round(lots), lots)
