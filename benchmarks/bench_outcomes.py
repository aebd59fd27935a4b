"""Loading outcomes: time per outcome, as a ratio to one validation of the base, for 2 to 512 outcomes.

    .venv/bin/python benchmarks/bench_outcomes.py [--rounds 7]

io.load builds one validated scenario per uncertainty.outcomes entry. The work
per outcome must not grow with the number of outcomes (each outcome scenario
is built without the uncertainty block; with it, K outcomes would each validate
all K: quadratic). Wall clock, best of --rounds, in one process: read the
ratios, not the seconds.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from optimizer import io, outcomes  # noqa: E402


def best(f, rounds: int) -> float:
    out = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        f()
        out = min(out, time.perf_counter() - start)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    base = yaml.safe_load((REPO / "tests/fixtures/io_outcomes.yaml").read_text())
    plain = {k: v for k, v in base.items() if k != "uncertainty"}
    t0 = best(lambda: io.validate_data(plain), args.rounds)
    print(f"one validation of the base scenario: {t0 * 1e3:.2f} ms")
    print("outcomes  per outcome (x one base validation)")
    for k in (2, 8, 32, 128, 512):
        d = dict(base)
        d["uncertainty"] = {"outcomes": {f"o{i}": {"probability": 1 / k, "changes": {"chips.h20.unit_price": 100_000 + i}}
                                         for i in range(k)}}
        sc = io.validate_data(d)
        t = best(lambda: outcomes.build(d, sc), args.rounds)
        print(f"{k:>8}  {t / k / t0:6.2f}x")


if __name__ == "__main__":
    main()
