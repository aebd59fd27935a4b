"""Benchmark: HiGHS options (and reduced-cost boxes) on whole-lot models: time against HiGHS's defaults, plans changed.

    .venv/bin/python benchmarks/bench_highs_options.py [--rounds 3] [--quick]

Instances, all whole lots (``integer_units: true``), in three groups:

- shipped: every ``scenarios/*.yaml`` and each of its variants (the infeasible one included: its status must
  not change either), except the risk scenario;
- risk, whole lots: ``bytedance-2025-risk.yaml`` (continuous as shipped) and its variants forced to whole
  lots: the expected TOPS over outcomes has a lot step of 1/400 TOPS, far below what the relative gap of
  1e-9 proves (about 0.2 TOPS), so any change of path may end at another plan within that gap;
- sweep: 40 budgets of the baseline from CNY 20B to 60B (what a whole-lot sweep solves);
- generated: ``benchmarks/generate.py --integer`` at 3 x 6, 6 x 12 and 12 x 24 (sites x chips), seeds 0-2,
  and 3 x 6 with 4 periods.

Each option set solves every instance with the full two-stage solve (maximise effective TOPS, then the
least-spend tie-break; :class:`optimizer.solve.Solver`, a fresh one per instance, no duals), in this process,
best of ``--rounds`` wall-clock times per instance (rounds alternate the sets). Every set also keeps the options
that decide what a plan is proven to (``mip_rel_gap`` = MIP_REL_GAP, the node limit). Reported per group:
the time as a ratio to HiGHS's defaults, and the instances whose plan (status, units, effective TOPS)
differs from HiGHS's defaults. HiGHS's thread count is process-wide, so the "2 threads" rows run in a child
process with ``CHIPALLOC_HIGHS_THREADS=2`` (compared with this process's single-threaded HiGHS defaults).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from optimizer import io  # noqa: E402
from optimizer.model import build  # noqa: E402
from optimizer.plan import outcome_scenarios  # noqa: E402
from optimizer.solve import Solver, highs  # noqa: E402
from optimizer.solve import lexicographic as lx  # noqa: E402
from optimizer.solve.numerics import exact_value, scaled  # noqa: E402

FJ_OFF = {"mip_heuristic_run_feasibility_jump": False}
SETS: dict[str, tuple[dict, bool]] = {  # name: (MIP options, reduced-cost boxes)
    "HiGHS defaults": ({}, False),
    "feasibility jump off": (FJ_OFF, False),
    "+ presolve off": ({**FJ_OFF, "presolve": "off"}, False),
    "+ heuristic effort 0": ({**FJ_OFF, "mip_heuristic_effort": 0.0}, False),
    "+ symmetry detection off": ({**FJ_OFF, "mip_detect_symmetry": False}, False),
    "+ restarts off": ({**FJ_OFF, "mip_allow_restart": False}, False),
    "feasibility jump off, boxes (chosen)": (FJ_OFF, True),
    "boxes + presolve off": ({**FJ_OFF, "presolve": "off"}, True),
    "boxes + heuristic effort 0": ({**FJ_OFF, "mip_heuristic_effort": 0.0}, True),
    "boxes + symmetry detection off": ({**FJ_OFF, "mip_detect_symmetry": False}, True),
}
CHOSEN = "feasibility jump off, boxes (chosen)"


def instances(quick: bool) -> dict[str, list[tuple[str, object]]]:
    """group -> [(label, model)]."""
    import generate

    from optimizer.io import validate_data

    groups: dict[str, list] = {"shipped": [], "risk, whole lots": [], "sweep": [], "generated": []}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        for variant in [None, *io.load(path).scenario.variants]:
            loaded = io.load(path, variants=[variant] if variant else [], sets=["integer_units=true"])
            s = loaded.scenario
            group = "risk, whole lots" if s.uncertainty is not None else "shipped"
            groups[group].append((f"{path.stem}{'@' + variant if variant else ''}",
                                  build(s, outcome_scenarios(loaded, s))))
    base = io.load(ROOT / "scenarios" / "bytedance-2025.yaml")
    from optimizer.analysis.specs import apply, base_data

    data = base_data(base)
    for b in np.linspace(20e9, 60e9, 10 if quick else 40):
        _, s = apply(data, {"sites.cn.budget.amount": float(b)}, file=None)
        groups["sweep"].append((f"budget {b / 1e9:.2f}B", build(s)))
    sizes = [(3, 6, 0), (6, 12, 0), (12, 24, 0), (3, 6, 4)]
    for sites, chips, periods in sizes[:2] if quick else sizes:
        for seed in range(1 if quick else 3):
            s = validate_data(generate.scenario(sites, chips, seed=seed, integer=True, periods=periods))
            groups["generated"].append((f"{sites}x{chips}{f'x{periods}p' if periods else ''} seed {seed}", build(s)))
    return groups


def solve_once(model, options: dict, boxes: bool) -> tuple[float, list]:
    highs.MIP_OPTIONS = options
    lx.FIXING = boxes
    t = time.perf_counter()
    r = Solver(model).solve(duals=False)
    dt = time.perf_counter() - t
    return dt, [r.status.value, [float(u) for u in np.round(r.units, 9)], float(r.objective)]


def study(names: list[str], rounds: int, quick: bool) -> dict:
    """{set: {group: (seconds, [plans])}} for the named sets."""
    groups = instances(quick)
    best = {n: {g: [np.inf] * len(items) for g, items in groups.items()} for n in names}
    plans: dict = {n: {g: [None] * len(items) for g, items in groups.items()} for n in names}
    for _ in range(rounds):
        for n in names:
            options, boxes = SETS[n]
            for g, items in groups.items():
                for k, (_, model) in enumerate(items):
                    dt, plan = solve_once(model, options, boxes)
                    best[n][g][k] = min(best[n][g][k], dt)
                    plans[n][g][k] = plan
    return {"labels": {g: [lab for lab, _ in items] for g, items in groups.items()},
            "sets": {n: {g: (float(sum(best[n][g])), plans[n][g]) for g in groups} for n in names}}


def classify(model, a: list, b: list) -> str:
    """'same', 'tie' (same status, effective TOPS and spend, other units) or 'other' (with the TOPS difference)."""
    if a == b:
        return "same"
    if a[0] != b[0]:
        return "other"
    prob = scaled(model)
    la, lb = np.array(a[1]) / prob.col_scale, np.array(b[1]) / prob.col_scale
    ta, tb = exact_value(model, la), exact_value(model, lb)
    same_tops = ta == tb if ta is not None and tb is not None else a[2] == b[2]
    sa, sb = float(prob.spend @ la), float(prob.spend @ lb)
    return "tie" if same_tops and abs(sa - sb) <= 1e-12 * max(1.0, abs(sb)) else "other"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer instances (a smoke run)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # the 2-thread run, JSON out
    args = ap.parse_args(argv)
    if args.child:
        json.dump(study(["HiGHS defaults", CHOSEN], args.rounds, args.quick), sys.stdout)
        return 0
    got = study(list(SETS), args.rounds, args.quick)
    env = dict(os.environ, CHIPALLOC_HIGHS_THREADS="2")
    child = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds)]
                           + (["--quick"] if args.quick else []), env=env, capture_output=True, text=True, check=True)
    two = json.loads(child.stdout)
    models = {g: [m for _, m in items] for g, items in instances(args.quick).items()}
    labels = got["labels"]
    groups = list(labels)
    ref = json.loads(json.dumps(got["sets"]["HiGHS defaults"]))
    print(f"HiGHS options on whole-lot models, best of {args.rounds} rounds (wall clock). Per group: time as a ratio "
          "to HiGHS's defaults; plans against HiGHS's defaults: changed (other status, effective TOPS or spend; "
          "the largest relative TOPS difference) / tied (same TOPS and spend, other units)")
    print("instances: " + ", ".join(f"{g} {len(labels[g])}" for g in groups))
    print("| option set | " + " | ".join(f"{g}: time | {g}: changed / tied" for g in groups) + " |")
    print("|---|" + "---:|---|" * len(groups))
    rows = [(n, got["sets"][n]) for n in SETS]
    rows += [(f"{n}, 2 threads", two["sets"][n]) for n in ("HiGHS defaults", CHOSEN)]
    for name, res in rows:
        res = json.loads(json.dumps(res))
        cells = []
        for g in groups:
            t, plans = res[g]
            kinds = [classify(models[g][k], a, b) for k, (a, b) in enumerate(zip(plans, ref[g][1]))]
            other = [k for k, kind in enumerate(kinds) if kind == "other"]
            worst = max((abs(plans[k][2] - ref[g][1][k][2]) / max(1.0, abs(ref[g][1][k][2])) for k in other
                         if plans[k][0] == ref[g][1][k][0] == "optimal"), default=0.0)
            text = f"{len(other)}" + (f" (TOPS within {worst:.1e})" if other else "") + f" / {kinds.count('tie')}"
            cells += [f"{t / ref[g][0]:.2f}x", text]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("seconds with HiGHS's defaults: " + ", ".join(f"{g} {ref[g][0]:.2f} s" for g in groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
