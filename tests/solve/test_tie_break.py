"""The least-spend tie-break among plans of maximum effective TOPS: exact, deterministic, skipped when it cannot help.

The reference is an independent exact two-step answer with scipy's MILP: maximise effective TOPS, then
minimise spend subject to effective TOPS >= T* - delta/2, where delta is the step between the TOPS values of
whole-lot plans, worked out here in exact fractions from the decimal inputs.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import reduce

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_fixture, scenario_of
from optimizer.plan import make_plan


def exact_two_step(s):
    """(T* as a Fraction, least spend at T*) for a one-period whole-lot scenario with budgets and capacity only."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    keys = [(site, chip) for site in sorted(s.sites) for chip in sorted(s.chips)]
    lot = np.array([s.chips[c].lot_size for _, c in keys], dtype=float)
    eff = [Fraction(str(s.chips[c].int8_tops)) * Fraction(str(s.flexibility[s.chips[c].architecture]))
           * Fraction(str(s.vendors[s.chips[c].vendor].delivery_rate)) * s.chips[c].lot_size for _, c in keys]
    price = np.array([s.price_reporting(site, c) * s.chips[c].lot_size for site, c in keys])
    rows, lo, up = [], [], []
    for site in sorted(s.sites):
        rows.append([price[k] if keys[k][0] == site else 0.0 for k in range(len(keys))])
        lo.append(-np.inf)
        up.append(s.money(s.sites[site].budget))
    for vid, v in s.vendors.items():
        if v.capacity_units is not None:
            rows.append([lot[k] if s.chips[keys[k][1]].vendor == vid else 0.0 for k in range(len(keys))])
            lo.append(-np.inf)
            up.append(v.capacity_units)
    A = np.array(rows)
    c = np.array([float(e) for e in eff])
    integ = np.ones(len(keys))
    first = milp(-c, constraints=LinearConstraint(A, lo, up), integrality=integ, bounds=Bounds(0, np.inf),
                 options={"mip_rel_gap": 0})
    lots = np.round(first.x)
    t_star = sum(e * int(n) for e, n in zip(eff, lots))
    nums = reduce(math.gcd, (e.numerator for e in eff))
    dens = reduce(lambda a, b: a * b // math.gcd(a, b), (e.denominator for e in eff))
    delta = Fraction(nums, dens)
    floor = float(t_star - delta / 2)
    second = milp(price, constraints=[LinearConstraint(A, lo, up), LinearConstraint(c[None, :], [floor], [np.inf])],
                  integrality=integ, bounds=Bounds(0, np.inf), options={"mip_rel_gap": 0})
    lots2 = np.round(second.x)
    return sum(e * int(n) for e, n in zip(eff, lots2)), float(price @ lots2), t_star


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tops=st.lists(st.integers(50, 2000), min_size=3, max_size=3),
    prices=st.lists(st.integers(1_000, 200_000), min_size=3, max_size=3),
    lots=st.lists(st.sampled_from([1, 1, 2, 8]), min_size=3, max_size=3),
    rates=st.lists(st.sampled_from([0.85, 0.9, 0.95, 1.0]), min_size=2, max_size=2),
    budgets=st.lists(st.integers(10, 5_000), min_size=2, max_size=2),
    cap=st.integers(5, 4_000),
)
def test_tie_break_gives_the_exact_two_step_answer(tops, prices, lots, rates, budgets, cap):
    data = {
        "schema_version": 1, "name": "tie", "integer_units": True, "flexibility": {"g": 1.0, "a": 0.75},
        "vendors": {"v1": {"origin": "CN", "delivery_rate": rates[0], "capacity_units": cap},
                    "v2": {"origin": "US", "delivery_rate": rates[1]}},
        "chips": {f"c{i}": {"vendor": "v1" if i < 2 else "v2", "architecture": "a" if i == 0 else "g",
                            "int8_tops": tops[i], "unit_price": prices[i], "lot_size": lots[i]} for i in range(3)},
        "sites": {"s1": {"country": "CN", "budget": {"amount": budgets[0] * 1e4}},
                  "s2": {"country": "DE", "budget": {"amount": budgets[1] * 1e4}}},
    }
    s = scenario_of(data)
    plan = make_plan(s)
    ref_tops, ref_spend, t_star = exact_two_step(s)
    got = sum(Fraction(str(s.chips[a.chip].int8_tops)) * Fraction(str(s.flexibility[s.chips[a.chip].architecture]))
              * Fraction(str(s.vendors[a.vendor].delivery_rate)) * int(round(a.units)) for a in plan.allocation)
    assert got == t_star == ref_tops  # the maximum effective TOPS, exactly: no whole chip given up to save money
    assert plan.totals["spend"] == pytest.approx(ref_spend, rel=1e-12, abs=1e-6)  # and its least spend


def test_relaxation_proves_the_first_plan_cheapest_and_skips_the_second_milp(monkeypatch):
    from optimizer.solve.highs import HighsBackend

    calls = []
    real = HighsBackend.min_spend

    def counting(self, *a, **k):
        calls.append(self.mip)
        return real(self, *a, **k)

    monkeypatch.setattr(HighsBackend, "min_spend", counting)
    # 100 a at CNY 10 (10 TOPS per CNY, the best there is): 10,000 TOPS cannot cost less than CNY 1,000
    plan = make_plan(load_fixture("core_two_chips.yaml", ("integer",)))
    assert plan.totals["effective_tops"] == 10_000 and plan.totals["spend"] == 1_000
    assert calls == [False]  # only the continuous relaxation of the tie-break ran
    calls.clear()
    # core_lots: 4 a + 6 lots of b spend CNY 1,000 for 14,800 TOPS, but fractional lots would reach it for
    # CNY 986.67, so the relaxation proves nothing and the whole-lot tie-break runs
    make_plan(load_fixture("core_lots.yaml"))
    assert calls == [False, True]
