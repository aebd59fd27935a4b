"""Parameter sweeps: one verified solve per point of a 1-D range or a 2-D grid.

Every point is built from the scenario's raw data (variants and ``--set``
already applied) by setting the varied paths and validating the whole
scenario again; all points are validated before the first solve, so bad
input never costs a half-finished sweep. Each point is then solved through
:class:`~optimizer.analysis.engine.Resolver` (verified plans only). A point
with no feasible plan is a result (its status), not an error, and carries
its diagnosis (:func:`~optimizer.analysis.diagnose.diagnose` on that point's
scenario: the conflict and the one-number fixes), computed once per distinct
scenario (per worker process on a cluster).

The points are solved by an :class:`~optimizer.analysis.executor.Executor`
(in this process by default, or on Dask workers): consecutive points in
chunks, each worker process keeping one Resolver (one solver model per
structure) whose every point gives the plan a fresh solve gives, so the
answers are the same whatever runs them. An interrupted run (Ctrl-C) keeps the points already
finished: the result is then ``partial`` (``points_total`` says how many
there were to solve).
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from .. import io
from ..errors import ChipallocError, InputError
from ..plan import Plan
from ..schema import Scenario
from .diagnose import Diagnosis, diagnose
from .engine import Resolver
from .parametric import Breakpoint, NotApplicable, exact_line
from .executor import Executor, OnDone, SerialExecutor
from .specs import MAX_POINTS, PointScenario, Vary, apply, base_data, make_vary


def pair_key(site: str, chip: str) -> str:
    return f"{site}/{chip}"


def all_pairs(s: Scenario) -> list[str]:
    """Every site/chip pair of a scenario, sorted by site then chip."""
    return [pair_key(site, chip) for site in sorted(s.sites) for chip in sorted(s.chips)]


@dataclass
class Outcome:
    """The headline of one solve, as every what-if reports it."""

    status: str
    effective_tops: float | None = None
    delivered_tops: float | None = None
    int8_tops: float | None = None
    spend: float | None = None
    total_units: float | None = None
    units: dict[str, float] = field(default_factory=dict)  # "site/chip" -> units (0 where none or denied)
    domestic_share: dict[str, float | None] = field(default_factory=dict)
    site_spend: dict[str, float] = field(default_factory=dict)
    vendor_spend: dict[str, float] = field(default_factory=dict)
    binding: list[str] = field(default_factory=list)
    solver_version: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def outcome(plan: Plan) -> Outcome:
    """Summarise a (verified) plan, or a plan whose status is not optimal."""
    s = plan.scenario
    if not plan.result.ok:
        return Outcome(plan.status, solver_version=plan.result.solver_version)
    units = {k: 0.0 for k in all_pairs(s)}
    for (site, chip), u in plan.units().items():
        units[pair_key(site, chip)] = float(u)
    t = plan.totals
    return Outcome(
        status=plan.status,
        effective_tops=float(t["effective_tops"]),
        delivered_tops=float(t["delivered_tops"]),
        int8_tops=float(t["int8_tops"]),
        spend=float(t["spend"]),
        total_units=float(t["units"]),
        units=units,
        domestic_share={r.site: r.domestic_share for r in plan.sites},
        site_spend={r.site: r.spend for r in plan.sites},
        vendor_spend=plan.spend_by_vendor(),
        binding=list(plan.binding),
        solver_version=plan.result.solver_version,
    )


class Diagnoser:
    """Diagnoses of infeasible scenarios, one per distinct scenario (a diagnosis costs many re-solves).

    Scenarios are keyed by their full validated content, so two points (or
    compare columns) that end up with the same scenario share one diagnosis.
    A diagnosis that fails (the solver gives up while re-solving) is None:
    the point keeps its status and the what-if still completes.
    """

    def __init__(self, solver: str = "highs"):
        self.solver = solver
        self._cache: dict[str, Diagnosis | None] = {}
        self.computed = 0  # distinct scenarios diagnosed (for tests and benchmarks)

    @staticmethod
    def key(s: Scenario) -> str:
        return json.dumps(s.model_dump(mode="json"), sort_keys=True, default=str)

    def __call__(self, s: Scenario, plan: Plan | None = None) -> Diagnosis | None:
        k = self.key(s)
        if k not in self._cache:
            self.computed += 1
            lm = plan.lm if plan is not None and plan.scenario is s else None
            try:
                self._cache[k] = diagnose(s, solver=self.solver, lm=lm)
            except ChipallocError:
                self._cache[k] = None
        return self._cache[k]


@dataclass
class SweepPoint:
    values: dict[str, Any]  # path -> value at this point
    outcome: Outcome
    diagnosis: Diagnosis | None = None  # set for infeasible points


@dataclass
class SweepResult:
    loaded: io.Loaded
    varies: list[Vary]
    points: list[SweepPoint]
    solver: str
    pairs: list[str]  # every site/chip pair, in column order
    sites: list[str]
    points_total: int | None = None  # points the sweep had to solve (None: all of them are in ``points``)
    method: str = "points"  # "points": every point solved; "breakpoints": filled from solves at the basis changes
    method_note: str = ""  # "breakpoints": what was varied; "points": why the breakpoint method did not apply
    solves: int | None = None  # scenario solves (each point once with "points")
    breakpoints: list[Breakpoint] | None = None  # the "breakpoints" method's, in increasing order

    @property
    def partial(self) -> bool:
        """Interrupted: ``points`` holds only the points that finished (in sweep order)."""
        return self.points_total is not None and len(self.points) < self.points_total

    @property
    def n_total(self) -> int:
        return len(self.points) if self.points_total is None else self.points_total

    @property
    def solver_version(self) -> str:
        for p in self.points:
            if p.outcome.solver_version:
                return p.outcome.solver_version
        return ""

    def used_pairs(self) -> list[str]:
        """Pairs bought at some point (the workbook's unit columns)."""
        return [k for k in self.pairs if any(p.outcome.units.get(k, 0.0) > 0 for p in self.points)]


def prepare(loaded: io.Loaded, vary_texts: list[str] | tuple[str, ...]) -> tuple[list[Vary], list[PointScenario]]:
    """Parse every ``--vary`` and build and validate every point. Raises InputError before any solve."""
    if not vary_texts:
        raise InputError("give at least one --vary PATH=SPEC, e.g. --vary sites.cn.budget.amount=30e9:50e9:5")
    if len(vary_texts) > 2:
        raise InputError(f"at most two --vary (a line or a grid); got {len(vary_texts)}")
    data = base_data(loaded)
    varies = [make_vary(t, loaded, data) for t in vary_texts]
    if len(varies) == 2 and varies[0].path == varies[1].path:
        raise InputError(f"--vary {varies[0].path} is given twice; vary two different paths for a grid")
    n = 1
    for v in varies:
        n *= len(v.values)
    if n > MAX_POINTS:
        raise InputError(f"the sweep has {n:,} points; at most {MAX_POINTS:,} (use fewer values per --vary)")
    points: list[PointScenario] = []
    for combo in itertools.product(*(v.values for v in varies)):
        values = {v.path: x for v, x in zip(varies, combo)}
        new, sc = apply(data, values, file=loaded.path)
        points.append(PointScenario(values, sc, new))
    return varies, points


@dataclass
class PointWork:
    """What every chunk of a sweep shares (sent once to each worker): the base data and how to solve."""

    data: dict
    file: str | None
    solver: str
    diagnoser: Diagnoser


_RESOLVERS: dict[str, Resolver] = {}


def point_plan(scenario: Scenario, solver: str) -> Plan:
    """A verified plan (or a status) from this process's Resolver for ``solver`` (one persistent solver
    model per structure, per worker process).

    The answer depends on the point alone: the backend clears HiGHS's solver state and holds exactly
    the data a fresh model would (:meth:`optimizer.solve.highs.HighsBackend.update`), so a point gives the
    same plan whatever was solved before it, however the work was cut into chunks and whichever process
    ran it (tests compare with :func:`fresh_plan`).
    """
    r = _RESOLVERS.get(solver)
    if r is None:
        r = _RESOLVERS[solver] = Resolver(solver)
    return r.plan(scenario)


def fresh_plan(scenario: Scenario, solver: str) -> Plan:
    """A verified plan from a Resolver that has solved nothing before (the reference for :func:`point_plan`)."""
    return Resolver(solver).plan(scenario)


def solve_points(work: PointWork, chunk: list[dict[str, Any]]):
    """Executor task: rebuild each point from the base data (validated), solve it afresh, summarise it.

    An infeasible point's diagnosis comes from ``work.diagnoser`` (once per
    distinct scenario in this process).
    """
    for values in chunk:
        _, sc = apply(work.data, values, file=work.file)
        plan = point_plan(sc, work.solver)
        o = outcome(plan)
        yield o, (work.diagnoser(sc, plan) if o.status == "infeasible" else None)


def run(
    loaded: io.Loaded,
    varies: list[Vary],
    points: list[PointScenario],
    solver: str = "highs",
    executor: Executor | None = None,
    on_done: OnDone | None = None,
    diagnoser: Diagnoser | None = None,
    chunk_size: int | None = None,
    method: str = "auto",
) -> SweepResult:
    """Solve every prepared point; ``on_done(n_finished, n_total)`` as points finish.

    ``method``: "auto" fills a 1-D sweep of a continuous scenario's right-hand side (a budget, a
    capacity, a power limit) exactly from solves at its basis changes
    (:mod:`optimizer.analysis.parametric`, in this process: it needs a handful of solves), and solves
    every point otherwise (on ``executor``); "points" always solves every point.

    Each infeasible point is diagnosed (conflict and fixes), once per distinct
    scenario. Interrupted (Ctrl-C, or a KeyboardInterrupt from ``on_done``):
    the result holds the points finished so far and ``partial`` is true.
    """
    if method not in ("auto", "points"):
        raise ValueError(f"method {method!r}: auto or points")
    diagnoser = diagnoser or Diagnoser(solver)
    note = ""
    if method == "auto":
        try:
            line = exact_line(varies, points, base_data(loaded), loaded.path, solver, on_done=on_done)
        except NotApplicable as e:
            note = str(e)
        else:
            return _from_line(loaded, varies, points, solver, line, diagnoser)
    executor = executor or SerialExecutor()
    work = PointWork(base_data(loaded), loaded.path, solver, diagnoser)
    got = executor.run(solve_points, work, [pt.values for pt in points], chunk_size=chunk_size, on_done=on_done)
    out = [SweepPoint(dict(points[i].values), o, d) for i, (o, d) in got.done()]
    s = loaded.scenario
    return SweepResult(loaded, list(varies), out, solver, all_pairs(s), sorted(s.sites),
                       points_total=None if got.complete else got.total, method_note=note, solves=len(out))


def _from_line(loaded: io.Loaded, varies: list[Vary], points: list[PointScenario], solver: str, line,
               diagnoser: Diagnoser) -> SweepResult:
    out = []
    for pt, plan in zip(points, line.plans):
        if plan is None:
            continue  # not reached (interrupted)
        o = outcome(plan)
        out.append(SweepPoint(dict(pt.values), o, diagnoser(pt.scenario, plan) if o.status == "infeasible" else None))
    s = loaded.scenario
    return SweepResult(loaded, list(varies), out, solver, all_pairs(s), sorted(s.sites),
                       points_total=len(points) if line.partial else None, method="breakpoints",
                       method_note=line.how, solves=line.solves, breakpoints=list(line.breakpoints))


def sweep(loaded: io.Loaded, vary_texts: list[str] | tuple[str, ...], solver: str = "highs") -> SweepResult:
    """Library entry point: ``sweep(load(path), ["sites.cn.budget.amount=30e9:50e9:5"])``."""
    varies, points = prepare(loaded, vary_texts)
    return run(loaded, varies, points, solver)
