"""Infeasibility diagnosis: minimal conflicts and one-number fixes, worked out by hand.

Each fixture's comment derives its conflict and the exact thresholds; the
tests check the diagnosis against those numbers, that every printed
``--set`` pasted after the failing command gives an optimal plan, and that
going 0.2% (or one unit) less far does not.
"""
from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.analysis.diagnose import deletion_filter, diagnose, format_value, safe_round
from optimizer.cli import cli
from optimizer.plan import make_plan

SHIPPED = SCENARIOS / "domestic-90-infeasible.yaml"

# fixture, extra args, conflict (model order), {path: needed}, whole lots only?
CASES = [
    ("diagnose_budget_min.yaml", [], ["budget[cn]", "chip_min[a]"],
     {"sites.cn.budget.amount": 2000, "chips.a.min_units": 100}, False),
    ("diagnose_domestic.yaml", [], ["domestic_share[cn]", "capacity[dom]", "chip_min[b]"],
     {"sites.cn.domestic_min_share": 0.8571, "vendors.dom.capacity_units": 450, "chips.b.min_units": 33}, False),
    ("diagnose_vendor_share.yaml", [], ["domestic_share[cn]", "vendor_share[dom]", "chip_min[a]"],
     {"sites.cn.domestic_min_share": 0.5, "vendors.dom.max_share": 0.6, "chips.a.min_units": 0}, False),
    ("diagnose_chip_max.yaml", [], ["domestic_share[cn]", "chip_min[b]", "chip_max[a]"],
     {"sites.cn.domestic_min_share": 0.25, "chips.b.min_units": 10, "chips.a.max_units": 30}, False),
    ("diagnose_power.yaml", [], ["chip_min[a]", "power[cn]"],
     {"chips.a.min_units": 1000, "sites.cn.power_mw": 2}, False),
    ("diagnose_tpp.yaml", [], ["chip_min[c]", "tpp_cap[MY]"],
     {"chips.c.min_units": 10, "export_controls.tpp_caps.MY": 2000}, False),
    ("diagnose_lots.yaml", [], ["chip_min[a]", "chip_max[a]"],
     {"chips.a.min_units": 0, "chips.a.max_units": 100}, True),
    ("diagnose_fx_global.yaml", [], ["budget[global]", "chip_min[a]"],
     {"budget.amount": 142.9, "chips.a.min_units": 70}, False),
    ("diagnose_denied.yaml", [], ["chip_min[h]"], {"chips.h.min_units": 0}, False),
]


def _load(path, args):
    return io.load(path, sets=[args[i + 1] for i in range(0, len(args), 2) if args[i] == "--set"])


def _shipped_thresholds() -> dict:
    """The shipped scenario's thresholds from its numbers (continuous; CNY)."""
    cam_cap = 142_000 * 45_000  # Cambricon at full capacity, CNY
    h20 = 30_000 * 110_000  # the contracted H20, CNY
    # Huawei held to 70% of total T, domestic = 0.7 T + cam_cap, T = domestic + h20
    t = (cam_cap + h20) / 0.3
    return {
        "sites.cn.domestic_min_share": (0.7 * t + cam_cap) / t,  # 0.89783
        # floor 90%: H20 <= 10% of T, so T >= 33e9 and Cambricon must cover 0.9 T - 0.7 T
        "vendors.cambricon.capacity_units": 0.2 * (h20 / 0.1) / 45_000,  # 146,666.7
        "vendors.huawei.max_share": (0.9 * (h20 / 0.1) - cam_cap) / (h20 / 0.1),  # 0.70636
        # H20 = 10% of T where 0.2 T = cam_cap
        "chips.h20.min_units": 0.1 * (cam_cap / 0.2) / 110_000,  # 29,045.5
    }


@pytest.mark.parametrize("fixture, args, conflict, needed, integer_only", CASES, ids=[c[0] for c in CASES])
def test_conflict_and_fixes_match_hand_values(fixture, args, conflict, needed, integer_only):
    s = io.load(FIXTURES / fixture).scenario
    d = diagnose(s)
    assert d is not None
    assert d.conflict == conflict
    assert d.integer_only is integer_only
    assert {f.path: f.needed for f in d.fixes} == pytest.approx(needed, rel=1e-12)
    assert d.no_single_fix == []
    for f in d.fixes:
        assert f.set == f"--set {f.path}={format_value(f.needed)}"


def test_shipped_example_matches_its_numbers():
    s = io.load(SHIPPED).scenario
    d = diagnose(s)
    assert d.conflict == ["domestic_share[cn]", "capacity[cambricon]", "vendor_share[huawei]", "chip_min[h20]"]
    assert d.sentence == (
        "domestic_share[cn] >= 90% of spend cannot hold together with capacity[cambricon] <= 142,000 units, "
        "vendor_share[huawei] <= 70% of total spend and chip_min[h20] >= 30,000 units."
    )
    exact = _shipped_thresholds()
    got = {f.path: f for f in d.fixes}
    assert set(got) == set(exact)
    assert got["vendors.cambricon.capacity_units"].needed == 146_667  # first whole number above 146,666.7
    assert got["chips.h20.min_units"].needed == 29_045  # last whole number below 29,045.5
    lower_share = got["sites.cn.domestic_min_share"].needed
    assert exact["sites.cn.domestic_min_share"] * (1 - 1e-3) <= lower_share <= exact["sites.cn.domestic_min_share"]
    raise_share = got["vendors.huawei.max_share"].needed
    assert exact["vendors.huawei.max_share"] <= raise_share <= exact["vendors.huawei.max_share"] * (1 + 1e-3)
    assert (lower_share, raise_share) == (0.8978, 0.7064)


def test_a_second_conflict_means_some_numbers_cannot_fix_it_alone():
    # 95% floor and 20,000 H20: Cambricon/Huawei cannot cover 95% (T <= 25.56e9), and the budget
    # (T <= 40e9) cannot reach the 44e9 that 2.2e9 of H20 at 5% would need. Only the floor and
    # the H20 minimum appear in both conflicts.
    s = io.load(SCENARIOS / "bytedance-2025.yaml",
                sets=["sites.cn.domestic_min_share=0.95", "chips.h20.min_units=20000"]).scenario
    d = diagnose(s)
    assert d.conflict == ["domestic_share[cn]", "capacity[cambricon]", "vendor_share[huawei]", "chip_min[h20]"]
    assert d.no_single_fix == ["capacity[cambricon]", "vendor_share[huawei]"]
    got = {f.path: f.needed for f in d.fixes}
    # floor: T = (6.39e9 + 2.2e9) / 0.3 with Huawei at 70%: share = 1 - 2.2e9 / T = 0.923166
    assert got["sites.cn.domestic_min_share"] == 0.9231
    # H20 at 5% of T where 0.25 T = 6.39e9: 1.278e9 / 110,000 = 11,618.2
    assert got["chips.h20.min_units"] == 11_618
    assert "changing one of these alone is not enough" in d.render()


def test_feasible_scenario_has_no_diagnosis():
    assert diagnose(io.load(SCENARIOS / "bytedance-2025.yaml").scenario) is None


def test_denied_chip_minimum_is_explained():
    d = diagnose(io.load(FIXTURES / "diagnose_denied.yaml").scenario)
    assert d.rules["chip_min[h]"] == "chip_min[h] >= 5 units (h cannot be bought at any site: export controls deny it at cn)"
    assert d.sentence.endswith("cannot hold on its own.")


def test_whole_lot_conflict_says_so():
    d = diagnose(io.load(FIXTURES / "diagnose_lots.yaml").scenario)
    assert "when units are bought in whole lots" in d.sentence
    assert d.notes == ["chips are bought in whole lots: a in lots of 100"]


def test_cbc_and_highs_give_the_same_diagnosis():
    s = io.load(SHIPPED).scenario
    a, b = diagnose(s, solver="highs"), diagnose(s, solver="cbc")
    assert a.conflict == b.conflict
    assert [(f.path, f.needed) for f in a.fixes] == [(f.path, f.needed) for f in b.fixes]


# ------------------------------------------------------------------ pasting the fixes


def _cli(args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


ALL = [(FIXTURES / c[0], c[1]) for c in CASES] + [(SHIPPED, [])]


@pytest.mark.parametrize("path, args", ALL, ids=[p.name for p, _ in ALL])
def test_each_printed_fix_pasted_after_the_command_gives_an_optimal_plan(path, args):
    r = _cli(["solve", path, *args, "--json", "--no-report"])
    assert r.exit_code == 3
    doc = json.loads(r.stdout)
    assert doc["status"] == "infeasible"
    fixes = doc["diagnosis"]["fixes"]
    assert fixes
    for f in fixes:
        assert {"constraint", "path", "current", "needed", "set"} <= set(f)
        assert f["set"] in r.stderr  # the same line is printed for the planner
        ok = _cli(["solve", path, *args, *shlex.split(f["set"]), "--json", "--no-report"])
        assert ok.exit_code == 0, (f["set"], ok.stderr)
        assert json.loads(ok.stdout)["status"] == "optimal"


@pytest.mark.parametrize("path, args", ALL, ids=[p.name for p, _ in ALL])
def test_stopping_short_of_each_fix_is_still_infeasible(path, args):
    loaded = _load(path, args)
    d = diagnose(loaded.scenario)
    for f in d.fixes:
        whole = f.path.endswith("_units")
        toward = 1 if f.direction == "raise" else -1  # moving back toward the current value
        if whole:
            short = f.needed - toward
        else:
            short = f.needed * (1 - toward * 2e-3) if f.needed else None
        if short is None or (f.direction == "lower" and short > f.current) or short < 0:
            continue
        s2 = io.load(path, sets=[f"{f.path}={format_value(short)}"]).scenario
        assert make_plan(s2, raise_on_status=False).status == "infeasible", (f.path, short)


# ------------------------------------------------------------------ building blocks


def test_deletion_filter_returns_an_irreducible_subset():
    # infeasible iff {1, 3} or {2, 4, 5} are all present: the filter drops 0, 1 and 3 in turn
    def infeasible(rows):
        r = set(rows)
        return {1, 3} <= r or {2, 4, 5} <= r

    got = deletion_filter(range(6), infeasible)
    assert got == [2, 4, 5]
    assert infeasible(got)
    assert all(not infeasible([x for x in got if x != i]) for i in got)


@pytest.mark.parametrize(
    "x, direction, whole, want",
    [
        (0.897833, "lower", False, 0.8978),
        (0.706364, "raise", False, 0.7064),
        (146_666.7, "raise", True, 146_700),
        (29_045.5, "lower", True, 29_040),
        (142.857, "raise", False, 142.9),
        (3.2, "raise", True, 4),
        (0.0, "raise", False, 0.0),
    ],
)
def test_safe_round_moves_away_from_the_threshold_by_at_most_0_1_percent(x, direction, whole, want):
    got = safe_round(x, direction, whole)
    assert got == want
    assert (got >= x) if direction == "raise" else (got <= x)
    assert abs(got - x) <= max(1e-3 * abs(x), 1.0 if whole else 0.0)


@pytest.mark.parametrize("x, text", [(146667.0, "146667"), (0.8978, "0.8978"), (40e9, "40000000000"), (0, "0"), (142.9, "142.9")])
def test_values_are_written_the_way_set_reads_them(x, text):
    assert format_value(x) == text
    assert io.parse_value(text) == pytest.approx(x)
