"""Solve status as a value, and what a solve returns.

Sign convention for every dual chipalloc reports, whatever the solver:
``shadow_price = d(objective) / d(rhs)`` of the row as written in
:mod:`optimizer.model.families` (positive for a binding ``<=`` row that limits
the plan, negative for a binding ``>=`` row such as a domestic floor), and
``reduced_cost = d(objective) / d(units)`` when one more unit of a column is
forced into the plan (Excel's convention for a maximisation). The objective
is effective TOPS (or the risk measure of effective TOPS).
"""
from __future__ import annotations

import contextlib
import enum
import os
import sys
from dataclasses import dataclass, field

import numpy as np


class Status(str, enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass
class SolveResult:
    status: Status
    solver: str
    units: np.ndarray  # per model column, in units (not lots)
    objective: float  # the objective of the returned plan
    shadow_prices: np.ndarray | None = None  # per row, convention above
    reduced_costs: np.ndarray | None = None  # per column, per unit
    dual_basis: str = "lp"  # "lp" or "relaxation"
    solver_version: str = ""
    message: str = ""
    extra: dict = field(default_factory=dict)  # tie_break note, mip gap, ...

    @property
    def ok(self) -> bool:
        return self.status is Status.OPTIMAL


@contextlib.contextmanager
def silenced():
    """Send file descriptors 1 and 2 to /dev/null (HiGHS and CBC print from C)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # pragma: no cover
        yield
        return
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                pass
        yield
    finally:
        for fd, copy_fd in saved:
            os.dup2(copy_fd, fd)
            os.close(copy_fd)
        os.close(devnull)
