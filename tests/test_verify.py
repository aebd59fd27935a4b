"""The independent verifier: it accepts a valid plan and catches each kind of broken plan.

Scenario: tests/fixtures/core_all_rules.yaml. Prices in CNY: a 10, d 40, b 40 (35 at my), c USD 20 = 140.
Power (W): a 500, d 800, b 1000, c 1000; cn envelope 0.05 MW = 50,000 W. TPP: b 2400 (allowed), c 8000
(controlled: denied in CN = tier 3, capped in MY = tier 2 at 80,000 TPP = 10 units of c).
Budgets: cn 2000, my 3000, global 4500. dom: capacity 90 units, at most 80% of total spend.
a: at least 2, at most 80 units. b: lots of 2. cn: domestic at least 50% of spend.
"""
from __future__ import annotations

import pytest

from conftest import load_fixture, scenario_of, units_of
from optimizer import verify
from optimizer.errors import VerificationError
from optimizer.plan import make_plan

S = load_fixture("core_all_rules.yaml").scenario

# cn: a=50 (500 CNY, 25,000 W), b=10 (400, 10,000 W): 900 CNY, domestic 500/900 = 56%, 35,000 W
# my: c=10 (1,400 CNY, 80,000 TPP = the cap), b=4 (4 x 35 = 140): 1,540 CNY. Global 2,440. dom share 500/2440.
VALID = {("cn", "a"): 50, ("cn", "b"): 10, ("my", "c"): 10, ("my", "b"): 4}


def tops(units):
    eff = {"a": 100, "d": 200 * 0.5, "b": 300, "c": 1000}
    return sum(u * eff[chip] for (_, chip), u in units.items())


def test_valid_plan_is_accepted():
    assert verify.violations(S, VALID) == []
    verify.verify(S, VALID, objective=tops(VALID))  # 5000 + 3000 + 10000 + 1200 = 19,200
    assert tops(VALID) == 19_200


def test_recomputed_rows_by_hand():
    got = {c.name: (c.lhs, c.rhs) for c in verify.checks(S, VALID)}
    assert got["budget[cn]"] == (900, 2000)
    assert got["budget[my]"] == (1540, 3000)
    assert got["budget[global]"] == (2440, 4500)
    assert got["domestic_share[cn]"] == (500, pytest.approx(0.5 * 900))
    assert got["capacity[dom]"] == (50, 90)
    assert got["vendor_share[dom]"] == (500, pytest.approx(0.8 * 2440))
    assert got["chip_min[a]"] == (50, 2) and got["chip_max[a]"] == (50, 80)
    assert got["power[cn]"] == (35_000, 50_000)
    assert got["tpp_cap[MY]"] == (80_000, 80_000)
    assert verify.effective_tops(S, VALID) == pytest.approx(19_200)


def test_solver_plan_is_accepted(solver):
    plan = make_plan(load_fixture("core_all_rules.yaml"), solver=solver)
    assert verify.violations(S, plan.units(), plan.result.objective) == []


BROKEN = [
    # cn: a=2 (20, 1,000 W) + d=51 (2,040, 40,800 W) = CNY 2,060 > 2,000; 100% domestic, 41,800 W, capacity 53
    pytest.param({("cn", "a"): 2, ("cn", "d"): 51, ("my", "c"): 10, ("my", "b"): 4}, "budget[cn]", id="budget-site"),
    # my: c=10 (1,400) + b=50 (1,750) = 3,150 > 3,000 (global 900 + 3,150 = 4,050 is fine)
    pytest.param({**VALID, ("my", "b"): 50}, "budget[my]", id="budget-site-2"),
    # my 1,400 + 44 x 35 = 2,940; cn a=2 (20) + d=40 (1,600) = 1,620 -> global 4,560 > 4,500
    pytest.param({("cn", "a"): 2, ("cn", "d"): 40, ("my", "c"): 10, ("my", "b"): 44}, "budget[global]", id="budget-global"),
    # cn: a=10 (100) + b=10 (400): domestic 100/500 = 20% < 50%
    pytest.param({**VALID, ("cn", "a"): 10}, "domestic_share[cn]", id="domestic_share"),
    # dom units: a=80 + d=11 = 91 > 90 (cn CNY 1,240, 48,800 W, chip_max 80 ok)
    pytest.param({("cn", "a"): 80, ("cn", "d"): 11, ("my", "c"): 10, ("my", "b"): 4}, "capacity[dom]", id="capacity"),
    # only a=50 at cn: dom has 100% of spend > 80%
    pytest.param({("cn", "a"): 50}, "vendor_share[dom]", id="vendor_share"),
    # a=1 < 2 (cn: 100% domestic, CNY 10)
    pytest.param({("cn", "a"): 1, ("my", "c"): 10, ("my", "b"): 4}, "chip_min[a]", id="chip_min"),
    # a=81 > 80 (capacity 81 <= 90; 40,500 W)
    pytest.param({("cn", "a"): 81, ("my", "c"): 10, ("my", "b"): 4}, "chip_max[a]", id="chip_max"),
    # cn: a=80 (40,000 W) + b=12 (12,000 W) = 52,000 W > 50,000; CNY 1,280, domestic 800/1,280
    pytest.param({("cn", "a"): 80, ("cn", "b"): 12, ("my", "c"): 10, ("my", "b"): 4}, "power[cn]", id="power"),
    # my: c=11 -> 88,000 TPP > 80,000
    pytest.param({**VALID, ("my", "c"): 11}, "tpp_cap[MY]", id="tpp_cap"),
    # c is denied in CN (controlled, tier 3)
    pytest.param({**VALID, ("cn", "c"): 1}, "export of c to CN is denied", id="denied-export"),
    pytest.param({**VALID, ("my", "b"): -2}, "negative", id="negative-units"),
    # b comes in lots of 2
    pytest.param({**VALID, ("cn", "b"): 9}, "not a whole number of lots of 2", id="fractional-lots"),
    pytest.param({**VALID, ("cn", "zz"): 1}, "no such site or chip", id="unknown-chip"),
    pytest.param({**VALID, ("cn", "a"): float("nan")}, "not a finite number", id="nan-units"),
]


@pytest.mark.parametrize("units, expect", BROKEN)
def test_each_broken_rule_is_caught(units, expect):
    bad = verify.violations(S, units)
    assert len(bad) == 1, bad  # each case breaks exactly one rule
    assert expect in bad[0]
    with pytest.raises(VerificationError, match="failed independent verification"):
        verify.verify(S, units)


def test_wrong_objective_is_caught():
    assert verify.violations(S, VALID, objective=19_200) == []
    bad = verify.violations(S, VALID, objective=19_200 + 1)
    assert len(bad) == 1 and bad[0].startswith("objective")


def test_relative_tolerance_documented_in_verify():
    # lhs <= rhs may exceed rhs by at most REL_TOL x max(1, |rhs|, sum of |terms|)
    assert verify.REL_TOL == 1e-6
    big = 40e9
    assert verify.Check("x", big * (1 + 0.9e-6), "<=", big, big).ok
    assert not verify.Check("x", big * (1 + 1.1e-6), "<=", big, big).ok
    # small right-hand sides are judged against 1, not 0
    assert verify.Check("x", 0.9e-6, "<=", 0.0, 0.0).ok
    assert not verify.Check("x", 1.1e-6, "<=", 0.0, 0.0).ok
    assert verify.Check("x", 10 - 0.9e-5, ">=", 10, 10).ok
    assert not verify.Check("x", 10 - 1.1e-5, ">=", 10, 10).ok


def test_tolerance_on_a_continuous_plan():
    data = load_fixture("core_all_rules.yaml").source.data
    s = scenario_of({**data, "integer_units": False})
    # TPP cap 80,000: 1e-7 units of c over is 8e-4 TPP, within 1e-6 x 80,000 = 0.08
    assert verify.violations(s, {**VALID, ("my", "c"): 10 + 1e-7}) == []
    # 1e-4 units over is 0.8 TPP: caught
    assert verify.violations(s, {**VALID, ("my", "c"): 10 + 1e-4})[0].startswith("tpp_cap[MY]")


def test_fractional_lots_are_caught_in_large_plans():
    # "within ABS_UNIT_TOL of a whole number of lots" is absolute: half a lot is never a whole lot,
    # however many lots the plan buys.
    data = {
        "schema_version": 1, "name": "big", "integer_units": True, "flexibility": {"g": 1.0},
        "vendors": {"v": {"origin": "CN"}},
        "chips": {"x": {"vendor": "v", "architecture": "g", "int8_tops": 1, "unit_price": 1}},
        "sites": {"cn": {"country": "CN", "budget": {"amount": 1e12}}},
    }
    s = scenario_of(data)
    assert verify.violations(s, {("cn", "x"): 5_000_000}) == []
    bad = verify.violations(s, {("cn", "x"): 5_000_000.5})
    assert bad and "not a whole number of lots" in bad[0]


def test_verifier_recomputes_export_decisions_like_compliance():
    from optimizer import compliance

    for d in compliance.decisions(S):
        assert verify._export_decision(S, d.site, d.chip) == d.decision, (d.site, d.chip)


def test_solver_plan_units_helper_matches_allocation(solver):
    plan = make_plan(load_fixture("core_all_rules.yaml"), solver=solver)
    assert {k: v for k, v in plan.units().items() if v > 0} == units_of(plan)
