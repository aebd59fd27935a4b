"""make_plan / assemble: allocation, constraint rows (slack, binding, meaning), sites, totals, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import constraint, load_fixture, scenario_of, units_of
from optimizer import plan as plan_mod
from optimizer.errors import InfeasibleError, UnboundedError, VerificationError
from optimizer.plan import make_plan


def test_allocation_rows(solver):
    # core_site_prices: s1 buys 100 a at CNY 10, s2 buys 50 b at its own price CNY 20
    plan = make_plan(load_fixture("core_site_prices.yaml"), solver=solver)
    rows = [(a.site, a.chip, a.vendor, a.origin, a.domestic, a.units, a.unit_price, a.spend, a.effective_tops)
            for a in plan.allocation]
    assert rows == [
        ("s1", "a", "dom", "CN", True, 100, 10, 1000, 100 * 100),
        ("s2", "b", "us", "US", False, 50, 20, 1000, 50 * 300),
    ]
    assert plan.allocation[0].model == "a"  # no model given: the id


def test_allocation_sorted_and_positive_only(solver):
    plan = make_plan(load_fixture("core_all_rules.yaml"), solver=solver)
    keys = [(a.site, a.chip) for a in plan.allocation]
    assert keys == sorted(keys)
    assert all(a.units > 0 for a in plan.allocation)
    assert len(plan.units()) == 7  # every allowed (site, chip): 4 chips x 2 sites, minus c denied in CN


def test_constraint_rows_by_hand(solver):
    # core_capacity LP: 50 a + 12.5 b, budget 1000 fully spent, capacity 50 used
    plan = make_plan(load_fixture("core_capacity.yaml"), solver=solver)
    b = constraint(plan, "budget[cn]")
    assert (b.kind, b.sense, b.rhs) == ("budget", "<=", 1000)
    assert b.lhs == pytest.approx(1000) and b.slack == pytest.approx(0, abs=1e-9) and b.binding
    c = constraint(plan, "capacity[dom]")
    assert (c.kind, c.lhs, c.rhs, c.binding) == ("capacity", 50, 50, True)
    assert [x.name for x in plan.constraints] == ["budget[cn]", "capacity[dom]"]
    assert plan.binding == ["budget[cn]", "capacity[dom]"]


def test_integer_binding_means_not_one_more_lot_fits(solver):
    # budget 1005: 100 a (CNY 1000); CNY 5 is left but no chip costs that little -> budget is binding.
    # capacity in the integer variant: 48 of 50 used and a costs only CNY 10... but the budget is gone:
    # slack 2 units >= 1 unit step -> not binding on its own row.
    plan = make_plan(load_fixture("core_two_chips.yaml", ("integer",), sets=("sites.cn.budget.amount=1005",)),
                     solver=solver)
    b = constraint(plan, "budget[cn]")
    assert b.slack == pytest.approx(5) and b.binding
    plan = make_plan(load_fixture("core_capacity.yaml", ("integer",)), solver=solver)
    c = constraint(plan, "capacity[dom]")
    assert (c.lhs, c.slack, c.binding) == (48, 2, False)


MEANINGS = [
    # budget dual 10 TOPS per CNY -> CNY 1M adds 10,000,000
    ("core_two_chips.yaml", (), "budget[cn]", "each extra CNY 1M of cn budget adds 10,000,000 effective TOPS"),
    # capacity dual 25
    ("core_capacity.yaml", (), "capacity[dom]", "each extra unit of dom capacity adds 25 effective TOPS"),
    # domestic dual -7.5 per unit of rhs; 1 point of the floor is 0.01 x site spend 1000 = 10 of rhs -> -75
    ("core_domestic.yaml", (), "domestic_share[cn]", "raising the cn domestic floor by 1 point changes effective TOPS by -75"),
    ("core_chip_bounds.yaml", (), "chip_max[a]", "each extra unit of a allowed adds 25 effective TOPS"),
    ("core_chip_bounds.yaml", ("min_b",), "chip_min[b]", "each extra unit of b that must be bought changes effective TOPS by -100"),
    # 0.3 TOPS per W -> 300,000 per MW
    ("core_power.yaml", (), "power[cn]", "each extra MW at cn adds 300,000 effective TOPS"),
    # 100 / 2400 per TPP -> 41,667 per million TPP
    ("core_tpp_cap.yaml", (), "tpp_cap[MY]", "each extra million TPP of the MY cap adds 41,667 effective TOPS"),
    ("core_global_budget.yaml", (), "budget[global]", "each extra CNY 1M of the global budget adds 10,000,000 effective TOPS"),
    ("core_global_budget.yaml", (), "budget[s1]", "not binding: slack remains"),
    ("core_power.yaml", (), "budget[cn]", "not binding: slack remains"),
]


@pytest.mark.parametrize("fixture, variants, row, text", MEANINGS)
def test_meaning(solver, fixture, variants, row, text):
    plan = make_plan(load_fixture(fixture, variants), solver=solver)
    assert constraint(plan, row).meaning == text


def test_domestic_meaning_counts_only_its_own_site(solver):
    # core_domestic plus a second site sg (no floor) that also spends CNY 1000: the cn floor is still
    # 1 point x CNY 1000 of cn spend x -7.5 = -75 (not 1 point of both sites' CNY 2000).
    loaded = load_fixture("core_domestic.yaml")
    data = loaded.source.data
    data["sites"]["sg"] = {"country": "SG", "budget": {"amount": 1000}}
    plan = make_plan(scenario_of(data), solver=solver)
    assert constraint(plan, "domestic_share[cn]").meaning.endswith("changes effective TOPS by -75")
    # finite difference check of the same statement: floor 0.61 -> d spend 610, f spend 390 at cn
    data["sites"]["cn"]["domestic_min_share"] = 0.61
    bumped = make_plan(scenario_of(data), solver=solver)
    assert bumped.totals["effective_tops"] - plan.totals["effective_tops"] == pytest.approx(-75)


def test_sites_and_totals(solver):
    # core_domestic: d 15 (CNY 600, 200 raw TOPS x 0.5), f 40 (CNY 400, 100 raw TOPS)
    plan = make_plan(load_fixture("core_domestic.yaml"), solver=solver)
    (site,) = plan.sites
    assert (site.site, site.country, site.spend, site.budget) == ("cn", "CN", 1000, 1000)
    assert site.domestic_share == pytest.approx(0.6)
    assert (site.domestic_min_share, site.domestic_basis, site.power_mw, site.power_used_mw) == (0.6, "spend", None, None)
    assert plan.totals == pytest.approx({
        "spend": 1000, "units": 55, "int8_tops": 15 * 200 + 40 * 100,
        "delivered_tops": 15 * 200 + 40 * 100, "effective_tops": 15 * 100 + 40 * 100,
    })


def test_site_power_used(solver):
    plan = make_plan(load_fixture("core_power.yaml"), solver=solver)
    assert plan.sites[0].power_used_mw == pytest.approx(10 * 1000 / 1e6)
    assert plan.sites[0].power_mw == 0.01


def test_spend_by_vendor(solver):
    plan = make_plan(load_fixture("core_site_prices.yaml"), solver=solver)
    assert plan.spend_by_vendor() == {"dom": 1000, "us": 1000}


def test_no_negative_zero_anywhere(solver, monkeypatch):
    real = plan_mod.solve

    def negzero(lm, solver="highs", **kw):
        r = real(lm, solver, **kw)
        r.shadow_prices = np.where(r.shadow_prices == 0, -0.0, r.shadow_prices)
        return r

    monkeypatch.setattr(plan_mod, "solve", negzero)
    plan = make_plan(load_fixture("core_power.yaml"), solver=solver)  # budget dual is 0
    for c in plan.constraints:
        for x in (c.shadow_price, c.lhs, c.slack):
            assert math.copysign(1.0, x) == 1.0 or x != 0, (c.name, x)
    assert str(constraint(plan, "budget[cn]").shadow_price) == "0.0"


def test_make_plan_accepts_loaded_or_scenario(solver):
    loaded = load_fixture("core_two_chips.yaml")
    a = make_plan(loaded, solver=solver)
    b = make_plan(loaded.scenario, solver=solver)
    assert a.loaded is loaded and b.loaded is None
    assert units_of(a) == units_of(b) == {("cn", "a"): 100}


def test_make_plan_raises_on_status(solver):
    with pytest.raises(InfeasibleError, match="core infeasible"):
        make_plan(load_fixture("core_infeasible.yaml"), solver=solver)
    with pytest.raises(UnboundedError, match="budget"):
        make_plan(load_fixture("core_unbounded.yaml"), solver=solver)
    p = make_plan(load_fixture("core_unbounded.yaml"), solver=solver, raise_on_status=False)
    assert p.status == "unbounded" and p.allocation == [] and p.totals == {}


def test_a_plan_the_verifier_rejects_is_never_returned(monkeypatch):
    real = plan_mod.solve

    def greedy(lm, solver="highs", **kw):
        r = real(lm, solver, **kw)
        r.units = r.units * 2  # twice the budget
        r.objective *= 2
        return r

    monkeypatch.setattr(plan_mod, "solve", greedy)
    with pytest.raises(VerificationError, match=r"budget\[cn\]"):
        make_plan(load_fixture("core_two_chips.yaml"))



def test_integer_share_floor_is_binding_within_one_lot():
    """At a 90% floor the baseline keeps CNY ~33k of share slack, less than the 0.9 x 110,000
    that one more H20 would consume, so the floor binds (one-lot rule for whole units)."""
    from optimizer import io
    from optimizer.plan import make_plan

    p = make_plan(io.load("scenarios/bytedance-2025.yaml", sets=["sites.cn.domestic_min_share=0.9"]))
    row = next(c for c in p.constraints if c.name == "domestic_share[cn]")
    assert 0 < row.slack < 0.9 * 110_000
    assert row.binding
    assert row.shadow_price < 0


def test_integer_budget_binds_within_one_lot_of_the_dearest_chip():
    """budget_cut_20: the plan leaves less than one 910C (CNY 205,920) of the CNY 32B budget,
    so the budget is reported binding even though a CNY 45,000 MLU370 would fit the row alone."""
    from optimizer import io
    from optimizer.plan import make_plan

    p = make_plan(io.load("scenarios/bytedance-2025.yaml", variants=["budget_cut_20"]))
    row = next(c for c in p.constraints if c.name == "budget[cn]")
    assert 0 <= row.slack < 28_600 * 7.2
    assert row.binding
    slack_row = next(c for c in p.constraints if c.name == "power[cn]")
    assert slack_row.slack > 800 and not slack_row.binding  # MW to spare: far more than one lot
