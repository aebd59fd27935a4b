"""Benchmark: one sweep in this process, on ``--workers 2``, and on a scheduler with two workers started by hand.

    .venv/bin/python benchmarks/bench_executor.py [--points 400] [--rounds 2] [--no-by-hand] [SCENARIO]
    make bench

The workload is a ``--points``-point sweep of ``sites.<first site>.budget.amount``
from 50% to 150% of its value on scenarios/bytedance-2025.yaml (whole lots:
two MILPs per point), solved three ways, in one process, rounds alternating:

1. serial: :class:`~optimizer.analysis.executor.SerialExecutor` (the default);
2. ``--workers 2``: :func:`~optimizer.analysis.executor.make_executor` starts a
   local Dask cluster of two processes (in the background: this process
   solves the first chunks meanwhile); timed from start-up to close, which
   is what a user waits for (the time of ``run()`` alone is printed too).
   The forkserver the workers are forked from is stopped after each round,
   so every round starts from nothing, as a command does;
3. ``--scheduler``: a ``dask scheduler`` and two ``dask worker ADDRESS
   --nthreads 1`` processes started with the commands the README gives
   (once, before timing: a cluster started by hand is already running).

Every way must give the same points as the serial run, float for float
(checked before timing is reported; the script exits 1 if not). Read the
ratios (``time / serial time``); the seconds depend on the machine and on
what else runs on it. The target from issue 9: ``--workers 2`` at most
0.75x the serial time.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer import io  # noqa: E402
from optimizer.analysis import sweep as sweep_mod  # noqa: E402
from optimizer.analysis.executor import make_executor  # noqa: E402

TARGET = 0.75


def points_of(res) -> list:
    return [(p.values, p.outcome, p.diagnosis) for p in res.points]


class ByHand:
    """``dask scheduler`` and two ``dask worker ADDRESS --nthreads 1``, as the README says, on 127.0.0.1."""

    def __init__(self, workers: int = 2):
        dask_cli = str(Path(sys.executable).with_name("dask"))
        self.log = tempfile.TemporaryFile(mode="w+")
        self.procs = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                        "--dashboard-address", "127.0.0.1:0"],
                                       stdout=self.log, stderr=subprocess.STDOUT)]
        self.address = self._wait_for(r"Scheduler at:\s+(tcp://\S+)")
        for _ in range(workers):
            self.procs.append(subprocess.Popen([dask_cli, "worker", self.address, "--nthreads", "1",
                                                "--no-dashboard", "--host", "127.0.0.1"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def _wait_for(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.log.seek(0)
            m = re.search(pattern, self.log.read())
            if m:
                return m.group(1)
            time.sleep(0.2)
        raise RuntimeError("dask scheduler did not start:\n" + self.log.read())

    def close(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def fresh_forkserver() -> None:
    """Stop the forkserver the local cluster's workers were forked from, so that every round pays the whole
    start-up a ``chipalloc sweep --workers 2`` run pays (the forkserver outlives the cluster, in this process)."""
    import multiprocessing.forkserver as fs

    stop = getattr(fs._forkserver, "_stop", None)  # Python 3.11+: private, but the only way short of a new process
    if stop is not None:
        stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "bytedance-2025.yaml"))
    ap.add_argument("--points", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-by-hand", action="store_true", help="skip the scheduler started by hand")
    args = ap.parse_args(argv)

    loaded = io.load(args.scenario)
    site = sorted(loaded.scenario.sites)[0]
    vary = f"sites.{site}.budget.amount=-50%:+50%:{args.points}"
    varies, pts = sweep_mod.prepare(loaded, [vary])

    def serial():
        return sweep_mod.run(loaded, varies, pts)

    solve_only: list[float] = []

    def workers2():
        with make_executor(workers=2) as ex:
            t = time.perf_counter()
            res = sweep_mod.run(loaded, varies, pts, executor=ex)
            solve_only.append(time.perf_counter() - t)
        return res

    hand = None if args.no_by_hand else ByHand(2)
    try:
        methods = {"serial (in-process)": serial, "--workers 2 (start-up and close included)": workers2}
        if hand is not None:
            def by_hand():
                with make_executor(scheduler=hand.address) as ex:
                    return sweep_mod.run(loaded, varies, pts, executor=ex)
            methods["--scheduler, 2 workers started by hand"] = by_hand
        best: dict[str, float] = {}
        last: dict[str, list] = {}
        for _ in range(args.rounds):
            for name, fn in methods.items():
                t = time.perf_counter()
                res = fn()
                dt = time.perf_counter() - t
                fresh_forkserver()  # untimed: the next round starts its workers from nothing, as a command does
                best[name] = min(dt, best.get(name, dt))
                last[name] = points_of(res)
    finally:
        if hand is not None:
            hand.close()

    ref = last["serial (in-process)"]
    same = {name: got == ref for name, got in last.items()}
    base = best["serial (in-process)"]
    print(f"scenario: {args.scenario}  sweep --vary {vary}  ({len(pts)} points, whole lots: "
          f"{loaded.scenario.integer_units}; best of {args.rounds} rounds, wall clock, {os.cpu_count()} cores)")
    print(f"{'way':45s} {'seconds':>8s} {'ratio':>7s}  same points as serial")
    for name in methods:
        print(f"{name:45s} {best[name]:8.2f} {best[name] / base:6.2f}x  {'yes' if same[name] else 'NO'}")
    print(f"{'--workers 2, run() only (start-up overlapped)':45s} {min(solve_only):8.2f} {min(solve_only) / base:6.2f}x")
    ratio = best["--workers 2 (start-up and close included)"] / base
    print(f"target --workers 2 <= {TARGET}x serial: {'met' if ratio <= TARGET else 'NOT met'} ({ratio:.2f}x)")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":  # the guard Dask's worker processes need (they start by importing this file)
    raise SystemExit(main())
