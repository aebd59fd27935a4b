"""What the reports show for plans with periods and leases (optimizer/report/period_tables.py).

Expected figures are the hand solutions in the fixtures' header comments
(tests/fixtures/periods_*.yaml); the per-period figures are also checked
against the plan's own PeriodRow table, which the report does not read for
them (it recomputes them from the allocation and lease rows).
"""
from __future__ import annotations

import pytest
from conftest import FIXTURES

from optimizer import io
from optimizer.plan import make_plan
from optimizer.report.period_tables import (
    compliance_runs,
    extended,
    objective_text,
    orders_by_period,
    period_span,
    periods_shown,
    site_periods,
)


def _plan(name: str, variants=()):
    return make_plan(io.load(FIXTURES / name, variants=list(variants)))


@pytest.fixture(scope="module")
def licence():
    return _plan("periods_licence.yaml")


@pytest.fixture(scope="module")
def lease():
    return _plan("periods_lease.yaml")


@pytest.fixture(scope="module")
def lead_time():
    return _plan("periods_lead_time.yaml")


@pytest.fixture(scope="module")
def budget_power():
    return _plan("periods_budget_power.yaml")


def test_period_span():
    assert period_span("q2", "q3") == "q2-q3"
    assert period_span("q2", "q2") == "q2"
    assert period_span(None, None) == ""


# ---------------------------------------------------------------- compliance runs
def test_consecutive_periods_with_the_same_decision_are_one_run(licence):
    # the fixture: licence h_cn denies h to CN for deliveries q2-q3; h is not controlled otherwise (TPP 800);
    # x is controlled and the buyer is headquartered in CN: denied at every site in every period
    runs = [(r.site, r.chip, r.periods, r.decision, r.rule) for r in compliance_runs(licence)]
    assert runs == [
        ("cn", "d", "q1-q4", "allow", "not-controlled"),
        ("cn", "h", "q1", "allow", "not-controlled"),
        ("cn", "h", "q2-q3", "deny", "licence"),
        ("cn", "h", "q4", "allow", "not-controlled"),  # same reason as q1, but not next to it: its own run
        ("cn", "x", "q1-q4", "deny", "headquarters"),
        ("my", "d", "q1-q4", "allow", "not-controlled"),
        ("my", "h", "q1-q4", "allow", "not-controlled"),
        ("my", "x", "q1-q4", "deny", "headquarters"),
    ]


def test_a_run_names_its_periods_in_the_reason(licence):
    run = next(r for r in compliance_runs(licence) if r.chip == "h" and r.decision == "deny")
    assert run.reason == "h to CN delivered in q2-q3: licence 'h_cn' denies from q2 to q3 (licence required, none granted)"
    # one decision per period before merging: 4 periods x 3 chips x 2 sites
    assert len(licence.compliance) == 24
    assert sum(1 for d in licence.compliance if d.chip == "h" and d.site == "cn" and d.decision == "deny") == 2


def test_leases_keep_their_own_decision(lease):
    runs = compliance_runs(lease)
    assert [(r.chip, r.lease, r.periods, r.decision) for r in runs] == [
        ("x", None, "q1-q4", "deny"), ("y", None, "q1-q4", "allow"), ("x", "op_x", "", "cap")]
    assert runs[-1].reason.startswith("lease op_x: controlled (TPP 8,000 >= 4,800); tier 2 destination: counts toward")


def test_a_plan_without_periods_keeps_one_decision_per_chip_and_site():
    plan = make_plan(io.load(FIXTURES / "report_two_sites.yaml"))
    runs = compliance_runs(plan)
    assert [(r.site, r.chip, r.decision, r.reason) for r in runs] == [
        (d.site, d.chip, d.decision, d.reason) for d in plan.compliance]
    assert all(r.periods == "" for r in runs)


# ---------------------------------------------------------------- orders and periods
def test_orders_by_period(lead_time):
    # hand solution: slow ordered in q1 up to v1's 60 q3 deliveries (CNY 600), fast in q1 with the CNY 400 left
    ob = orders_by_period(lead_time)
    assert ob.periods == ["q1", "q2", "q3", "q4"]
    assert ob.rows == [("cn", "fast", None), ("cn", "slow", None)]
    assert ob.units[("cn", "fast", None)] == pytest.approx([40, 0, 0, 0])
    assert ob.units[("cn", "slow", None)] == pytest.approx([60, 0, 0, 0])
    assert ob.period_total(0) == pytest.approx(100) and ob.total(("cn", "slow", None)) == pytest.approx(60)


def test_site_periods_lead_time(lead_time):
    # fast arrives at once (lead 0), slow two periods later (q3): 40 x 100 in service from q1, 60 x 250 from q3
    rows = site_periods(lead_time)
    assert [x.period for x in rows] == ["q1", "q2", "q3", "q4"]
    got = [v for x in rows for v in (x.orders, x.units_delivered, x.effective_tops_in_service)]
    assert got == pytest.approx([1000, 40, 4000, 0, 0, 4000, 0, 60, 19000, 0, 0, 19000])
    # the objective (in_service) is the average of the TOPS in service: (4,000 x 2 + 19,000 x 2) / 4 = 11,500
    assert lead_time.totals["effective_tops"] == pytest.approx(11500)


def test_site_periods_cash_cap_and_power(budget_power):
    # hand solution: 5 a in q1 (CNY 50 = the q1 cap, 500 W of 1,000 W), 47.5 b in q2 (10,000 W of 10,000 W)
    q1, q2 = site_periods(budget_power)
    assert (q1.orders, q1.cap, q1.used, q1.units_delivered, q1.effective_tops_in_service) == pytest.approx(
        (50, 50, 1.0, 5, 500))
    assert (q1.power_mw, q1.power_envelope_mw) == pytest.approx((0.0005, 0.001))
    assert (q2.orders, q2.units_delivered, q2.effective_tops_in_service) == pytest.approx((475, 47.5, 14750))
    assert q2.cap is None and q2.used is None
    assert (q2.power_mw, q2.power_envelope_mw) == pytest.approx((0.01, 0.01))
    assert budget_power.totals["effective_tops"] == pytest.approx((500 + 14750) / 2)  # 7,625


def test_site_periods_lease_payments(lease):
    # 10 leased x from q1 at CNY 10 per unit and period: CNY 100 in every period; 60 y bought in q1 (CNY 600)
    rows = site_periods(lease)
    assert [(x.period, x.site) for x in rows] == [("q1", "my"), ("q2", "my"), ("q3", "my"), ("q4", "my")]
    got = [v for x in rows for v in (x.orders, x.lease_payments, x.spend, x.effective_tops_in_service)]
    assert got == pytest.approx([600, 100, 700, 16000] + [0, 100, 100, 16000] * 3)
    assert all(x.power_mw is None and x.power_envelope_mw is None for x in site_periods(lease))  # no envelope


@pytest.mark.parametrize("name", ["periods_lead_time.yaml", "periods_budget_power.yaml", "periods_lease.yaml",
                                  "periods_licence.yaml"])
def test_site_periods_add_up_to_the_plans_period_rows(name):
    plan = _plan(name)
    rows = site_periods(plan)
    for p in plan.periods:
        here = [x for x in rows if x.period == p.period]
        assert sum(x.spend for x in here) == pytest.approx(p.spend)
        assert sum(x.units_delivered for x in here) == pytest.approx(p.units_delivered)
        assert sum(x.effective_tops_in_service for x in here) == pytest.approx(p.effective_tops_in_service)
        for x in here:
            assert x.spend == pytest.approx(p.site_spend[x.site])
            assert x.cap == p.site_budget[x.site]
    # and the objective is what the in-service column says it is
    series = [p.effective_tops_in_service for p in plan.periods]
    expected = series[-1] if plan.scenario.objective == "delivered" else sum(series) / len(series)
    assert plan.totals["effective_tops"] == pytest.approx(expected)


def test_what_is_shown(lease, licence):
    assert extended(lease) and periods_shown(lease)
    outcomes = make_plan(io.load(FIXTURES / "io_outcomes.yaml"))
    assert extended(outcomes) and not periods_shown(outcomes)
    v1 = make_plan(io.load(FIXTURES / "report_two_sites.yaml"))
    assert not extended(v1) and not periods_shown(v1)
    assert objective_text(lease) == "effective TOPS in service, averaged over the 4 periods q1-q4"
    assert objective_text(licence) == "effective TOPS delivered by the end of q4"
    assert objective_text(outcomes) == ("effective TOPS in service, averaged over the 4 periods 2025q1-2025q4; "
                                        "expected value over the 2 outcomes (granted, denied)")
