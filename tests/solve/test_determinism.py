"""The same input gives the same answer: twice in a row, and whatever HiGHS's thread count.

HiGHS's thread count is process-wide, so it is fixed once per process (CHIPALLOC_HIGHS_THREADS, default 1);
no solve has a time limit. These run the CLI in fresh processes and compare the JSON byte for byte.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO, SCENARIOS

SHIPPED = sorted(p.name for p in SCENARIOS.glob("*.yaml") if "infeasible" not in p.name)


def solve_json(scenario: str, threads: str) -> str:
    env = dict(os.environ, CHIPALLOC_HIGHS_THREADS=threads)
    p = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(SCENARIOS / scenario), "--json", "--no-report"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SHIPPED)
def test_same_answer_twice_and_with_two_threads(scenario):
    one = solve_json(scenario, "1")
    assert solve_json(scenario, "1") == one
    assert solve_json(scenario, "2") == one


def test_thread_count_is_read_once_per_process():
    code = ("import os; os.environ['CHIPALLOC_HIGHS_THREADS']='3'\n"
            "from optimizer.solve import highs\n"
            "a = highs.threads(); os.environ['CHIPALLOC_HIGHS_THREADS']='1'; print(a, highs.threads())")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.stdout.split() == ["3", "3"]
