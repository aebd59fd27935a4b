"""Each constraint family owns its rows, their rule text, the number a fix changes, its unit and meaning."""
from __future__ import annotations

import pytest

from conftest import load_fixture
from optimizer import model
from optimizer.model import FAMILIES, family
from optimizer.plan import make_plan


def units(plan):
    return {a.chip: a.units for a in plan.allocation}


def test_min_order_units_buys_enough_or_none(solver):
    p = make_plan(load_fixture("core_min_order.yaml"), solver=solver)  # hand: 5 b + 80 a = 9,500
    assert units(p) == pytest.approx({"a": 80, "b": 5})
    assert p.totals["effective_tops"] == pytest.approx(9_500)
    assert p.result.dual_basis == "relaxation"  # a 0/1 "bought" column makes it a MILP
    big = make_plan(load_fixture("core_min_order.yaml", ("big_order",)), solver=solver)  # no b, 90 a = 9,000
    assert units(big) == pytest.approx({"a": 90})
    assert big.totals["effective_tops"] == pytest.approx(9_000)


def test_min_order_applies_to_each_order_period(solver):
    """periods_budget_power with b.min_order_units 50: 47.5 b beside 5 a is no longer allowed. 50 b use q2's
    10,000 W alone (7,500 TOPS); with no b, 5 a give 500. So 50 b in q2 and no a: 7,500."""
    from conftest import scenario_of

    data = load_fixture("periods_budget_power.yaml").source.data
    data["chips"]["b"]["min_order_units"] = 50
    p = make_plan(scenario_of(data), solver=solver)
    assert {(a.chip, a.period): a.units for a in p.allocation} == pytest.approx({("b", "q2"): 50})
    assert p.totals["effective_tops"] == pytest.approx(7_500)
    assert "min_order[cn,b,q2]" in p.model.rows.name and "ordered[cn,b,q2]" in p.model.var.name


def test_vendor_cap_at_one_site(solver):
    p = make_plan(load_fixture("core_min_order.yaml", ("site_cap",)), solver=solver)  # hand: 60 a + 10 b = 9,000
    assert units(p) == pytest.approx({"a": 60, "b": 10})
    row = next(c for c in p.constraints if c.name == "vendor_share[cn,dom]")
    assert row.binding and row.unit == "CNY"


def _model(name, variants=()):
    return model.build(load_fixture(name, variants).scenario)


@pytest.mark.parametrize(
    "fixture, variants, row, text, path, direction, whole",
    [
        ("periods_budget_power.yaml", (), "budget[cn,q1]", "budget[cn,q1] <= CNY 50 of spend in q1",
         "sites.cn.budget.per_period.q1", "raise", False),
        ("periods_budget_power.yaml", (), "power[cn,q2]", "power[cn,q2] <= 0.01 MW in service in q2",
         "sites.cn.power_mw.q2", "raise", False),
        ("periods_lead_time.yaml", (), "capacity[v1,q3]", "capacity[v1,q3] <= 60 units delivered in q3",
         "vendors.v1.capacity_units.q3", "raise", True),
        ("periods_lease.yaml", (), "lease_max[op_x,q4]", "lease_max[op_x,q4] <= 20 leased units in service",
         "leases.op_x.max_units", "raise", True),
        ("periods_lease.yaml", (), "tpp_cap[MY]", "tpp_cap[MY] <= 80,000 TPP", "export_controls.tpp_caps.MY", "raise",
         False),
        ("core_min_order.yaml", (), "min_order[cn,b]", "min_order[cn,b]: an order of b at cn is at least 5 units",
         "chips.b.min_order_units", "lower", False),
        ("core_min_order.yaml", ("site_cap",), "vendor_share[cn,dom]", "vendor_share[cn,dom] <= 60% of spend at cn",
         "sites.cn.vendor_max_share.dom", "raise", False),
        ("core_all_rules.yaml", (), "domestic_share[cn]", "domestic_share[cn] >= 50% of spend",
         "sites.cn.domestic_min_share", "lower", False),
    ],
)
def test_rule_text_and_fix_parameter(fixture, variants, row, text, path, direction, whole):
    m = _model(fixture, variants)
    i = m.rows.index()[row]
    assert m.rule_text(i) == text
    p = family(m.rows.family[i]).parameter(m.scenario_of_row(i), m.ref(i))
    assert (p.path, p.direction, p.whole) == (path, direction, whole)


def test_order_link_has_no_number_to_change():
    m = _model("core_min_order.yaml")
    i = m.rows.index()["order_link[cn,b]"]
    assert family("order_link").parameter(m.scenario, m.ref(i)) is None


def test_every_family_is_registered_once_with_a_unit():
    kinds = [f.kind for f in FAMILIES]
    assert len(kinds) == len(set(kinds))
    m = _model("periods_budget_power.yaml")
    for i in range(m.m):
        assert family(m.rows.family[i]).unit(m.scenario, m.ref(i)) in ("CNY", "W")


def test_meaning_of_a_per_period_budget():
    p = make_plan(load_fixture("periods_budget_power.yaml"))
    row = next(c for c in p.constraints if c.name == "budget[cn,q1]")
    # one more CNY in q1 buys 0.1 a (10 TOPS, 10 W) and gives up 0.05 b (7.5 TOPS) for the power: 2.5 per CNY
    assert row.shadow_price == pytest.approx(2.5)
    assert row.meaning == "each extra CNY 1M of cn budget in q1 adds 2,500,000 effective TOPS"
