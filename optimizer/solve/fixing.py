"""Reduced-cost fixing before a whole-lot MILP: a box that holds every plan at least as good as a known one.

Why: on chipalloc's models HiGHS's MILP time is mostly fixed overhead at the
root node, and most of it is the bookkeeping of its own reduced-cost fixing
(``HighsRedcostFixing::addRootRedcost``), which is quadratic in the domain
of each whole column with a non-zero reduced cost, up to about a thousand
values: a 4-column MILP of the baseline costs 5-20 ms whatever its size.
Given domains of a few lots instead, the same MILP costs about 1 ms
(``benchmarks/README.md``, "HiGHS options").

What (the Lagrangian bound; Nemhauser & Wolsey, II.5): for multipliers ``y``
of the rows (any, with the sign of the bound each one presses on; the LP
relaxation's duals here), every plan ``x`` meeting the rows and the column
bounds has

    c.x = y.(A x) + d.x <= L - sum_i |y_i| s_i - sum_j |d_j| t_j,     d = c - A'y,

where ``L = sum_i y_i b_i + sum_j max(d_j lo_j, d_j up_j)`` is the bound,
``s_i >= 0`` the slack of row ``i`` from the bound ``b_i`` its multiplier
presses on, and ``t_j >= 0`` the distance of ``x_j`` from the column bound
that maximises ``d_j x_j``. So a plan with ``c.x >= z`` has every
``|y_i| s_i <= L - z`` and ``|d_j| t_j <= L - z``: rows get a second bound and
whole columns a bound that follow from that, and no such plan is cut off.
``z`` is a whole-lot plan's value before the first MILP (found by rounding the
relaxation's plan: order indicators up and units down, or all down; failing that,
the same rounding of the plan of the relaxation whose rows are moved in by what
the rounding can cost them; see ``Solver._whole_plan``), and the tie-break's floor
before the second. Where no whole-lot plan is found that way, the MILP runs
without a box.

Every number is computed in floating point from the problem's own data (the
multipliers only need the right sign, so their error cannot invalidate the
bound); ``L - z`` gets a margin of ``MARGIN`` times the magnitude of the
terms summed, and bounds are rounded outwards. Columns without a finite
upper bound get the one their ``<=`` rows with no negative coefficient imply
(a budget: at most budget / price lots); where even that is missing and the
column's reduced cost is not zero, there is no box (the MILP runs as it is).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .numerics import ScaledProblem

MARGIN = 1e-7  # relative slack added to L - z, against rounding in the sums (their error is about 1e-16 x n)


@dataclass
class Box:
    """Column bounds (in lots) and row ranges (scaled rows) holding every plan with objective >= ``floor``."""

    col_lo: np.ndarray
    col_up: np.ndarray
    row_lo: np.ndarray
    row_up: np.ndarray
    floor: float  # the objective value the box is for
    bound: float  # the Lagrangian bound L on the objective (>= the optimum of the relaxation)


def implied_upper(prob: ScaledProblem, col_up: np.ndarray) -> np.ndarray:
    """``col_up`` tightened by every ``<=`` row with no negative coefficient over columns at >= 0 (budgets,
    capacities, power): such a row caps each of its columns at rhs / coefficient."""
    out = np.array(col_up, dtype=float)
    A = prob.A
    if prob.m == 0 or A.nnz == 0:
        return out
    A = A.tocsr()
    n_rows = A.shape[0]
    has_neg = np.zeros(n_rows, dtype=bool)
    rows_of = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    neg = A.data < 0
    has_neg[rows_of[neg]] = True
    nonneg_cols = prob.col_lo >= 0
    bad_col_rows = np.zeros(n_rows, dtype=bool)
    bad_col_rows[rows_of[~nonneg_cols[A.indices]]] = True
    ok = np.isfinite(prob.row_up) & ~has_neg & ~bad_col_rows & (prob.row_up >= 0)
    sel = ok[rows_of] & (A.data > 0)
    if sel.any():
        caps = prob.row_up[rows_of[sel]] / A.data[sel]
        np.minimum.at(out, A.indices[sel], caps)
    return out


def box(prob: ScaledProblem, y: np.ndarray, floor: float, col_up: np.ndarray) -> Box | None:
    """The box for plans with objective >= ``floor`` from multipliers ``y`` (one per row of ``prob``), or None
    when the bound is not finite or does not reach ``floor`` (nothing to tighten with).

    ``col_up``: the columns' upper bounds in the MILP (``prob.upper(True)``).
    """
    c = prob.c
    rlo, rup = prob.row_lo, prob.row_up
    y = np.asarray(y, dtype=float)
    # a multiplier may only press on a bound that exists
    y = np.where(((y > 0) & ~np.isfinite(rup)) | ((y < 0) & ~np.isfinite(rlo)), 0.0, y)
    row_term = np.where(y > 0, y * np.where(np.isfinite(rup), rup, 0.0),
                        np.where(y < 0, y * np.where(np.isfinite(rlo), rlo, 0.0), 0.0))
    d = c - (prob.A.T @ y if prob.m else np.zeros(prob.n))
    lo = prob.col_lo
    up = implied_upper(prob, col_up)
    if np.any((d > 0) & ~np.isfinite(up)) or np.any((d < 0) & ~np.isfinite(lo)):
        return None
    col_term = np.where(d > 0, d * np.where(np.isfinite(up), up, 0.0), np.where(d < 0, d * np.where(np.isfinite(lo), lo, 0.0), 0.0))
    L = float(row_term.sum() + col_term.sum())
    size = float(np.abs(row_term).sum() + np.abs(col_term).sum() + abs(floor) + np.abs(c).sum())
    gap = L - floor + MARGIN * size
    if not np.isfinite(gap) or gap < 0:
        return None
    whole = prob.integer
    new_lo = np.array(lo, dtype=float)
    new_up = np.array(col_up, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        down = whole & (d < 0)  # best at its lower bound: at most gap / |d| lots above it
        new_up[down] = np.minimum(new_up[down], np.floor(lo[down] + gap / -d[down] + 1e-6))
        upward = whole & (d > 0)  # best at its upper bound: at most gap / d lots below it
        new_lo[upward] = np.maximum(new_lo[upward], np.ceil(up[upward] - gap / d[upward] - 1e-6))
        row_lo = np.array(rlo, dtype=float)
        row_up = np.array(rup, dtype=float)
        press_up = y > 0  # slack below the upper bound at most gap / y
        slack = gap / y[press_up]
        row_lo[press_up] = np.maximum(row_lo[press_up], rup[press_up] - slack - 1e-9 * np.maximum(1.0, np.abs(rup[press_up]) + slack))
        press_lo = y < 0
        slack = gap / -y[press_lo]
        row_up[press_lo] = np.minimum(row_up[press_lo], rlo[press_lo] + slack + 1e-9 * np.maximum(1.0, np.abs(rlo[press_lo]) + slack))
    new_up = np.maximum(new_up, new_lo)  # never an empty domain from rounding (the MILP decides feasibility)
    row_lo = np.minimum(row_lo, row_up)
    return Box(new_lo, new_up, row_lo, row_up, float(floor), L)


def binaries(prob: ScaledProblem) -> np.ndarray:
    """Whole columns between 0 and 1 (order indicators): rounded up, where the others are rounded down."""
    return prob.integer & (prob.col_lo >= 0) & (prob.upper(True) <= 1)


def round_plan(prob: ScaledProblem, x: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Whole columns rounded up where ``up``, down elsewhere (values within 1e-9 of a whole number count as it),
    kept within their bounds."""
    r = np.where(up, np.ceil(x - 1e-9), np.floor(x + 1e-9))
    r = np.where(prob.integer, r, x)
    return np.minimum(np.maximum(r, prob.col_lo), prob.upper(True))


def rounding_shift(prob: ScaledProblem, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds moved in by the most that rounding whole columns (up where ``up``, down elsewhere; by less
    than a lot each) can move each row: a plan of these rows, rounded so, meets the original rows."""
    if prob.m == 0:
        return prob.row_lo.copy(), prob.row_up.copy()
    A = sp.csr_matrix(prob.A)
    down = sp.csr_matrix(A @ sp.diags((prob.integer & ~up).astype(float)))
    rise = sp.csr_matrix(A @ sp.diags((prob.integer & up).astype(float)))
    # rounding down lowers a row by less than its positive entries and raises it by less than its negative ones;
    # rounding up the other way round
    lowers = np.asarray(down.maximum(0).sum(axis=1)).ravel() + np.asarray((-rise).maximum(0).sum(axis=1)).ravel()
    raises = np.asarray((-down).maximum(0).sum(axis=1)).ravel() + np.asarray(rise.maximum(0).sum(axis=1)).ravel()
    return prob.row_lo + lowers, prob.row_up - raises
