"""The HiGHS options chipalloc sets (optimizer.solve.highs.MIP_OPTIONS) and its reduced-cost boxes
(optimizer/solve/fixing.py) change no plan: every shipped scenario and variant gets the plan HiGHS's defaults
give (status, units, effective TOPS, shadow prices). The study that chose them: benchmarks/bench_highs_options.py."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SCENARIOS
from optimizer import io
from optimizer.model import build
from optimizer.plan import outcome_scenarios
from optimizer.solve import Solver, highs
from optimizer.solve import lexicographic as lx
from optimizer.solve.numerics import MIP_REL_GAP

SHIPPED = [(p.name, v) for p in sorted(SCENARIOS.glob("*.yaml")) for v in [None, *io.load(p).scenario.variants]]


def test_the_chosen_options():
    # feasibility jump off; no presolve, symmetry, heuristic-effort or restart change (none cut time without
    # changing a plan in the study); the gap and the node limit are set apart, on every MILP
    assert highs.MIP_OPTIONS == {"mip_heuristic_run_feasibility_jump": False}
    assert lx.FIXING is True


@pytest.mark.parametrize("name, variant", SHIPPED)
def test_shipped_scenarios_get_the_plans_of_highs_defaults(monkeypatch, name, variant):
    loaded = io.load(SCENARIOS / name, variants=[variant] if variant else [])
    m = build(loaded.scenario, outcome_scenarios(loaded, loaded.scenario))
    chosen = Solver(m).solve(duals=True)
    monkeypatch.setattr(highs, "MIP_OPTIONS", {})
    monkeypatch.setattr(lx, "FIXING", False)
    default = Solver(m).solve(duals=True)
    assert chosen.status == default.status
    assert np.array_equal(chosen.units, default.units)
    assert chosen.objective == default.objective or (np.isnan(chosen.objective) and np.isnan(default.objective))
    if default.shadow_prices is not None:
        assert np.array_equal(chosen.shadow_prices, default.shadow_prices)
    # the gap proven may differ (both within MIP_REL_GAP); every note is the same
    gaps = chosen.extra.pop("mip_gap", None), default.extra.pop("mip_gap", None)
    assert all(g is None or g <= MIP_REL_GAP for g in gaps)
    assert chosen.extra == default.extra
