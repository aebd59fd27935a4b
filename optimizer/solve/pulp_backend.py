"""PuLP, for what it is best at: CBC (``--solver cbc``), any other solver PuLP drives on the user's machine
(``--solver pulp:NAME``, e.g. a licensed ``GUROBI_CMD`` or ``CPLEX_CMD``), and writing the model as LP or MPS.

:class:`PulpBackend` offers the same steps as :class:`~optimizer.solve.highs.HighsBackend` (maximise,
duals, least-spend tie-break, relaxation bound, feasibility of a subset of rows), rebuilding the PuLP
problem for each step. CBC's duals reach PuLP in chipalloc's convention for a maximisation; duals of
other PuLP solvers are not read (the shadow prices then come from HiGHS on the same continuous rows).
No time limit is set; CBC's tie-break MILP has a node limit (deterministic) like HiGHS's.
"""
from __future__ import annotations

import warnings

import numpy as np
import pulp

from ..errors import InputError, SolveError
from .highs import NODE_LIMIT
from .numerics import MIP_REL_GAP, ScaledProblem
from .result import Status, silenced

_STATUS = {
    pulp.LpStatusOptimal: Status.OPTIMAL,
    pulp.LpStatusInfeasible: Status.INFEASIBLE,
    pulp.LpStatusUnbounded: Status.UNBOUNDED,
}


def make_solver(name: str, mip: bool, node_limit: bool = False) -> pulp.LpSolver:
    """The PuLP solver for ``cbc`` or ``pulp:NAME``; the one place that names PuLP's CBC wrapper."""
    if name == "cbc":
        opts = dict(msg=False, mip=mip, gapRel=MIP_REL_GAP if mip else None, maxNodes=NODE_LIMIT if mip else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(**opts)
            if not solver.available():  # pragma: no cover - PuLP 4 ships CBC through the pulp[cbc] extra
                solver = pulp.COIN_CMD(**opts)
        if not solver.available():  # pragma: no cover
            raise SolveError("CBC is not available: install it with pip install 'pulp[cbc]'")
        return solver
    if name.startswith("pulp:"):
        inner = name.split(":", 1)[1]
        known = pulp.listSolvers()
        if inner not in known:
            raise InputError(f"--solver {name}: PuLP has no solver {inner!r}; PuLP knows: {', '.join(known)}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                solver = pulp.getSolver(inner, msg=False, mip=mip, **({"gapRel": MIP_REL_GAP} if mip else {}))
        except TypeError:
            solver = pulp.getSolver(inner, msg=False)
        if not solver.available():
            raise InputError(f"--solver {name}: {inner} is not available on this machine "
                             f"(available here: {', '.join(pulp.listSolvers(onlyAvailable=True))})")
        return solver
    raise InputError(f"unknown solver {name!r}; choose highs, cbc or pulp:NAME (a solver PuLP drives)")


def to_pulp(prob: ScaledProblem, integer: bool, names: list[str] | None = None, rows: list[str] | None = None,
            keep: np.ndarray | None = None):
    """The scaled problem as a PuLP maximisation (columns x0.. in lots, rows r0..; or the given names)."""
    lp = pulp.LpProblem("chipalloc", pulp.LpMaximize)
    xs = []
    col_up = prob.upper(integer, keep)
    for j in range(prob.n):
        lo = prob.col_lo[j] if np.isfinite(prob.col_lo[j]) else None
        up = col_up[j] if np.isfinite(col_up[j]) else None
        cat = pulp.LpInteger if (integer and prob.integer[j]) else pulp.LpContinuous
        xs.append(lp.add_variable(names[j] if names else f"x{j}", lo, up, cat=cat))
    lp += pulp.lpSum(float(prob.c[j]) * xs[j] for j in np.flatnonzero(prob.c))
    A = prob.A.tocsr()
    cons = []
    for i in range(prob.m):
        if keep is not None and not keep[i]:
            continue
        a, b = A.indptr[i], A.indptr[i + 1]
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(A.indices[a:b], A.data[a:b])])
        nm = rows[i] if rows else f"r{i}"
        if np.isfinite(prob.row_lo[i]) and np.isfinite(prob.row_up[i]) and prob.row_lo[i] == prob.row_up[i]:
            lp += expr == float(prob.row_lo[i]), nm
        elif np.isfinite(prob.row_up[i]):
            lp += expr <= float(prob.row_up[i]), nm
        else:
            lp += expr >= float(prob.row_lo[i]), nm
        cons.append((i, nm))
    return lp, xs, cons


class PulpBackend:
    def __init__(self, prob: ScaledProblem, mip: bool, solver: str):
        self.name = solver
        self.prob = prob
        self.mip = bool(mip and prob.mip)
        self._last = None
        self._gap = None

    def update(self, prob: ScaledProblem) -> int:
        self.prob = prob
        return prob.n

    def _run(self, lp, node_limit: bool = False) -> Status:
        solver = make_solver(self.name, self.mip, node_limit)
        try:
            with silenced():
                lp.solve(solver)
        except pulp.PulpSolverError as e:
            raise SolveError(f"{self.name} failed: {e}") from None
        st = _STATUS.get(lp.status)
        if st is None:
            # PuLP reports "Not Solved"/"Undefined" for both infeasible MILPs and solver failures
            return Status.INFEASIBLE if lp.status == pulp.LpStatusUndefined else Status.ERROR
        if st is Status.OPTIMAL and self.mip and lp.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return Status.ERROR
        return st

    @staticmethod
    def _values(xs) -> np.ndarray:
        return np.array([x.value() if x.value() is not None else np.nan for x in xs], dtype=float)

    def maximise(self) -> tuple[Status, np.ndarray]:
        lp, xs, cons = to_pulp(self.prob, self.mip)
        st = self._run(lp)
        if st is Status.INFEASIBLE and not self._feasible_plain():
            st = Status.INFEASIBLE
        elif st is Status.INFEASIBLE:
            st = Status.UNBOUNDED  # feasible rows, yet no optimum: the maximisation is unbounded
        self._last = (lp, xs, cons)
        if st is not Status.OPTIMAL:
            return st, np.zeros(self.prob.n)
        return st, np.nan_to_num(self._values(xs))

    def _feasible_plain(self) -> bool:
        return self.feasible(np.ones(self.prob.m, dtype=bool))

    def mip_gap(self) -> float | None:
        return None

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Duals of the last continuous maximisation (CBC): d objective / d scaled rhs, per lot."""
        lp, xs, cons = self._last
        if self.name != "cbc":
            raise NotImplementedError
        pis = np.zeros(self.prob.m)
        for i, nm in cons:
            pis[i] = lp.get_constraint_by_name(nm).pi or 0.0
        djs = np.array([x.dj or 0.0 for x in xs], dtype=float)
        return pis + 0.0, djs + 0.0

    def raw_duals(self) -> tuple[np.ndarray, np.ndarray]:
        """In HiGHS's raw convention (min -c), for the optimal-face tie-break."""
        pis, djs = self.duals()
        return -pis, -djs

    def maximise_secondary(self, floor: float) -> tuple[Status, np.ndarray]:
        p = self.prob
        lp, xs, cons = to_pulp(p, self.mip)
        cmax = float(np.abs(p.c).max(initial=0.0)) or 1.0
        lp.setObjective(pulp.lpSum(float(p.c2[j]) * xs[j] for j in np.flatnonzero(p.c2)))
        lp += pulp.lpSum(float(p.c[j] / cmax) * xs[j] for j in np.flatnonzero(p.c)) >= floor / cmax, "objective_floor"
        st = self._run(lp)
        return st, (np.nan_to_num(self._values(xs)) if st is Status.OPTIMAL else np.zeros(p.n))

    def min_spend(self, floor: float, face=None, start=None, floor2: float | None = None) -> tuple[Status, np.ndarray, bool]:
        p = self.prob
        lp, xs, cons = to_pulp(p, self.mip)
        lp.sense = pulp.LpMinimize
        smax = float(np.abs(p.spend).max(initial=0.0)) or 1.0
        cmax = float(np.abs(p.c).max(initial=0.0)) or 1.0
        lp.setObjective(pulp.lpSum(float(p.spend[j] / smax) * xs[j] for j in np.flatnonzero(p.spend)))
        lp += pulp.lpSum(float(p.c[j] / cmax) * xs[j] for j in np.flatnonzero(p.c)) >= floor / cmax, "objective_floor"
        if floor2 is not None:
            c2max = float(np.abs(p.c2).max(initial=0.0)) or 1.0
            lp += pulp.lpSum(float(p.c2[j] / c2max) * xs[j] for j in np.flatnonzero(p.c2)) >= floor2 / c2max, "secondary_floor"
        if face is not None:
            rd, cd = face
            tol = 1e-9 * max(1.0, float(np.abs(p.c).max(initial=0.0)))
            for j in np.flatnonzero(-cd < -tol):
                xs[j].upBound = min(xs[j].upBound if xs[j].upBound is not None else 0.0, 0.0)
            for i, nm in cons:
                if abs(rd[i]) > tol:
                    lp.get_constraint_by_name(nm).sense = pulp.LpConstraintEQ
        st = self._run(lp, node_limit=True)
        if st is not Status.OPTIMAL:
            return Status.ERROR, np.zeros(p.n), False
        return st, np.nan_to_num(self._values(xs)), False

    def relaxed_min_spend(self, floor: float, floor2: float | None = None) -> float | None:
        relax = PulpBackend(self.prob, mip=False, solver=self.name)
        st, x, _ = relax.min_spend(floor, floor2=floor2)
        return float(np.dot(self.prob.spend, x)) if st is Status.OPTIMAL else None

    def feasible(self, keep: np.ndarray) -> bool:
        p = self.prob
        lp, xs, _ = to_pulp(p, self.mip, keep=np.asarray(keep, dtype=bool))
        lp.setObjective(pulp.LpAffineExpression())
        lp.sense = pulp.LpMinimize
        st = self._run(lp)
        if st is Status.OPTIMAL:
            return True
        if st is Status.INFEASIBLE:
            return False
        raise SolveError(f"the {self.name} solver failed while checking feasibility: {st.value}")


def version(name: str) -> str:
    if name == "cbc":
        return "CBC (PuLP " + pulp.__version__ + ")"
    return f"{name.split(':', 1)[-1]} (PuLP {pulp.__version__})"
