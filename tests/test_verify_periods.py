"""The independent verifier catches a plan that breaks each version-2 rule.

Each case starts from a valid plan of a hand-solved fixture (tests/fixtures/periods_*.yaml) and breaks one
rule; the verifier must name that rule. Orders are keyed (site, chip, order period, outcome) and leases
(lease, start period, outcome).
"""
from __future__ import annotations

import pytest

from conftest import load_fixture, scenario_of
from optimizer import verify
from optimizer.verify import Orders


def orders(purchases=None, leases=None) -> Orders:
    return Orders(
        {(s, c, p, None): u for (s, c, p), u in (purchases or {}).items()},
        {(o, p, None): u for (o, p), u in (leases or {}).items()},
    )


LEAD = load_fixture("periods_lead_time.yaml").scenario
LICENCE = load_fixture("periods_licence.yaml").scenario
LEASE = load_fixture("periods_lease.yaml").scenario
POWER = load_fixture("periods_budget_power.yaml").scenario


def test_valid_plans_are_accepted_with_their_objectives():
    assert verify.violations(LEAD, orders({("cn", "slow", "q1"): 60, ("cn", "fast", "q1"): 40}), 11_500) == []
    assert verify.violations(LICENCE, orders({("cn", "h", "q3"): 100, ("my", "d", "q1"): 100}), 15_000) == []
    assert verify.violations(LEASE, orders({("my", "y", "q1"): 60}, {("op_x", "q1"): 10}), 16_000) == []
    assert verify.violations(POWER, orders({("cn", "a", "q1"): 5, ("cn", "b", "q2"): 47.5}), 7_625) == []


@pytest.mark.parametrize(
    "scenario, plan, expected",
    [
        # slow ordered in q3 arrives in q5, after the horizon
        pytest.param(LEAD, orders({("cn", "slow", "q3"): 1}), "delivered after the last period", id="lead-time"),
        # 61 slow in q1 are 61 deliveries in q3, over v1's 60
        pytest.param(LEAD, orders({("cn", "slow", "q1"): 61}), "capacity[v1,q3]", id="capacity-by-period"),
        # h ordered in q1 arrives in q2, inside the licence's denied window
        pytest.param(LICENCE, orders({("cn", "h", "q1"): 1}), "export of h to CN is denied", id="dated-licence"),
        # x is controlled and the buyer is headquartered in CN: denied in MY (tier 1) without a licence
        pytest.param(LICENCE, orders({("my", "x", "q1"): 1}), "export of x to MY is denied", id="headquarters"),
        # my may buy x and d only
        pytest.param(LICENCE, orders({("my", "h", "q1"): 1}), "site my may not buy h", id="site-chips"),
        # 11 leases of x: 88,000 TPP over the 80,000 cap
        pytest.param(LEASE, orders({}, {("op_x", "q1"): 11}), "tpp_cap[MY]", id="lease-tpp-cap"),
        # 21 leases in service is over op_x's maximum of 20 (and the cap, and the budget)
        pytest.param(LEASE, orders({}, {("op_x", "q1"): 10, ("op_x", "q3"): 11}), "lease_max[op_x,q4]", id="lease-max"),
        # leases cost their payments over the horizon: 10 from q1 pay 400; 61 y (610) then break CNY 1,000
        pytest.param(LEASE, orders({("my", "y", "q1"): 61}, {("op_x", "q1"): 10}), "budget[my]", id="lease-payments"),
        # CNY 60 ordered in q1 is over the q1 cap of 50
        pytest.param(POWER, orders({("cn", "a", "q1"): 6}), "budget[cn,q1]", id="per-period-budget"),
        # 11 a in service in q1 draw 1,100 W of 1,000
        pytest.param(POWER, orders({("cn", "a", "q1"): 11}), "power[cn,q1]", id="power-by-period"),
        # b is available from q2
        pytest.param(POWER, orders({("cn", "b", "q1"): 1}), "b cannot be ordered in q1", id="available-from"),
        # a is available until q1
        pytest.param(POWER, orders({("cn", "a", "q2"): 1}), "a cannot be ordered in q2", id="available-until"),
        # 48 b in q2 with 5 a: 500 + 9,600 W in service in q2, over 10,000
        pytest.param(POWER, orders({("cn", "a", "q1"): 5, ("cn", "b", "q2"): 48}), "power[cn,q2]", id="power-q2"),
        # an order in a period the scenario does not have
        pytest.param(POWER, orders({("cn", "a", "q9"): 1}), "no such period", id="unknown-period"),
    ],
)
def test_each_broken_rule_is_caught(scenario, plan, expected):
    bad = verify.violations(scenario, plan)
    assert any(expected in b for b in bad), bad


def test_objective_is_recomputed_with_the_time_weights():
    # in service: slow from q1 counts 2 of 4 quarters; the solver claiming full credit is caught
    plan = orders({("cn", "slow", "q1"): 60, ("cn", "fast", "q1"): 40})
    assert verify.effective_tops(LEAD, plan) == pytest.approx(60 * 250 * 0.5 + 40 * 100)
    bad = verify.violations(LEAD, plan, objective=60 * 250 + 40 * 100)
    assert bad and bad[0].startswith("objective:")


def _min_order(extra: dict) -> object:
    data = load_fixture("periods_budget_power.yaml").source.data
    data["chips"]["b"]["min_order_units"] = 20
    for k, v in extra.items():
        data["sites"]["cn"][k] = v
    return scenario_of(data)


def test_min_order_units_if_bought_at_all():
    s = _min_order({})
    assert verify.violations(s, orders({("cn", "b", "q2"): 20})) == []
    assert verify.violations(s, orders({})) == []  # not bought at all: fine
    bad = verify.violations(s, orders({("cn", "b", "q2"): 5}))
    assert bad == ["min_order[cn,b,q2]: an order of 5 units of b at cn in q2, below the minimum order of 20"]


def test_vendor_share_at_one_site():
    data = load_fixture("periods_licence.yaml").source.data
    data["sites"]["my"]["vendor_max_share"] = {"dom": 0.5}
    s = scenario_of(data)
    bad = verify.violations(s, orders({("my", "d", "q1"): 10}))
    assert any(b.startswith("vendor_share[my,dom]") for b in bad), bad
