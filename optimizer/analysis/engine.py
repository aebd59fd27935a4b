"""Repeated solves for what-if analysis.

:class:`Resolver` is what sweeps, tornado, break-even and compare call for
each point. Every plan it returns has passed the independent verifier
(:func:`optimizer.verify.verify`) and is assembled by
:func:`optimizer.plan.assemble`, exactly like :func:`optimizer.plan.make_plan`.

Fast path (``solver="highs"``): the Resolver keeps one ``highspy.Highs``
model per model structure (up to ``MAX_MODELS``, least recently used
dropped). For each scenario it builds the new
:class:`~optimizer.model.LinearModel` (cheap numpy) and, when it holds a
model with the same :meth:`~optimizer.model.LinearModel.structure_key`,
pushes only the differences (objective costs, row bounds, coefficients) into
HiGHS and re-runs it warm-started from the last basis; otherwise it builds
one. A change that adds or removes a variable or a row (a licence denied, a
budget added) therefore costs one build per distinct structure, and going
back to a structure seen before costs none.

The Resolver does not go through PuLP (no LP model object, no copy of the
problem per solve). Its MILP models switch off HiGHS's feasibility-jump
heuristic, which on these models costs more than the whole branch-and-bound;
the MILP is still solved to ``MIP_REL_GAP``, so the optimum (and, after the
tie-break, the plan) is the same; the tests compare plan for plan.

Semantics are those of :func:`optimizer.solve.solve`, step for step (and
tested against it, plan for plan):

1. maximise effective TOPS (HiGHS sees ``min -c``, as PuLP hands it over;
   columns in PuLP's order; rows divided by :func:`optimizer.solve.row_scales`),
   in whole lots when ``integer_units`` is on (columns scaled by the lot size,
   ``mip_rel_gap`` = ``MIP_REL_GAP``); "unbounded or infeasible" is told apart
   by minimising the number of lots, as in ``solve._feasibility``;
2. when the optimum ``opt`` is positive, minimise spend (scaled by its largest
   coefficient) with a dedicated objective-floor row (scaled by the largest
   TOPS coefficient) held at ``>= opt - TIE_REL * |opt|``; the row is free while
   maximising. For an LP the tie-break is also held to the optimal face
   (``solve._hold_optimal_face``: negative reduced costs fixed at 0, rows with a
   non-zero dual held as equalities);
3. duals: from the continuous problem (a second, continuous HiGHS model is
   kept for that when ``integer_units`` is on; ``basis="relaxation"``), signs
   as documented in :mod:`optimizer.solve`, unscaled to the model's rows.

Status is a value: infeasible / unbounded plans come back as a Plan whose
``result.status`` says so (never an exception for status). An optional
``deadline`` (``time.monotonic()``) bounds every HiGHS run; a solve cut short
comes back with status ``error`` and message ``time limit`` (used by the
break-even search so ``solve`` never hangs on a pathological re-solve).

``solver="cbc"`` has no persistent model: it falls back to
:func:`optimizer.plan.make_plan` (build + PuLP each time).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import time

import numpy as np

from .. import model as model_mod
from .. import verify as verify_mod
from ..io import Loaded
from ..plan import Plan, check_optimality, assemble, make_plan
from ..schema import Scenario
from ..solve import MIP_REL_GAP, TIE_BREAK_SECONDS, TIE_GAP, TIE_REL, SolveResult, tie_break_fallback, Status, drop_dust, row_scales, silenced, solver_version
from ..solve import divisors, unaffordable_columns  # the same numerics as solve.solve, not copies


MAX_MODELS = 8  # HiGHS models kept per Resolver, one per model structure (least recently used dropped)


def _highs():
    import highspy

    with silenced():  # the constructor prints HiGHS's banner from C
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


class _Persistent:
    """One HiGHS model of a LinearModel's shape, updated in place between scenarios.

    Column k of HiGHS is model variable ``order[k]`` (PuLP's order: variables
    sorted by their PuLP names ``x0, x1, x10, ...``), in solver units (lots).
    Rows 0..m-1 are the model's rows divided by :func:`optimizer.solve.row_scales`;
    row m is the objective floor of the tie-break (free while maximising).

    The HiGHS model is described by four arrays (costs, column upper bounds,
    row bounds, matrix); :meth:`_push` sends only the entries that differ from
    what HiGHS holds, so HiGHS keeps its basis and warm-starts.
    """

    def __init__(self, lm: model_mod.LinearModel, integer: bool):
        import highspy

        self.hs = highspy
        self.inf = highspy.kHighsInf
        self.integer = integer
        n, m = len(lm.vars), len(lm.rows)
        self.n, self.m = n, m
        self.order = np.array(sorted(range(n), key=lambda j: f"x{j}"), dtype=np.int64)
        self.h = _highs()
        h = self.h
        if integer:
            h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
            h.setOptionValue("mip_heuristic_run_feasibility_jump", False)  # a heuristic only; see the module doc
        self._load(lm)
        cost, colup, lo, up = self._phase1_state()
        h.addCols(n, cost, np.zeros(n), colup, 0,
                  np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        if integer:
            h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                    np.array([highspy.HighsVarType.kInteger] * n))
        starts, idx, vals = [], [], []
        for i in range(m + 1):
            starts.append(len(idx))
            nz = np.flatnonzero(self.A[i])
            idx.extend(nz.tolist())
            vals.extend(self.A[i, nz].tolist())
        h.addRows(m + 1, lo, up, len(idx), np.array(starts, dtype=np.int32),
                  np.array(idx, dtype=np.int32), np.array(vals, dtype=float))
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        self.held = (cost, colup, lo, up, self.A.copy())

    # ------------------------------------------------------------ model data
    def _load(self, lm: model_mod.LinearModel) -> None:
        """Everything solve.solve derives from ``lm``, in HiGHS column order."""
        o = self.order
        self.scale = lm.scale[o]
        self.c1 = lm.c[o] * self.scale  # effective TOPS per lot
        self.spend1 = lm.spend[o] * self.scale
        self.rs = row_scales(lm)
        A = lm.A[:, o] * self.scale[None, :] / self.rs[:, None] if self.m else np.zeros((0, self.n))
        self.cmax = float(divisors(np.abs(self.c1))[0])  # as solve.solve's objective floor
        self.smax = float(np.abs(self.spend1).max()) or 1.0
        # as solve._to_pulp: with whole lots, a column of which not one lot fits a budget-like row is bounded at 0
        self.ub = np.full(self.n, self.inf)
        if self.integer:
            where = np.empty(self.n, dtype=np.int64)
            where[o] = np.arange(self.n)
            self.ub[where[unaffordable_columns(lm)]] = 0.0
        self.A = np.vstack([A, (self.c1 / self.cmax)[None, :]])
        self.rlo = np.array([r.rhs / self.rs[i] if r.sense == ">=" else -self.inf for i, r in enumerate(lm.rows)], dtype=float)
        self.rup = np.array([r.rhs / self.rs[i] if r.sense == "<=" else self.inf for i, r in enumerate(lm.rows)], dtype=float)

    def _phase1_state(self):
        return (-self.c1, self.ub.copy(), np.append(self.rlo, -self.inf), np.append(self.rup, self.inf))

    def _push(self, cost, colup, lo, up, A=None) -> int:
        h = self.h
        hc, hu, hlo, hup, hA = self.held
        changed = 0
        k = np.flatnonzero(cost != hc)
        if k.size:
            h.changeColsCost(k.size, k.astype(np.int32), cost[k])
            changed += k.size
        k = np.flatnonzero(colup != hu)
        if k.size:
            h.changeColsBounds(k.size, k.astype(np.int32), np.zeros(k.size), colup[k])
            changed += k.size
        k = np.flatnonzero((lo != hlo) | (up != hup))
        if k.size:
            h.changeRowsBounds(k.size, k.astype(np.int32), lo[k], up[k])
            changed += k.size
        if A is not None:
            rows, cols = np.nonzero(A != hA)
            for i, j in zip(rows.tolist(), cols.tolist()):
                h.changeCoeff(i, j, float(A[i, j]))
            changed += rows.size
            hA = A.copy()
        self.held = (cost.copy(), colup.copy(), lo.copy(), up.copy(), hA)
        return changed

    def update(self, lm: model_mod.LinearModel) -> int:
        """Hold ``lm`` (same structure) instead; returns how many numbers changed in HiGHS."""
        self._load(lm)
        return self._push(*self._phase1_state(), A=self.A)

    # ------------------------------------------------------------ solves
    deadline: float | None = None  # time.monotonic() by which every run must stop (set by the Resolver)
    _limited = False

    def _run(self) -> None:
        if self.deadline is not None:
            self.h.setOptionValue("time_limit", max(1e-3, self.deadline - time.monotonic()))
            self._limited = True
        elif self._limited:
            self.h.setOptionValue("time_limit", self.inf)
            self._limited = False
        with silenced():
            self.h.run()

    def timed_out(self) -> bool:
        return self.h.getModelStatus() == self.hs.HighsModelStatus.kTimeLimit

    def _status(self) -> Status:
        st = self.h.getModelStatus()
        MS = self.hs.HighsModelStatus
        if st == MS.kOptimal:
            return Status.OPTIMAL
        if st == MS.kInfeasible:
            return Status.INFEASIBLE
        if st == MS.kUnbounded:
            return Status.UNBOUNDED
        if st == MS.kUnboundedOrInfeasible:
            return self._feasibility()
        return Status.ERROR

    def _feasibility(self) -> Status:
        """As solve._feasibility: minimise the number of lots; optimal means the maximisation was unbounded."""
        _, colup, lo, up = self._phase1_state()
        self._push(np.ones(self.n), colup, lo, up)
        self._run()
        feasible = self.h.getModelStatus() == self.hs.HighsModelStatus.kOptimal
        return Status.UNBOUNDED if feasible else Status.INFEASIBLE

    def maximise(self) -> tuple[Status, np.ndarray]:
        """Step 1. Returns status and lots in *model* variable order."""
        self._push(*self._phase1_state())
        self._run()
        st = self._status()
        return st, (self._values() if st is Status.OPTIMAL else np.zeros(self.n))

    def raw_duals(self) -> tuple[np.ndarray, np.ndarray]:
        """HiGHS's row and column duals of the last solve (min -c, scaled rows), HiGHS column order."""
        sol = self.h.getSolution()
        return np.asarray(sol.row_dual, dtype=float)[: self.m], np.asarray(sol.col_dual, dtype=float)

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """As solve._duals: shadow prices per model row, reduced costs per unit, in model order."""
        rd, cd = self.raw_duals()
        pis = -rd / self.rs
        djs = np.empty(self.n)
        djs[self.order] = -cd / self.scale
        return pis + 0.0, djs + 0.0

    def tie_break(self, opt: float, face: tuple[np.ndarray, np.ndarray] | None) -> tuple[Status, np.ndarray]:
        """Step 2 (solve.solve's prob2): minimise spend with TOPS held at >= opt - TIE_REL*|opt|.

        ``face``: the first solve's raw duals, for an LP (solve._hold_optimal_face):
        columns with a negative reduced cost are fixed at 0 and rows with a
        non-zero dual are held as equalities.
        """
        cost, colup, lo, up = self._phase1_state()
        cost = self.spend1 / self.smax
        lo = lo.copy()
        up = up.copy()
        if face is not None:
            rd, cd = face
            tol = 1e-9 * max(1.0, float(np.abs(self.c1).max()))
            colup = np.where(-cd < -tol, 0.0, colup)
            eq = np.flatnonzero(np.abs(rd) > tol)
            for i in eq:
                b = self.rlo[i] if np.isfinite(self.rlo[i]) else self.rup[i]
                lo[i] = up[i] = b
        floor = opt - TIE_REL * abs(opt)
        lo[self.m] = floor / self.cmax
        self._push(cost, colup, lo, up)
        if self.integer:  # as solve.solve: spend proven to TIE_GAP, TIE_BREAK_SECONDS as a backstop
            self.h.setOptionValue("mip_rel_gap", TIE_GAP)
            saved = self.deadline
            limit = time.monotonic() + TIE_BREAK_SECONDS
            self.deadline = limit if saved is None else min(saved, limit)
            try:
                self._run()
            finally:
                self.deadline = saved
                self.h.setOptionValue("mip_rel_gap", MIP_REL_GAP)
        else:
            self._run()
        st = Status.OPTIMAL if self.h.getModelStatus() == self.hs.HighsModelStatus.kOptimal else Status.ERROR
        return st, (self._values() if st is Status.OPTIMAL else np.zeros(self.n))

    def tie_candidate(self) -> np.ndarray:
        """The tie-break's incumbent (model order) after a time limit, NaN where there is none."""
        try:
            return np.round(self._values())
        except Exception:  # noqa: BLE001 - no primal solution to read
            return np.full(self.n, np.nan)

    def _values(self) -> np.ndarray:
        x = np.asarray(self.h.getSolution().col_value, dtype=float)
        out = np.empty(self.n)
        out[self.order] = x
        return out


@dataclass
class ResolverStats:
    plans: int = 0
    rebuilds: int = 0
    updates: int = 0
    fallbacks: int = 0  # plans made by make_plan (cbc, or nothing to buy anywhere)
    changed: list[int] = field(default_factory=list)


class Resolver:
    """Verified plans for many related scenarios, reusing the solver model between them.

    ``Resolver(solver).plan(scenario)`` returns the same plan as
    ``make_plan(scenario, solver, raise_on_status=False)`` (the same lexicographic
    optimum; where several plans tie on both TOPS and spend, either may come
    back); with HiGHS about 2x faster per solve on a sequence of related
    scenarios (see ``benchmarks/README.md``).
    """

    def __init__(self, solver: str = "highs", deadline: float | None = None):
        self.solver = solver
        # optional time.monotonic() deadline: a solve still running then stops and its plan has
        # status "error" (message "time limit"); None (the default) never stops a solve
        self.deadline = deadline
        # structure key -> [model solved for the plan (integer when integer_units),
        #                   continuous relaxation for the duals when integer_units, or None]
        self._models_by_key: OrderedDict[tuple, list] = OrderedDict()
        self._version: str | None = None
        self.stats = ResolverStats()

    def plan(self, scenario: Scenario | Loaded, duals: bool = True) -> Plan:
        """A verified plan, or a Plan whose result.status is infeasible/unbounded (never raises for status).

        ``duals=False`` skips the shadow prices (the relaxation solve when
        integer_units is on); the plan's units and objective are unchanged.
        """
        self.stats.plans += 1
        if self.solver != "highs":
            self.stats.fallbacks += 1
            return make_plan(scenario, solver=self.solver, raise_on_status=False)
        loaded = scenario if isinstance(scenario, Loaded) else None
        s = loaded.scenario if loaded else scenario
        lm = model_mod.build(s)
        if not lm.vars:
            self.stats.fallbacks += 1
            return make_plan(scenario, solver=self.solver, raise_on_status=False)
        res = self._solve(lm, duals)
        if res.status is Status.OPTIMAL:
            units = {(v.site, v.chip): float(u) for v, u in zip(lm.vars, res.units)}
            verify_mod.verify(s, units, res.objective)
            plan = assemble(s, lm, res, loaded)
            if duals:
                plan.optimality = check_optimality(s, plan)  # as make_plan: LP plans must meet the dual bound
            return plan
        return Plan(s, loaded, lm, res, [], [], [], lm.decisions, {})

    # ------------------------------------------------------------------ internals
    def _models(self, lm: model_mod.LinearModel, need_lp: bool) -> tuple[_Persistent, _Persistent | None]:
        """The HiGHS models for ``lm``'s structure: reused and updated, or built (a few kept, LRU)."""
        key = lm.structure_key()
        held = self._models_by_key.get(key)
        if held is None:
            self.stats.rebuilds += 1
            held = [_Persistent(lm, lm.integer), None]
            self._models_by_key[key] = held
            while len(self._models_by_key) > MAX_MODELS:
                self._models_by_key.popitem(last=False)
        else:
            self._models_by_key.move_to_end(key)
            self.stats.updates += 1
            self.stats.changed.append(held[0].update(lm))
            if held[1] is not None:
                held[1].update(lm)
        if need_lp and lm.integer and held[1] is None:
            held[1] = _Persistent(lm, integer=False)
        for m in held:
            if m is not None:
                m.deadline = self.deadline
        return held[0], (held[0] if not lm.integer else held[1])

    def _solve(self, lm: model_mod.LinearModel, duals: bool) -> SolveResult:
        if self._version is None:
            self._version = solver_version("highs")
        integer = lm.integer
        n = len(lm.vars)
        mip, lp = self._models(lm, need_lp=duals)
        basis = "relaxation" if integer else "lp"
        st, lots = mip.maximise()
        if st is not Status.OPTIMAL:
            msg = "time limit" if mip.timed_out() else ""
            return SolveResult(st, "highs", np.zeros(n), float("nan"), solver_version=self._version, message=msg)
        opt = float(np.dot(lm.c * lm.scale, lots))
        face = None if integer else mip.raw_duals()
        pis = djs = None
        if duals:
            if integer:
                assert lp is not None
                st_lp, _ = lp.maximise()
                if st_lp is Status.OPTIMAL:
                    pis, djs = lp.duals()
                else:  # pragma: no cover - the MILP was optimal, so is its relaxation
                    pis, djs = np.full(len(lm.rows), np.nan), np.full(n, np.nan)
            else:
                pis, djs = mip.duals()
        tie_note = ""
        if opt > 0:
            st2, lots2 = mip.tie_break(opt, face)
            if st2 is Status.OPTIMAL:
                lots = lots2
            elif self.deadline is not None and time.monotonic() >= self.deadline:
                # the caller's deadline, not the tie-break's own limit: no answer rather than another one
                return SolveResult(Status.ERROR, "highs", np.zeros(n), float("nan"), solver_version=self._version,
                                   message="time limit")
            elif integer:  # as solve.solve: keep the cheapest plan found at the TOPS floor, and say so
                lots, tie_note = tie_break_fallback(lm, lots, mip.tie_candidate(), opt - TIE_REL * abs(opt))
        if integer:
            lots = np.round(lots)
        units = drop_dust(lm, lots * lm.scale)
        res = SolveResult(Status.OPTIMAL, "highs", units, float(np.dot(lm.c, units)), pis, djs, basis, self._version)
        if tie_note:
            res.extra["tie_break"] = tie_note
        return res
