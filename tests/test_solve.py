"""Hand-solved scenarios, the tie-break, shadow prices, statuses, and solver agreement.

Every expected number below is worked out by hand in the comments; nothing is
copied from the program's output. Every solver-facing test runs on HiGHS and CBC.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import SCENARIOS, SOLVERS, constraint, load_fixture, scenario_of, units_of
from optimizer import io, model
from optimizer.errors import InfeasibleError, InputError, UnboundedError
from optimizer.plan import make_plan
from optimizer.solve import Status, solve

# (fixture, variants, {(site, chip): units}, spend CNY, effective TOPS)
HAND = [
    # a: 100 TOPS / CNY 10 = 10 per CNY beats b: 300 / 40 = 7.5. CNY 1000 / 10 = 100 units of a.
    pytest.param("core_two_chips.yaml", (), {("cn", "a"): 100}, 1000, 100 * 100, id="lp-best-tops-per-money"),
    pytest.param("core_two_chips.yaml", ("integer",), {("cn", "a"): 100}, 1000, 10_000, id="milp-best-tops-per-money"),
    # domestic floor 60% of spend: d (domestic) spend >= 0.6 x 1000 = 600 -> 600/40 = 15 units (15 x 200 x 0.5
    # = 1500 TOPS); the rest 400 on foreign f (10 per CNY): 40 units, 4000 TOPS. Total 5500.
    pytest.param("core_domestic.yaml", (), {("cn", "d"): 15, ("cn", "f"): 40}, 1000, 4000 + 1500, id="domestic-spend"),
    # basis units, budget 700: d >= 0.6 (d + f) <=> d >= 1.5 f; 10 f + 40 d = 700 with d = 1.5 f -> 70 f = 700,
    # f = 10, d = 15: 25 units x 100 effective TOPS each = 2500 (d: 200 x 0.5 = 100, f: 100 x 1.0).
    pytest.param("core_domestic.yaml", ("units_basis",), {("cn", "d"): 15, ("cn", "f"): 10}, 700, 2500, id="domestic-units"),
    # basis tops (raw INT8), budget 800: 200 d >= 0.6 (100 f + 200 d) <=> 80 d >= 60 f <=> d >= 0.75 f;
    # 10 f + 40 d = 800 with d = 0.75 f -> 40 f = 800, f = 20, d = 15: 2000 + 1500 = 3500.
    pytest.param("core_domestic.yaml", ("tops_basis",), {("cn", "d"): 15, ("cn", "f"): 20}, 800, 3500, id="domestic-tops"),
    # capacity 50 units of a (10 per CNY): 50 a = CNY 500, 5000 TOPS; CNY 500 left on b: 12.5 units, 3750 TOPS.
    pytest.param("core_capacity.yaml", (), {("cn", "a"): 50, ("cn", "b"): 12.5}, 1000, 8750, id="lp-capacity"),
    # whole units: spending all 1000, a = 100 - 4 b and TOPS = 100 a + 300 b = 10000 - 100 b, so b as small as
    # a <= 50 allows: b >= 12.5 -> b = 13, a = 48: 8700 (beats a = 50, b = 12: 8600 with CNY 20 unspent).
    pytest.param("core_capacity.yaml", ("integer",), {("cn", "a"): 48, ("cn", "b"): 13}, 1000, 8700, id="milp-capacity"),
    # chip_max[a] = 30: 30 a (CNY 300, 3000 TOPS) + CNY 700 / 40 = 17.5 b (5250 TOPS) = 8250.
    pytest.param("core_chip_bounds.yaml", (), {("cn", "a"): 30, ("cn", "b"): 17.5}, 1000, 8250, id="chip-max"),
    # chip_min[b] = 5: 5 b (CNY 200, 1500 TOPS) + CNY 800 / 10 = 80 a (8000 TOPS) = 9500.
    pytest.param("core_chip_bounds.yaml", ("min_b",), {("cn", "a"): 80, ("cn", "b"): 5}, 1000, 9500, id="chip-min"),
    # power 0.01 MW = 10,000 W; b gives 0.3 TOPS per W, a 0.2: 10 b = 3000 TOPS for CNY 400 (budget 1e6 idle).
    pytest.param("core_power.yaml", (), {("cn", "b"): 10}, 400, 3000, id="power"),
    # TPP cap 24,000 in tier-2 MY; b's TPP is 8 x 300 = 2400 -> 10 b (CNY 200, 3000 TOPS); CNY 800 on a: 80 a,
    # 8000 TOPS. Total 11000.
    pytest.param("core_tpp_cap.yaml", (), {("my", "a"): 80, ("my", "b"): 10}, 1000, 11_000, id="tpp-cap"),
    # lots of 8 b at CNY 160 a lot (15 TOPS per CNY): 6 lots = 48 b for CNY 960 (14,400 TOPS) + 4 a (CNY 40,
    # 400 TOPS) = 14,800. Five lots + 20 a would give 12,000 + 2,000 = 14,000.
    pytest.param("core_lots.yaml", (), {("cn", "a"): 4, ("cn", "b"): 48}, 1000, 14_800, id="lots"),
    # continuous: lots do not apply; 1000 / 20 = 50 b, 15,000 TOPS.
    pytest.param("core_lots.yaml", ("continuous",), {("cn", "b"): 50}, 1000, 15_000, id="lots-ignored-lp"),
    # b (15 per CNY) denied in CN by licence: cn buys 100 a (10,000); sg may buy b: 400 / 20 = 20 b (6,000).
    pytest.param("core_licence.yaml", (), {("cn", "a"): 100, ("sg", "b"): 20}, 1400, 16_000, id="licence-deny"),
    # s1: a at 10 per CNY -> 100 a (10,000); s2 sells b at CNY 20 (15 per CNY) -> 50 b (15,000).
    pytest.param("core_site_prices.yaml", (), {("s1", "a"): 100, ("s2", "b"): 50}, 2000, 25_000, id="site-price"),
    # USD 4 x 7 = CNY 28 for 300 TOPS (10.71 per CNY); budget USD 140 = CNY 980 -> 35 b, 10,500 TOPS.
    pytest.param("core_fx.yaml", (), {("cn", "b"): 35}, 980, 10_500, id="fx"),
    # a costs CNY 5 at s2 (20 per CNY), CNY 10 at s1; global cap 1500: s2 spends its 1000 (200 a, 20,000 TOPS),
    # s1 the remaining 500 (50 a, 5,000 TOPS).
    pytest.param("core_global_budget.yaml", (), {("s1", "a"): 50, ("s2", "a"): 200}, 1500, 25_000, id="global-budget"),
]


@pytest.mark.parametrize("fixture, variants, units, spend, tops", HAND)
def test_hand_solved_optimum(solver, fixture, variants, units, spend, tops):
    plan = make_plan(load_fixture(fixture, variants), solver=solver)
    got = units_of(plan)
    assert set(got) == set(units)
    for key, u in units.items():
        assert got[key] == pytest.approx(u, rel=1e-9, abs=1e-9), key
    assert plan.totals["spend"] == pytest.approx(spend, rel=1e-9)
    assert plan.totals["effective_tops"] == pytest.approx(tops, rel=1e-9)
    assert plan.result.objective == pytest.approx(tops, rel=1e-9)
    if plan.scenario.integer_units:
        assert all(float(u).is_integer() for u in got.values())


def test_hand_solved_fx_reports_cny(solver):
    plan = make_plan(load_fixture("core_fx.yaml"), solver=solver)
    (row,) = plan.allocation
    assert row.unit_price == 28  # USD 4 x 7 CNY per USD
    assert row.spend == 35 * 28
    assert plan.sites[0].budget == 140 * 7
    assert constraint(plan, "budget[cn]").rhs == 980


def test_licence_deny_leaves_no_variable():
    lm = model.build(load_fixture("core_licence.yaml").scenario)
    assert lm.var.name == ["units[cn,a]", "units[sg,a]", "units[sg,b]"]


def test_delivery_rate_and_flexibility_scale_the_objective(solver):
    # one chip: 200 TOPS x flexibility 0.5 x delivery 0.8 = 80 effective TOPS per unit; 1000 / 10 = 100 units
    data = {
        "schema_version": 1, "name": "one", "integer_units": True, "flexibility": {"asic": 0.5},
        "vendors": {"v": {"origin": "CN", "delivery_rate": 0.8}},
        "chips": {"x": {"vendor": "v", "architecture": "asic", "int8_tops": 200, "unit_price": 10}},
        "sites": {"cn": {"country": "CN", "budget": {"amount": 1000}}},
    }
    plan = make_plan(scenario_of(data), solver=solver)
    assert plan.totals["units"] == 100
    assert plan.totals["int8_tops"] == 100 * 200
    assert plan.totals["delivered_tops"] == pytest.approx(100 * 200 * 0.8)
    assert plan.totals["effective_tops"] == pytest.approx(100 * 200 * 0.5 * 0.8)


# ------------------------------------------------------------------ tie-break


@pytest.mark.parametrize("variants", [(), ("integer",)], ids=["lp", "milp"])
def test_tie_break_spends_least_among_max_tops_plans(solver, variants):
    # cheap and dear both give 100 TOPS; capacity 10 units binds, the CNY 10,000 budget does not.
    # Max TOPS = 10 x 100 = 1000 by any mix; least spend = 10 x cheap = CNY 100 (10 x dear would be 200).
    plan = make_plan(load_fixture("core_tie.yaml", variants), solver=solver)
    assert plan.totals["effective_tops"] == pytest.approx(1000)
    assert units_of(plan) == {("cn", "cheap"): 10}
    assert plan.totals["spend"] == pytest.approx(100)
    assert not constraint(plan, "budget[cn]").binding


def test_tie_break_does_not_trade_tops_for_money(solver):
    # core_power: a is cheaper per TOPS (CNY 0.10) than b (0.133) but uses more power per TOPS. The optimum is
    # 10 b exactly; a spend-minimising second solve must not swap a sliver of b for a to save money.
    plan = make_plan(load_fixture("core_power.yaml"), solver=solver)
    assert units_of(plan) == {("cn", "b"): 10}
    assert plan.totals["effective_tops"] == 3000


# ------------------------------------------------------------------ shadow prices

# (fixture, variants, {row: hand dual}); convention: d(effective TOPS) / d(rhs)
DUALS = [
    # budget binds, a is marginal: 10 TOPS per CNY
    pytest.param("core_two_chips.yaml", (), {"budget[cn]": 10}, id="two-chips"),
    # budget: 5.5 B -> dual 5.5 (0.4 x 10 + 0.6 x 2.5). Domestic row 0.4 D - 0.6 F >= r with D + F = B gives
    # D = 0.6 B + r, F = 0.4 B - r; TOPS = 10 F + 2.5 D = 5.5 B - 7.5 r -> dual -7.5.
    pytest.param("core_domestic.yaml", (), {"budget[cn]": 5.5, "domestic_share[cn]": -7.5}, id="domestic"),
    # units basis: 10 f + 40 d = B, 0.4 d - 0.6 f = r -> f = (0.4 B - 40 r) / 28 ... TOPS = 100 (f + d):
    # d = (0.6 B + 10 r) / 28 ... solving: f = (0.4 B - 40 r)/28, d = (0.6 B + 10 r)/28 -> TOPS = 100 (B - 30 r)/28
    # -> budget 100/28 = 3.5714, domestic -3000/28 = -107.142857
    pytest.param("core_domestic.yaml", ("units_basis",), {"budget[cn]": 100 / 28, "domestic_share[cn]": -3000 / 28},
                 id="domestic-units"),
    # capacity: one more a (100 TOPS, CNY 10) displaces CNY 10 of b (75 TOPS): 25. Budget: b marginal, 7.5.
    pytest.param("core_capacity.yaml", (), {"budget[cn]": 7.5, "capacity[dom]": 25}, id="capacity"),
    # relaxation duals for the integer variant are those of the LP
    pytest.param("core_capacity.yaml", ("integer",), {"budget[cn]": 7.5, "capacity[dom]": 25}, id="capacity-relaxation"),
    pytest.param("core_chip_bounds.yaml", (), {"budget[cn]": 7.5, "chip_max[a]": 25}, id="chip-max"),
    # forcing one more b (300 TOPS, CNY 40) gives up CNY 40 of a (400 TOPS): -100. a is marginal: budget 10.
    pytest.param("core_chip_bounds.yaml", ("min_b",), {"budget[cn]": 10, "chip_min[b]": -100, "chip_max[a]": 0},
                 id="chip-min"),
    # power: 0.3 TOPS per W of b; the budget has slack: 0
    pytest.param("core_power.yaml", (), {"budget[cn]": 0, "power[cn]": 0.3}, id="power"),
    # one more TPP: 1/2400 of b (300 TOPS, CNY 20) replacing CNY 20 of a (200 TOPS) = 100 / 2400
    pytest.param("core_tpp_cap.yaml", (), {"budget[my]": 10, "tpp_cap[MY]": 100 / 2400}, id="tpp-cap"),
    # global binds: the marginal CNY goes to s1 (10 per CNY); s2's own budget is worth 20 - 10 = 10; s1 idle.
    pytest.param("core_global_budget.yaml", (), {"budget[global]": 10, "budget[s2]": 10, "budget[s1]": 0}, id="global"),
    # fx: 300 TOPS per CNY 28
    pytest.param("core_fx.yaml", (), {"budget[cn]": 300 / 28}, id="fx"),
    # tie: one more unit of capacity = 100 TOPS; the budget is idle
    pytest.param("core_tie.yaml", (), {"capacity[v]": 100, "budget[cn]": 0}, id="tie"),
]


@pytest.mark.parametrize("fixture, variants, duals", DUALS)
def test_shadow_prices_by_hand(solver, fixture, variants, duals):
    plan = make_plan(load_fixture(fixture, variants), solver=solver)
    assert plan.result.dual_basis == ("relaxation" if plan.scenario.integer_units else "lp")
    for name, want in duals.items():
        got = constraint(plan, name).shadow_price
        assert got == pytest.approx(want, rel=1e-7, abs=1e-9), name
        assert not (got == 0 and str(got) == "-0.0"), name


@pytest.mark.parametrize(
    "setting, delta, row",
    [
        ("sites.cn.budget.amount", 10.0, "budget[cn]"),  # +10 CNY on b: +0.25 b = +75 TOPS
        ("vendors.dom.capacity_units", 1.0, "capacity[dom]"),  # +1 a (+100) - 0.25 b (-75) = +25
    ],
)
def test_shadow_prices_match_finite_differences(solver, setting, delta, row):
    base = make_plan(load_fixture("core_capacity.yaml"), solver=solver)
    rhs = constraint(base, row).rhs
    bumped = make_plan(load_fixture("core_capacity.yaml", sets=(f"{setting}={rhs + delta}",)), solver=solver)
    fd = (bumped.totals["effective_tops"] - base.totals["effective_tops"]) / delta
    assert fd == pytest.approx({"budget[cn]": 7.5, "capacity[dom]": 25.0}[row], rel=1e-9)
    assert constraint(base, row).shadow_price == pytest.approx(fd, rel=1e-7)


LP_FIXTURES = ["core_two_chips.yaml", "core_domestic.yaml", "core_capacity.yaml", "core_chip_bounds.yaml",
               "core_power.yaml", "core_tpp_cap.yaml", "core_global_budget.yaml", "core_tie.yaml"]


@pytest.mark.parametrize("fixture", LP_FIXTURES)
def test_every_row_dual_matches_a_finite_difference(solver, fixture):
    """Perturb each row's rhs in the model itself and re-solve: (z(b + d) - z(b)) / d == shadow price."""
    lm = model.build(load_fixture(fixture).scenario)
    base = solve(lm, solver)
    for i, name in enumerate(lm.rows.name):
        d = 1e-3 * max(1.0, abs(lm.rows.rhs[i]))
        rhs = lm.rows.rhs.copy()
        rhs[i] += d
        bumped = solve(dataclasses.replace(lm, rows=dataclasses.replace(lm.rows, rhs=rhs)), solver, tie_break=False,
                       duals=False)
        fd = (bumped.objective - base.objective) / d
        assert base.shadow_prices[i] == pytest.approx(fd, rel=1e-6, abs=1e-6), name


def test_duals_have_one_sign_convention_across_solvers():
    lm = model.build(load_fixture("core_domestic.yaml").scenario)
    h, c = solve(lm, "highs"), solve(lm, "cbc")
    np.testing.assert_allclose(h.shadow_prices, c.shadow_prices, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(h.reduced_costs, c.reduced_costs, rtol=1e-7, atol=1e-9)
    # a <= row that binds in a maximisation has a positive shadow price, a >= row a negative one
    assert h.shadow_prices[lm.rows.index()["budget[cn]"]] > 0
    assert h.shadow_prices[lm.rows.index()["domestic_share[cn]"]] < 0


def test_reduced_costs_by_hand(solver):
    # core_two_chips: budget dual 10 per CNY. b earns 300 TOPS but uses CNY 40 x 10 = 400: reduced cost -100;
    # a is in the plan: 0.
    lm = model.build(load_fixture("core_two_chips.yaml").scenario)
    res = solve(lm, solver)
    col = lm.column_index()
    assert res.reduced_costs[col["units[cn,a]"]] == pytest.approx(0, abs=1e-9)
    assert res.reduced_costs[col["units[cn,b]"]] == pytest.approx(-100)


# ------------------------------------------------------------------ statuses


@pytest.mark.parametrize("variants", [(), ("continuous",)], ids=["milp", "lp"])
def test_unbounded(solver, variants):
    lm = model.build(load_fixture("core_unbounded.yaml", variants).scenario)
    assert solve(lm, solver).status is Status.UNBOUNDED
    with pytest.raises(UnboundedError):
        make_plan(load_fixture("core_unbounded.yaml", variants), solver=solver)


@pytest.mark.parametrize("variants", [(), ("continuous",)], ids=["milp", "lp"])
def test_infeasible(solver, variants):
    lm = model.build(load_fixture("core_infeasible.yaml", variants).scenario)
    assert solve(lm, solver).status is Status.INFEASIBLE
    with pytest.raises(InfeasibleError):
        make_plan(load_fixture("core_infeasible.yaml", variants), solver=solver)
    plan = make_plan(load_fixture("core_infeasible.yaml", variants), solver=solver, raise_on_status=False)
    assert plan.status == "infeasible" and plan.allocation == []


@pytest.mark.parametrize("integer", [True, False], ids=["milp", "lp"])
def test_infeasible_with_an_unbounded_direction_is_infeasible(solver, integer):
    # no budget; b alone could grow without limit, but a's minimum exceeds its vendor's capacity
    data = {
        "schema_version": 1, "name": "inf", "integer_units": integer, "flexibility": {"g": 1.0},
        "vendors": {"dom": {"origin": "CN", "capacity_units": 5}, "us": {"origin": "US"}},
        "chips": {"a": {"vendor": "dom", "architecture": "g", "int8_tops": 1, "unit_price": 1, "min_units": 10},
                  "b": {"vendor": "us", "architecture": "g", "int8_tops": 1, "unit_price": 1}},
        "sites": {"cn": {"country": "CN"}},
    }
    assert solve(model.build(scenario_of(data)), solver).status is Status.INFEASIBLE


@pytest.mark.parametrize("integer", [True, False], ids=["milp", "lp"])
def test_feasibility_check_tells_unbounded_from_infeasible(solver, integer):
    # what solve() runs when a solver answers "unbounded or infeasible": is any plan feasible at all?
    from optimizer.solve import backend_for_model

    variants = () if integer else ("continuous",)
    unb = model.build(load_fixture("core_unbounded.yaml", variants).scenario)
    inf = model.build(load_fixture("core_infeasible.yaml", variants).scenario)
    assert backend_for_model(solver, unb, integer).feasible(np.ones(unb.m, dtype=bool)) is True
    assert backend_for_model(solver, inf, integer).feasible(np.ones(inf.m, dtype=bool)) is False


def test_everything_denied_buys_nothing(solver):
    data = {
        "schema_version": 1, "name": "none", "flexibility": {"g": 1.0}, "vendors": {"us": {"origin": "US"}},
        "chips": {"b": {"vendor": "us", "architecture": "g", "int8_tops": 1, "unit_price": 1}},
        "sites": {"cn": {"country": "CN", "budget": {"amount": 10}}},
        "export_controls": {"licenses": [{"chip": "b", "country": "CN", "status": "deny"}]},
    }
    plan = make_plan(scenario_of(data), solver=solver)
    assert plan.allocation == [] and plan.totals["effective_tops"] == 0
    data["chips"]["b"]["min_units"] = 1  # now a purchase is demanded that no site may make
    with pytest.raises(InfeasibleError):
        make_plan(scenario_of(data), solver=solver)


def test_unknown_solver_is_bad_input():
    lm = model.build(load_fixture("core_two_chips.yaml").scenario)
    with pytest.raises(InputError, match="highs, cbc"):
        solve(lm, "gurobi")


# ------------------------------------------------------------------ HiGHS is quiet, solvers agree


@pytest.mark.parametrize("variants", [(), ("integer",)], ids=["lp", "milp"])
def test_highs_prints_nothing(capfd, variants):
    capfd.readouterr()
    plan = make_plan(load_fixture("core_capacity.yaml", variants), solver="highs")
    out, err = capfd.readouterr()
    assert plan.status == "optimal"
    assert out == "" and err == ""


def _shipped():
    out = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        out.append(pytest.param(path, None, id=path.stem))
        for name in sorted(io.read_source(path).data.get("variants") or {}):
            out.append(pytest.param(path, name, id=f"{path.stem}:{name}"))
    return out


@pytest.mark.parametrize("path, variant", _shipped())
def test_highs_and_cbc_agree_on_shipped_scenarios(path, variant):
    loaded = io.load(path, variants=[variant] if variant else [])
    plans = {s: make_plan(loaded, solver=s, raise_on_status=False) for s in SOLVERS}
    h, c = plans["highs"], plans["cbc"]
    assert h.status == c.status
    if h.status != "optimal":
        return
    hu, cu = units_of(h), units_of(c)
    assert set(hu) == set(cu)
    # CBC hands PuLP its values with about 8 significant digits: fractional units agree to that
    rel = 1e-9 if h.scenario.integer_units else 1e-7
    for key in hu:
        assert hu[key] == pytest.approx(cu[key], rel=rel, abs=1e-6), key
    assert h.totals["effective_tops"] == pytest.approx(c.totals["effective_tops"], rel=rel)
    assert h.totals["spend"] == pytest.approx(c.totals["spend"], rel=rel)
    assert [a.name for a in h.constraints] == [b.name for b in c.constraints]
    if h.outcomes:
        # the extensive form repeats rows per outcome, so its duals are not unique; both are optimal duals of the
        # same (relaxed) problem, so they price the right-hand sides alike
        dual = [sum((x.shadow_price or 0) * x.rhs for x in p.constraints) for p in (h, c)]
        assert dual[0] == pytest.approx(dual[1], rel=1e-6)
        return
    # one sign convention: the (relaxation) shadow prices agree too
    for a, b in zip(h.constraints, c.constraints):
        assert a.shadow_price == pytest.approx(b.shadow_price, rel=1e-6, abs=1e-9), a.name


def test_shipped_scenarios_exist():
    assert (SCENARIOS / "bytedance-2025.yaml").exists()
    assert len(list(SCENARIOS.glob("*.yaml"))) >= 3


@pytest.mark.parametrize("fixture", ["core_all_rules.yaml", "core_tie.yaml", "core_lots.yaml"])
def test_highs_and_cbc_agree_on_fixtures(fixture):
    a, b = (make_plan(load_fixture(fixture), solver=s) for s in SOLVERS)
    assert units_of(a) == pytest.approx(units_of(b))
