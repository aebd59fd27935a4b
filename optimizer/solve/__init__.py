"""Solving: status as a value, one dual sign convention, the two-phase solve written once.

- :mod:`.numerics`: the model scaled for a solver (lots, row divisors), lot steps, dust;
- :mod:`.highs`: the one HiGHS backend (solve, re-solve, tie-break, feasibility, ranging);
- :mod:`.pulp_backend`: CBC and any other PuLP solver, and LP/MPS export;
- :mod:`.lexicographic`: maximise effective TOPS, then the least spend, over any backend.
"""
from .lexicographic import Solver, backend_for, backend_for_model, solve, solver_names, version
from .numerics import MIP_REL_GAP, ScaledProblem, scaled
from .result import SolveResult, Status, silenced

SOLVERS = ("highs", "cbc")  # built in; any other PuLP solver as pulp:NAME


def solver_version(name: str) -> str:
    return version(name)


__all__ = [
    "Solver", "backend_for", "backend_for_model", "solve", "solver_names", "version", "solver_version", "MIP_REL_GAP", "ScaledProblem", "scaled",
    "SolveResult", "Status", "silenced", "SOLVERS",
]
