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

from ..model import Model
from ..plan import Plan
from ..solve import scaled
from ..solve.highs import ranging

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


def sensitivity(plan: Plan | Model) -> Sensitivity:
    """The Sensitivity Report of an optimal plan (or of a model), from HiGHS ranging.

    Raises nothing for a degenerate or empty model: an empty model (nothing may be
    bought anywhere) gives no variable rows and constraints at zero.
    """
    m = plan.model if isinstance(plan, Plan) else plan
    basis = "relaxation" if m.integer else "lp"
    n = m.n
    co = m.coords
    refs = [m.ref(i) for i in range(m.m)]
    if n == 0:
        cons = []
        for r in refs:
            slack = r.rhs if r.sense == "<=" else -r.rhs
            inc, dec = (INF, slack) if r.sense == "<=" else (slack, INF)
            cons.append(ConstraintRange(r.name, r.family, r.sense, 0.0, 0.0, r.rhs, inc, dec))
        return Sensitivity(basis, [], cons, 0.0, "nothing may be bought at any site")

    def site_chip(j: int) -> tuple[str, str]:
        si, ci = int(m.var.site[j]), int(m.var.chip[j])
        return (co.sites[si] if si >= 0 else "", co.chips[ci] if ci >= 0 else "")

    prob = scaled(m)
    target = None
    if isinstance(plan, Plan) and plan.result.ok and not m.integer:
        target = np.asarray(plan.result.units, dtype=float) / prob.col_scale  # report at the plan's own vertex
    got = ranging(prob, target)
    if got is None:
        nan = float("nan")
        return Sensitivity(
            basis,
            [VariableRange(m.var.name[j], *site_chip(j), nan, nan, float(m.c[j]), nan, nan) for j in range(n)],
            [ConstraintRange(r.name, r.family, r.sense, nan, nan, r.rhs, nan, nan) for r in refs],
            nan,
            "the continuous model has no optimal basis; no ranging",
        )
    x, row_val, row_dual, col_dual, col_basic, row_basic, rng = got
    scale = prob.col_scale
    rs = prob.row_div
    units = x * scale
    variables = []
    for j in range(n):
        c = float(m.c[j])
        up = _clean(rng.col_cost_up.value_[j] / scale[j], c)
        dn = _clean(rng.col_cost_dn.value_[j] / scale[j], c)
        rc = 0.0 if col_basic[j] else _clean(col_dual[j] / scale[j], c)
        variables.append(
            VariableRange(m.var.name[j], *site_chip(j), _snap(_clean(units[j], 1.0)), rc, c, _distance(up, c, True),
                          _distance(dn, c, False))
        )
    constraints = []
    for i, r in enumerate(refs):
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
            ConstraintRange(r.name, r.family, r.sense, _snap(_clean(lhs, max(1.0, abs(r.rhs)))), shadow, r.rhs, inc, dec)
        )
    obj = float(np.dot(m.c, units))
    note = (
        "continuous relaxation of the integer plan (integer_units: true): final values are the relaxation's; "
        "the plan's whole lots are on the Allocation sheet"
        if m.integer else "linear programme: ranging at the plan's own optimal vertex"
    )
    return Sensitivity(basis, variables, constraints, obj, note)


__all__ = ["ConstraintRange", "Sensitivity", "VariableRange", "sensitivity"]
