"""Plans under uncertainty by hand: stranding, CVaR, the worst case, EVPI and the value of hedging.

The expected numbers are worked out in the fixtures' comments (tests/fixtures/risk_*.yaml); every case runs on
HiGHS and CBC.
"""
from __future__ import annotations

import pytest

from conftest import load_fixture
from optimizer.analysis.risk import cvar, risk_figures
from optimizer.plan import make_plan

REL = 1e-7


def figures(name, variants=(), solver="highs"):
    plan = make_plan(load_fixture(name, variants), solver=solver)
    return plan, risk_figures(plan, solver=solver)


def by_name(fig):
    return {o.name: o for o in fig.outcomes}


def test_stranding_case_hedges_by_waiting(solver):
    plan, f = figures("risk_stranding.yaml", solver=solver)
    # x = 0: no shared h; each outcome buys 1000/9 d in q2
    assert {(a.chip, a.period, a.outcome): a.units for a in plan.allocation} == pytest.approx(
        {("d", "q2", "licensed"): 1000 / 9, ("d", "q2", "denied"): 1000 / 9}, rel=REL)
    assert f.objective == pytest.approx(50000 / 9, rel=REL)
    assert f.wait_and_see == pytest.approx(22000 / 3, rel=REL)
    assert f.evpi == pytest.approx(16000 / 9, rel=REL)
    assert f.base_plan_value == pytest.approx(14500 / 3, rel=REL)
    assert f.value_of_hedging == pytest.approx(6500 / 9, rel=REL)
    o = by_name(f)
    assert o["licensed"].own_optimum == pytest.approx(10_000, rel=REL)
    assert o["licensed"].regret == pytest.approx(40000 / 9, rel=REL)
    assert o["denied"].regret == pytest.approx(0, abs=1e-6)
    assert f.base_orders == [{"kind": "purchase", "site": "cn", "chip": "h", "period": "q1", "units": 100.0}]
    assert f.shared_orders == []


def test_stranded_order_counts_its_lost_money_and_no_tops(solver):
    plan, f = figures("risk_stranding.yaml", ("likely_licensed",), solver=solver)
    o = by_name(f)
    assert f.objective == pytest.approx(59000 / 9, rel=REL)
    assert o["licensed"].effective_tops == pytest.approx(10_000, rel=REL)
    assert o["denied"].effective_tops == pytest.approx(12500 / 9, rel=REL)
    assert (o["denied"].stranded_units, o["denied"].stranded_spend) == (pytest.approx(100), pytest.approx(750))
    assert (o["licensed"].stranded_units, o["licensed"].stranded_spend) == (0, 0)
    # 75% of the stranded CNY 1,000 still counts in the denied budget: CNY 750 + CNY 250 of d
    assert o["denied"].spend == pytest.approx(1000)
    assert f.shared_orders == [{"kind": "purchase", "site": "cn", "chip": "h", "period": "q1", "units": pytest.approx(100)}]


def test_worst_case_without_periods(solver):
    plan, f = figures("risk_single_period.yaml", solver=solver)
    assert {a.chip: a.units for a in plan.allocation} == pytest.approx({"a": 300 / 7, "b": 400 / 7}, rel=REL)
    assert f.objective == pytest.approx(38000 / 7, rel=REL) == f.worst_effective_tops
    assert f.wait_and_see == pytest.approx(8000, rel=REL)
    assert f.evpi == pytest.approx(18000 / 7, rel=REL)
    assert f.base_plan_value == pytest.approx(2000, rel=REL)
    assert f.value_of_hedging == pytest.approx(24000 / 7, rel=REL)


def test_cvar_at_one_half_on_two_outcomes(solver):
    plan, f = figures("risk_single_period.yaml", ("cvar",), solver=solver)
    assert f.measure == "cvar" and f.alpha == 0.5
    assert {a.chip: a.units for a in plan.allocation} == pytest.approx({"a": 300 / 7, "b": 400 / 7}, rel=REL)
    assert f.objective == pytest.approx(38000 / 7, rel=REL)
    assert f.cvar_effective_tops == pytest.approx(38000 / 7, rel=REL)


def test_expected_measure_takes_the_risk(solver):
    plan, f = figures("risk_single_period.yaml", ("expected",), solver=solver)
    assert {a.chip: a.units for a in plan.allocation} == pytest.approx({"a": 100})
    assert f.objective == pytest.approx(7600, rel=REL)
    assert f.worst_effective_tops == pytest.approx(2000, rel=REL)
    assert f.value_of_hedging == pytest.approx(0, abs=1e-6)  # the base plan is the expected-value plan here


@pytest.mark.parametrize(
    "values, probs, alpha, want",
    [
        ([10, 20], [0.5, 0.5], 0.5, 10),  # the worse half is the first outcome
        ([10, 20], [0.3, 0.7], 0.5, 0.6 * 10 + 0.4 * 20),  # 0.3 of the first and 0.2 of the second
        ([30, 10, 20], [0.2, 0.2, 0.6], 0.7, (0.2 * 10 + 0.1 * 20) / 0.3),
        ([5], [1.0], 0.9, 5),
    ],
)
def test_cvar_is_the_mean_of_the_worst_mass(values, probs, alpha, want):
    assert cvar(values, probs, alpha) == pytest.approx(want)


def test_base_plan_that_an_outcome_cannot_hold_has_no_value_and_says_why():
    """a_fails also cuts va's capacity to 60 units: the base plan's 100 a (all shared) cannot be delivered there."""
    from conftest import scenario_of

    data = load_fixture("risk_single_period.yaml").source.data
    data["uncertainty"]["outcomes"]["a_fails"]["changes"]["vendors.va.capacity_units"] = 60
    plan = make_plan(scenario_of(data))
    f = risk_figures(plan)
    assert f.base_plan_value is None and f.value_of_hedging is None
    assert f.base_plan_reason == ("with the base plan's orders before the outcome is known fixed, no plan meets "
                                  "every rule in outcome a_fails")
    assert f.objective == pytest.approx(38000 / 7, rel=REL)  # the hedged plan buys 42.9 a: within the cut


def test_plan_tables_over_outcomes_are_expectations():
    plan, _ = figures("risk_stranding.yaml", ("likely_licensed",))
    # 100 h shared (counted once) + d only in denied (0.4 x 250/9 units)
    assert plan.totals["units"] == pytest.approx(100 + 0.4 * 250 / 9, rel=REL)
    assert plan.totals["effective_tops"] == pytest.approx(59000 / 9, rel=REL)
    (cn,) = plan.sites
    assert cn.spend == pytest.approx(1000, rel=REL)  # CNY 1,000 counted in both outcomes' budgets
    q1, q2 = plan.periods
    assert q1.spend == pytest.approx(1000) and q2.spend == pytest.approx(0.4 * 250)  # d bought in q2 when denied
