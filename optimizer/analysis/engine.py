"""Repeated solves for what-if analysis.

:class:`Resolver` is what sweeps, tornado, break-even, compare and simulation
call for each point. Every plan it returns has passed the independent
verifier and is assembled exactly as :func:`optimizer.plan.make_plan` does
(it runs the same phases: :func:`optimizer.plan.finish`).

The Resolver keeps one :class:`~optimizer.solve.Solver` per model structure
(up to ``MAX_MODELS``, least recently used dropped). For each scenario it
builds the new model (vectorised) and, when it holds a solver for the same
:meth:`~optimizer.model.Model.structure_key`, pushes only the numbers that
changed into HiGHS (costs, bounds, matrix coefficients), which then
warm-starts from its last basis; otherwise it builds one. A change that adds
or removes a column or a row (a licence denied, a budget added) costs one
build per distinct structure, and going back to a structure seen before costs
none. With CBC or another PuLP solver the same steps run, rebuilding the
PuLP problem each time.

Status is a value: infeasible / unbounded plans come back as a Plan whose
``result.status`` says so (never an exception for status).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .. import model as model_mod
from ..io import Loaded
from ..plan import Plan, finish, outcome_scenarios
from ..schema import Scenario
from ..solve import Solver

MAX_MODELS = 8  # solvers kept per Resolver, one per model structure (least recently used dropped)


@dataclass
class ResolverStats:
    plans: int = 0
    rebuilds: int = 0
    updates: int = 0
    changed: list[int] = field(default_factory=list)


class Resolver:
    """Verified plans for many related scenarios, reusing the solver model between them.

    ``Resolver(solver).plan(scenario)`` returns the same plan as
    ``make_plan(scenario, solver, raise_on_status=False)``.
    """

    def __init__(self, solver: str = "highs"):
        self.solver = solver
        self._solvers: OrderedDict[tuple, Solver] = OrderedDict()
        self.stats = ResolverStats()

    def plan(self, scenario: Scenario | Loaded, duals: bool = True, outcomes: dict | None = None) -> Plan:
        """A verified plan, or a Plan whose result.status is infeasible/unbounded (never raises for status).

        ``duals=False`` skips the shadow prices (the relaxation solve with whole lots); the plan's
        units and objective are unchanged.
        """
        self.stats.plans += 1
        loaded = scenario if isinstance(scenario, Loaded) else None
        s = loaded.scenario if loaded else scenario
        outcomes = outcomes if outcomes is not None else outcome_scenarios(loaded, s)
        m = model_mod.build(s, outcomes)
        solver = self.solver_for(m)
        res = solver.solve(duals=duals)
        return finish(s, m, res, loaded, outcomes, self.solver, raise_on_status=False, duals=duals, solver_obj=solver)

    def solver_for(self, m: model_mod.Model) -> Solver:
        """The solver for ``m``'s structure, updated to ``m``'s numbers (or built)."""
        key = m.structure_key()
        held = self._solvers.get(key)
        if held is None:
            self.stats.rebuilds += 1
            held = Solver(m, self.solver)
            self._solvers[key] = held
            while len(self._solvers) > MAX_MODELS:
                self._solvers.popitem(last=False)
        else:
            self._solvers.move_to_end(key)
            self.stats.updates += 1
            self.stats.changed.append(held.update(m))
        return held
