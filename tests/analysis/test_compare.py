"""Compare: targets, differences equal the differences of independent solves, infeasible columns."""
from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.analysis.compare import compare, load_targets, parse_target
from optimizer.errors import InputError
from optimizer.plan import make_plan
from optimizer.report.whatif_out import compare_doc

SMALL = str(FIXTURES / "whatif_small.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("a.yaml", ("a.yaml", [])),
        ("a.yaml@v1", ("a.yaml", ["v1"])),
        ("a.yaml@v1+v_2", ("a.yaml", ["v1", "v_2"])),
        ("dir@x/a.yaml@v", ("dir@x/a.yaml", ["v"])),  # the last '@' separates
    ],
)
def test_parse_target(arg, expected):
    assert parse_target(arg) == expected


@pytest.mark.parametrize(
    "arg, message",
    [
        ("@v1", "no file before '@'"),
        ("a.yaml@", "empty variant name"),
        ("a.yaml@v1+", "empty variant name"),
        ("a.yaml@+v1", "empty variant name"),
    ],
)
def test_parse_target_rejects(arg, message):
    with pytest.raises(InputError, match=message):
        parse_target(arg)


def test_a_file_whose_name_has_an_at_sign_is_a_file(tmp_path):
    p = tmp_path / "plan@2025.yaml"
    shutil.copy(SMALL, p)
    assert parse_target(str(p)) == (str(p), [])


@pytest.mark.parametrize("name", ["nope", "Rich"])
def test_unknown_variant_lists_the_known_ones(name):
    with pytest.raises(InputError) as e:
        load_targets([SMALL, SMALL + "@" + name])
    assert f"unknown variant {name!r}" in str(e.value)
    assert "all_domestic, cheap_b, rich" in str(e.value)


def test_labels_are_unique_and_short_for_one_file():
    ts = load_targets([SMALL, SMALL, SMALL + "@rich+cheap_b"])
    assert [t.label for t in ts] == ["whatif_small", "whatif_small #2", "@rich+cheap_b"]
    assert [a["variant"] for a in ts[2].loaded.applied] == ["rich", "cheap_b"]


def test_labels_name_the_file_when_files_differ(tmp_path):
    other = tmp_path / "other.yaml"
    shutil.copy(SMALL, other)
    ts = load_targets([SMALL + "@rich", str(other) + "@rich"])
    assert [t.label for t in ts] == ["whatif_small@rich", "other@rich"]


def test_global_variant_then_target_variants_then_sets():
    (t,) = load_targets([SMALL + "@cheap_b"], variants=["rich"], sets=["chips.b.unit_price=9"])
    assert [a.get("variant", a.get("set")) for a in t.loaded.applied] == ["rich", "cheap_b", "chips.b.unit_price"]
    assert t.loaded.scenario.chips["b"].unit_price == 9


def test_small_compare_by_hand():
    # base 5500; rich: budget 3000 -> capacity-bound 11000 (spend 2000); cheap_b: 500 x 5 + 500 x 7.5 = 6250
    res = compare(load_targets([SMALL, SMALL + "@rich", SMALL + "@cheap_b"]))
    rows = {r.key: r for r in res.rows()}
    assert rows["effective_tops"].values == pytest.approx([5500, 11000, 6250], rel=1e-6)
    assert rows["effective_tops"].diffs[1:] == pytest.approx([5500, 750], rel=1e-6)
    assert rows["spend"].values == pytest.approx([1000, 2000, 1000], rel=1e-6)
    assert rows["cn/b"].values == pytest.approx([50, 100, 62.5], rel=1e-6)
    assert rows["us"].values == pytest.approx([500, 1000, 500], rel=1e-6)  # spend with vendor us
    assert rows["budget[cn]"].values == [True, False, True]
    assert rows["budget[cn]"].diffs == [None, True, False]
    assert rows["status"].values == ["optimal"] * 3


def test_units_and_vendor_spend_over_outcomes_are_expectations_by_hand():
    # risk_stranding.yaml (worked in its header). Hedged plan (0.4 licensed / 0.6 denied): no h; each outcome buys
    # 1000/9 units of d in q2, so the expected d units are 1000/9 (summed over outcomes they would be 2000/9) and
    # the expected spend with dom is 1000. likely_licensed (0.6 / 0.4): 100 h shared in q1 (CNY 1000, once);
    # licensed then has no budget left; denied strands the h and buys d with CNY 250: 250/9 units, weight 0.4.
    risk = str(FIXTURES / "risk_stranding.yaml")
    res = compare(load_targets([risk, risk + "@likely_licensed"]))
    rows = {r.key: r for r in res.rows()}
    assert rows["cn/d"].values == pytest.approx([1000 / 9, 0.4 * 250 / 9], rel=1e-9)
    assert rows["cn/h"].values == pytest.approx([0, 100], abs=1e-9)
    assert rows["dom"].values == pytest.approx([1000, 0.4 * 250], rel=1e-9)
    assert rows["us"].values == pytest.approx([0, 1000], abs=1e-6)
    # the per-chip rows add up to the total the headline shows
    for k, col in enumerate(res.columns):
        assert sum(v for key, v in col.outcome.units.items()) == pytest.approx(col.outcome.total_units, rel=1e-12)


def test_differences_equal_those_of_independent_solves():
    res = compare(load_targets([BASELINE, BASELINE + "@budget_cut_20", BASELINE + "@h20_licence_denied"]))
    doc = compare_doc(res)
    plans = [make_plan(io.load(BASELINE)), make_plan(io.load(BASELINE, variants=["budget_cut_20"])),
             make_plan(io.load(BASELINE, variants=["h20_licence_denied"]))]
    base_units = {f"{a.site}/{a.chip}": a.units for a in plans[0].allocation}
    for sc, plan in zip(doc["scenarios"][1:], plans[1:]):
        d = sc["diff"]
        assert d["effective_tops"] == pytest.approx(plan.totals["effective_tops"] - plans[0].totals["effective_tops"], rel=1e-6)
        assert d["spend"] == pytest.approx(plan.totals["spend"] - plans[0].totals["spend"], rel=1e-6)
        units = {f"{a.site}/{a.chip}": a.units for a in plan.allocation}
        for k in set(units) | set(base_units):
            assert d["units"][k] == pytest.approx(units.get(k, 0) - base_units.get(k, 0), abs=1e-6), k
        for v, x in plan.spend_by_vendor().items():
            assert d["spend_by_vendor"][v] == pytest.approx(x - plans[0].spend_by_vendor()[v], rel=1e-6, abs=1e-3)
    assert doc["scenarios"][0]["diff"] is None
    # the H20 licence refusal removes every H20
    assert doc["scenarios"][2]["units"]["cn/h20"] == 0


def test_infeasible_target_is_a_column():
    res = compare(load_targets([SMALL], sets=[]) + load_targets([SMALL], sets=["chips.b.min_units=100"]))
    assert [c.outcome.status for c in res.columns] == ["optimal", "infeasible"]
    rows = {r.key: r for r in res.rows()}
    assert rows["effective_tops"].values[1] is None and rows["effective_tops"].diffs[1] is None
    assert rows["status"].diffs[1] == "changed"
    assert compare_doc(res)["scenarios"][1]["diff"] is None


def test_different_currencies_are_refused(tmp_path):
    p = tmp_path / "usd.yaml"
    p.write_text(open(SMALL).read().replace("currency: CNY", "currency: USD"))
    with pytest.raises(InputError, match="different currencies"):
        compare(load_targets([SMALL, str(p)]))


def test_infeasible_column_carries_the_diagnosis_of_the_same_scenario():
    from optimizer.analysis.diagnose import diagnose
    from optimizer.analysis.sweep import Diagnoser

    dg = Diagnoser("highs")
    targets = load_targets([SMALL, SMALL + "@rich"], sets=["chips.b.min_units=100"])
    targets += load_targets([SMALL], sets=["chips.b.min_units=100"])  # the first target again: diagnosed once
    res = compare(targets, diagnoser=dg)
    assert [c.outcome.status for c in res.columns] == ["infeasible", "optimal", "infeasible"]
    assert res.columns[1].diagnosis is None and dg.computed == 1
    independent = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario)
    assert res.columns[0].diagnosis.to_dict() == independent.to_dict()
    assert res.columns[2].diagnosis is res.columns[0].diagnosis
    rows = {r.key: r for r in res.rows()}
    assert rows["conflict"].values == ["budget[cn], domestic_share[cn], chip_min[b]", None,
                                       "budget[cn], domestic_share[cn], chip_min[b]"]
    assert rows["diagnosis"].values[0] == independent.sentence and rows["diagnosis"].diffs == [None] * 3
    assert rows["fixes"].values[0] == ("--set sites.cn.budget.amount=2000; --set sites.cn.domestic_min_share=0; "
                                       "--set chips.b.min_units=50")
    doc = compare_doc(res)["scenarios"]
    assert doc[0]["diagnosis"] == independent.to_dict() and doc[1]["diagnosis"] is None


def test_no_diagnosis_rows_when_every_column_is_optimal():
    res = compare(load_targets([SMALL, SMALL + "@rich"]))
    assert {"conflict", "diagnosis", "fixes"}.isdisjoint(r.key for r in res.rows())
    assert all(c.diagnosis is None for c in res.columns)


# --------------------------------------------------------------------------- executors


@pytest.fixture(scope="module")
def dask_ex(dask_cluster):
    from optimizer.analysis.executor import DaskExecutor

    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        yield ex


@pytest.mark.slow
def test_dask_compare_equals_the_serial_compare(dask_ex):
    # an infeasible column (diagnosed on a worker), a tie-free LP and the shipped whole-lot scenario with variants
    targets = load_targets([SMALL, SMALL + "@rich", BASELINE, BASELINE + "@h20_licence_denied",
                            BASELINE + "@budget_cut_20"], sets=[])
    bad = load_targets([SMALL], sets=["chips.b.min_units=100"])
    targets += [t for t in bad]
    serial = compare(targets[:2] + targets[-1:])
    dask = compare(targets[:2] + targets[-1:], executor=dask_ex)
    assert [c.outcome for c in dask.columns] == [c.outcome for c in serial.columns]
    assert [c.diagnosis for c in dask.columns] == [c.diagnosis for c in serial.columns]
    assert dask.columns[-1].diagnosis is not None
    assert compare_doc(dask) == compare_doc(serial)
    base_cols = targets[2:5]
    assert compare_doc(compare(base_cols, executor=dask_ex)) == compare_doc(compare(base_cols))


def test_an_interrupted_compare_is_a_keyboard_interrupt():
    def stop(n, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare(load_targets([SMALL, SMALL + "@rich"]), on_done=stop)
