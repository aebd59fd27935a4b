"""Tornado: swings worked out by hand, sorting, clipping, and checks by independent re-solves."""
from __future__ import annotations

import pytest
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.analysis import engine
from optimizer.analysis.tornado import default_params, tornado
from optimizer.errors import InfeasibleError, InputError, UnboundedError
from optimizer.plan import make_plan

SMALL = str(FIXTURES / "whatif_small.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")

# Effective TOPS per CNY: a = 100 x 0.5 / 10 = 5, b = 60 x 1 / 10 = 6; budget 1000, floor 50% of spend on a,
# a's capacity 100 units. Base: 500 CNY on each -> 2500 + 3000 = 5500. Each end below, by hand:
HAND = {
    # path: (low value, high value, TOPS at low, TOPS at high)
    "sites.cn.budget.amount": (800, 1200, 5.5 * 800, 5.5 * 1200),
    # b at 8: 6250 = 500 x 5 + 500 x 7.5; b at 12: 5 per CNY, a tie with a: 5000
    "chips.b.unit_price": (8, 12, 2500 + 500 * 60 / 8, 5000),
    # a at 8: 6.25 per CNY beats b: a to capacity (100 units, 800), the other 200 on b (floor allows up to 800)
    # a at 12: 500 x 50/12 + 500 x 6
    "chips.a.unit_price": (8, 12, 100 * 50 + 20 * 60, 500 * 50 / 12 + 3000),
    # b at 48 TOPS: 4.8 per CNY < 5: everything on a (100 units = 1000): 5000; at 72: 2500 + 500 x 7.2
    "chips.b.int8_tops": (48, 72, 5000, 2500 + 3600),
    "flexibility.gpgpu": (0.8, 1.2, 5000, 6100),
    # a at 80 TOPS: 4 per CNY: 2000 + 3000; at 120: 6 per CNY, a tie with b: 6000
    "chips.a.int8_tops": (80, 120, 5000, 6000),
    "flexibility.asic": (0.4, 0.6, 5000, 6000),
    # delivery rates are at most 1: the high end is clipped to the base value
    "vendors.dom.delivery_rate": (0.8, 1.0, 500 * 4 + 3000, 5500),
    "vendors.us.delivery_rate": (0.8, 1.0, 5000, 5500),
    # TOPS = (6 - f) x 1000
    "sites.cn.domestic_min_share": (0.4, 0.6, 5600, 5400),
    # a needs only 50 units
    "vendors.dom.capacity_units": (80, 120, 5500, 5500),
}


@pytest.fixture(scope="module")
def small():
    return tornado(io.load(SMALL), pct=20)


def test_default_params_cover_the_listed_inputs():
    s = io.load(SMALL).scenario
    assert sorted(default_params(s)) == sorted(HAND)
    base = io.load(BASELINE).scenario
    ps = default_params(base)
    assert "vendors.nvidia.capacity_units" not in ps  # no cap in the file: nothing to swing
    assert {"vendors.nvidia.delivery_rate", "chips.h100.int8_tops", "sites.cn.domestic_min_share",
            "sites.cn.budget.amount", "flexibility.asic"} <= set(ps)
    # issue 10: caps, fx, power and share limits are inputs too
    assert {"chips.ascend910c.max_units", "fx.USD", "sites.cn.power_mw", "chips.h20.power_w",
            "vendors.huawei.max_share"} <= set(ps)
    assert "export_controls.tpp_caps.MY" not in ps  # no site in Malaysia: the cap cannot bind
    assert not any(p.endswith((".min_units", ".lot_size", ".tpp", ".die_area_mm2")) for p in ps)
    # 5 chips x (price, TOPS, power), 910C's max_units; 3 delivery rates, 2 capacities, huawei's share cap;
    # 2 flexibility factors; cn's budget, floor and power; fx.USD
    assert len(ps) == 5 * 3 + 1 + 3 + 2 + 1 + 2 + 3 + 1
    glob = default_params(io.load(str(SCENARIOS / "global-2025.yaml")).scenario)
    assert {"export_controls.tpp_caps.MY", "chips.ascend910c.max_units", "fx.USD", "budget.amount",
            "sites.my.power_mw"} <= set(glob)


def test_default_params_of_a_version_2_scenario():
    # per-period numbers one period at a time, in period order; leases; only the fx rates something is priced in;
    # tpp caps only where there is a site; min_units when above 0
    ps = default_params(io.load(str(FIXTURES / "tornado_v2.yaml")).scenario)
    assert ps == [
        "chips.a.unit_price", "chips.a.int8_tops", "chips.a.price_by_period.2025h1", "chips.a.price_by_period.2025h2",
        "chips.a.min_units", "chips.a.max_units", "chips.a.min_order_units", "chips.a.power_w",
        "chips.b.unit_price", "chips.b.int8_tops", "chips.b.power_w",
        "vendors.dom.delivery_rate", "vendors.dom.capacity_units.2025h1", "vendors.dom.capacity_units.2025h2",
        "vendors.dom.max_share", "vendors.us.delivery_rate", "vendors.us.capacity_units",
        "flexibility.asic", "flexibility.gpgpu",
        "sites.cn.budget.amount", "sites.cn.budget.per_period.2025h1", "sites.cn.budget.per_period.2025h2",
        "sites.my.budget.amount", "budget.amount", "budget.per_period.2025h1", "budget.per_period.2025h2",
        "sites.cn.domestic_min_share", "sites.cn.power_mw.2025h1", "sites.cn.power_mw.2025h2", "sites.cn.prices.b",
        "sites.cn.vendor_max_share.us",
        "leases.rent_b.price_per_period", "leases.rent_b.delivery_rate", "leases.rent_b.max_units",
        "fx.EUR", "fx.USD", "export_controls.tpp_caps.MY",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_every_default_end_of_every_shipped_scenario_validates(name):
    # the risk scenario's delivery spreads once made its default tornado exit 2 (a rate of 1 with a spread)
    from optimizer.analysis.specs import base_data
    from optimizer.analysis.tornado import _ends

    loaded = io.load(SCENARIOS / name)
    data = base_data(loaded)
    for p in default_params(loaded.scenario):
        e = _ends(loaded.scenario, data, p, 20, loaded.path)
        assert (e.low_sc is None) == (e.low == e.base) and (e.high_sc is None) == (e.high == e.base), p


def test_every_default_param_of_a_version_2_scenario_has_valid_ends():
    # each end is set and validated like --set (the model solves version 2 once the core reads periods)
    from optimizer.analysis.specs import base_data
    from optimizer.analysis.tornado import _ends

    loaded = io.load(str(FIXTURES / "tornado_v2.yaml"))
    data = base_data(loaded)
    for p in default_params(loaded.scenario):
        e = _ends(loaded.scenario, data, p, 20, loaded.path)
        assert e.low == pytest.approx(0.8 * e.base) and e.low_sc is not None, p
        assert e.high == pytest.approx(min(1.2 * e.base, 1.0) if p.endswith("delivery_rate") else 1.2 * e.base), p
    e = _ends(loaded.scenario, data, "vendors.dom.capacity_units.2025h2", 20, loaded.path)
    assert e.high_sc.vendors["dom"].capacity_units == {"2025h1": 400, "2025h2": 600}


def test_version_2_ends_equal_independent_solves_with_set():
    v2 = str(FIXTURES / "tornado_v2.yaml")
    params = ["vendors.dom.capacity_units.2025h2", "sites.cn.budget.per_period.2025h1", "leases.rent_b.max_units",
              "fx.EUR", "chips.a.price_by_period.2025h1", "sites.cn.vendor_max_share.us"]
    res = tornado(io.load(v2), pct=20, params=params)
    assert res.base.effective_tops == pytest.approx(make_plan(io.load(v2)).totals["effective_tops"], rel=1e-7)
    moved = 0
    for r in res.rows:
        for value, end in ((r.low_value, r.low), (r.high_value, r.high)):
            plan = make_plan(io.load(v2, sets=[f"{r.path}={value!r}"]))
            assert end.effective_tops == pytest.approx(plan.totals["effective_tops"], rel=1e-7), (r.path, value)
        moved += r.swing > 1
    assert moved >= 5  # these inputs do move the answer of this scenario


def test_every_end_matches_the_hand_value(small):
    assert small.base.effective_tops == pytest.approx(5500)
    by = {r.path: r for r in small.rows}
    for path, (lo_v, hi_v, lo_t, hi_t) in HAND.items():
        r = by[path]
        assert (r.low_value, r.high_value) == pytest.approx((lo_v, hi_v)), path
        assert r.low.effective_tops == pytest.approx(lo_t, rel=1e-6), path
        assert r.high.effective_tops == pytest.approx(hi_t, rel=1e-6), path
        assert r.swing == pytest.approx(max(lo_t, hi_t, 5500) - min(lo_t, hi_t, 5500), rel=1e-6, abs=1e-3), path


def test_sorted_by_swing_largest_first(small):
    swings = [r.swing for r in small.rows]
    assert swings == sorted(swings, reverse=True)
    assert [r.path for r in small.rows[:3]] == ["sites.cn.budget.amount", "chips.b.unit_price", "chips.a.unit_price"]
    assert small.rows[-1].path == "vendors.dom.capacity_units" and small.rows[-1].swing == pytest.approx(0, abs=1e-6)


def test_clipping_is_said(small):
    by = {r.path: r for r in small.rows}
    assert "high clipped to 1" in by["vendors.us.delivery_rate"].note
    assert by["chips.a.unit_price"].note == ""


def test_infeasible_end_comes_first_with_its_status():
    # min_units of b = 50 (spend 500): the floor 0.5 needs 500 on a; at +20% (60 units, 600) the floor needs 600 more:
    # 1200 > 1000, infeasible. At -20% (40 units) it is feasible and changes nothing (swing 0), yet the row comes
    # before a's price, whose swing is about 1042 with both ends feasible.
    res = tornado(io.load(SMALL, sets=["chips.b.min_units=50"]), pct=20,
                  params=["chips.a.unit_price", "chips.b.min_units"])
    first, second = res.rows
    assert first.path == "chips.b.min_units"
    assert (first.low.status, first.high.status) == ("optimal", "infeasible")
    assert first.infeasible_end and first.high.effective_tops is None
    assert first.swing == pytest.approx(0, abs=1e-3)
    # a at 8 now shares the budget with the 50 units of b that must be bought: 500 x 6.25 + 500 x 6 = 6125
    assert second.swing == pytest.approx(6125 - (500 * 50 / 12 + 3000), rel=1e-6)


def test_values_equal_independent_resolves_on_the_baseline():
    params = ["chips.h20.unit_price", "vendors.huawei.delivery_rate", "sites.cn.domestic_min_share"]
    res = tornado(io.load(BASELINE), pct=10, params=params)
    base = make_plan(io.load(BASELINE)).totals["effective_tops"]
    assert res.base.effective_tops == pytest.approx(base, rel=1e-7)
    for r in res.rows:
        for value, end in ((r.low_value, r.low), (r.high_value, r.high)):
            plan = make_plan(io.load(BASELINE, sets=[f"{r.path}={value!r}"]))
            assert end.effective_tops == pytest.approx(plan.totals["effective_tops"], rel=1e-7), (r.path, value)
    hr = next(r for r in res.rows if r.path == "vendors.huawei.delivery_rate")
    assert (hr.low_value, hr.high_value) == pytest.approx((0.765, 0.935))


def test_whole_number_fields_are_rounded():
    res = tornado(io.load(SMALL, sets=["chips.a.lot_size=3"]), pct=20, params=["chips.a.lot_size"])
    (r,) = res.rows
    assert (r.low_value, r.high_value) == (3, 3)  # 2.4 -> 3 and 3.6 -> 3: no whole number within 20%
    assert "rounded to whole numbers" in r.note


def test_base_infeasible_raises_exit_3():
    with pytest.raises(InfeasibleError):
        tornado(io.load(SMALL, sets=["chips.b.min_units=100"]))


def test_base_unbounded_raises_exit_4():
    with pytest.raises(UnboundedError):
        tornado(io.load(str(FIXTURES / "whatif_unbounded.yaml")))


@pytest.mark.parametrize("pct", [0, -5, 100, 150, float("nan")])
def test_pct_out_of_range_is_bad_input(pct):
    with pytest.raises(InputError, match="--pct"):
        tornado(io.load(SMALL), pct=pct)


@pytest.mark.parametrize(
    "param, message",
    [
        ("chips.a.unit_prise", "nearest valid paths: chips.a.unit_price"),
        ("chips.a.model", "moves numbers"),
        ("budget.amount", "moves numbers"),  # no global budget in the file
    ],
)
def test_bad_params_fail_before_any_solve(monkeypatch, param, message):
    calls = []
    monkeypatch.setattr(engine.Resolver, "plan", lambda self, s: calls.append(s))
    with pytest.raises(InputError) as e:
        tornado(io.load(SMALL), params=[param])
    assert message in str(e.value)
    assert calls == []


def test_base_infeasible_error_carries_the_diagnosis():
    from optimizer.analysis.diagnose import diagnose

    with pytest.raises(InfeasibleError) as e:
        tornado(io.load(SMALL, sets=["chips.b.min_units=100"]))
    independent = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario)
    assert e.value.diagnosis.to_dict() == independent.to_dict()
    assert "--set chips.b.min_units=50" in str(e.value) and "nothing to swing" in str(e.value)


# --------------------------------------------------------------------------- executors


@pytest.fixture(scope="module")
def dask_ex(dask_cluster):
    from optimizer.analysis.executor import DaskExecutor

    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        yield ex


@pytest.mark.slow
@pytest.mark.parametrize("file, sets", [(SMALL, []), (BASELINE, []), (BASELINE, ["integer_units=false"])])
def test_dask_tornado_equals_the_serial_tornado(dask_ex, file, sets):
    from optimizer.report.whatif_out import tornado_doc

    serial = tornado(io.load(file, sets=sets), pct=20)
    dask = tornado(io.load(file, sets=sets), pct=20, executor=dask_ex)
    assert dask.rows == serial.rows and dask.base == serial.base
    assert tornado_doc(dask) == tornado_doc(serial)


def test_tornado_progress_counts_every_end_and_an_interrupt_stops_it():
    calls = []
    res = tornado(io.load(SMALL), pct=20, on_done=lambda n, t: calls.append((n, t)))
    total = 2 * len(res.rows)
    # the clipped high ends of the two delivery rates (at 1 already) are counted first, without a solve
    assert calls[0] == (2, total) and calls[-1] == (total, total)
    assert [n for n, _ in calls] == sorted(n for n, _ in calls)

    def stop(n, t):
        if n >= 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tornado(io.load(SMALL), pct=20, on_done=stop)


def test_an_end_another_field_makes_invalid_is_clipped_to_the_largest_valid_value_by_hand():
    # sim_single.yaml: vb delivers 0.9 +- 0.05. +20% is 1.08, clipped by the schema to 1, where a spread of 0.05
    # is impossible (a Beta distribution needs sd^2 < m (1 - m)): the largest valid rate is
    # (1 + sqrt(1 - 4 x 0.05^2)) / 2 = (1 + sqrt(0.99)) / 2 = 0.99749372, so 0.997493 at 6 digits. Plans (worked
    # in the fixture): at 0.72, b gives 9 x 0.72 = 6.48 TOPS per CNY < a's 8: 100 a, 8,000; at 0.997493, 60 b (its
    # cap) and 40 a: 60 x 90 x 0.997493 + 40 x 80 = 8,586.4622.
    sim = FIXTURES / "sim_single.yaml"
    res = tornado(io.load(sim), params=["vendors.vb.delivery_rate"])
    [row] = res.rows
    assert (row.low_value, row.high_value) == (0.72, 0.997493)
    assert row.low.effective_tops == pytest.approx(8000, rel=1e-9)
    assert row.high.effective_tops == pytest.approx(8586.4622, rel=1e-12)
    assert row.note == ("high clipped to 0.997493: 1 is not valid (vendors.vb.delivery_sd: at "
                        "vendors.vb.delivery_rate=1: 0.05 is too large for a delivery rate of 1, which cannot vary)")
    io.load(sim, sets=["vendors.vb.delivery_rate=0.997493"])
    with pytest.raises(InputError):
        io.load(sim, sets=["vendors.vb.delivery_rate=0.997494"])


def test_both_ends_are_clipped_towards_the_base_where_a_spread_leaves_little_room(tmp_path):
    # delivery 0.5 +- 0.49999: valid rates are 0.5 +- sqrt(1 - 4 x 0.49999^2) / 2 = 0.5 +- 0.00316226, so a 1% move
    # (0.495, 0.505) is clipped on both sides, to 6 digits towards the base: 0.496838 and 0.503162
    p = tmp_path / "tight.yaml"
    p.write_text((FIXTURES / "sim_single.yaml").read_text().replace(
        "delivery_rate: 0.9, delivery_sd: 0.05", "delivery_rate: 0.5, delivery_sd: 0.49999"))
    [row] = tornado(io.load(p), params=["vendors.vb.delivery_rate"], pct=1).rows
    assert (row.low_value, row.high_value) == (0.496838, 0.503162)
    assert row.note.startswith("low clipped to 0.496838: 0.495 is not valid (vendors.vb.delivery_sd: ")
    assert "; high clipped to 0.503162: 0.505 is not valid (vendors.vb.delivery_sd: " in row.note
