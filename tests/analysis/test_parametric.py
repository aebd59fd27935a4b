"""Exact breakpoints for 1-D continuous right-hand-side sweeps.

parametric_three.yaml is solvable by hand (see the fixture): a budget sweep has breakpoints at 1000 and 2000
with slopes 10, 7.5 and 4; a capacity sweep of a at budget 3000 has them at 200 and 300. Elsewhere the filled
points are checked against a point-by-point solve of each point (an independent path: its own model, solve and
plan) to 1e-9, and the number of solves against the breakpoints found.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, SCENARIOS
from optimizer import io
from optimizer.analysis.engine import Resolver
from optimizer.analysis.parametric import NotApplicable, exact_line
from optimizer.analysis.specs import base_data
from optimizer.analysis.sweep import prepare, run

THREE = FIXTURES / "parametric_three.yaml"
BASELINE = SCENARIOS / "bytedance-2025.yaml"
RISK = SCENARIOS / "bytedance-2025-risk.yaml"


def line(file, vary, sets=()):
    loaded = io.load(file, sets=list(sets))
    varies, points = prepare(loaded, [vary])
    return loaded, varies, points, exact_line(varies, points, base_data(loaded), loaded.path)


def hand_budget(B: float) -> tuple[float, dict[str, float]]:
    a = min(B / 10, 100)
    b = min(max(B - 1000, 0) / 20, 50)
    c = max(B - 2000, 0) / 10
    return 100 * a + 150 * b + 40 * c, {"a": a, "b": b, "c": c}


def test_a_budget_sweep_is_filled_from_three_solves_with_the_hand_breakpoints():
    _, _, points, ex = line(THREE, "sites.cn.budget.amount=100:4000:40")
    assert [b.value for b in ex.breakpoints] == pytest.approx([1000, 2000], rel=1e-12)
    assert [s for b in ex.breakpoints for s in (b.slope_before, b.slope_after)] == pytest.approx([10, 7.5, 7.5, 4])
    assert [b.kind for b in ex.breakpoints] == ["value", "value"]
    assert [b.effective_tops for b in ex.breakpoints] == pytest.approx([10000, 17500])
    assert ex.solves == 3 == len(ex.breakpoints) + 1 and ex.filled == 37 and not ex.unresolved
    for pt, plan in zip(points, ex.plans):
        B = pt.values["sites.cn.budget.amount"]
        tops, units = hand_budget(B)
        assert plan.totals["effective_tops"] == pytest.approx(tops, rel=1e-12)
        assert plan.totals["spend"] == pytest.approx(B, rel=1e-12)
        got = {chip: u for (_, chip), u in plan.units().items()}
        for chip, u in units.items():
            assert got.get(chip, 0.0) == pytest.approx(u, abs=1e-9)
        assert plan.optimality["certificate"] == "lp-duality"  # each filled plan certified by its own dual bound


def test_a_capacity_sweep_has_the_hand_breakpoints():
    _, _, points, ex = line(THREE, "vendors.va.capacity_units=0:400:41", sets=["sites.cn.budget.amount=3000"])
    assert [b.value for b in ex.breakpoints] == pytest.approx([200, 300])
    assert [s for b in ex.breakpoints for s in (b.slope_before, b.slope_after)] == pytest.approx([60, 25, 25, 0])
    for pt, plan in zip(points, ex.plans):
        k = pt.values["vendors.va.capacity_units"]
        want = 15500 + 60 * k if k <= 200 else (22500 + 25 * k if k <= 300 else 30000)
        assert plan.totals["effective_tops"] == pytest.approx(want, rel=1e-12)
    assert ex.solves <= len(ex.breakpoints) + 2


def test_points_in_any_order_come_back_in_that_order():
    _, _, points, ex = line(THREE, "sites.cn.budget.amount=3500,500,1500,2500")
    assert [p.totals["effective_tops"] for p in ex.plans] == pytest.approx(
        [hand_budget(B)[0] for B in (3500, 500, 1500, 2500)])


def test_breakpoints_between_requested_points_are_found_by_probing_the_gap():
    # only 500 and 3500 are asked for: both breakpoints lie between them
    _, _, _, ex = line(THREE, "sites.cn.budget.amount=500,3500")
    assert [b.value for b in ex.breakpoints] == pytest.approx([1000, 2000])
    assert ex.solves == 3


def hand_tops_of_a(t: float) -> float:
    """Effective TOPS at budget 1500 when a has t INT8 TOPS (t / 10 per CNY against b's 7.5 and c's 4)."""
    if t <= 40:
        return 7500 + 40 * 50  # b (CNY 1,000), then c with the other 500
    if t <= 75:
        return 7500 + 50 * t  # b, then 50 units of a
    return 100 * t + 25 * 150  # a's 100 units (CNY 1,000), then 25 of b


def test_an_objective_sweep_keeps_each_plan_on_its_interval_with_the_hand_breakpoints():
    _, _, points, ex = line(THREE, "chips.a.int8_tops=7:400:80")  # no point falls exactly on 40 or 75
    assert [b.value for b in ex.breakpoints] == pytest.approx([40, 75], rel=1e-12)
    assert [s for b in ex.breakpoints for s in (b.slope_before, b.slope_after)] == pytest.approx([0, 50, 50, 100])
    assert all(b.spend is None for b in ex.breakpoints)  # the plan jumps there
    assert ex.solves <= len(ex.breakpoints) + 2
    for pt, plan in zip(points, ex.plans):
        t = pt.values["chips.a.int8_tops"]
        assert plan.totals["effective_tops"] == pytest.approx(hand_tops_of_a(t), rel=1e-12)
        assert plan.totals["spend"] == pytest.approx(1500, rel=1e-12)
        assert plan.optimality["certificate"] == "lp-duality"  # the moved duals certify each filled plan


def test_a_point_exactly_at_an_objective_breakpoint_is_solved_not_filled():
    # 40 and 75 are requested: there the optimal face is wider (30's plan is not the cheapest at 40), so those
    # points get their own solve; a plan solved at a breakpoint still fills the interval beyond it (it is the
    # cheapest on the wider face, so on the narrower one too)
    _, _, points, ex = line(THREE, "chips.a.int8_tops=30,40,50,75,90")
    assert [p.totals["effective_tops"] for p in ex.plans] == pytest.approx([hand_tops_of_a(t) for t in
                                                                            (30, 40, 50, 75, 90)])
    assert ex.solves == 4 and ex.filled == 1  # 30, 40 (whose plan also fills 50), 75 and 90


def point_by_point(points):
    r = Resolver("highs")
    return [r.plan(p.scenario) for p in points]


@pytest.mark.parametrize("file, sets, vary", [
    (BASELINE, ["integer_units=false"], "sites.cn.budget.amount=1e9:80e9:200"),
    (SCENARIOS / "global-2025.yaml", ["integer_units=false"], "sites.my.power_mw=1:400:120"),
    (SCENARIOS / "global-2025.yaml", ["integer_units=false"], "budget.amount=1e9:20e9:120"),
    (SCENARIOS / "global-2025.yaml", ["integer_units=false"], "vendors.huawei.capacity_units=0:2e6:120"),
    # outcomes: the budget moves a row in every outcome at once
    (RISK, [], "sites.cn.budget.amount=10e9:60e9:60"),
    # objective coefficients
    (BASELINE, ["integer_units=false"], "vendors.huawei.delivery_rate=0.3:1:100"),
    (SCENARIOS / "global-2025.yaml", ["integer_units=false"], "flexibility.asic=0.2:1:120"),
    (RISK, [], "flexibility.asic=0.2:1:60"),
])
def test_filled_points_equal_point_by_point_solves(file, sets, vary):
    _, _, points, ex = line(file, vary, sets)
    ref = point_by_point(points)
    for plan, want in zip(ex.plans, ref):
        assert plan.status == want.status == "optimal"
        for k in ("effective_tops", "spend", "delivered_tops"):
            assert plan.totals[k] == pytest.approx(want.totals[k], rel=1e-9, abs=1e-9)
    assert ex.solves <= len(ex.breakpoints) + 2
    assert ex.filled >= len(points) - ex.solves  # every point not solved was filled


def test_the_baseline_budget_sweep_of_1000_points_needs_breakpoints_plus_two_solves():
    _, _, points, ex = line(BASELINE, "sites.cn.budget.amount=1e9:80e9:1000", ["integer_units=false"])
    assert len(ex.breakpoints) == 5 and ex.solves <= len(ex.breakpoints) + 2
    # the curve is concave: the slope of effective TOPS falls at every breakpoint
    slopes = [b.slope_before for b in ex.breakpoints] + [ex.breakpoints[-1].slope_after]
    assert all(a > b for a, b in zip(slopes, slopes[1:])) and slopes[-1] == 0
    tops = np.array([p.totals["effective_tops"] for p in ex.plans])
    assert np.all(np.diff(tops) >= -1e-9 * tops[1:])


@pytest.mark.parametrize("file, sets, varies, why", [
    (BASELINE, [], ["sites.cn.budget.amount=30e9:50e9:3"], "whole lots"),
    (THREE, [], ["chips.a.unit_price=5:15:3"], "constraint matrix"),
    (THREE, [], ["sites.cn.budget.amount=1000:2000:3", "vendors.va.capacity_units=50,100"], "grid"),
    (RISK, ["uncertainty.risk.measure=cvar"], ["sites.cn.budget.amount=30e9:50e9:3"], "cvar"),
    (THREE, [], ["sites.cn.budget.amount=1000"], "one-point"),
])
def test_where_the_method_does_not_apply_it_says_why(file, sets, varies, why):
    loaded = io.load(file, sets=sets)
    vs, points = prepare(loaded, varies)
    with pytest.raises(NotApplicable, match=why):
        exact_line(vs, points, base_data(loaded), loaded.path)
    res = run(loaded, vs, points)
    assert res.method == "points" and why.split()[0] in res.method_note and res.breakpoints is None
    assert res.solves == len(points)


def test_another_solver_solves_every_point():
    loaded = io.load(THREE)
    vs, points = prepare(loaded, ["sites.cn.budget.amount=100:4000:5"])
    res = run(loaded, vs, points, solver="cbc")
    assert res.method == "points" and "cbc" in res.method_note
    assert [p.outcome.effective_tops for p in res.points] == pytest.approx(
        [hand_budget(B)[0] for B in (100, 1075, 2050, 3025, 4000)])


def test_the_sweep_uses_breakpoints_unless_asked_to_solve_each_point():
    loaded = io.load(THREE)
    vs, points = prepare(loaded, ["sites.cn.budget.amount=100:4000:40"])
    exact = run(loaded, vs, points)
    each = run(loaded, vs, points, method="points")
    assert exact.method == "breakpoints" and exact.solves == 3 and len(exact.breakpoints) == 2
    assert each.method == "points" and each.solves == 40 and each.method_note == ""
    for a, b in zip(exact.points, each.points):
        assert a.values == b.values and a.outcome.status == b.outcome.status
        assert a.outcome.effective_tops == pytest.approx(b.outcome.effective_tops, rel=1e-12)
        assert a.outcome.units == pytest.approx(b.outcome.units, abs=1e-9)
        assert a.outcome.binding == b.outcome.binding


def test_an_interrupted_exact_sweep_keeps_the_points_it_finished():
    loaded = io.load(THREE)
    vs, points = prepare(loaded, ["sites.cn.budget.amount=100:4000:40"])
    seen = []

    def stop(n, total):
        seen.append(n)
        if n >= 15:
            raise KeyboardInterrupt

    res = run(loaded, vs, points, on_done=stop)
    assert res.partial and len(res.points) == 15 and res.n_total == 40
    assert [p.values["sites.cn.budget.amount"] for p in res.points] == [100 * (i + 1) for i in range(15)]
    assert [p.outcome.effective_tops for p in res.points] == pytest.approx([hand_budget(100 * (i + 1))[0]
                                                                           for i in range(15)])


def test_an_infeasible_stretch_is_solved_point_by_point_and_diagnosed():
    # a floor of 50 units of b costs CNY 1000: budgets below that are infeasible
    loaded = io.load(THREE, sets=["chips.b.min_units=50"])
    vs, points = prepare(loaded, ["sites.cn.budget.amount=500:3000:6"])
    res = run(loaded, vs, points)
    assert res.method == "breakpoints"
    assert [p.outcome.status for p in res.points] == ["infeasible"] + ["optimal"] * 5
    assert res.points[0].diagnosis is not None
    # from 1000: b's 50 units first (7,500 TOPS for CNY 1,000), then a, then c
    want = {1000: 7500, 1500: 7500 + 5000, 2000: 17500, 2500: 19500, 3000: 21500}
    for p in res.points[1:]:
        assert p.outcome.effective_tops == pytest.approx(want[p.values["sites.cn.budget.amount"]], rel=1e-12)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=st.lists(st.integers(5, 40), min_size=3, max_size=3),
    tops=st.lists(st.integers(20, 300), min_size=3, max_size=3),
    caps=st.lists(st.integers(10, 200), min_size=2, max_size=2),
    hi=st.integers(500, 20000),
)
def test_filled_points_equal_point_by_point_on_random_scenarios(prices, tops, caps, hi):
    sets = [f"chips.{c}.unit_price={p}" for c, p in zip("abc", prices)]
    sets += [f"chips.{c}.int8_tops={t}" for c, t in zip("abc", tops)]
    sets += [f"vendors.va.capacity_units={caps[0]}", f"vendors.vb.capacity_units={caps[1]}",
             "sites.cn.domestic_min_share=0.3"]
    loaded = io.load(THREE, sets=sets)
    vs, points = prepare(loaded, [f"sites.cn.budget.amount=10:{hi}:37"])
    ex = exact_line(vs, points, base_data(loaded), loaded.path)
    check_random(ex, points)


def check_random(ex, points):
    ref = point_by_point(points)
    for plan, want in zip(ex.plans, ref):
        assert plan.status == want.status
        if want.status == "optimal":
            assert plan.totals["effective_tops"] == pytest.approx(want.totals["effective_tops"], rel=1e-9, abs=1e-9)
            assert plan.totals["spend"] == pytest.approx(want.totals["spend"], rel=1e-9, abs=1e-9)
    assert ex.solves <= len(ex.breakpoints) + 2 + sum(p.status != "optimal" for p in ref)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=st.lists(st.integers(5, 40), min_size=3, max_size=3),
    tops=st.lists(st.integers(20, 300), min_size=2, max_size=2),
    caps=st.lists(st.integers(10, 200), min_size=2, max_size=2),
    budget=st.integers(100, 8000),
    hi=st.integers(30, 600),
)
def test_objective_sweeps_equal_point_by_point_on_random_scenarios(prices, tops, caps, budget, hi):
    sets = [f"chips.{c}.unit_price={p}" for c, p in zip("abc", prices)]
    sets += [f"chips.{c}.int8_tops={t}" for c, t in zip("bc", tops)]
    sets += [f"vendors.va.capacity_units={caps[0]}", f"vendors.vb.capacity_units={caps[1]}",
             f"sites.cn.budget.amount={budget}", "sites.cn.domestic_min_share=0.3"]
    loaded = io.load(THREE, sets=sets)
    vs, points = prepare(loaded, [f"chips.a.int8_tops=1:{hi}:29"])
    check_random(exact_line(vs, points, base_data(loaded), loaded.path), points)
