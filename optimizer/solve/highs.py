"""The HiGHS backend (highspy): solving, re-solving, tie-break, feasibility checks and ranging, written once.

:class:`HighsBackend` holds one ``highspy.Highs`` model of a
:class:`~optimizer.solve.numerics.ScaledProblem` and updates it in place:
:meth:`HighsBackend.update` pushes only the numbers that differ (costs,
bounds, matrix coefficients), so HiGHS keeps its basis and warm-starts. The
what-if engine keeps one per model structure; ``solve`` makes a fresh one.

HiGHS sees ``min -c.x`` over the scaled rows plus one extra row, the
objective floor ``(c / cmax).x >= floor`` of the tie-break (free while
maximising). Duals come back in chipalloc's convention (d objective / d rhs
of the row as written; see :mod:`optimizer.solve.result`).

Determinism: HiGHS's thread count is process-wide (its task scheduler is
global), so it is fixed once per process, to ``CHIPALLOC_HIGHS_THREADS``
(default 1: single-threaded MILPs were about 3x faster on these models, and
the same input gives the same plan on every machine). No time limit is ever
set; the only bounds are deterministic (a node limit on the tie-break MILP).
"""
from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from .numerics import MIP_REL_GAP, ScaledProblem
from .result import Status, silenced

NODE_LIMIT = 20_000  # deterministic bound on every branch-and-bound (never a clock); the gap reached is reported
TIE_MAX_NODES = NODE_LIMIT
_THREADS: int | None = None

# HiGHS options of every MILP model, beyond the gap and the node limit (which decide what a plan is proven to);
# chosen by benchmarks/bench_highs_options.py: each one cuts time without changing any plan (tested against
# HiGHS's defaults in tests/solve/test_highs_options.py)
MIP_OPTIONS: dict[str, object] = {
    # a heuristic only (the MILP is still solved to MIP_REL_GAP): on these models it cost more than the whole
    # branch-and-bound
    "mip_heuristic_run_feasibility_jump": False,
}


def threads() -> int:
    """HiGHS threads for this process, fixed at the first HiGHS model (CHIPALLOC_HIGHS_THREADS, default 1)."""
    global _THREADS
    if _THREADS is None:
        try:
            _THREADS = max(1, int(os.environ.get("CHIPALLOC_HIGHS_THREADS", "1")))
        except ValueError:
            _THREADS = 1
    return _THREADS


def new_highs():
    """A silent HiGHS instance with the process's fixed thread count."""
    import highspy

    with silenced():  # the constructor prints HiGHS's banner from C
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads())
    h.setOptionValue("random_seed", 0)
    return h


def version() -> str:
    import highspy

    try:
        h = new_highs()
        return f"HiGHS {h.version()}"
    except Exception:  # pragma: no cover
        return f"highspy {getattr(highspy, '__version__', '')}".strip()


def pass_model(h, A: sp.csr_matrix, cost, col_lo, col_up, row_lo, row_up, integer: np.ndarray | None) -> None:
    """Load a whole model into the Highs object ``h`` (one passModel): objective ``cost`` (minimised unless the
    caller changes the sense), the rows of ``A`` and the bounds (infinite ones as HiGHS's infinity); ``integer``
    marks whole columns. Shared by the solver backend and simulate's draw LPs."""
    import highspy

    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    n = A.shape[1]
    m = A.shape[0]
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(col_lo), col_lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_up), col_up, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_up), row_up, inf)
    csc = A.tocsc()
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    if integer is not None and integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integer]
    with silenced():
        h.passModel(lp)


class HighsBackend:
    """One HiGHS model of a scaled problem's structure (MILP when ``mip``, else its continuous relaxation)."""

    name = "highs"

    def __init__(self, prob: ScaledProblem, mip: bool):
        import highspy

        self.hs = highspy
        self.inf = highspy.kHighsInf
        self.mip = bool(mip and prob.mip)
        self.h = new_highs()
        self.node_limited = False  # the last MILP stopped at NODE_LIMIT (with a feasible plan)
        if self.mip:
            self.h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
            self.h.setOptionValue("mip_max_nodes", NODE_LIMIT)
            for name, value in MIP_OPTIONS.items():
                self.h.setOptionValue(name, value)
        self._load(prob)
        cost, col_lo, col_up, lo, up = self._phase1()
        pass_model(self.h, self.Af, cost, col_lo, col_up, lo, up, prob.integer if self.mip else None)
        self.held = (cost, col_lo, col_up, lo, up, self.Af.copy())
        # presolve as set (MIP_OPTIONS may say "off"); the tie-break MILP turns it off for its start, then back
        self._presolve_default = str(MIP_OPTIONS.get("presolve", "choose")) if self.mip else "choose"
        self._presolve = self._presolve_default

    # ------------------------------------------------------------------ data
    def _load(self, prob: ScaledProblem) -> None:
        self.prob = prob
        n, m = prob.n, prob.m
        self.n, self.m = n, m
        c = prob.c
        big = np.abs(c).max() if n else 1.0
        self.cmax = float(big) if big > 0 else 1.0
        self.smax = float(np.abs(prob.spend).max(initial=0.0)) or 1.0
        c2 = prob.c2 if prob.c2 is not None else np.zeros(n)
        big2 = np.abs(c2).max(initial=0.0)
        self.c2max = float(big2) if big2 > 0 else 1.0
        floor_rows = sp.csr_matrix(np.vstack([c / self.cmax, c2 / self.c2max])) if n else sp.csr_matrix((2, 0))
        self.Af = sp.vstack([prob.A, floor_rows], format="csr") if m else floor_rows
        self.Af.eliminate_zeros()

    def _phase1(self, box=None):
        """Cost, column bounds and row bounds (the model's rows, then the two objective floors) to maximise;
        ``box`` (:class:`optimizer.solve.fixing.Box`): its column bounds and row ranges instead."""
        p = self.prob
        if box is not None:
            return (-p.c, box.col_lo.copy(), box.col_up.copy(), np.append(box.row_lo, [-np.inf, -np.inf]),
                    np.append(box.row_up, [np.inf, np.inf]))
        return (-p.c, p.col_lo.copy(), p.upper(self.mip), np.append(p.row_lo, [-np.inf, -np.inf]),
                np.append(p.row_up, [np.inf, np.inf]))

    def _push(self, cost, col_lo, col_up, lo, up, A: sp.csr_matrix | None = None) -> int:
        h = self.h
        hc, hcl, hcu, hlo, hup, hA = self.held
        changed = 0
        k = np.flatnonzero(cost != hc)
        if k.size:
            h.changeColsCost(k.size, k.astype(np.int32), cost[k].astype(float))
            changed += k.size
        k = np.flatnonzero((col_lo != hcl) | (col_up != hcu))
        if k.size:
            h.changeColsBounds(k.size, k.astype(np.int32), _finite(col_lo[k], self.inf), _finite(col_up[k], self.inf))
            changed += k.size
        k = np.flatnonzero((lo != hlo) | (up != hup))
        if k.size:
            h.changeRowsBounds(k.size, k.astype(np.int32), _finite(lo[k], self.inf), _finite(up[k], self.inf))
            changed += k.size
        if A is not None:
            D = (A - hA).tocoo()
            D.eliminate_zeros()
            if D.nnz:
                rows, cols = D.row, D.col
                vals = np.asarray(A[rows, cols]).ravel()
                for i, j, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
                    h.changeCoeff(i, j, v)
                changed += D.nnz
            hA = A.copy()
        self.held = (cost.copy(), col_lo.copy(), col_up.copy(), lo.copy(), up.copy(), hA)
        return changed

    def update(self, prob: ScaledProblem) -> int:
        """Hold ``prob`` (same structure) instead; returns how many numbers changed in HiGHS.

        The next solve starts cold (``clearSolver``), and a matrix whose sparsity pattern changed is
        passed whole rather than patched, so HiGHS holds exactly the data a fresh model would: every
        point's plan is the plan ``solve`` gives on its own, bit for bit, whatever came before it (a
        sweep split across workers gives the serial run's answers, even where optima tie).
        """
        self._load(prob)
        hA = self.held[5]
        same_pattern = (hA.shape == self.Af.shape and np.array_equal(hA.indptr, self.Af.indptr)
                        and np.array_equal(hA.indices, self.Af.indices))
        if not same_pattern:
            cost, col_lo, col_up, lo, up = self._phase1()
            pass_model(self.h, self.Af, cost, col_lo, col_up, lo, up, prob.integer if self.mip else None)
            self.held = (cost, col_lo, col_up, lo, up, self.Af.copy())
            changed = int(self.Af.nnz)
        else:
            changed = self._push(*self._phase1(), A=self.Af)
        with silenced():
            self.h.clearSolver()
        return changed

    # ------------------------------------------------------------------ runs
    def _options(self, presolve_off: bool = False) -> None:
        want = "off" if presolve_off else self._presolve_default
        if want != self._presolve:
            self.h.setOptionValue("presolve", want)
            self._presolve = want

    def _run(self) -> None:
        with silenced():
            self.h.run()

    def _model_status(self):
        return self.h.getModelStatus()

    def _has_plan(self) -> bool:
        return int(self.h.getInfo().primal_solution_status) == 2  # kSolutionStatusFeasible

    def _status(self) -> Status:
        st = self._model_status()
        MS = self.hs.HighsModelStatus
        self.node_limited = False
        if st == MS.kOptimal:
            return Status.OPTIMAL
        if st == MS.kSolutionLimit and self.mip and self._has_plan():
            self.node_limited = True  # stopped at NODE_LIMIT: the plan stands, with the gap it proved
            return Status.OPTIMAL
        if st == MS.kInfeasible:
            return Status.INFEASIBLE
        if st == MS.kUnbounded:
            return Status.UNBOUNDED
        if st == MS.kUnboundedOrInfeasible:
            return self._feasibility()
        return Status.ERROR

    def _feasibility(self) -> Status:
        """HiGHS said "unbounded or infeasible": with a zero objective, feasible means the maximisation was unbounded."""
        _, col_lo, col_up, lo, up = self._phase1()
        self._push(np.zeros(self.n), col_lo, col_up, lo, up)
        self._run()
        feasible = self._model_status() == self.hs.HighsModelStatus.kOptimal
        return Status.UNBOUNDED if feasible else Status.INFEASIBLE

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=float)[: self.n]

    def maximise(self, box=None) -> tuple[Status, np.ndarray]:
        """Maximise the objective (within ``box``: see :mod:`optimizer.solve.fixing`). Returns status and lots."""
        self._options()
        self._push(*self._phase1(box))
        self._run()
        st = self._status()
        return st, (self.values() if st is Status.OPTIMAL else np.zeros(self.n))

    def mip_gap(self) -> float | None:
        if not self.mip:
            return None
        try:
            return float(self.h.getInfo().mip_gap)
        except Exception:  # pragma: no cover
            return None

    def raw_duals(self) -> tuple[np.ndarray, np.ndarray]:
        sol = self.h.getSolution()
        return np.asarray(sol.row_dual, dtype=float)[: self.m], np.asarray(sol.col_dual, dtype=float)[: self.n]

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Shadow prices per model row and reduced costs per lot of the last (continuous) maximisation, in
        chipalloc's convention, still divided by the row scaling (see lexicographic.unscale)."""
        rd, cd = self.raw_duals()
        return -rd + 0.0, -cd + 0.0

    def maximise_secondary(self, floor: float) -> tuple[Status, np.ndarray]:
        """Maximise the secondary objective (expected TOPS) with the objective held at ``>= floor``."""
        _, col_lo, col_up, lo, up = self._phase1()
        lo[self.m] = floor / self.cmax
        self._options()
        self._push(-self.prob.c2, col_lo, col_up, lo, up)
        self._run()
        st = self._status()
        return st, (self.values() if st is Status.OPTIMAL else np.zeros(self.n))

    def min_spend(self, floor: float, face: tuple[np.ndarray, np.ndarray] | None = None,
                  start: np.ndarray | None = None, floor2: float | None = None,
                  box=None) -> tuple[Status, np.ndarray, bool]:
        """Minimise spend with the objective held at ``>= floor``. Returns (status, lots, node limit hit).

        ``face`` (continuous problems): the maximisation's raw duals; columns with a negative reduced
        cost are fixed at 0 and rows with a non-zero dual are held as equalities (complementary
        slackness), so the solve stays on the optimal face. ``start`` (MILPs): the maximisation's plan,
        given to HiGHS as a starting solution with presolve off (with presolve on and a start, HiGHS 1.16
        can return the start as optimal after 0 nodes with a wrong objective). ``box``: column bounds and
        row ranges that hold every plan with objective >= ``floor`` (:mod:`optimizer.solve.fixing`).
        """
        _, col_lo, col_up, lo, up = self._phase1(box)
        cost = self.prob.spend / self.smax
        lo = lo.copy()
        up = up.copy()
        if face is not None:
            rd, cd = face
            tol = 1e-9 * max(1.0, float(np.abs(self.prob.c).max(initial=0.0)))
            col_up = np.where(-cd < -tol, np.minimum(col_up, 0.0), col_up)
            col_lo = np.where(-cd < -tol, np.minimum(col_lo, 0.0), col_lo)
            for i in np.flatnonzero(np.abs(rd) > tol):
                b = lo[i] if np.isfinite(lo[i]) else up[i]
                lo[i] = up[i] = b
        lo[self.m] = floor / self.cmax
        if floor2 is not None:
            lo[self.m + 1] = floor2 / self.c2max
        self._push(cost, col_lo, col_up, lo, up)
        if self.mip:
            self._options(presolve_off=True)
            if start is not None:
                import highspy

                sol = highspy.HighsSolution()
                sol.col_value = [float(x) for x in start]
                sol.value_valid = True
                with silenced():
                    self.h.setSolution(sol)
        self._run()
        MS = self.hs.HighsModelStatus
        st = self._model_status()
        hit = bool(self.mip and st == MS.kSolutionLimit)
        x = None
        if st == MS.kOptimal or (hit and self._has_plan()):
            x = self.values()
        self._options()
        if x is None:
            return Status.ERROR, np.zeros(self.n), hit
        return (Status.OPTIMAL if st == MS.kOptimal else Status.ERROR), x, hit

    def relaxed_min_spend(self, floor: float, floor2: float | None = None) -> float | None:
        """The least spend of the continuous relaxation with the objective held at ``>= floor`` (a lower bound
        on any whole-lot plan's spend at that objective), or None when it cannot be computed."""
        if not hasattr(self, "_relax"):
            self._relax = HighsBackend(self.prob, mip=False)
        else:
            self._relax.update(self.prob)
        r = self._relax
        st, x, _ = r.min_spend(floor, floor2=floor2)
        if st is not Status.OPTIMAL:
            return None
        return float(np.dot(self.prob.spend, x))

    def feasible(self, keep: np.ndarray) -> bool:
        """Is there a plan meeting the rows in ``keep`` (bool per model row; the others dropped)?"""
        _, col_lo, col_up, lo, up = self._phase1()
        lo = lo.copy()
        up = up.copy()
        keep = np.asarray(keep, dtype=bool)
        drop = np.flatnonzero(~keep)
        lo[drop] = -np.inf
        up[drop] = np.inf
        col_up = self.prob.upper(self.mip, keep)
        self._options()
        self._push(np.zeros(self.n), col_lo, col_up, lo, up)
        self._run()
        st = self._model_status()
        MS = self.hs.HighsModelStatus
        if st == MS.kOptimal:
            return True
        if st in (MS.kInfeasible,):
            return False
        if st == MS.kUnboundedOrInfeasible:  # pragma: no cover - a zero objective is never unbounded
            return False
        raise RuntimeError(f"HiGHS could not decide feasibility ({self.h.modelStatusToString(st)})")


def _finite(x: np.ndarray, inf: float) -> np.ndarray:
    return np.where(np.isfinite(x), x, np.where(x > 0, inf, -inf)).astype(float)


# ---------------------------------------------------------------------- ranging (sensitivity report)
def ranging(prob: ScaledProblem, target_lots: np.ndarray | None = None):
    """HiGHS ranging of the continuous problem ``max c.x`` over the scaled rows.

    ``target_lots``: the plan when it is this LP's optimum; the ranging is then taken at that
    point (crossover from it with the optimal duals), since with several optimal plans simplex
    may stop at another vertex than the cheapest one the tie-break picked.
    Returns None when the LP has no optimal basis, else (x, row_value, row_dual, col_dual,
    col_basic, row_basic, ranging) in HiGHS's maximisation convention (duals = d obj / d .).
    """
    import highspy

    def build():
        h = new_highs()
        pass_model(h, prob.A, prob.c, prob.col_lo, prob.col_up, prob.row_lo, prob.row_up, None)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        with silenced():
            h.run()
        return h

    h = build()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    if target_lots is not None and not _close(np.asarray(h.getSolution().col_value, dtype=float), target_lots):
        if not _move_to(h, target_lots):
            h = build()  # keep HiGHS's own optimal vertex
    with silenced():
        status, rng = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rng.valid:
        return None
    sol = h.getSolution()
    basis = h.getBasis()
    B = highspy.HighsBasisStatus.kBasic
    col_basic = np.array([s == B for s in basis.col_status], dtype=bool)
    row_basic = np.array([s == B for s in basis.row_status], dtype=bool)
    return (np.asarray(sol.col_value, dtype=float), np.asarray(sol.row_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float),
            col_basic, row_basic, rng)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-7 * np.maximum(1.0, np.abs(b))))


def _move_to(h, target: np.ndarray) -> bool:
    """Re-base ``h`` (solved, optimal) at the optimal point ``target`` by crossover."""
    import highspy

    obj = h.getInfo().objective_function_value
    sol = h.getSolution()
    start = highspy.HighsSolution()
    start.col_value = [float(x) for x in target]
    start.value_valid = True
    start.col_dual = list(sol.col_dual)
    start.row_dual = list(sol.row_dual)
    start.dual_valid = True
    with silenced():
        if h.crossover(start) != highspy.HighsStatus.kOk:
            return False
        h.setBasis(h.getBasis())
        h.run()
    ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    x = np.asarray(h.getSolution().col_value, dtype=float)
    return ok and _close(x, target) and abs(h.getInfo().objective_function_value - obj) <= 1e-9 * max(1.0, abs(obj))
