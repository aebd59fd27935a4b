"""Monte Carlo: how the plan fares when delivery rates and outcomes are drawn.

``simulate(loaded, draws, seed)`` solves the scenario's plan (hedged over its outcomes, if any), then for
each draw:

1. picks an outcome by its probability (scenarios with ``uncertainty``);
2. draws each vendor's delivery rate from a Beta distribution with mean ``delivery_rate`` (that outcome's)
   and standard deviation ``delivery_sd`` (vendors without one keep their rate);
3. keeps the plan's shared orders (those placed before the outcome is revealed: every order, without
   periods or outcomes), stranded where that outcome denies them;
4. re-optimises the later orders for the draw (most effective TOPS), or, when every order is shared,
   evaluates the plan under the drawn rates.

Draw ``d`` uses its own random stream, ``numpy.random.SeedSequence(seed).spawn(draws)[d]`` (the same as
``SeedSequence(seed, spawn_key=(d,))``), and its re-optimisation starts from the same point whatever ran
before it (:class:`DrawLP`: its world's optimal basis at the planned rates), so the numbers are the same for
a seed whatever the chunking, the number of workers or the machine.

Speed: a draw changes only the objective (the delivery rate enters nothing but the effective TOPS), so each
world (the plan, or one outcome with the shared orders fixed) is built, scaled and loaded into HiGHS once per
process, and a draw is one cost update and one warm simplex run (about 0.1 ms on the shipped risk scenario;
``benchmarks/bench_simulate.py``). Whole lots or another solver take the general backend path.

The report: mean, standard deviation (sample), P5, P50 and P95 of effective TOPS; the probability of
falling below a target; and each source's share of the variance, first order: the squared correlation of
effective TOPS with a vendor's drawn rate, and for the outcome the variance of the outcome means
(between-outcome variance) over the total. With several sources the shares need not add up to 1.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import model as model_mod
from ..io import Loaded
from ..model import BUY, LEASE, NONE
from ..plan import Plan, make_plan, outcome_scenarios
from ..schema import Scenario

SCHEMA = "chipalloc.simulation/1"
DRAW_LP = True  # False: every draw through the general backend (the baseline of benchmarks/bench_simulate.py)
MAX_CHUNK = 250  # draws per executor task, at most (a draw costs about 0.1-1 ms: tasks must not be tiny)
CHUNKS_WANTED = 64  # below MAX_CHUNK x this many draws, smaller chunks, so that every worker gets work


def draws_per_chunk(n: int) -> int:
    """Draws per task for ``n`` draws: ``n // 64`` clipped to 1..250 (depends on ``n`` only)."""
    return max(1, min(MAX_CHUNK, n // CHUNKS_WANTED))


@dataclass(frozen=True)
class Draw:
    index: int
    outcome: str | None
    rates: dict[str, float]  # the vendors whose rate was drawn
    effective_tops: float


@dataclass
class SimulationResult:
    scenario: str
    solver: str
    draws_requested: int
    seed: int
    target: float | None
    draws: list[Draw]  # the finished draws, in draw order
    plan_effective_tops: float  # the plan's own objective (its risk measure, or effective TOPS)
    shared_orders: list[dict] = field(default_factory=list)
    partial: bool = False
    measure: str | None = None  # the risk measure the plan maximised (None: a plan without outcomes)
    solver_version: str | None = None

    @property
    def values(self) -> np.ndarray:
        return np.array([d.effective_tops for d in self.draws], dtype=float)

    def stats(self) -> dict[str, float | None]:
        v = self.values
        if not len(v):
            return {"mean": None, "sd": None, "p5": None, "p50": None, "p95": None}
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                "p5": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))}

    def prob_below_target(self) -> float | None:
        if self.target is None or not self.draws:
            return None
        return float(np.mean(self.values < self.target))

    def contributions(self) -> list[dict]:
        """Each source's first-order share of the variance of effective TOPS (see the module doc)."""
        v = self.values
        out: list[dict] = []
        if len(v) < 2 or float(v.var()) == 0.0:
            return out
        vendors = sorted({k for d in self.draws for k in d.rates})
        for vid in vendors:
            r = np.array([d.rates.get(vid, np.nan) for d in self.draws], dtype=float)
            ok = np.isfinite(r)
            if ok.sum() < 2 or float(r[ok].var()) == 0.0:
                continue
            c = float(np.corrcoef(r[ok], v[ok])[0, 1])
            out.append({"source": vid, "kind": "vendor", "share": c * c})
        names = [d.outcome for d in self.draws]
        if any(n is not None for n in names):
            total = float(v.var())
            between = 0.0
            for n in sorted(set(names), key=str):
                sel = np.array([x == n for x in names])
                between += sel.mean() * (float(v[sel].mean()) - float(v.mean())) ** 2
            out.append({"source": "outcome", "kind": "outcome", "share": between / total})
        return out

    def by_outcome(self) -> list[dict]:
        out = []
        for n in sorted({d.outcome for d in self.draws if d.outcome is not None}):
            v = np.array([d.effective_tops for d in self.draws if d.outcome == n])
            out.append({"name": n, "draws": int(len(v)), "mean": float(v.mean())})
        return out

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA, "scenario": self.scenario, "solver": self.solver, "seed": self.seed,
            "draws": self.draws_requested, "draws_done": len(self.draws), "partial": self.partial,
            "target": self.target, "plan_effective_tops": self.plan_effective_tops, "measure": self.measure,
            "effective_tops": self.stats(), "prob_below_target": self.prob_below_target(),
            "contributions": self.contributions(), "outcomes": self.by_outcome(),
            "shared_orders": self.shared_orders,
            "draws_table": [{"draw": d.index, "outcome": d.outcome, "rates": d.rates, "effective_tops": d.effective_tops}
                            for d in self.draws],
        }


# ----------------------------------------------------------------------------- the work one draw does
@dataclass
class SimWork:
    """What every chunk of draws shares (sent to each worker once)."""

    scenario: Scenario  # the base (the file, with variants and --set)
    outcomes: dict[str, Scenario] | None
    fixed: dict[str, float]  # shared column name -> units of the plan
    seed: int
    draws: int
    solver: str
    _models: dict = field(default_factory=dict, repr=False)  # per outcome, built once in a process

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_models"] = {}
        return state


def beta_draw(rng: np.random.Generator, mean: float, sd: float) -> float:
    """A Beta draw with this mean and standard deviation (sd**2 < mean (1 - mean), checked by the schema)."""
    if sd <= 0 or mean >= 1.0:
        return mean
    k = mean * (1.0 - mean) / (sd * sd) - 1.0
    return float(rng.beta(mean * k, (1.0 - mean) * k))


def draw_inputs(work: SimWork, d: int) -> tuple[str | None, dict[str, float]]:
    """Outcome and drawn rates of draw ``d`` (its own stream: SeedSequence(seed, spawn_key=(d,)))."""
    rng = np.random.default_rng(np.random.SeedSequence(work.seed, spawn_key=(d,)))
    name = None
    world = work.scenario
    if work.outcomes:
        names = list(work.outcomes)
        p = np.array([work.scenario.uncertainty.outcomes[n].probability for n in names], dtype=float)
        name = names[int(rng.choice(len(names), p=p / p.sum()))]
        world = work.outcomes[name]
    rates = {}
    for vid in sorted(world.vendors):
        v = world.vendors[vid]
        if v.delivery_sd:
            rates[vid] = beta_draw(rng, v.delivery_rate, v.delivery_sd)
    return name, rates


class DrawLP:
    """One world's LP (the orders after the outcome is known, the shared ones fixed) held in HiGHS for many draws.

    A draw changes only the objective (each vendor's TOPS times its drawn rate over its planned rate: the
    delivery rate enters nothing else), so a draw is one ``changeColsCost`` and one simplex run, started
    from the optimal basis of the world at its planned rates (``setBasis``). Every draw starts from that
    same basis, which depends on the world alone, so a draw's answer does not depend on the draws solved
    before it in the process: the same bits whatever the chunking or the number of workers (tested against
    a fresh model per draw). No model is rebuilt, rescaled or revalidated per draw.
    """

    def __init__(self, m):
        from ..solve import scaled
        from ..solve.highs import new_highs, pass_model

        p = scaled(m)
        self.c_lots = p.c
        self.scale = m.var.scale.astype(float)
        self.n = m.n
        self.cols = np.arange(m.n, dtype=np.int32)
        self.h = new_highs()
        pass_model(self.h, p.A, -p.c, p.col_lo, p.col_up, p.row_lo, p.row_up, None)
        self._run("at the planned delivery rates")
        self.basis = self.h.getBasis()

    def _run(self, what: str) -> None:
        import highspy

        from ..solve import silenced

        with silenced():  # HiGHS prints from C
            self.h.run()
        st = self.h.getModelStatus()
        if st != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"the re-optimisation {what} is {self.h.modelStatusToString(st)}")

    def maximise(self, factor: np.ndarray, d: int) -> np.ndarray:
        """Units of the best later orders when each column's TOPS is multiplied by ``factor``."""
        self.h.changeColsCost(self.n, self.cols, -(self.c_lots * factor))
        self.h.setBasis(self.basis)
        self._run(f"of draw {d}")
        return np.asarray(self.h.getSolution().col_value, dtype=float)[: self.n] * self.scale


def _world_model(work: SimWork, name: str | None):
    """(model with the shared orders fixed, solver or None when nothing is left to choose, vendor of each
    column, the world's planned rates, the fixed units), built once per world in a process.

    An outcome's world is the scenario with that one outcome, known (probability 1), maximising its
    effective TOPS: once the outcome is known every risk measure is that outcome's TOPS, and the objective
    is then the TOPS that the drawn rates scale (a CVaR or worst-case model would hide them in its rows).
    """
    got = work._models.get(name)
    if got is not None:
        return got
    s = work.scenario
    if name is None:
        m = model_mod.build(s)
        world = s
    else:
        world = work.outcomes[name]
        unc = s.uncertainty.model_copy(update={
            "outcomes": {name: s.uncertainty.outcomes[name].model_copy(update={"probability": 1.0})},
            "risk": s.uncertainty.risk.model_copy(update={"measure": "expected"}),
        })
        one = s.model_copy(update={"uncertainty": unc})
        m = model_mod.build(one, {name: world})
    fixed = np.zeros(m.n, dtype=bool)
    at = np.zeros(m.n)
    for j, n in enumerate(m.var.name):
        if int(m.var.outcome[j]) == NONE and int(m.var.kind[j]) in (BUY, LEASE):
            fixed[j] = True
            at[j] = work.fixed.get(n, 0.0)
    var = dataclasses.replace(m.var, lower=np.where(fixed, at, m.var.lower), upper=np.where(fixed, at, m.var.upper))
    m = dataclasses.replace(m, var=var)
    vendor_of = np.full(m.n, -1, dtype=np.int64)
    buy = m.var.kind == BUY
    chip_vendor = np.array([m.coords.vendors.index(world.chips[c].vendor) for c in m.coords.chips])
    vendor_of[buy] = chip_vendor[m.var.chip[buy]]
    base_rates = np.array([world.vendors[v].delivery_rate for v in m.coords.vendors])
    free = not fixed.all() if m.n else False
    backend = None
    if free:
        if DRAW_LP and work.solver == "highs" and not m.integer:
            backend = DrawLP(m)
        else:  # whole lots, or another solver: the backend, updated with each draw's objective
            from ..solve import scaled
            from ..solve.lexicographic import backend_for

            backend = backend_for(work.solver, scaled(m), mip=m.integer)
    got = (m, backend, vendor_of, base_rates, at if not free else None)
    work._models[name] = got
    return got


def run_draws(work: SimWork, chunk: list[int]):
    """Executor task: one Draw per draw index in ``chunk``."""
    from ..solve import Status, scaled

    for d in chunk:
        name, rates = draw_inputs(work, d)
        m, backend, vendor_of, base_rates, at = _world_model(work, name)
        factor = np.ones(m.n)
        for vi, vid in enumerate(m.coords.vendors):
            if vid in rates and base_rates[vi] > 0:
                factor[vendor_of == vi] = rates[vid] / base_rates[vi]
        c = m.c * factor
        if backend is None:  # every order fixed: evaluate the plan under the drawn rates
            tops = float(c @ at)
        elif isinstance(backend, DrawLP):
            tops = float(c @ backend.maximise(factor, d))
        else:
            drawn = dataclasses.replace(m, c=c)
            backend.update(scaled(drawn))
            st, lots = backend.maximise()
            if st is not Status.OPTIMAL:
                raise RuntimeError(f"draw {d}: the re-optimisation is {st.value}")
            tops = float(c @ (lots * m.var.scale))
        yield Draw(d, name, rates, tops + 0.0)


def prepare(loaded: Loaded | Scenario, solver: str = "highs") -> tuple[Plan, SimWork]:
    """The plan to simulate and the work every draw shares.

    Raises InfeasibleError (with ``.diagnosis``, as solve's) / UnboundedError when the scenario has no optimal plan.
    """
    s = loaded.scenario if isinstance(loaded, Loaded) else loaded
    outcomes = outcome_scenarios(loaded if isinstance(loaded, Loaded) else None, s)
    plan = make_plan(loaded, solver=solver, duals=False, raise_on_status=False)
    if not plan.result.ok:
        raise _no_plan(s, solver, plan)
    m = plan.model
    fixed = {m.var.name[j]: float(u) for j, u in enumerate(plan.result.units)
             if int(m.var.outcome[j]) == NONE and int(m.var.kind[j]) in (BUY, LEASE)}
    return plan, SimWork(s, outcomes or None, fixed, 0, 0, solver)


MAX_SEED = 2**63 - 1


def check_run(draws: Any, seed: Any) -> None:
    """``--draws`` and ``--seed`` before anything is loaded or solved (InputError, exit 2)."""
    from ..errors import InputError

    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise InputError(f"--draws {draws}: must be a whole number of draws, at least 1 (e.g. --draws 10000)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed {seed}: must be a whole number from 0 to {MAX_SEED:,} (the same seed gives the "
                         "same draws)")


def _no_plan(s: Scenario, solver: str, plan: Plan) -> Exception:
    """The error of a scenario without an optimal plan: infeasible with its diagnosis (exit 3), unbounded (4)."""
    from ..errors import SolveError, UnboundedError
    from .diagnose import infeasible_error

    st = plan.result.status.value
    if st == "infeasible":
        return infeasible_error(s, solver, plan.lm,
                                f"infeasible: scenario {s.name!r} has no plan that meets every rule; nothing to simulate",
                                "nothing to simulate: the simulation needs a feasible plan.")
    if st == "unbounded":
        return UnboundedError(f"unbounded: scenario {s.name!r} has no limit on purchases; give each site a budget "
                              "or set a global budget")
    return SolveError(f"the {solver} solver failed: {plan.result.message or st}")


def simulate(loaded: Loaded | Scenario, draws: int, seed: int = 0, target: float | None = None,
             solver: str = "highs", executor=None, on_done: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Run ``draws`` draws (see the module doc); ``executor``: where (in-process by default)."""
    from .executor import SerialExecutor

    check_run(draws, seed)
    plan, work = prepare(loaded, solver)
    work.seed, work.draws = int(seed), int(draws)
    ex = executor or SerialExecutor()
    got = ex.run(run_draws, work, list(range(draws)), chunk_size=draws_per_chunk(draws), on_done=on_done)
    finished = [v for _, v in got.done()]
    from .risk import _orders_before

    shared = _orders_before(plan.model, np.asarray(plan.result.units), shared_only=True)
    unc = work.scenario.uncertainty
    return SimulationResult(work.scenario.name, solver, draws, int(seed), target, finished,
                            float(plan.totals["effective_tops"]), shared, partial=not got.complete,
                            measure=unc.risk.measure if unc is not None and plan.outcomes else None,
                            solver_version=plan.result.solver_version)


__all__ = ["Draw", "DrawLP", "SimulationResult", "SimWork", "simulate", "run_draws", "draw_inputs", "beta_draw", "prepare",
           "check_run"]
