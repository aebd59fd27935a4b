"""Benchmark: a continuous 1-D sweep filled from its breakpoints vs solving every point, in one process.

    .venv/bin/python benchmarks/bench_breakpoints.py [--points 1000] [--rounds 2]
    make bench

Workload: ``sites.cn.budget.amount`` from CNY 1 billion to 80 billion in ``--points`` points on
scenarios/bytedance-2025.yaml with ``integer_units: false`` (the continuous baseline), run through
:func:`optimizer.analysis.sweep.run` twice: ``method="auto"`` (exact breakpoints) and
``method="points"`` (a verified solve per point, as ``--each-point``). Both runs verify every plan.

Printed: the number of solves against the issue's bar (breakpoints + 2), the largest relative
difference in effective TOPS and spend between the two runs (the bar: 1e-9), and the wall-clock
ratio (best of ``--rounds``, the methods alternating so that a busy machine slows both alike).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer import io  # noqa: E402
from optimizer.analysis.sweep import prepare, run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    loaded = io.load(ROOT / "scenarios" / "bytedance-2025.yaml", sets=["integer_units=false"])
    varies, points = prepare(loaded, [f"sites.cn.budget.amount=1e9:80e9:{args.points}"])
    best = {"auto": float("inf"), "points": float("inf")}
    got = {}
    for _ in range(args.rounds):
        for method in ("auto", "points"):
            t = time.perf_counter()
            got[method] = run(loaded, varies, points, method=method)
            best[method] = min(best[method], time.perf_counter() - t)
    exact, each = got["auto"], got["points"]
    assert exact.method == "breakpoints", exact.method_note
    worst = 0.0
    for a, b in zip(exact.points, each.points):
        for x, y in ((a.outcome.effective_tops, b.outcome.effective_tops), (a.outcome.spend, b.outcome.spend)):
            worst = max(worst, abs(x - y) / max(1.0, abs(y)))
    nb = len(exact.breakpoints)
    print(f"continuous budget sweep of bytedance-2025, {args.points} points")
    print(f"  breakpoints found       {nb}")
    print(f"  solves (breakpoints)    {exact.solves}   bar: at most breakpoints + 2 = {nb + 2}   "
          f"{'met' if exact.solves <= nb + 2 else 'MISSED'}")
    print(f"  solves (every point)    {each.solves}")
    print(f"  largest relative difference (effective TOPS, spend): {worst:.2e}   bar: 1e-9   "
          f"{'met' if worst <= 1e-9 else 'MISSED'}")
    print(f"  time: breakpoints {best['auto']:.2f} s, every point {best['points']:.2f} s, "
          f"ratio {best['auto'] / best['points']:.2f}x (best of {args.rounds})")
    return 0 if exact.solves <= nb + 2 and worst <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
