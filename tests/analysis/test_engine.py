"""The Resolver's fast path gives the plans make_plan gives, across perturbed scenarios.

Each sequence below is solved in order by ONE Resolver (so the incremental
updates and the warm starts are what is tested) and, independently, by
make_plan with HiGHS and with CBC (rebuilt from scratch each time). Plans
must agree on status, units, effective TOPS and spend; with HiGHS on both
sides the shadow prices must agree too.
"""
from __future__ import annotations

import numpy as np
import pytest

from optimizer import io
from optimizer.analysis.engine import Resolver
from optimizer.errors import VerificationError
from optimizer.plan import make_plan

from conftest import FIXTURES, SCENARIOS

ENGINE = FIXTURES / "analysis_engine.yaml"
BASELINE = SCENARIOS / "bytedance-2025.yaml"
SMALL = FIXTURES / "whatif_small.yaml"

# (variants, sets) in the order one Resolver solves them: prices, budgets, shares,
# capacities, and variants that change the structure (licence, a dropped row) and back.
ENGINE_SEQUENCE = [
    ((), ()),
    ((), ("chips.b.unit_price=400",)),
    ((), ("sites.cn.prices.b=520",)),
    ((), ("sites.cn.budget.amount=350000",)),
    ((), ("budget.amount=900000",)),
    ((), ("sites.cn.domestic_min_share=0.7",)),
    ((), ("vendors.dom.capacity_units=250",)),
    ((), ("vendors.dom.max_share=0.6",)),
    ((), ("sites.cn.power_mw=0.12",)),
    ((), ("export_controls.tpp_caps.MY=60000",)),
    (("deny_b_cn",), ()),  # structure change: units[cn,b] disappears
    (("deny_b_cn",), ("chips.d.unit_price=2500",)),
    (("no_global_budget",), ()),  # structure change: budget[global] disappears
    ((), ("chips.a.int8_tops=140",)),  # back to the first structure, objective coefficient moved
    (("capacity_below_min",), ()),  # infeasible, same structure
    ((), ("chips.c.unit_price=900",)),  # optimal again after an infeasible point
    (("my_unbounded",), ()),  # unbounded
    ((), ()),
]

BASELINE_SEQUENCE = [
    ((), ()),
    ((), ("sites.cn.budget.amount=32e9",)),
    ((), ("chips.h20.unit_price=95000",)),
    ((), ("sites.cn.prices.mlu370=38000",)),
    ((), ("sites.cn.domestic_min_share=0.7",)),
    ((), ("vendors.huawei.capacity_units=150000",)),
    (("h20_licence_denied",), ()),
    (("h20_licence_denied",), ("sites.cn.budget.amount=45e9",)),
    ((), ("vendors.cambricon.capacity_units=3e5",)),
]


def _load(path, variants, sets, continuous=False):
    extra = ("integer_units=false",) if continuous else ()
    return io.load(path, variants=list(variants), sets=list(sets) + list(extra))


def _same_plan(fast, ref, exact: bool):
    assert fast.status == ref.status
    if not ref.result.ok:
        assert fast.allocation == [] and fast.totals == {}
        return
    assert fast.lm.structure_key() == ref.lm.structure_key()
    if exact:
        np.testing.assert_array_equal(fast.result.units, ref.result.units)
    else:  # CBC writes its solution with 6-7 significant digits
        np.testing.assert_allclose(fast.result.units, ref.result.units, rtol=1e-6, atol=1e-6)
    rtol = 1e-12 if exact else 1e-6
    assert fast.totals["effective_tops"] == pytest.approx(ref.totals["effective_tops"], rel=rtol)
    assert fast.totals["spend"] == pytest.approx(ref.totals["spend"], rel=rtol)
    assert [c.name for c in fast.constraints] == [c.name for c in ref.constraints]
    assert fast.binding == ref.binding


@pytest.mark.parametrize("continuous", [False, True], ids=["lots", "continuous"])
def test_engine_sequence_matches_make_plan_highs(continuous):
    r = Resolver("highs")
    for variants, sets in ENGINE_SEQUENCE:
        loaded = _load(ENGINE, variants, sets, continuous)
        fast = r.plan(loaded)
        ref = make_plan(loaded, solver="highs", raise_on_status=False)
        _same_plan(fast, ref, exact=not continuous)
        if ref.result.ok:
            np.testing.assert_allclose(fast.result.shadow_prices, ref.result.shadow_prices, rtol=1e-7, atol=1e-9)
            np.testing.assert_allclose(fast.result.reduced_costs, ref.result.reduced_costs, rtol=1e-7, atol=1e-9)
            assert fast.result.dual_basis == ref.result.dual_basis == ("lp" if continuous else "relaxation")
            assert fast.optimality["certificate"] == ref.optimality["certificate"]
    # one build per distinct structure (base, deny_b_cn, no_global_budget, my_unbounded); every
    # other point, including each return to a structure seen before, reused a model
    assert r.stats.rebuilds == 4
    assert r.stats.updates == len(ENGINE_SEQUENCE) - 4


def test_engine_sequence_matches_make_plan_cbc():
    r = Resolver("highs")
    for variants, sets in ENGINE_SEQUENCE[:12]:
        loaded = _load(ENGINE, variants, sets)
        _same_plan(r.plan(loaded), make_plan(loaded, solver="cbc", raise_on_status=False), exact=True)


def test_engine_continuous_matches_cbc():
    r = Resolver("highs")
    for variants, sets in ENGINE_SEQUENCE[:6]:
        loaded = _load(ENGINE, variants, sets, continuous=True)
        _same_plan(r.plan(loaded), make_plan(loaded, solver="cbc", raise_on_status=False), exact=False)


def test_baseline_sequence_matches_make_plan_both_solvers():
    r = Resolver("highs")
    for variants, sets in BASELINE_SEQUENCE:
        loaded = _load(BASELINE, variants, sets)
        fast = r.plan(loaded)
        _same_plan(fast, make_plan(loaded, solver="highs", raise_on_status=False), exact=True)
        _same_plan(fast, make_plan(loaded, solver="cbc", raise_on_status=False), exact=True)
    assert r.stats.rebuilds == 2  # baseline, licence denied (no H20 column)


def test_statuses_are_values_not_exceptions():
    r = Resolver("highs")
    assert r.plan(_load(ENGINE, ("capacity_below_min",), ())).status == "infeasible"
    assert r.plan(_load(ENGINE, ("my_unbounded",), ())).status == "unbounded"
    ok = r.plan(_load(ENGINE, (), ()))
    assert ok.status == "optimal" and ok.totals["effective_tops"] > 0


def test_unbounded_lots_is_told_apart_from_infeasible():
    # HiGHS's MIP answers "unbounded or infeasible" here; the Resolver must say unbounded
    r = Resolver("highs")
    assert r.plan(_load(ENGINE, ("my_unbounded",), ())).status == "unbounded"
    assert r.plan(_load(ENGINE, ("my_unbounded",), ("vendors.dom.capacity_units=2",))).status == "infeasible"


def test_duals_false_keeps_the_plan():
    loaded = _load(BASELINE, (), ())
    a = Resolver().plan(loaded, duals=False)
    b = make_plan(loaded)
    np.testing.assert_array_equal(a.result.units, b.result.units)
    assert a.result.shadow_prices is None


def test_cbc_resolver_runs_the_same_phases():
    loaded = _load(ENGINE, (), ())
    r = Resolver("cbc")
    p = r.plan(loaded)
    assert p.result.solver == "cbc" and r.stats.rebuilds == 1
    _same_plan(p, make_plan(loaded, solver="highs"), exact=True)


def test_fast_plans_are_verified(monkeypatch):
    """A wrong answer from the fast path must raise, exactly as make_plan does."""
    from optimizer.solve import lexicographic

    real = lexicographic.Solver.solve

    def corrupt(self, **kw):
        res = real(self, **kw)
        res.units = res.units * 3  # triples every purchase: breaks the budget
        res.objective *= 3
        return res

    monkeypatch.setattr(lexicographic.Solver, "solve", corrupt)
    with pytest.raises(VerificationError):
        Resolver().plan(_load(ENGINE, (), ()))


def test_scenario_and_loaded_both_accepted():
    loaded = _load(ENGINE, (), ())
    r = Resolver()
    a = r.plan(loaded)
    b = r.plan(loaded.scenario)
    assert a.loaded is loaded and b.loaded is None
    np.testing.assert_array_equal(a.result.units, b.result.units)


@pytest.mark.parametrize("order", [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (2, 0, 4, 1, 3)])
def test_every_point_is_the_plan_solve_gives_whatever_came_before(order):
    """No warm start leaks from one point to the next: each plan equals make_plan's, bit for bit, in any order
    (so a sweep split across workers gives the serial run's answers, even where optima tie)."""
    prices = [8, 10, 12, 14, 16]  # at 12, chips a and b tie on TOPS and spend (both 5 TOPS per CNY)
    r = Resolver()
    for k in order:
        loaded = _load(SMALL, (), (f"chips.b.unit_price={prices[k]}",))
        got, ref = r.plan(loaded), make_plan(loaded)
        np.testing.assert_array_equal(got.result.units, ref.result.units)
        assert got.result.objective == ref.result.objective
    assert r.stats.rebuilds == 1


def _many_chips(n_chips: int = 6, integer: bool = True) -> dict:
    """Two sites x n chips (more than 10 columns, so PuLP's name order x0, x1, x10, ... differs from ours).

    Site de pays 3% more for every chip, so no two plans tie on both TOPS and spend.
    """
    chips = {
        f"k{i:02d}": {"vendor": "dom" if i % 3 else "us", "architecture": "gpgpu", "int8_tops": 50 + 7 * i,
                      "unit_price": 400 + 37 * i + (i % 4) * 11, "lot_size": 1 + i % 3, "max_units": 40 + 5 * i}
        for i in range(n_chips)
    }
    return {
        "schema_version": 1, "name": "many chips", "currency": "CNY", "integer_units": integer,
        "flexibility": {"gpgpu": 1.0},
        "vendors": {"dom": {"origin": "CN", "capacity_units": 300}, "us": {"origin": "US"}},
        "chips": chips,
        "sites": {
            "cn": {"country": "CN", "budget": {"amount": 90000}, "domestic_min_share": 0.5},
            "de": {"country": "DE", "budget": {"amount": 60000},
                   "prices": {k: round(c["unit_price"] * 1.03, 2) for k, c in chips.items()}},
        },
    }


def test_more_than_ten_columns():
    """Column order: 12 columns, PuLP's x0, x1, x10, x11, x2, ... mapped back to the model's order.

    Both budgets bind, so several plans share the optimal TOPS *and* spend (a chip's units can
    move between the sites' budgets); plans are compared on their totals and every one is verified.
    Continuous: the same MILP with whole lots takes make_plan tens of seconds (see the report).
    """
    data = _many_chips(integer=False)
    r = Resolver()
    for k, price in enumerate([None, 900, 450, 1300]):
        if price is not None:
            data["chips"]["k04"]["unit_price"] = price
            data["sites"]["cn"]["budget"]["amount"] = 90000 + 5000 * k
        s = io.validate_data(data)
        fast, ref = r.plan(s), make_plan(s)
        assert fast.model.n == 12 and fast.status == ref.status == "optimal"
        assert fast.totals["effective_tops"] == pytest.approx(ref.totals["effective_tops"], rel=1e-9)
        assert fast.totals["spend"] == pytest.approx(ref.totals["spend"], rel=1e-9)
        assert fast.optimality["certificate"] == "lp-duality"
    assert r.stats.rebuilds == 1


def test_unaffordable_chip_as_make_plan():
    """Not one lot of `big` fits the budget: whole lots buy 100 x a (HiGHS alone took 1e-6 of big as whole)."""
    data = {
        "schema_version": 1, "name": "unaffordable", "integer_units": True, "flexibility": {"gpgpu": 1.0},
        "vendors": {"v": {"origin": "CN"}},
        "chips": {
            "a": {"vendor": "v", "architecture": "gpgpu", "int8_tops": 100, "unit_price": 10},
            "big": {"vendor": "v", "architecture": "gpgpu", "int8_tops": 2e9, "unit_price": 1e9},
        },
        "sites": {"cn": {"country": "CN", "budget": {"amount": 1000}}},
    }
    r = Resolver()
    for budget in (1000, 1005, 123_456):
        data["sites"]["cn"]["budget"]["amount"] = budget
        s = io.validate_data(data)
        fast = r.plan(s)
        _same_plan(fast, make_plan(s), exact=True)
        assert fast.units() == {("cn", "a"): float(budget // 10), ("cn", "big"): 0.0}
    assert r.stats.rebuilds == 1
