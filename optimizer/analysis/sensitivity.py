"""Excel Solver's Sensitivity Report, from HiGHS ranging on the continuous model.

Whatever solver produced the plan, the report comes from one LP solve of the
continuous model (units >= 0, same rows) with HiGHS, followed by
``Highs.getRanging()``. With ``integer_units`` that LP is the relaxation of
the integer plan, and the report says so (``basis="relaxation"``); its final
values are the relaxation's, not the plan's whole lots. For a continuous plan
the report is taken at the plan's own optimal vertex: when several plans give
the same effective TOPS, simplex may stop at another one than the cheapest
the tie-break picked, so HiGHS's crossover re-bases the LP at the plan's units
before ranging (``basis="lp"``).

Conventions (the same as :mod:`optimizer.solve`):

- ``shadow_price`` = d(effective TOPS) / d(right-hand side) of the row as
  written in :mod:`optimizer.model` (positive for a binding ``<=`` row that
  limits the plan, negative for a binding ``>=`` row such as a domestic floor);
- ``reduced_cost`` = d(effective TOPS) per unit of the variable forced into
  the plan (0 for a variable in the basis, <= 0 for one left at zero);
- objective coefficients are effective TOPS per unit.

Allowable increase / decrease, as in Excel:

- objective coefficient: how far the coefficient may rise / fall with the
  current basis staying optimal (HiGHS ``col_cost_up`` / ``col_cost_dn`` give
  the *values* at the ends of that range; the allowances are the distances
  from the current coefficient);
- right-hand side of a binding (non-basic) row: how far the right-hand side
  may move with the shadow price unchanged (HiGHS ``row_bound_up`` /
  ``row_bound_dn``, again values, turned into distances);
- right-hand side of a non-binding (basic) row: the slack on one side and
  unlimited on the other (a ``<=`` row may rise without limit and fall by its
  slack; a ``>=`` row the reverse), which is what Excel prints; HiGHS's own
  numbers for basic rows describe the row activity, not the right-hand side.

Unlimited allowances are ``math.inf`` here, ``null`` in JSON and ``1E+30`` in
the workbook.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..model import LinearModel
from ..plan import Plan
from ..solve import row_scales, silenced

INF = math.inf


@dataclass
class VariableRange:
    name: str  # units[<site>,<chip>]
    site: str
    chip: str
    final_value: float
    reduced_cost: float
    objective_coefficient: float
    allowable_increase: float
    allowable_decrease: float


@dataclass
class ConstraintRange:
    name: str
    kind: str
    sense: str
    final_value: float
    shadow_price: float
    rhs: float
    allowable_increase: float
    allowable_decrease: float


@dataclass
class Sensitivity:
    basis: str  # "lp" | "relaxation"
    variables: list[VariableRange] = field(default_factory=list)
    constraints: list[ConstraintRange] = field(default_factory=list)
    objective: float = 0.0  # effective TOPS of the LP the ranging describes
    note: str = ""

    def to_dict(self) -> dict:
        """The JSON shape of ``solve --json``'s ``sensitivity`` key (infinite allowances are null)."""

        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x) + 0.0

        return {
            "basis": self.basis,
            "variables": [
                {
                    "name": v.name, "final_value": num(v.final_value), "reduced_cost": num(v.reduced_cost),
                    "objective_coefficient": num(v.objective_coefficient),
                    "allowable_increase": num(v.allowable_increase), "allowable_decrease": num(v.allowable_decrease),
                }
                for v in self.variables
            ],
            "constraints": [
                {
                    "name": c.name, "final_value": num(c.final_value), "shadow_price": num(c.shadow_price), "rhs": num(c.rhs),
                    "allowable_increase": num(c.allowable_increase), "allowable_decrease": num(c.allowable_decrease),
                }
                for c in self.constraints
            ],
        }

    def variable(self, name: str) -> VariableRange:
        return next(v for v in self.variables if v.name == name)

    def constraint(self, name: str) -> ConstraintRange:
        return next(c for c in self.constraints if c.name == name)


def _clean(x: float, ref: float = 1.0) -> float:
    """HiGHS's infinity to math.inf; round-off dust (relative 1e-12) to 0."""
    x = float(x)
    if not math.isfinite(x) or abs(x) >= 1e30:
        return INF if x > 0 else -INF
    if abs(x) <= 1e-12 * max(1.0, abs(ref)):
        return 0.0
    return x + 0.0


def _snap(x: float) -> float:
    """A value within relative 1e-9 of a whole number is that number (simplex round-off)."""
    if math.isfinite(x) and abs(x - round(x)) <= 1e-9 * max(1.0, abs(x)):
        return float(round(x)) + 0.0
    return x


def _distance(end: float, here: float, up: bool) -> float:
    """Allowance from a range end given as a value (HiGHS) to a distance (Excel)."""
    if not math.isfinite(end):
        return INF
    d = (end - here) if up else (here - end)
    return _clean(max(d, 0.0), here)


def sensitivity(plan: Plan | LinearModel) -> Sensitivity:
    """The Sensitivity Report of an optimal plan (or of a model), from HiGHS ranging.

    Raises nothing for a degenerate or empty model: an empty model (nothing may be
    bought anywhere) gives no variable rows and constraints at zero.
    """
    lm = plan.lm if isinstance(plan, Plan) else plan
    basis = "relaxation" if lm.integer else "lp"
    n = len(lm.vars)
    if n == 0:
        cons = []
        for r in lm.rows:
            slack = r.rhs if r.sense == "<=" else -r.rhs
            inc, dec = (INF, slack) if r.sense == "<=" else (slack, INF)
            cons.append(ConstraintRange(r.name, r.kind, r.sense, 0.0, 0.0, r.rhs, inc, dec))
        return Sensitivity(basis, [], cons, 0.0, "nothing may be bought at any site")
    target = None
    if isinstance(plan, Plan) and plan.result.ok and not lm.integer:
        target = np.asarray(plan.result.units, dtype=float)  # report at the plan's own vertex
    got = _ranging(lm, target)
    if got is None:
        nan = float("nan")
        return Sensitivity(
            basis,
            [VariableRange(v.name, v.site, v.chip, nan, nan, float(lm.c[j]), nan, nan) for j, v in enumerate(lm.vars)],
            [ConstraintRange(r.name, r.kind, r.sense, nan, nan, r.rhs, nan, nan) for r in lm.rows],
            nan,
            "the continuous model has no optimal basis; no ranging",
        )
    x, row_val, row_dual, col_dual, col_basic, row_basic, rng, rs = got
    variables = []
    for j, v in enumerate(lm.vars):
        c = float(lm.c[j])
        up = _clean(rng.col_cost_up.value_[j], c)
        dn = _clean(rng.col_cost_dn.value_[j], c)
        rc = 0.0 if col_basic[j] else _clean(col_dual[j], c)
        variables.append(
            VariableRange(v.name, v.site, v.chip, _snap(_clean(x[j], 1.0)), rc, c, _distance(up, c, True), _distance(dn, c, False))
        )
    constraints = []
    for i, r in enumerate(lm.rows):
        lhs = float(row_val[i]) * rs[i]
        shadow = 0.0 if row_basic[i] else _clean(row_dual[i] / rs[i], 1.0)
        if row_basic[i]:
            slack = max(0.0, (r.rhs - lhs) if r.sense == "<=" else (lhs - r.rhs))
            slack = _clean(slack, max(abs(r.rhs), abs(lhs)))
            inc, dec = (INF, slack) if r.sense == "<=" else (slack, INF)
        else:
            up = _clean(rng.row_bound_up.value_[i] * rs[i], r.rhs)
            dn = _clean(rng.row_bound_dn.value_[i] * rs[i], r.rhs)
            inc, dec = _distance(up, r.rhs, True), _distance(dn, r.rhs, False)
        constraints.append(
            ConstraintRange(r.name, r.kind, r.sense, _snap(_clean(lhs, max(1.0, abs(r.rhs)))), shadow, r.rhs, inc, dec)
        )
    obj = float(np.dot(lm.c, x))
    note = (
        "continuous relaxation of the integer plan (integer_units: true): final values are the relaxation's; "
        "the plan's whole lots are on the Allocation sheet"
        if lm.integer else "linear programme: ranging at the plan's own optimal vertex"
    )
    return Sensitivity(basis, variables, constraints, obj, note)


def _build(lm: LinearModel, rs: np.ndarray):
    """max c.x over the continuous rows (divided by ``rs``) in a fresh, silent HiGHS."""
    import highspy

    n, m = len(lm.vars), len(lm.rows)
    inf = highspy.kHighsInf
    A = lm.A / rs[:, None] if m else np.zeros((0, n))
    lo = np.array([r.rhs / rs[i] if r.sense == ">=" else -inf for i, r in enumerate(lm.rows)], dtype=float)
    up = np.array([r.rhs / rs[i] if r.sense == "<=" else inf for i, r in enumerate(lm.rows)], dtype=float)
    with silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addCols(n, lm.c.astype(float), np.zeros(n), np.full(n, inf), 0,
              np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    if m:
        starts, idx, vals = [], [], []
        for i in range(m):
            starts.append(len(idx))
            nz = np.flatnonzero(A[i])
            idx.extend(nz.tolist())
            vals.extend(A[i, nz].tolist())
        h.addRows(m, lo, up, len(idx), np.array(starts, dtype=np.int32), np.array(idx, dtype=np.int32),
                  np.array(vals, dtype=float))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    return h


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-7 * np.maximum(1.0, np.abs(b))))


def _move_to(h, target: np.ndarray) -> bool:
    """Re-base ``h`` (solved, optimal) at the optimal point ``target`` by crossover.

    An LP with several optimal plans: the tie-break picked ``target`` (the
    cheapest), simplex may have stopped at another vertex. Crossover from
    ``target`` with the optimal duals gives a basis there; one more run from
    that basis (no iterations) restores what getRanging needs.
    """
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


def _ranging(lm: LinearModel, target: np.ndarray | None = None):
    """Solve max c.x over the continuous rows with HiGHS (rows divided by :func:`optimizer.solve.row_scales`).

    ``target``: the plan's units when the plan is this LP's optimum; the
    ranging is then taken at that point (see :func:`_move_to`).
    """
    import highspy

    rs = row_scales(lm)  # the core's row scaling (any positive divisors give the same LP; these keep HiGHS well-conditioned)
    h = _build(lm, rs)
    with silenced():
        h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    if target is not None and not _close(np.asarray(h.getSolution().col_value, dtype=float), target):
        if not _move_to(h, target):  # keep HiGHS's own optimal vertex
            h = _build(lm, rs)
            with silenced():
                h.run()
    with silenced():
        status, rng = h.getRanging()
    if status != highspy.HighsStatus.kOk or not rng.valid:
        return None
    sol = h.getSolution()
    basis = h.getBasis()
    B = highspy.HighsBasisStatus.kBasic
    col_basic = [s == B for s in basis.col_status]
    row_basic = [s == B for s in basis.row_status]
    # maximisation: HiGHS reports duals in the sense of the objective, i.e. d(TOPS)/d(.)
    return (np.asarray(sol.col_value, dtype=float), np.asarray(sol.row_value, dtype=float),
            np.asarray(sol.row_dual, dtype=float), np.asarray(sol.col_dual, dtype=float),
            col_basic, row_basic, rng, rs)


__all__ = ["ConstraintRange", "Sensitivity", "VariableRange", "sensitivity"]
