"""Reduced-cost boxes (optimizer/solve/fixing.py): hand-worked bounds, any multipliers give a box that holds the
optimum, and boxed MILPs give plans of the same effective TOPS and spend (the shipped scenarios: the same plans,
tests/solve/test_highs_options.py)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scenario_of
from optimizer.model import build
from optimizer.solve import Solver, fixing
from optimizer.solve import lexicographic as lx
from optimizer.solve.numerics import ScaledProblem, exact_value, round_lots, scaled

INF = np.inf


def problem(rows, row_up, c, col_up, row_lo=None, integer=True) -> ScaledProblem:
    A = sp.csr_matrix(np.array(rows, dtype=float))
    m, n = A.shape
    return ScaledProblem(A, np.array(c, dtype=float), np.zeros(n),
                         np.full(m, -INF) if row_lo is None else np.array(row_lo, dtype=float),
                         np.array(row_up, dtype=float), np.zeros(n), np.array(col_up, dtype=float),
                         np.full(n, integer), np.ones(m), np.ones(n), np.zeros(n, dtype=bool))


# max 10 x + 8 y, x + y <= 10.5, x <= 7 (a row), whole x and y. The relaxation: x = 7, y = 3.5, value 98, with
# duals 8 (the budget) and 2 (x's cap). Whole plans with value >= 94: 10 x + 8 y = 8 (x + y) + 2 x <= 80 + 14 = 94,
# so only x + y = 10 and x = 7; the bound's own reasoning gives x + y >= 10.5 - 4/8 = 10 and x >= 7 - 4/2 = 5.
HAND = problem([[1, 1], [1, 0]], [10.5, 7], [10, 8], [INF, INF])


def test_hand_box_from_the_duals_and_a_whole_plan():
    b = fixing.box(HAND, np.array([8.0, 2.0]), 94.0, HAND.upper(True))
    assert b.bound == pytest.approx(98.0, abs=1e-12)
    assert b.row_lo == pytest.approx([10.0, 5.0], abs=1e-4)
    assert b.row_lo[0] <= 10.0 and b.row_lo[1] <= 5.0  # rounded outwards: (7, 3) stays inside
    assert list(b.row_up) == [10.5, 7.0]
    assert list(b.col_lo) == [0.0, 0.0] and list(b.col_up) == [INF, INF]  # both columns have reduced cost 0


def test_hand_box_on_a_column_bound():
    # the same with x <= 7 as a column bound: its reduced cost is 10 - 8 = 2, so x >= 7 - 4/2 = 5, a column bound
    p = problem([[1, 1]], [10.5], [10, 8], [7, INF])
    b = fixing.box(p, np.array([8.0]), 94.0, p.upper(True))
    assert b.bound == pytest.approx(98.0, abs=1e-12)
    assert list(b.col_lo) == [5.0, 0.0] and list(b.col_up) == [7.0, INF]
    assert b.row_lo[0] == pytest.approx(10.0, abs=1e-4) and b.row_lo[0] <= 10.0


def test_a_multiplier_on_a_missing_bound_is_dropped_and_the_box_still_holds():
    # -8 would press on the budget's (missing) lower bound: dropped, the bound is then the columns' alone,
    # 10 x 7 (the implied cap of x is min(10.5, 7) from both rows) + 8 x 10.5 = 154, and nothing is cut
    b = fixing.box(HAND, np.array([-8.0, 0.0]), 94.0, HAND.upper(True))
    assert b.bound == pytest.approx(154.0)
    assert b.row_lo[0] == -INF and b.col_lo[0] <= 7 - 60 / 10  # x >= 7 - (154 - 94) / 10 = 1
    assert b.col_up[1] >= 10


def test_implied_upper_bounds_from_rows_without_negative_entries():
    p = problem([[2, 4, 0], [1, -1, 1], [0, 0, 3]], [10, 5, 12], [1, 1, 1], [INF, 1.5, INF])
    # row 0 caps x0 at 5 and x1 at 2.5 (its own bound 1.5 is lower); row 1 has a negative entry; row 2 caps x2 at 4
    assert list(fixing.implied_upper(p, p.col_up)) == [5.0, 1.5, 4.0]


def test_no_box_where_a_column_could_grow_without_limit():
    p = problem([[1, -1]], [3], [1, 1], [INF, INF])  # x - y <= 3: nothing caps y, whose reduced cost is 1
    assert fixing.box(p, np.array([0.0]), 0.0, p.upper(True)) is None


def test_rounding_shift_keeps_rounded_plans_inside():
    p = problem([[1, 1], [1, -5], [2, 3]], [10.5, 0, INF], [1, 1], [INF, 1], row_lo=[-INF, -INF, 4])
    up = fixing.binaries(p)
    assert list(up) == [False, True]
    lo, hi = fixing.rounding_shift(p, up)
    # x down, y (0..1) up: row 0 may rise by < 1 (y), row 1 by < 0 (x down lowers it, y up lowers it), and the
    # >= row 2 may fall by < 2 (x down)
    assert list(hi) == [9.5, 0.0, INF] and list(lo) == [-INF, -INF, 6.0]
    x = np.array([3.7, 0.74])  # meets the moved rows: 4.44 <= 9.5, 3.7 - 3.7 <= 0, 7.4 + 2.22 >= 6
    r = fixing.round_plan(p, x, up)
    assert list(r) == [3.0, 1.0]
    act = p.A @ r
    assert np.all(act <= p.row_up) and np.all(act >= p.row_lo)


# --------------------------------------------------------------------------- any multipliers, random problems


def whole_lot_scenario(tops, prices, lots, rates, budgets, cap, share):
    return scenario_of({
        "schema_version": 1, "name": "box", "integer_units": True, "flexibility": {"g": 1.0, "a": 0.75},
        "vendors": {"v1": {"origin": "CN", "delivery_rate": rates[0], "capacity_units": cap, "max_share": 0.8},
                    "v2": {"origin": "US", "delivery_rate": rates[1]}},
        "chips": {f"c{i}": {"vendor": "v1" if i < 2 else "v2", "architecture": "a" if i == 0 else "g",
                            "int8_tops": tops[i], "unit_price": prices[i], "lot_size": lots[i]} for i in range(3)},
        "sites": {"s1": {"country": "CN", "budget": {"amount": budgets[0] * 1e4}, "domestic_min_share": share},
                  "s2": {"country": "DE", "budget": {"amount": budgets[1] * 1e4}}},
    })


def plain_and_boxed(s):
    m = build(s)
    out = []
    for on in (False, True):
        lx.FIXING = on
        try:
            out.append(Solver(m).solve(duals=False))
        finally:
            lx.FIXING = True
    return m, out


scenarios = st.builds(
    whole_lot_scenario,
    tops=st.lists(st.integers(50, 2000), min_size=3, max_size=3),
    prices=st.lists(st.integers(1_000, 200_000), min_size=3, max_size=3),
    lots=st.lists(st.sampled_from([1, 1, 2, 8]), min_size=3, max_size=3),
    rates=st.lists(st.sampled_from([0.85, 0.9, 0.95, 1.0]), min_size=2, max_size=2),
    budgets=st.lists(st.integers(10, 5_000), min_size=2, max_size=2),
    cap=st.integers(5, 4_000),
    share=st.sampled_from([0.0, 0.3, 0.6, 0.9]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios, seed=st.integers(0, 2**31))
def test_any_multipliers_give_a_box_that_holds_the_optimum(s, seed):
    m, (plain, boxed) = plain_and_boxed(s)
    if not plain.ok:
        return
    prob = scaled(m)
    lots = round_lots(prob, plain.units / prob.col_scale)
    value = float(prob.c @ lots)
    rng = np.random.default_rng(seed)
    st_, x, y = Solver(m)._relax()
    for mult in (y, y * rng.uniform(0.2, 3.0, prob.m), rng.normal(0, 1, prob.m) * np.abs(y).max(initial=1.0)):
        b = fixing.box(prob, mult, value, prob.upper(True))
        if b is None:
            continue
        assert b.bound >= value * (1 - 1e-12)
        assert np.all(lots >= b.col_lo) and np.all(lots <= b.col_up)
        act = prob.A @ lots
        tol = 1e-9 * np.maximum(1.0, np.abs(act))
        assert np.all(act >= b.row_lo - tol) and np.all(act <= b.row_up + tol)
    # and the boxed MILPs give a plan of the plain MILPs' effective TOPS and spend (where several plans tie on both,
    # e.g. two sites with the same chips and budgets, either may come back)
    assert boxed.status == plain.status
    assert exact_value(m, boxed.units / prob.col_scale) == exact_value(m, plain.units / prob.col_scale)  # exactly
    spend = prob.spend / prob.col_scale
    assert float(spend @ boxed.units) == pytest.approx(float(spend @ plain.units), rel=1e-12)
