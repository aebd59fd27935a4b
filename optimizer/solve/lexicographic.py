"""Maximise effective TOPS, then the least spend among the maxima: written once, for every backend.

1. Maximise the objective (whole lots: a MILP proven to ``MIP_REL_GAP``).
2. Duals: from the continuous problem (the relaxation, with whole lots; labelled so).
3. Tie-break, when the optimum T* is positive: minimise spend with the objective
   held at T*.

   - Continuous: the solve is held to the optimal face by complementary slackness
     (columns with a negative reduced cost fixed at 0, rows with a non-zero dual as
     equalities) and the objective floor at ``T* - 1e-9 |T*|``.
   - Whole lots: the objective floor is ``T* - delta/2``, where delta is the exact
     step between objective values of whole-lot plans (the gcd of the objective per
     lot, from the decimal inputs; :func:`optimizer.solve.numerics.lot_step`), so
     no plan with less TOPS qualifies. Where delta is not known exactly, a relative
     floor of 1e-9. First the continuous relaxation of that problem: if its least
     spend cannot beat the first plan's, that plan is the cheapest (proven) and no
     second MILP runs. Otherwise the MILP starts from the first plan with presolve
     off and a node limit (deterministic). Its plan is accepted only if exact
     arithmetic confirms at least the first plan's TOPS and no more spend;
     otherwise the first plan stays, and ``extra["tie_break"]`` says why.

With HiGHS and whole lots, each MILP is first given a box that holds every plan at
least as good as a known one (reduced-cost fixing from the relaxation's duals:
:mod:`optimizer.solve.fixing`): the first MILP's box comes from a whole-lot plan
rounded from the relaxation, the tie-break's from its floor. No plan that could be
the answer is cut off, and HiGHS's root work, which grows with the domains of the
whole columns, shrinks about tenfold on these models.

No step has a time limit: the same input gives the same plan on every machine.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..model import Model
from . import fixing
from .highs import HighsBackend
from .numerics import ScaledProblem, clean_dust, exact_value, lot_step, round_lots, scaled
from .result import SolveResult, Status

LP_TIE_REL = 1e-9  # the LP tie-break's objective floor (relative); the optimal face does the real work
FALLBACK_TIE_REL = 1e-9  # whole-lot floor when the lot step is not known exactly
SPEND_TOL = 1e-9  # relative: a tie-break plan must not spend more than the first plan
SECONDARY_REL = 1e-9  # cvar / worst: the measure (then the expected TOPS) held within this, relative
FIXING = True  # whole-lot HiGHS MILPs within a reduced-cost box (optimizer/solve/fixing.py); False: the plain MILPs


def solver_names() -> tuple[str, ...]:
    return ("highs", "cbc")


def backend_for(solver: str, prob: ScaledProblem, mip: bool):
    if solver == "highs":
        return HighsBackend(prob, mip)
    from .pulp_backend import PulpBackend, make_solver

    make_solver(solver, mip)  # unknown or unavailable solver: InputError before any work
    return PulpBackend(prob, mip, solver)


def backend_for_model(solver: str, model: Model, integer: bool):
    """A backend of ``model``'s scaled problem (the MILP when ``integer``, else its continuous relaxation)."""
    return backend_for(solver, scaled(model), mip=integer)


def version(solver: str) -> str:
    if solver == "highs":
        from .highs import version as hv

        return hv()
    from .pulp_backend import version as pv

    return pv(solver)


class Solver:
    """The two-phase solve of one model structure on one backend (kept and updated by the what-if engine)."""

    def __init__(self, model: Model, solver: str = "highs"):
        self.solver = solver
        self.prob = scaled(model)
        self.model = model
        self.main = backend_for(solver, self.prob, mip=self.prob.mip)
        self.lp = None  # the continuous problem, for duals of a whole-lot model
        self.dual_backend = None  # HiGHS for the duals of solvers whose duals PuLP does not read
        self.shifted_lp = None  # HiGHS: the relaxation with rows moved in for rounding (a whole-lot plan to box from)
        self._relaxation = None  # (status, lots, row multipliers) of this model's relaxation, once solved
        self._version = None

    def update(self, model: Model) -> int:
        self.model = model
        self.prob = scaled(model)
        self._relaxation = None
        changed = self.main.update(self.prob)
        if self.lp is not None:
            self.lp.update(self.prob)
        if self.dual_backend is not None:
            self.dual_backend.update(self.prob)
        return changed

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = version(self.solver)
        return self._version

    def _continuous(self):
        if not self.prob.mip:
            return self.main
        if self.lp is None:
            self.lp = backend_for(self.solver, self.prob, mip=False)
        return self.lp

    # ------------------------------------------------------------------ reduced-cost boxes (HiGHS, whole lots)
    def _fixing(self) -> bool:
        return FIXING and self.solver == "highs" and self.prob.mip and self.prob.c2 is None

    def _relax(self):
        """This model's continuous relaxation, solved once: (status, lots, multipliers of the rows of max c.x)."""
        if self._relaxation is None:
            lp = self._continuous()
            st, x = lp.maximise()
            y = -lp.raw_duals()[0] if st is Status.OPTIMAL else None  # HiGHS solves min -c.x
            self._relaxation = (st, x, y)
        return self._relaxation

    def _box(self, floor: float | None = None) -> "fixing.Box | None":
        """The box for plans with objective >= ``floor`` (None: >= a whole-lot plan found from the relaxation)."""
        st, x, y = self._relax()
        if st is not Status.OPTIMAL or y is None:
            return None
        prob = self.prob
        if floor is None:
            plan = self._whole_plan(x)
            if plan is None:
                return None
            floor = float(np.dot(prob.c, plan))
        return fixing.box(prob, y, floor, prob.upper(True))

    def _whole_plan(self, x: np.ndarray) -> np.ndarray | None:
        """A whole-lot plan near the relaxation's ``x``, tried in a fixed order: ``x`` rounded down (order
        indicators up, then down too); else the plan of the relaxation with its rows moved in by what that
        rounding can cost them, rounded the same way. None when none meets every row."""
        prob = self.prob
        ups = [fixing.binaries(prob)]
        if ups[0].any():
            ups.append(np.zeros(prob.n, dtype=bool))
        for up in ups:
            plan = fixing.round_plan(prob, x, up)
            if _feasible(prob, plan):
                return plan
        for up in ups:
            lo, hi = fixing.rounding_shift(prob, up)
            if np.any(lo > hi):
                continue
            if self.shifted_lp is None:
                self.shifted_lp = HighsBackend(prob, mip=False)
            elif self.shifted_lp.prob is not prob:
                self.shifted_lp.update(prob)
            st, xs = self.shifted_lp.maximise(box=fixing.Box(prob.col_lo, prob.col_up, lo, hi, 0.0, 0.0))
            if st is Status.OPTIMAL:
                plan = fixing.round_plan(prob, xs, up)
                if _feasible(prob, plan):
                    return plan
        return None

    def _highs_duals_raw(self):
        if self.dual_backend is None:
            self.dual_backend = HighsBackend(self.prob, mip=False)
        st, _ = self.dual_backend.maximise()
        return self.dual_backend.raw_duals() if st is Status.OPTIMAL else None

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """Shadow prices per model row and reduced costs per unit, from the continuous problem."""
        prob, model = self.prob, self.model
        lp = self._continuous()
        if lp is not self.main or self.prob.mip:
            st = self._relax()[0] if self._fixing() else lp.maximise()[0]  # with a box: solved already
            if st is not Status.OPTIMAL:  # pragma: no cover - the MILP was optimal, so is its relaxation
                return np.full(model.m, np.nan), np.full(model.n, np.nan)
        try:
            pis, djs = lp.duals()
        except NotImplementedError:
            if self.dual_backend is None:
                self.dual_backend = HighsBackend(prob, mip=False)
            st, _ = self.dual_backend.maximise()
            if st is not Status.OPTIMAL:  # pragma: no cover
                return np.full(model.m, np.nan), np.full(model.n, np.nan)
            pis, djs = self.dual_backend.duals()
        return pis / prob.row_div + 0.0, djs / prob.col_scale + 0.0

    def solve(self, tie_break: bool = True, duals: bool = True) -> SolveResult:
        model, prob = self.model, self.prob
        n = model.n
        basis = "relaxation" if prob.mip else "lp"
        if n == 0:
            feas = all((s == "<=" and r >= 0) or (s == ">=" and r <= 0) for s, r in zip(model.rows.sense, model.rows.rhs))
            return SolveResult(Status.OPTIMAL if feas else Status.INFEASIBLE, self.solver, np.zeros(0), 0.0,
                               np.zeros(model.m), np.zeros(0), basis, self.version)
        box = self._box() if self._fixing() else None
        if box is not None:
            st, lots = self.main.maximise(box=box)
            if st is not Status.OPTIMAL:  # a box cuts off no plan, so this does not happen; the MILP alone decides
                st, lots = self.main.maximise()
        else:
            st, lots = self.main.maximise()
        if st is not Status.OPTIMAL:
            return SolveResult(st, self.solver, np.zeros(n), float("nan"), solver_version=self.version)
        lots = round_lots(prob, lots)
        node_note = ""
        if getattr(self.main, "node_limited", False):
            from .highs import NODE_LIMIT

            node_note = (f"the maximisation stopped at its limit of {NODE_LIMIT:,} branch-and-bound nodes "
                         f"(a count, the same on every machine); the plan is proven within the reported gap")
        face = None
        if not prob.mip and tie_break:
            try:
                face = self.main.raw_duals()
            except NotImplementedError:
                # a PuLP solver whose duals are not read: any optimal dual solution defines the same optimal
                # face (every primal optimum is complementary to every dual optimum), so HiGHS's will do
                face = self._highs_duals_raw()
        gap = self.main.mip_gap()
        pis = djs = None
        if duals:
            pis, djs = self.duals()
        note = ""
        opt = float(np.dot(prob.c, lots))
        floor2 = None
        if prob.c2 is not None and tie_break:
            # cvar / worst: among plans with the best measure, the most expected TOPS (a tail measure alone
            # leaves the better outcomes free), then the least expected spend
            hold = opt - SECONDARY_REL * max(1.0, abs(opt))
            st2, x2 = self.main.maximise_secondary(hold)
            if st2 is Status.OPTIMAL:
                x2 = round_lots(prob, x2)
                if float(np.dot(prob.c, x2)) >= hold - SECONDARY_REL * max(1.0, abs(opt)):
                    lots = x2
                    e2 = float(np.dot(prob.c2, lots))
                    floor2 = e2 - SECONDARY_REL * max(1.0, abs(e2))
                    opt = hold
            face = None  # the second stage moved the plan: the LP face of the first no longer describes it
        if tie_break and (opt > 0 or floor2 is not None):
            lots, note = self._tie_break(lots, opt, face, floor2)
        if not prob.mip:
            lots = clean_dust(prob, lots)
        units = lots * prob.col_scale
        res = SolveResult(Status.OPTIMAL, self.solver, units, float(np.dot(model.c, units)), pis, djs, basis, self.version)
        if note:
            res.extra["tie_break"] = note
        if node_note:
            res.extra["node_limit"] = node_note
        if gap is not None:
            res.extra["mip_gap"] = gap
        return res

    def _tie_break(self, lots: np.ndarray, opt: float, face, floor2: float | None = None) -> tuple[np.ndarray, str]:
        prob, model = self.prob, self.model
        spend1 = float(np.dot(prob.spend, lots))
        if floor2 is not None:  # cvar / worst: both the measure and the expected TOPS held (relative floors)
            st, x, hit = self.main.min_spend(opt, face=None, start=lots if prob.mip else None, floor2=floor2)
            if st is Status.OPTIMAL or (hit and x is not None):
                x = round_lots(prob, x)
                if _feasible(prob, x) and float(np.dot(prob.spend, x)) <= spend1 + SPEND_TOL * max(1.0, abs(spend1)):
                    return x, ""
            return lots, ""
        if not prob.mip:
            st, x, _ = self.main.min_spend(opt - LP_TIE_REL * abs(opt), face=face)
            if st is Status.OPTIMAL and float(np.dot(prob.c, x)) >= opt - LP_TIE_REL * abs(opt) * 2:
                return x, ""
            return lots, "the least-spend tie-break found no better plan; the plan has maximum effective TOPS"
        delta = lot_step(model)
        exact1 = exact_value(model, lots)
        if delta is not None and exact1 is not None:
            floor = float(exact1 - delta / 2)
        else:
            floor = opt - FALLBACK_TIE_REL * abs(opt)
        # every whole-lot plan with TOPS >= floor has TOPS >= T* (TOPS come in steps of delta), so the
        # relaxation held at T* itself bounds their spend from below
        bound = self.main.relaxed_min_spend(float(exact1) if (delta is not None and exact1 is not None) else floor)
        if bound is not None and bound >= spend1 - SPEND_TOL * max(1.0, abs(spend1)):
            return lots, ""  # proven: no plan with this TOPS is cheaper even with fractional lots
        box = self._box(floor) if self._fixing() else None
        if box is not None:
            st, x, hit = self.main.min_spend(floor, start=lots, box=box)
            if st is not Status.OPTIMAL and not hit:  # as above: the MILP alone decides
                st, x, hit = self.main.min_spend(floor, start=lots)
        else:
            st, x, hit = self.main.min_spend(floor, start=lots)
        if st is not Status.OPTIMAL and not hit:
            return lots, "the least-spend tie-break did not finish; the plan has maximum effective TOPS"
        x = round_lots(prob, x)
        if not _feasible(prob, x):
            return lots, ("the least-spend tie-break stopped at its node limit without a better plan; "
                          "the plan has maximum effective TOPS, a cheaper one may exist") if hit else (
                          "the least-spend tie-break returned no usable plan; the plan has maximum effective TOPS")
        spend2 = float(np.dot(prob.spend, x))
        if exact1 is not None:
            exact2 = exact_value(model, x)
            more_tops = exact2 > exact1
            same_tops = exact2 == exact1
        else:
            v2 = float(np.dot(prob.c, x))
            more_tops = False
            same_tops = v2 >= floor
        if more_tops or (same_tops and spend2 <= spend1 + SPEND_TOL * max(1.0, abs(spend1))):
            if hit:
                return x, (f"the least-spend tie-break stopped at its node limit ({_nodes()} nodes); the plan is the "
                           "cheapest found with maximum effective TOPS, not proven the cheapest")
            return x, ""
        return lots, "the least-spend tie-break found no cheaper plan with the same effective TOPS"


def _nodes() -> str:
    from .highs import TIE_MAX_NODES

    return f"{TIE_MAX_NODES:,}"


def _feasible(prob: ScaledProblem, x: np.ndarray) -> bool:
    if not np.all(np.isfinite(x)):
        return False
    if np.any(x < prob.col_lo - 1e-9) or np.any(x > prob.upper(prob.mip) + 1e-9):
        return False
    act = prob.A @ x if prob.m else np.zeros(0)
    full = abs(prob.A) @ np.abs(x) if prob.m else np.zeros(0)
    tol = 1e-9 * np.maximum(1.0, np.maximum(np.abs(np.where(np.isfinite(prob.row_up), prob.row_up, 0)),
                                            np.maximum(np.abs(np.where(np.isfinite(prob.row_lo), prob.row_lo, 0)), full)))
    return bool(np.all(act <= prob.row_up + tol) and np.all(act >= prob.row_lo - tol))


def solve(model: Model, solver: str = "highs", tie_break: bool = True, duals: bool = True) -> SolveResult:
    """Maximise effective TOPS, then minimise spend among the maxima (see the module doc)."""
    return Solver(model, solver).solve(tie_break=tie_break, duals=duals)


__all__ = ["Solver", "solve", "version", "Fraction"]
