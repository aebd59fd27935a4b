"""Schema version 2 by hand: lead times, prices by period, capacity and power by period, per-period cash,
availability windows, dated licences, the buyer-headquarters rule, leases and the TPP cap, both objectives.

Every expected number is worked out in the fixture's comments (tests/fixtures/periods_*.yaml); every test
runs on HiGHS and CBC.
"""
from __future__ import annotations

import pytest

from conftest import constraint, load_fixture
from optimizer import model
from optimizer.plan import make_plan


def by_key(plan):
    return {(a.site, a.chip, a.period): a.units for a in plan.allocation}


def by_chip(plan):
    out: dict = {}
    for a in plan.allocation:
        out[(a.site, a.chip)] = out.get((a.site, a.chip), 0.0) + a.units
    return out


def test_lead_time_and_in_service_objective(solver):
    p = make_plan(load_fixture("periods_lead_time.yaml"), solver=solver)
    assert by_key(p) == pytest.approx({("cn", "slow", "q1"): 60, ("cn", "fast", "q1"): 40})
    assert p.totals["effective_tops"] == pytest.approx(11_500)
    slow = next(a for a in p.allocation if a.chip == "slow")
    assert (slow.period, slow.delivery_period) == ("q1", "q3")
    assert slow.objective_tops == pytest.approx(60 * 250 * 2 / 4)
    assert slow.effective_tops == pytest.approx(60 * 250)  # delivered by the end, not averaged
    assert constraint(p, "capacity[v1,q3]").binding and constraint(p, "budget[cn]").binding


def test_lead_time_leaves_no_order_that_would_arrive_after_the_horizon():
    m = model.build(load_fixture("periods_lead_time.yaml").scenario)
    assert [n for n in m.var.name if "slow" in n] == ["units[cn,slow,q1]", "units[cn,slow,q2]"]
    assert m.rows.name == ["budget[cn]", "capacity[v1,q3]"]


def test_delivered_objective_and_price_by_period(solver):
    p = make_plan(load_fixture("periods_lead_time.yaml", ("delivered",)), solver=solver)
    assert by_key(p) == pytest.approx({("cn", "slow", "q2"): 1000 / 9}, rel=1e-7)
    assert p.totals["effective_tops"] == pytest.approx(1000 / 9 * 250, rel=1e-7)
    (row,) = p.allocation
    assert row.unit_price == 9 and row.native_price == 9  # the order period's price


def test_dated_licence_decides_by_delivery_period(solver):
    p = make_plan(load_fixture("periods_licence.yaml"), solver=solver)
    assert by_chip(p) == pytest.approx({("cn", "h"): 100, ("my", "d"): 100})
    assert p.totals["effective_tops"] == pytest.approx(15_000)
    h = next(a for a in p.allocation if a.chip == "h")
    assert (h.period, h.delivery_period) == ("q3", "q4")
    m = p.model
    assert [n for n in m.var.name if ",h," in n] == ["units[cn,h,q3]"]  # q1, q2 arrive in the denied window
    q2 = next(d for d in p.compliance if (d.site, d.chip, d.period) == ("cn", "h", "q2"))
    assert q2.decision == "deny"
    assert q2.reason == "h to CN delivered in q2: licence 'h_cn' denies from q2 to q3 (licence required, none granted)"


def test_headquarters_rule_denies_controlled_chips_everywhere_without_a_licence(solver):
    p = make_plan(load_fixture("periods_licence.yaml"), solver=solver)
    x_my = [d for d in p.compliance if (d.site, d.chip) == ("my", "x")]
    assert {d.decision for d in x_my} == {"deny"}  # MY is tier 1: only the headquarters rule denies it
    assert x_my[0].reason == ("x at my: buyer headquartered in CN, a controlled chip (TPP 8,000 >= 4,800): "
                              "denied anywhere without a licence")
    licensed = make_plan(load_fixture("periods_licence.yaml", ("x_licensed",)), solver=solver)
    assert by_chip(licensed) == pytest.approx({("cn", "h"): 100, ("my", "x"): 10})
    assert licensed.totals["effective_tops"] == pytest.approx(25_000)


def test_site_chip_list_limits_what_a_site_may_buy():
    m = model.build(load_fixture("periods_licence.yaml").scenario)
    assert not any(n.startswith("units[my,h") for n in m.var.name)  # sites.my.chips: [x, d]


def test_lease_counts_toward_the_tpp_cap(solver):
    p = make_plan(load_fixture("periods_lease.yaml"), solver=solver)
    (lease,) = p.leases
    assert (lease.lease, lease.start_period, lease.units) == ("op_x", "q1", pytest.approx(10))
    assert lease.spend == pytest.approx(400) and lease.periods_in_service == 4
    assert by_key(p) == pytest.approx({("my", "y", "q1"): 60})
    assert p.totals["effective_tops"] == pytest.approx(16_000)
    assert constraint(p, "tpp_cap[MY]").lhs == pytest.approx(80_000)
    assert constraint(p, "tpp_cap[MY]").binding
    # the lease is exempt from the headquarters rule that denies buying x
    assert not any(",x," in n for n in p.model.var.name if n.startswith("units"))


def test_lease_that_does_not_count_is_held_by_its_own_maximum(solver):
    p = make_plan(load_fixture("periods_lease.yaml", ("uncounted",)), solver=solver)
    assert p.leases[0].units == pytest.approx(20)
    assert by_key(p) == pytest.approx({("my", "y", "q1"): 20})
    assert p.totals["effective_tops"] == pytest.approx(22_000)
    assert constraint(p, "lease_max[op_x,q4]").binding
    assert "tpp_cap[MY]" not in [c.name for c in p.constraints]


def test_per_period_cash_power_and_availability(solver):
    p = make_plan(load_fixture("periods_budget_power.yaml"), solver=solver)
    assert by_key(p) == pytest.approx({("cn", "a", "q1"): 5, ("cn", "b", "q2"): 47.5})
    assert p.totals["effective_tops"] == pytest.approx(7_625)
    assert p.totals["spend"] == pytest.approx(525)
    assert constraint(p, "budget[cn,q1]").binding and constraint(p, "power[cn,q2]").binding
    assert not constraint(p, "budget[cn]").binding
    assert p.model.var.name == ["units[cn,a,q1]", "units[cn,b,q2]"]  # the windows leave one column each
    q1, q2 = p.periods
    assert (q1.period, q1.spend, q1.units_delivered) == ("q1", pytest.approx(50), pytest.approx(5))
    assert q1.power_mw["cn"] == pytest.approx(0.0005)
    assert q2.power_mw["cn"] == pytest.approx(0.01)
    assert q2.effective_tops_in_service == pytest.approx(5 * 100 + 47.5 * 300)


def test_per_period_rules_with_whole_units(solver):
    p = make_plan(load_fixture("periods_budget_power.yaml", ("integer",)), solver=solver)
    assert by_key(p) == {("cn", "a", "q1"): 4, ("cn", "b", "q2"): 48}
    assert p.totals["effective_tops"] == pytest.approx(7_600)


def test_version_1_names_and_plans_are_unchanged():
    p = make_plan(load_fixture("core_all_rules.yaml"))
    assert all(a.period is None and a.delivery_period is None for a in p.allocation)
    assert [r.period for r in p.periods] == [None]
    assert "power[cn]" in [c.name for c in p.constraints]


def test_frames_are_dataframes_with_the_plan_tables():
    p = make_plan(load_fixture("periods_lease.yaml"))
    f = p.frames()
    assert set(f) == {"allocation", "leases", "periods", "constraints", "sites", "compliance"}
    alloc = f["allocation"]
    assert list(alloc[["site", "chip", "period", "units"]].itertuples(index=False, name=None)) == [("my", "y", "q1", 60.0)]
    assert f["leases"].loc[0, "units"] == pytest.approx(10)
    assert list(f["periods"]["period"]) == ["q1", "q2", "q3", "q4"]
    assert f["constraints"].set_index("name").loc["tpp_cap[MY]", "binding"]
    cols = p.model.var.frame(p.model.coords)
    assert list(cols.columns[:6]) == ["name", "kind", "site", "chip", "period", "lease"]
    assert set(cols["kind"]) == {"buy", "lease"}
    assert "probability" not in alloc.columns  # no outcomes


def test_frames_over_outcomes_weigh_each_row_by_its_probability():
    # io_outcomes.yaml (worked in tests/report/test_period_workbook.py): 100 shared 910B, denied's own 300 (0.7),
    # granted's own 100 910B and 976M / 110k H20 (0.3)
    p = make_plan(load_fixture("io_outcomes.yaml"))
    a = p.frames()["allocation"]
    assert list(a["probability"]) == [1.0] + [0.7] * 3 + [0.3] * 2
    assert list(a["outcome"][1:]) == ["denied"] * 3 + ["granted"] * 2 and a["outcome"].isna()[0]  # shared: no outcome
    assert (a["units"] * a["probability"]).sum() == pytest.approx(100 + 0.7 * 300 + 0.3 * (100 + 976e6 / 110e3))
    assert (a["units"] * a["probability"]).sum() == pytest.approx(p.totals["units"], rel=1e-12)
