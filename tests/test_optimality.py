"""The dual-bound optimality check recomputed from the scenario (verify.duality_gap)."""
import pytest

from optimizer import io, plan as plan_mod, verify
from optimizer.errors import VerificationError
from optimizer.schema import Scenario

BASE = {
    "schema_version": 1,
    "name": "two chips",
    "integer_units": False,
    "flexibility": {"g": 1.0},
    "vendors": {"a": {"origin": "US"}, "b": {"origin": "US", "capacity_units": 10}},
    # a: 100 TOPS for 10 -> 10 TOPS per money; b: 300 TOPS for 20 -> 15 per money (better, capped at 10 units)
    "chips": {
        "x": {"vendor": "a", "architecture": "g", "int8_tops": 100, "unit_price": 10},
        "y": {"vendor": "b", "architecture": "g", "int8_tops": 300, "unit_price": 20},
    },
    "sites": {"s": {"country": "US", "budget": {"amount": 1000}}},
}


def test_bound_equals_hand_optimum():
    # hand: 10 y (200 money, 3000 TOPS) + 80 x (800 money, 8000 TOPS) = 11000
    # duals: budget 10 TOPS per money (x is marginal); capacity[b] = 300 - 20*10 = 100
    sc = Scenario.model_validate(BASE)
    units = {("s", "x"): 80.0, ("s", "y"): 10.0}
    primal, bound, problems = verify.duality_gap(sc, units, {"budget[s]": 10.0, "capacity[b]": 100.0})
    assert primal == pytest.approx(11000)
    assert bound == pytest.approx(1000 * 10 + 10 * 100)
    assert problems == []


def test_suboptimal_plan_is_exposed():
    sc = Scenario.model_validate(BASE)
    units = {("s", "x"): 100.0}  # feasible, 10000 TOPS
    primal, bound, _ = verify.duality_gap(sc, units, {"budget[s]": 10.0, "capacity[b]": 100.0})
    assert bound - primal == pytest.approx(1000)


def test_wrong_duals_are_dual_infeasible():
    sc = Scenario.model_validate(BASE)
    _, _, problems = verify.duality_gap(sc, {("s", "y"): 10.0}, {"budget[s]": 1.0})
    assert any("units[s,x]" in p for p in problems) and any("units[s,y]" in p for p in problems)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_make_plan_certifies_lp(solver):
    p = plan_mod.make_plan(Scenario.model_validate(BASE), solver=solver)
    assert p.optimality["certificate"] == "lp-duality"
    assert p.optimality["bound"] == pytest.approx(11000, rel=1e-9)
    # the tie-break solve may give up at most a relative 1e-7 of the optimum to save money
    assert 11000 * (1 - 1e-7) - 1e-9 <= p.totals["effective_tops"] <= 11000 * (1 + 1e-12)


def test_make_plan_rejects_a_solver_that_stops_short(monkeypatch):
    from optimizer import solve as solve_mod

    real = solve_mod.solve

    def lazy(lm, solver="highs", **kw):
        r = real(lm, solver, **kw)
        r.units = r.units * 0.5  # still feasible, but only half the compute
        r.objective = r.objective * 0.5
        return r

    monkeypatch.setattr(plan_mod, "solve", lazy)
    with pytest.raises(VerificationError, match="dual bound"):
        plan_mod.make_plan(Scenario.model_validate(BASE))


def test_integer_plan_reports_relaxation_gap():
    p = plan_mod.make_plan(io.load("scenarios/bytedance-2025.yaml"))
    assert p.optimality["certificate"] == "relaxation-bound"
    assert 0 <= p.optimality["gap"] < 1e-5
