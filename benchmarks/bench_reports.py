"""Reports of plans by period: time per cell written, as a ratio to the smallest plan, for growing plans.

    .venv/bin/python benchmarks/bench_reports.py [--rounds 3]

Builds the solve workbook (Summary, Allocation, Orders by period, Leases,
Cash by period, Compliance, Inputs, ...) in memory and the terminal summary
for generated scenarios (benchmarks/generate.py, continuous units, one lease
per site) of growing sites x chips x periods. Every figure the period sheets
show is a SUMIFS whose value is computed from sums grouped once per table,
so the time per cell must not grow with the plan (quadratic work would show
as a ratio growing with the size). Wall clock, best of --rounds, in one
process: read the ratios, not the seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import scenario  # noqa: E402

from optimizer import io  # noqa: E402
from optimizer.plan import make_plan  # noqa: E402
from optimizer.report.terminal import summary  # noqa: E402
from optimizer.report.workbook import build_plan_workbook  # noqa: E402

SIZES = [(3, 6, 4), (6, 12, 8), (12, 24, 12), (24, 36, 16)]  # sites, chips, periods


def best(f, rounds: int) -> float:
    out = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        f()
        out = min(out, time.perf_counter() - start)
    return out


def plan_of(n_sites: int, n_chips: int, periods: int, folder: Path):
    data = scenario(n_sites, n_chips, seed=1, periods=periods)
    data["leases"] = {f"l{s}": {"site": s, "chip": "c001", "operator": "operator", "price_per_period": 1000.0,
                                "max_units": 500.0} for s in data["sites"]}
    path = folder / f"s{n_sites}-{n_chips}-{periods}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return make_plan(io.load(path))


def cells(book) -> int:
    return sum(len(sh._values) for sh in book.sheets)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print("sites x chips x periods  rows  leases   cells  workbook  per cell (x smallest)  summary per row (x smallest)")
    first = None
    with tempfile.TemporaryDirectory() as d:
        for n_sites, n_chips, periods in SIZES:
            plan = plan_of(n_sites, n_chips, periods, Path(d))
            n = cells(build_plan_workbook(plan))
            t = best(lambda: build_plan_workbook(plan).to_bytes(), args.rounds)
            ts = best(lambda: summary(plan), args.rounds)
            rows = len(plan.allocation) + len(plan.leases) + len(plan.compliance)
            per_cell, per_row = t / n, ts / rows
            first = first or (per_cell, per_row)
            print(f"{n_sites:>5} x {n_chips:>5} x {periods:>7}  {len(plan.allocation):>4}  {len(plan.leases):>6}  "
                  f"{n:>6}  {t:7.2f} s  {per_cell / first[0]:20.2f}x  {per_row / first[1]:27.2f}x")


if __name__ == "__main__":
    main()
