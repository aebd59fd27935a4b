"""Sensitivity report (Excel Solver parity) against a hand-worked LP and finite differences.

The hand-worked case is tests/fixtures/analysis_ranging.yaml:

    max 2a + 3b + 1c
    budget[cn]          a +    b +    c <= 10
    domestic_share[cn]  0.4a - 0.6b + 0.4c >= 0      (a, c domestic, 60% floor on spend, prices 1)
    chip_max[c]                       c <= 5

Optimum: budget and share binding -> a + b = 10, 0.4a = 0.6b -> a = 6, b = 4, c = 0, TOPS 24.
Duals y (budget), w (share): 2 = y + 0.4w, 3 = y - 0.6w -> w = -1, y = 2.4.
Reduced cost of c: 1 - (y + 0.4w) = 1 - 2 = -1.

Objective-coefficient ranges (basis {a, b} stays optimal):
  with c_b = 3: w = c_a - 3 <= 0, y = 0.6c_a + 1.2 >= 0, and c stays out iff 1 - (y + 0.4w) = 1 - c_a <= 0,
    so 1 <= c_a <= 3: increase 1, decrease 1;
  with c_a = 2: w = 2 - c_b <= 0 -> c_b >= 2 (no upper limit): increase inf, decrease 1;
  c enters when its coefficient passes 2: increase 1, decrease inf.
Right-hand-side ranges:
  budget B: a = 0.6B, b = 0.4B >= 0 for all B >= 0: increase inf, decrease 10;
  share rhs r: a = 6 + r, b = 4 - r: -6 <= r <= 4: increase 4, decrease 6;
  chip_max[c] is slack by 5: increase inf, decrease 5 (as Excel reports a non-binding row).
"""
from __future__ import annotations

import dataclasses
import math

import pytest
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer import model as model_mod
from optimizer.analysis.sensitivity import sensitivity
from optimizer.plan import make_plan
from optimizer.solve import solve

INF = math.inf
RANGING = FIXTURES / "analysis_ranging.yaml"
BASELINE = SCENARIOS / "bytedance-2025.yaml"


@pytest.fixture(scope="module")
def hand():
    return sensitivity(make_plan(io.load(RANGING)))


@pytest.mark.parametrize(
    "name, final, reduced, coef, inc, dec",
    [
        ("units[cn,a]", 6.0, 0.0, 2.0, 1.0, 1.0),
        ("units[cn,b]", 4.0, 0.0, 3.0, INF, 1.0),
        ("units[cn,c]", 0.0, -1.0, 1.0, 1.0, INF),
    ],
)
def test_hand_variable_cells(hand, name, final, reduced, coef, inc, dec):
    v = hand.variable(name)
    assert v.final_value == pytest.approx(final, abs=1e-9)
    assert v.reduced_cost == pytest.approx(reduced, abs=1e-9)
    assert v.objective_coefficient == pytest.approx(coef)
    assert v.allowable_increase == pytest.approx(inc, abs=1e-9)
    assert v.allowable_decrease == pytest.approx(dec, abs=1e-9)


@pytest.mark.parametrize(
    "name, final, shadow, rhs, inc, dec",
    [
        ("budget[cn]", 10.0, 2.4, 10.0, INF, 10.0),
        ("domestic_share[cn]", 0.0, -1.0, 0.0, 4.0, 6.0),
        ("chip_max[c]", 0.0, 0.0, 5.0, INF, 5.0),
    ],
)
def test_hand_constraints(hand, name, final, shadow, rhs, inc, dec):
    c = hand.constraint(name)
    assert c.final_value == pytest.approx(final, abs=1e-9)
    assert c.shadow_price == pytest.approx(shadow, abs=1e-9)
    assert c.rhs == pytest.approx(rhs)
    assert c.allowable_increase == pytest.approx(inc, abs=1e-9)
    assert c.allowable_decrease == pytest.approx(dec, abs=1e-9)


def test_hand_basis_and_json(hand):
    assert hand.basis == "lp"
    d = hand.to_dict()
    assert set(d) == {"basis", "variables", "constraints"}
    b = next(v for v in d["variables"] if v["name"] == "units[cn,b]")
    assert b == {
        "name": "units[cn,b]", "final_value": 4.0, "reduced_cost": 0.0, "objective_coefficient": 3.0,
        "allowable_increase": None, "allowable_decrease": 1.0,
    }
    share = next(c for c in d["constraints"] if c["name"] == "domestic_share[cn]")
    assert set(share) == {"name", "final_value", "shadow_price", "rhs", "allowable_increase", "allowable_decrease"}
    assert share["shadow_price"] == pytest.approx(-1.0)


def test_hand_ranges_hold_by_resolving():
    """Inside each objective range the plan stays; just past an end it changes (re-solves, not ranging)."""
    def plan_at(sets):
        p = make_plan(io.load(RANGING, sets=sets))
        return tuple(round(u, 9) for u in p.result.units)

    base = plan_at([])
    assert base == (6.0, 4.0, 0.0)
    assert plan_at(["chips.a.int8_tops=2.9"]) == base  # c_a up to 3
    assert plan_at(["chips.a.int8_tops=3.1"]) != base
    assert plan_at(["chips.a.int8_tops=1.1"]) == base  # c_a down to 1
    assert plan_at(["chips.a.int8_tops=0.9"]) != base
    assert plan_at(["chips.b.int8_tops=2.1"]) == base  # c_b down to 2
    assert plan_at(["chips.b.int8_tops=1.9"]) != base
    assert plan_at(["chips.b.int8_tops=300"]) == base  # no upper limit
    assert plan_at(["chips.c.int8_tops=1.9"]) == base  # c enters past 2
    assert plan_at(["chips.c.int8_tops=2.1"]) != base


def _lp_objective(lm: model_mod.Model, row: int | None = None, delta: float = 0.0) -> float:
    """Optimal effective TOPS of the continuous model with one right-hand side moved (a solve, no ranging)."""
    if row is not None:
        rhs = lm.rows.rhs.copy()
        rhs[row] += delta
        lm = dataclasses.replace(lm, rows=dataclasses.replace(lm.rows, rhs=rhs))
    res = solve(lm, "highs", tie_break=False, duals=False)
    assert res.ok
    return res.objective


@pytest.mark.parametrize("variants", [(), ("h20_licence_denied",), ("domestic_70",)])
def test_baseline_shadow_prices_by_finite_differences(variants):
    loaded = io.load(BASELINE, variants=list(variants))
    sens = sensitivity(make_plan(loaded))
    assert sens.basis == "relaxation"
    lm = model_mod.build(loaded.scenario.model_copy(update={"integer_units": False}))
    z0 = _lp_objective(lm)
    assert sens.objective == pytest.approx(z0, rel=1e-9)
    nonzero = 0
    for i, c in enumerate(sens.constraints):
        # a step inside the allowable range on both sides: the slope is the shadow price
        room = min(c.allowable_increase, c.allowable_decrease)
        h = 0.25 * room if math.isfinite(room) and room > 0 else max(1.0, abs(c.rhs) * 1e-3)
        if room == 0:
            continue  # degenerate: one-sided; covered by the hand case
        up = (_lp_objective(lm, i, h) - z0) / h
        down = (z0 - _lp_objective(lm, i, -h)) / h
        tol = 1e-6 * max(1.0, abs(c.shadow_price)) + 1e-7 * abs(z0) / h
        assert up == pytest.approx(c.shadow_price, abs=tol), c.name
        assert down == pytest.approx(c.shadow_price, abs=tol), c.name
        nonzero += c.shadow_price != 0
    assert nonzero >= 2  # binding rows with a price were really checked


def test_baseline_rhs_range_ends_by_resolving():
    """Past a binding row's allowable increase the shadow price changes; inside it does not."""
    loaded = io.load(BASELINE)
    sens = sensitivity(make_plan(loaded))
    lm = model_mod.build(loaded.scenario.model_copy(update={"integer_units": False}))
    checked = 0
    for i, c in enumerate(sens.constraints):
        inc = c.allowable_increase
        if c.shadow_price == 0 or not math.isfinite(inc) or inc <= 0:
            continue
        h = 0.02 * inc
        inside = (_lp_objective(lm, i, inc - h) - _lp_objective(lm, i, inc - 2 * h)) / h
        beyond = (_lp_objective(lm, i, inc + 2 * h) - _lp_objective(lm, i, inc + h)) / h
        assert inside == pytest.approx(c.shadow_price, rel=1e-5, abs=1e-9), c.name
        assert beyond != pytest.approx(c.shadow_price, rel=1e-3, abs=1e-9), c.name
        checked += 1
    assert checked >= 2


def test_baseline_variable_final_values_are_the_relaxation():
    loaded = io.load(BASELINE)
    sens = sensitivity(make_plan(loaded))
    relaxed = make_plan(loaded.scenario.model_copy(update={"integer_units": False}))
    for v, u in zip(sens.variables, relaxed.result.units):
        assert v.final_value == pytest.approx(u, rel=1e-9, abs=1e-6)
        assert v.objective_coefficient == pytest.approx(
            loaded.scenario.effective_tops_per_unit(v.chip)
        )
    # the continuous plan's own sensitivity is labelled lp and its final values are that plan's
    lp = sensitivity(relaxed)
    assert lp.basis == "lp"
    assert [v.final_value for v in lp.variables] == pytest.approx(list(relaxed.result.units), rel=1e-9, abs=1e-6)


def test_signs_follow_solve_convention():
    """Shadow prices equal those solve reports (same convention), for both solvers' plans."""
    loaded = io.load(BASELINE, sets=["integer_units=false"])
    for solver in ("highs", "cbc"):
        plan = make_plan(loaded, solver=solver)
        sens = sensitivity(plan)
        for row, c in zip(plan.constraints, sens.constraints):
            assert row.name == c.name
            assert c.shadow_price == pytest.approx(row.shadow_price, rel=1e-6, abs=1e-9)
        for j, v in enumerate(sens.variables):
            assert v.reduced_cost == pytest.approx(plan.result.reduced_costs[j], rel=1e-6, abs=1e-9)


def test_report_is_the_same_whichever_solver_made_the_plan():
    loaded = io.load(BASELINE)
    a = sensitivity(make_plan(loaded, solver="highs")).to_dict()
    b = sensitivity(make_plan(loaded, solver="cbc")).to_dict()
    assert a == b


def test_binding_ge_row_has_nonpositive_shadow_and_le_rows_nonnegative():
    sens = sensitivity(make_plan(io.load(BASELINE, sets=["sites.cn.domestic_min_share=0.88"])))
    for c in sens.constraints:
        if c.sense == "<=":
            assert c.shadow_price >= 0, c.name
        else:
            assert c.shadow_price <= 0, c.name
    assert sens.constraint("domestic_share[cn]").shadow_price < 0  # an 88% floor binds and costs TOPS


def test_no_variables_at_all():
    # every chip denied at the only site: no columns; rows report zero activity and their slack
    data = io.load(RANGING).source.data
    data = dict(data)
    data["export_controls"] = {
        "origins": ["CN", "US"], "controlled_if": [{"tpp_min": 1}], "tiers": {"CN": 3},
        "tier_rules": {1: "allow", 3: "deny"},
    }
    sens = sensitivity(make_plan(io.validate_data(data)))
    assert sens.variables == []
    budget = sens.constraint("budget[cn]")
    assert (budget.final_value, budget.shadow_price, budget.allowable_increase, budget.allowable_decrease) == (0.0, 0.0, INF, 10.0)


def test_alternative_optima_report_the_plans_vertex():
    """Hand case: 10 x cheap (the tie-break's plan), not whichever vertex simplex found first.

    At that vertex cheap is basic: its coefficient may rise without limit but not fall at all
    (dear would do as well); dear is non-basic with reduced cost 0 (an alternative optimum):
    its coefficient may not rise at all. Capacity binds at 100 TOPS per unit; it may rise to
    1,000 units (CNY 10,000 / CNY 10) -> increase 990, decrease 10. Budget: CNY 100 used.
    """
    plan = make_plan(io.load(FIXTURES / "analysis_tie.yaml"))
    assert plan.units() == {("cn", "cheap"): 10.0, ("cn", "dear"): 0.0}
    sens = sensitivity(plan)
    cheap, dear = sens.variable("units[cn,cheap]"), sens.variable("units[cn,dear]")
    def got(*xs):
        return pytest.approx(xs, rel=1e-9, abs=1e-9)

    assert (cheap.final_value, cheap.reduced_cost, cheap.allowable_increase, cheap.allowable_decrease) == got(10, 0, INF, 0)
    assert (dear.final_value, dear.reduced_cost, dear.allowable_increase, dear.allowable_decrease) == got(0, 0, 0, INF)
    cap, budget = sens.constraint("capacity[v]"), sens.constraint("budget[cn]")
    assert (cap.final_value, cap.shadow_price, cap.allowable_increase, cap.allowable_decrease) == got(10, 100, 990, 10)
    assert (budget.final_value, budget.shadow_price, budget.allowable_increase, budget.allowable_decrease) == got(100, 0, INF, 9900)
