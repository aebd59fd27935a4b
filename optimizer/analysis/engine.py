"""Repeated solves for what-if analysis.

:class:`Resolver` is what sweeps, tornado, break-even and compare call for
each point. Every plan it returns has passed the independent verifier.
Baseline implementation: rebuild and re-solve from scratch each time.
"""
from __future__ import annotations

from ..io import Loaded
from ..plan import Plan, make_plan
from ..schema import Scenario


class Resolver:
    def __init__(self, solver: str = "highs"):
        self.solver = solver

    def plan(self, scenario: Scenario | Loaded) -> Plan:
        """A verified plan, or a Plan whose result.status is infeasible/unbounded (never raises for status)."""
        return make_plan(scenario, solver=self.solver, raise_on_status=False)
