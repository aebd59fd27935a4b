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


def _cancelling():
    chip = {"architecture": "g", "int8_tops": 1.0, "power_w": 50.0}
    sc = Scenario.model_validate({
        "schema_version": 1, "name": "cancelling", "integer_units": False, "flexibility": {"g": 1.0},
        "vendors": {"v0": {"origin": "CN", "capacity_units": 1.0}, "v1": {"origin": "CN", "max_share": 0.3},
                    "v2": {"origin": "CN"}},
        "chips": {"c0": {**chip, "vendor": "v0", "unit_price": 50.0}, "c1": {**chip, "vendor": "v0", "unit_price": 1.0},
                  "c2": {**chip, "vendor": "v0", "unit_price": 1.0},
                  "c3": {**chip, "vendor": "v1", "int8_tops": 1967.0, "unit_price": 26.0}},
        "sites": {"s0": {"country": "CN", "budget": {"amount": 10000.0}}},
    })
    return sc


def test_overpaying_case_is_certified_on_both_solvers():
    sc = _cancelling()
    plans = [plan_mod.make_plan(sc, solver=s) for s in ("highs", "cbc")]
    # hand: v0 may ship one unit; the dear CNY 50 one is best because v1 may take only 30% of
    # spend: 26 y <= 0.3 (50 + 26 y) -> y = 15 / 18.2 = 0.8242 units of c3 -> 1 + 1967 y = 1,622.15
    y = 0.3 * 50 / (26 * 0.7)
    for p in plans:
        assert p.optimality["certificate"] == "lp-duality"
        assert p.totals["effective_tops"] == pytest.approx(1 + 1967 * y, rel=2e-7)


def test_dual_residue_of_eight_digits_in_large_cancelling_terms_is_not_infeasibility():
    """Found by hypothesis (CBC): duals reach PuLP with ~8 significant digits. For the CNY 50
    chip the shadow-priced resource terms are thousands of TOPS that cancel to ~1, so a 1e-8
    relative error in one dual left a residue of 4.6e-5 TOPS, which the check called dual
    infeasible. The tolerance is relative to the size of the terms."""
    sc = _cancelling()
    p = plan_mod.make_plan(sc, solver="highs")
    shadow = {c.name: c.shadow_price for c in p.constraints}
    assert abs(shadow["vendor_share[v1]"]) > 1  # the large term
    assert verify.duality_gap(sc, p.units(), shadow)[2] == []
    nudged = dict(shadow, **{"vendor_share[v1]": shadow["vendor_share[v1]"] * (1 - 1e-8)})
    assert verify.duality_gap(sc, p.units(), nudged)[2] == []
    wrong = dict(shadow, **{"vendor_share[v1]": shadow["vendor_share[v1]"] * 0.5})
    assert verify.duality_gap(sc, p.units(), wrong)[2] != []  # a real error is still caught
