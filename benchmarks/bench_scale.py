"""Whole-process speed and memory of `chipalloc solve` as the model grows (issue: plan by quarter, scale).

    .venv/bin/python benchmarks/bench_scale.py [--rounds 3]

Runs the CLI in a fresh process per measurement (as a user does: import, read, build, solve, verify, JSON),
on generated continuous scenarios of 10, 20 and 40 sites x 250 chips without export controls (2,500, 5,000
and 10,000 columns, benchmarks/generate.py, seed 0), with --no-breakeven (the break-even search follows the
plan and is measured on its own), and on the shipped baseline with everything (sensitivity and break-even).
Reports the best wall time of --rounds, the peak memory (max RSS) and, as the issue asks, how much faster
than the number of columns the time grows: (t(10,000) / t(2,500)) / (10,000 / 2,500). Also times the
extensive form of 4 periods x 3 sites x 10 chips x 200 outcomes (continuous), without and with its figures.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from generate import scenario  # noqa: E402

CLI = [sys.executable, "-m", "optimizer"]


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one CLI run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run(CLI + args, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"chipalloc {' '.join(args)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024.0


def best(args: list[str], rounds: int) -> tuple[float, float]:
    got = [run(args) for _ in range(rounds)]
    return min(w for w, _ in got), max(m for _, m in got)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sites in (10, 20, 40):
            f = Path(tmp) / f"g{sites}x250.yaml"
            f.write_text(yaml.safe_dump(scenario(sites, 250, 0, False, export_controls=False), sort_keys=False))
            out[f"{sites * 250:,} columns ({sites} sites x 250 chips), solve --json --no-breakeven"] = best(
                ["solve", str(f), "--json", "--no-report", "--no-breakeven"], a.rounds)
        f = Path(tmp) / "risk200.yaml"
        f.write_text(yaml.safe_dump(scenario(3, 10, 0, False, periods=4, outcomes=200), sort_keys=False))
        out["4 periods x 3 sites x 10 chips x 200 outcomes, make_plan only"] = _in_process(f, a.rounds)
        out["the same, solve --json --no-breakeven (with EVPI, base plan value: 202 more solves)"] = best(
            ["solve", str(f), "--json", "--no-report", "--no-breakeven"], a.rounds)
    out["baseline bytedance-2025.yaml, solve --json (sensitivity and break-even)"] = best(
        ["solve", "scenarios/bytedance-2025.yaml", "--json", "--no-report"], a.rounds)
    width = max(len(k) for k in out)
    for k, (w, m) in out.items():
        print(f"{k:<{width}}  {w:7.2f} s  {m:7.0f} MiB")
    keys = list(out)
    growth = (out[keys[2]][0] / out[keys[0]][0]) / 4.0
    print(f"\ntime grows {growth:.2f}x as fast as the columns from 2,500 to 10,000 (the bar: at most 1.5x)")


def _in_process(f: Path, rounds: int) -> tuple[float, float]:
    os.chdir(REPO)
    from optimizer import io
    from optimizer.plan import make_plan

    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        make_plan(io.load(f))
        times.append(time.perf_counter() - t)
    return min(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


if __name__ == "__main__":
    main()
