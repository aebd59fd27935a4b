"""Sweeps: hand-worked values, every point equals an independent solve, monotonicity, bad input first."""
from __future__ import annotations

import pytest
from conftest import FIXTURES, SCENARIOS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import io
from optimizer.analysis import engine
from optimizer.analysis.diagnose import diagnose
from optimizer.analysis.sweep import prepare, sweep
from optimizer.errors import InputError
from optimizer.plan import make_plan

SMALL = str(FIXTURES / "whatif_small.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")
REL = 1e-6  # the tie-break may give up 1e-7 of the objective to save money


def _close(a, b, rel=REL):
    return a == pytest.approx(b, rel=rel, abs=1e-6)


def test_budget_sweep_matches_hand_values():
    # TOPS = 5.5 B while the budget binds (B <= 2000), then a's capacity caps both chips: 11000.
    res = sweep(io.load(SMALL), ["sites.cn.budget.amount=500:3000:6"])
    budgets = [p.values["sites.cn.budget.amount"] for p in res.points]
    assert budgets == [500, 1000, 1500, 2000, 2500, 3000]
    for b, p in zip(budgets, res.points):
        o = p.outcome
        assert o.status == "optimal"
        assert _close(o.effective_tops, 5.5 * min(b, 2000))
        assert _close(o.spend, min(b, 2000))
        assert _close(o.units["cn/a"], min(b, 2000) / 20) and _close(o.units["cn/b"], min(b, 2000) / 20)
        assert o.domestic_share["cn"] == pytest.approx(0.5)
        assert "domestic_share[cn]" in o.binding
        assert ("budget[cn]" in o.binding) == (b <= 2000)
        assert ("capacity[dom]" in o.binding) == (b >= 2000)


def test_grid_is_the_full_product_first_vary_outer():
    # with a's capacity slack, TOPS = 5 f B + 6 (1 - f) B = (6 - f) B
    res = sweep(io.load(SMALL), ["sites.cn.domestic_min_share=0.4,0.6", "sites.cn.budget.amount=500:1500:3"])
    got = [(p.values["sites.cn.domestic_min_share"], p.values["sites.cn.budget.amount"]) for p in res.points]
    assert got == [(0.4, 500), (0.4, 1000), (0.4, 1500), (0.6, 500), (0.6, 1000), (0.6, 1500)]
    for (f, b), p in zip(got, res.points):
        assert _close(p.outcome.effective_tops, (6 - f) * b)


def test_infeasible_point_is_a_row_not_an_error():
    # b must be bought: 100 units of b cost 1000, the floor then needs 1000 of a: 2000 > budget 1000
    res = sweep(io.load(SMALL), ["chips.b.min_units=0,50,100"])
    assert [p.outcome.status for p in res.points] == ["optimal", "optimal", "infeasible"]
    bad = res.points[2].outcome
    assert bad.effective_tops is None and bad.spend is None and bad.units == {} and bad.binding == []
    assert _close(res.points[1].outcome.effective_tops, 5500)


def test_one_point_sweep_equals_solve_on_the_baseline():
    loaded = io.load(BASELINE)
    res = sweep(loaded, ["sites.cn.budget.amount=40e9"])
    plan = make_plan(io.load(BASELINE))
    (p,) = res.points
    assert _close(p.outcome.effective_tops, plan.totals["effective_tops"])
    assert _close(p.outcome.spend, plan.totals["spend"])
    assert {k: u for k, u in p.outcome.units.items() if u} == {f"{a.site}/{a.chip}": a.units for a in plan.allocation}
    assert p.outcome.binding == plan.binding


@pytest.mark.parametrize(
    "file, variants, vary",
    [
        # not b at 12: then a and b both give 5 TOPS per CNY and every split that meets the floor ties on TOPS and
        # spend, so a solve may return any of them (README, the Resolver); units are compared below
        (SMALL, [], "chips.b.unit_price=8,10,11,14"),
        (SMALL, ["rich"], "vendors.dom.capacity_units=50:150:3"),
        (BASELINE, [], "chips.h20.unit_price=-20%,+20%"),
        (BASELINE, ["h20_licence_denied"], "sites.cn.budget.amount=35e9,45e9"),
    ],
)
def test_every_point_equals_an_independent_solve_with_set(file, variants, vary):
    res = sweep(io.load(file, variants=variants), [vary])
    path = vary.split("=")[0]
    for p in res.points:
        value = p.values[path]
        plan = make_plan(io.load(file, variants=variants, sets=[f"{path}={value!r}"]))
        o = p.outcome
        assert o.status == plan.status
        assert _close(o.effective_tops, plan.totals["effective_tops"]), (value, o.effective_tops, plan.totals)
        assert _close(o.spend, plan.totals["spend"])
        assert {k: u for k, u in o.units.items() if u} == pytest.approx(
            {f"{a.site}/{a.chip}": a.units for a in plan.allocation}, rel=REL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price_a=st.integers(5, 20), price_b=st.integers(5, 20), tops_b=st.integers(20, 120),
    floor=st.sampled_from([0.0, 0.3, 0.5, 0.8]), capacity=st.integers(0, 300), integer=st.booleans(),
    budgets=st.lists(st.integers(1, 5000), min_size=2, max_size=5, unique=True),
)
def test_effective_tops_never_falls_when_the_budget_rises(price_a, price_b, tops_b, floor, capacity, integer, budgets):
    sets = [f"chips.a.unit_price={price_a}", f"chips.b.unit_price={price_b}", f"chips.b.int8_tops={tops_b}",
            f"sites.cn.domestic_min_share={floor}", f"vendors.dom.capacity_units={capacity}",
            f"integer_units={str(integer).lower()}"]
    budgets = sorted(budgets)
    res = sweep(io.load(SMALL, sets=sets), ["sites.cn.budget.amount=" + ",".join(map(str, budgets))])
    tops = [p.outcome.effective_tops for p in res.points]
    assert all(p.outcome.status == "optimal" for p in res.points)  # buying nothing is always feasible here
    for lo, hi in zip(tops, tops[1:]):
        assert hi >= lo - 1e-6 * max(1.0, abs(lo))


def test_baseline_dense_budget_sweep_is_monotonic():
    res = sweep(io.load(BASELINE), ["sites.cn.budget.amount=30e9:50e9:6"])
    tops = [p.outcome.effective_tops for p in res.points]
    assert all(b >= a * (1 - 1e-7) for a, b in zip(tops, tops[1:])), tops
    assert tops[-1] > tops[0]


def test_invalid_point_fails_before_any_solve(monkeypatch):
    calls = []
    monkeypatch.setattr(engine.Resolver, "plan", lambda self, s: calls.append(s))
    with pytest.raises(InputError) as e:
        sweep(io.load(SMALL), ["sites.cn.domestic_min_share=0.8:1.2:3"])
    assert "at sites.cn.domestic_min_share=1.2" in str(e.value)
    assert calls == []


@pytest.mark.parametrize(
    "varies, message",
    [
        ([], "at least one --vary"),
        (["chips.a.unit_price=1,2"] * 2, "given twice"),
        (["chips.a.unit_price=1,2", "chips.b.unit_price=1,2", "sites.cn.budget.amount=1,2"], "at most two --vary"),
        (["chips.a.unit_price=1:1000:1000", "chips.b.unit_price=1:100:100"], "at most 5,000"),
        (["chips.z.unit_price=1,2"], "unknown path 'chips.z.unit_price'"),
        (["chips.a.model=-10%,+10%"], "needs a number at chips.a.model"),
    ],
)
def test_bad_sweeps_are_input_errors(varies, message):
    with pytest.raises(InputError) as e:
        prepare(io.load(SMALL), varies)
    assert message in str(e.value)
    assert e.value.exit_code == 2


# --------------------------------------------------------------------------- diagnosis of infeasible points


def test_infeasible_point_carries_the_diagnosis_of_the_same_scenario_built_with_set():
    # b.min_units=100: b costs 1000, the 50% floor then needs 1000 of a: 2000 > budget 1000 (a's cap of 100 units
    # = 1000 is not involved). Hand fixes: budget 2000; floor 0 (all 1000 goes on b); b.min_units 50 (20 m <= 1000).
    res = sweep(io.load(SMALL), ["chips.b.min_units=0,100"])
    ok, bad = res.points
    assert ok.diagnosis is None
    d = bad.diagnosis
    assert d is not None
    assert d.conflict == ["budget[cn]", "domestic_share[cn]", "chip_min[b]"]
    assert {f.path: f.needed for f in d.fixes} == {
        "sites.cn.budget.amount": 2000, "sites.cn.domestic_min_share": 0, "chips.b.min_units": 50,
    }
    independent = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario)
    assert d.to_dict() == independent.to_dict()


def test_grid_points_each_get_their_own_diagnosis():
    # floor f, b.min_units m (CNY 10 each, budget 1000): feasible iff 10 m <= (1 - f) x 1000, i.e. m <= 100 (1 - f)
    res = sweep(io.load(SMALL), ["sites.cn.domestic_min_share=0.5,0.8", "chips.b.min_units=10,30,60"])
    got = {(p.values["sites.cn.domestic_min_share"], p.values["chips.b.min_units"]): p for p in res.points}
    for (f, m), p in got.items():
        assert (p.outcome.status == "infeasible") == (m > 100 * (1 - f) + 1e-9), (f, m)
        assert (p.diagnosis is not None) == (p.outcome.status == "infeasible")
    # (0.8, 30): lower the floor to 1 - 300/1000 = 0.7, or b.min_units to 20; (0.5, 60): 0.4 or 50
    for (f, m), floor, units in (((0.8, 30), 0.7, 20), ((0.5, 60), 0.4, 50), ((0.8, 60), 0.4, 20)):
        fixes = {x.path: x.needed for x in got[(f, m)].diagnosis.fixes}
        assert fixes["sites.cn.domestic_min_share"] == pytest.approx(floor, abs=1e-3 * floor)
        assert fixes["sites.cn.domestic_min_share"] <= floor  # rounded on the safe side
        assert fixes["chips.b.min_units"] == units


def test_diagnoser_computes_once_per_distinct_scenario(monkeypatch):
    import optimizer.analysis.sweep as sweep_mod

    calls = []
    real = sweep_mod.diagnose
    monkeypatch.setattr(sweep_mod, "diagnose", lambda s, **kw: calls.append(s.name) or real(s, **kw))
    dg = sweep_mod.Diagnoser("highs")
    a = dg(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario)
    b = dg(io.load(SMALL, sets=["chips.b.min_units=100.0"]).scenario)  # loaded again: the same scenario
    c = dg(io.load(SMALL, sets=["chips.b.min_units=90"]).scenario)
    assert a is b and a is not c and len(calls) == 2 == dg.computed
    assert c.conflict == a.conflict and {f.path: f.needed for f in c.fixes}["sites.cn.budget.amount"] == 1800


# --------------------------------------------------------------------------- executors: same answers, interruption


@pytest.fixture(scope="module")
def dask_ex(dask_cluster):
    from optimizer.analysis.executor import DaskExecutor

    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        yield ex


SAME_ANSWER_SWEEPS = [
    # 1-D with infeasible points (diagnosed on the workers), an LP
    (SMALL, [], ["chips.b.min_units=0:120:7"]),
    # 2-D grid: floor x b.min_units, infeasible where m > 100 (1 - f): 5 of the 12 points
    (SMALL, [], ["sites.cn.domestic_min_share=0.3:0.9:4", "chips.b.min_units=10,40,70"]),
    # whole lots, the shipped scenario
    (BASELINE, [], ["sites.cn.budget.amount=20e9:60e9:24"]),
    # the LP version, 70 points in chunks of 2: warm starts would change the last bits, a fresh Resolver does not
    (BASELINE, ["integer_units=false"], ["chips.h20.unit_price=-30%:+30%:70"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("file, sets, varies", SAME_ANSWER_SWEEPS)
def test_dask_sweep_equals_the_serial_sweep_point_for_point(dask_ex, file, sets, varies):
    from optimizer.analysis.sweep import run

    loaded = io.load(file, sets=sets)
    vs, pts = prepare(loaded, varies)
    serial = run(loaded, vs, pts)
    dask = run(loaded, vs, pts, executor=dask_ex)
    assert not serial.partial and not dask.partial
    assert len(dask.points) == len(pts)
    # dataclass equality: values, every float of every Outcome and every Diagnosis, exactly
    assert dask.points == serial.points
    if file == SMALL:
        assert any(p.diagnosis is not None for p in serial.points)


def test_a_point_does_not_depend_on_how_the_sweep_is_cut_into_chunks():
    from optimizer.analysis.sweep import fresh_plan, outcome, run

    loaded = io.load(BASELINE, sets=["integer_units=false"])
    vs, pts = prepare(loaded, ["chips.h20.unit_price=-30%:+30%:12"])
    runs = [run(loaded, vs, pts, chunk_size=k).points for k in (1, 5, 12)]
    assert runs[0] == runs[1] == runs[2]
    # and each point is what a fresh solve of that point alone gives
    assert [p.outcome for p in runs[0]] == [outcome(fresh_plan(pt.scenario, "highs")) for pt in pts]


class _StopAfter:
    def __init__(self, k: int):
        self.k = k
        self.seen: list[int] = []

    def __call__(self, n: int, total: int) -> None:
        self.seen.append(n)
        if n >= self.k:
            raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["serial", "dask"])
def test_an_interrupted_sweep_keeps_the_points_that_finished(dask_ex, where):
    from optimizer.analysis.sweep import fresh_plan, outcome, run

    # serial: 70 LP points, stopped after the fifth; on Dask: 200 whole-lot points (34 chunks of 6, about 25 ms a
    # point), stopped after the first chunk comes back, while most chunks are still queued
    file, vary, k = (SMALL, "sites.cn.budget.amount=100:7000:70", 5) if where == "serial" else \
        (BASELINE, "sites.cn.budget.amount=20e9:60e9:200", 1)
    loaded = io.load(file)
    vs, pts = prepare(loaded, [vary])
    got = run(loaded, vs, pts, executor=dask_ex if where == "dask" else None, on_done=_StopAfter(k))
    n = len(pts)
    assert got.partial and got.points_total == n and got.n_total == n
    assert k <= len(got.points) < n
    if where == "serial":
        assert len(got.points) == k
    index = {tuple(pt.values.items()): i for i, pt in enumerate(pts)}
    order = [index[tuple(p.values.items())] for p in got.points]
    assert order == sorted(order)  # in sweep order
    for i, p in zip(order, got.points):  # each kept point is that point's answer
        assert p.outcome == outcome(fresh_plan(pts[i].scenario, "highs")) and p.diagnosis is None


def test_a_point_whose_outcomes_break_is_bad_input_before_any_solve():
    # the risk scenario's outcomes change Huawei's capacity per quarter; a single number at the path removes the
    # quarters the outcomes name, so every point's outcomes are invalid: refused while preparing, naming the point
    loaded = io.load(SCENARIOS / "bytedance-2025-risk.yaml")
    with pytest.raises(InputError) as e:
        prepare(loaded, ["vendors.huawei.capacity_units=0:400000:5"])
    text = str(e.value)
    assert "at vendors.huawei.capacity_units=0: unknown path" in text and "bytedance-2025-risk.yaml" in text
    assert "uncertainty.outcomes.denied_ample_huawei.changes.vendors.huawei.capacity_units.2025q1" in text
