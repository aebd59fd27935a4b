"""Benchmark: repeated what-if solves, make_plan each time vs the Resolver, in one process.

    .venv/bin/python benchmarks/bench_whatif.py [--rounds 3] [--points 50] [SCENARIO]
    make bench

Workloads (on scenarios/bytedance-2025.yaml unless a file is given):

1. a 50-point sweep of ``sites.<first site>.budget.amount`` from 50% to 150%
   of its value, with whole lots (the scenario as shipped: a MILP per point);
2. the same sweep with ``integer_units: false`` (an LP per point);
3. the break-even search of ``solve`` on the scenario.

Each workload runs with the baseline (``make_plan`` per scenario: rebuild the
model, hand it to PuLP, solve from scratch) and with
:class:`optimizer.analysis.engine.Resolver` (one persistent HiGHS model,
differences pushed, warm starts). Break-even is timed three ways: baseline
probes with the plain halving/doubling search (what one would write without
the Resolver), Resolver probes with the same plain search, and the Resolver
with the relaxation-guided search ``solve`` uses. Every workload is checked
to give the same answers both ways before it is timed.

Timings are wall-clock, best of ``--rounds`` (the rounds alternate the
methods, so a busy machine slows both alike); the ratios are what to read,
the seconds depend on the machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer import io  # noqa: E402
from optimizer.analysis.breakeven import break_even  # noqa: E402
from optimizer.analysis.engine import Resolver  # noqa: E402
from optimizer.plan import make_plan  # noqa: E402


class BaselineResolver:
    """The Resolver interface, implemented the slow way: make_plan for every scenario."""

    def __init__(self, solver: str = "highs"):
        self.solver = solver
        self.deadline = None  # never set: the benchmark runs without a time budget

    def plan(self, scenario, duals: bool = True):
        return make_plan(scenario, solver=self.solver, raise_on_status=False)


def budget_sweep(s, points: int):
    site = sorted(s.sites)[0]
    st = s.sites[site]
    b0 = st.budget.amount
    out = []
    for k in range(points):
        amount = b0 * (0.5 + k / max(1, points - 1))
        budget = st.budget.model_copy(update={"amount": amount})
        out.append(s.model_copy(update={"sites": {**s.sites, site: st.model_copy(update={"budget": budget})}}))
    return out


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best_of(rounds: int, methods: dict):
    """Run every method once per round, alternating; return {name: (best seconds, last result)}."""
    best: dict = {}
    for _ in range(rounds):
        for name, fn in methods.items():
            dt, out = timed(fn)
            prev = best.get(name)
            best[name] = (min(dt, prev[0]) if prev else dt, out)
    return best


def same_plans(a, b) -> bool:
    """Same statuses and units (whole lots exactly; LP units to round-off, warm starts take other pivots)."""
    return all(
        x.status == y.status and np.allclose(x.result.units, y.result.units, rtol=1e-9, atol=1e-9) for x, y in zip(a, b)
    )


def same_break_even(a, b, rel: float = 2e-3) -> bool:
    for x, y in zip(a, b):
        if (x.site, x.chip, x.direction) != (y.site, y.chip, y.direction):
            return False
        if (x.break_even_price is None) != (y.break_even_price is None):
            return False
        if x.break_even_price is not None and abs(x.break_even_price / y.break_even_price - 1) > rel:
            return False
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "bytedance-2025.yaml"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--points", type=int, default=50)
    args = ap.parse_args(argv)

    s = io.load(args.scenario).scenario
    rows = []

    for label, scen in (("whole lots (MILP)", s), ("continuous (LP)", s.model_copy(update={"integer_units": False}))):
        pts = budget_sweep(scen, args.points)
        res = best_of(args.rounds, {
            "make_plan": lambda pts=pts: [make_plan(p, raise_on_status=False) for p in pts],
            "Resolver": lambda pts=pts: _sweep(pts),
        })
        assert same_plans(res["make_plan"][1], res["Resolver"][1]), "sweep plans differ"
        rows.append((f"{args.points}-point budget sweep, {label}", res["make_plan"][0], res["Resolver"][0], args.points, args.points))

    plan = make_plan(io.load(args.scenario))
    counts = {}

    def be(resolver_cls, guided):
        r = resolver_cls()
        out = break_even(plan, resolver=r, guided=guided, max_probes=None)
        counts[(resolver_cls.__name__, guided)] = sum(x.probes for x in out)
        return out

    res = best_of(args.rounds, {
        "baseline": lambda: be(BaselineResolver, False),
        "resolver_plain": lambda: be(Resolver, False),
        "resolver_guided": lambda: be(Resolver, True),
    })
    assert same_break_even(res["baseline"][1], res["resolver_plain"][1]), "break-even prices differ"
    assert same_break_even(res["baseline"][1], res["resolver_guided"][1]), "break-even prices differ"
    n_base = counts[("BaselineResolver", False)]
    rows.append(("break-even, plain search", res["baseline"][0], res["resolver_plain"][0], n_base, counts[("Resolver", False)]))
    rows.append(("break-even, relaxation-guided (as solve runs it)", res["baseline"][0], res["resolver_guided"][0], n_base,
                 counts[("Resolver", True)]))

    print(f"scenario: {args.scenario}  (best of {args.rounds} rounds, wall clock)")
    print(f"{'workload':50s} {'make_plan':>10s} {'Resolver':>10s} {'ratio':>7s}   solves   ms/solve")
    for name, base, fast, nb, nf in rows:
        print(f"{name:50s} {base:9.2f}s {fast:9.2f}s {base / fast:6.1f}x  {nb:3d}/{nf:<3d}  {1000 * base / nb:5.1f}/{1000 * fast / nf:<5.1f}")
    print("(break-even: the make_plan column is make_plan per probe with the plain search;"
          " solves = whole-lot solves, make_plan/Resolver)")
    return 0


def _sweep(pts):
    r = Resolver()
    return [r.plan(p) for p in pts]


if __name__ == "__main__":
    raise SystemExit(main())
