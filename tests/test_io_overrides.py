"""--set and --variant (optimizer/io.py) behave as issue 3 says: paths, nearest matches, order, revalidation, records."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.cli import cli
from optimizer.errors import InputError
from optimizer.plan import make_plan

SMALL = str(FIXTURES / "whatif_small.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("95000", 95000),
        ("40e9", 40e9),  # YAML 1.1 would read this as a string
        ("3.0e9", 3.0e9),
        ("40_000_000_000", 40_000_000_000),
        ("0.5", 0.5),
        ("true", True),
        ("spend", "spend"),
        ("[US, CN]", ["US", "CN"]),
        ("{chip: h20, country: CN, status: deny}", {"chip": "h20", "country": "CN", "status": "deny"}),
        ("a: b", "a: b"),  # a mapping only when written in braces
        ("", ""),
    ],
)
def test_parse_value(raw, expected):
    got = io.parse_value(raw)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("item, message", [("chips.a.unit_price", "expected PATH=VALUE"), ("=5", "path before '=' is empty")])
def test_bad_assignment(item, message):
    with pytest.raises(InputError, match=message):
        io.parse_assignment(item)


# --------------------------------------------------------------------------- paths


def test_set_path_returns_a_changed_copy():
    data = io.read_source(SMALL).data
    new = io.set_path(data, "chips.a.unit_price", 12)
    assert new["chips"]["a"]["unit_price"] == 12 and data["chips"]["a"]["unit_price"] == 10
    assert io.validate_data(new).chips["a"].unit_price == 12


@pytest.mark.parametrize(
    "path, value, check",
    [
        # a schema field the file leaves out, on an entity the file has
        ("chips.a.max_units", 5, lambda s: s.chips["a"].max_units == 5),
        ("vendors.us.delivery_rate", 0.5, lambda s: s.vendors["us"].delivery_rate == 0.5),
        # a whole optional block the file leaves out
        ("budget.amount", 600, lambda s: s.budget.amount == 600),
        ("sites.cn.domestic_basis", "units", lambda s: s.sites["cn"].domestic_basis == "units"),
        # a new key in a mapping the file leaves out (a site price override, a new exchange rate)
        ("sites.cn.prices.b", 8, lambda s: s.price("cn", "b") == 8),
        ("fx.USD", 7.1, lambda s: s.fx == {"USD": 7.1}),
    ],
)
def test_set_reaches_schema_fields_absent_from_the_file(path, value, check):
    assert check(io.load(SMALL, sets=[f"{path}={value}"]).scenario)


@pytest.mark.parametrize(
    "path, nearest",
    [
        ("chips.a.unit_prise", "chips.a.unit_price"),
        ("chips.c.unit_price", "chips.a.unit_price"),
        ("sites.cn.budget.amout", "sites.cn.budget.amount"),
        ("vendors.dom.capacity", "vendors.dom.capacity_units"),
        ("chips.a.unit_price.x", "chips.a.unit_price"),
        ("sites.cn.prices.b.x", "sites.cn.prices"),  # new keys only as the last part
    ],
)
def test_unknown_path_names_the_nearest_valid_paths(path, nearest):
    with pytest.raises(InputError) as e:
        io.load(SMALL, sets=[f"{path}=1"])
    msg = str(e.value)
    assert e.value.exit_code == 2
    assert f"unknown path {path!r}" in msg and "nearest valid paths:" in msg and nearest in msg


def test_unknown_path_through_the_cli_exits_2():
    res = run("solve", BASELINE, "--set", "chips.h20.unit_prise=95000", "--no-report")
    assert res.exit_code == 2
    assert "unknown path 'chips.h20.unit_prise'" in res.stderr and "chips.h20.unit_price" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "item, message",
    [
        ("sites.cn.domestic_min_share=1.5", "less than or equal to 1"),
        ("chips.a.unit_price=-3", "greater than 0"),
        ("chips.a.vendor=nobody", "unknown vendor 'nobody'"),
        ("chips.a.min_units=500", None),  # valid alone: min 500 > capacity is an infeasible plan, not bad input
        ("chips.a.max_units=0.5", None),
        ("chips.a=1", "expected a mapping"),
        ("sites.cn.prices.c=5", "price for unknown chip 'c'"),  # a new key is checked by validation
    ],
)
def test_the_result_is_validated_again_as_a_whole(item, message):
    if message is None:
        io.load(SMALL, sets=[item])
        return
    with pytest.raises(InputError, match=message):
        io.load(SMALL, sets=[item])


def test_set_values_change_the_plan_as_worked_by_hand():
    # a global budget of 600 under the site budget of 1000: 5.5 x 600
    plan = make_plan(io.load(SMALL, sets=["budget.amount=600"]))
    assert plan.totals["effective_tops"] == pytest.approx(3300, rel=1e-6)
    plan = make_plan(io.load(SMALL, sets=["sites.cn.budget.amount=4e2"]))
    assert plan.totals["effective_tops"] == pytest.approx(2200, rel=1e-6)


# --------------------------------------------------------------------------- variants


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(InputError) as e:
        io.load(SMALL, variants=["richer"])
    assert e.value.exit_code == 2
    assert "unknown variant 'richer'" in str(e.value) and "known variants: all_domestic, cheap_b, rich" in str(e.value)


def test_unknown_variant_in_a_file_without_variants(tmp_path):
    p = tmp_path / "plain.yaml"
    p.write_text(open(SMALL).read().split("variants:")[0])
    with pytest.raises(InputError, match="known variants: none defined"):
        io.load(p, variants=["rich"])


def test_variants_apply_in_order_then_sets():
    # both variants set the budget: the later one wins, and --set beats both
    base = io.read_source(SMALL).data
    assert base["variants"]["rich"] == {"sites.cn.budget.amount": 3000}
    s = io.load(SMALL, variants=["cheap_b", "rich"], sets=["chips.b.unit_price=9"]).scenario
    assert s.sites["cn"].budget.amount == 3000 and s.chips["b"].unit_price == 9


def test_applied_is_recorded_in_order():
    loaded = io.load(SMALL, variants=["rich"], sets=["chips.b.unit_price=9", "chips.a.int8_tops=1.2e2"])
    assert loaded.applied == [
        {"variant": "rich", "changes": {"sites.cn.budget.amount": 3000}},
        {"set": "chips.b.unit_price", "value": 9},
        {"set": "chips.a.int8_tops", "value": 120.0},
    ]


def test_applied_reaches_solve_json():
    res = run("solve", BASELINE, "--variant", "budget_cut_20", "--set", "chips.h20.unit_price=95000", "--json", "--no-report")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["applied"] == [
        {"variant": "budget_cut_20", "changes": {"sites.cn.budget.amount": 32e9}},
        {"set": "chips.h20.unit_price", "value": 95000},
    ]
    assert doc["sites"]["cn"]["budget"] == 32e9


def test_shipped_variants_exist_and_do_what_they_say():
    s = io.load(BASELINE).scenario
    assert {"h20_licence_denied", "budget_cut_20", "domestic_70"} <= set(s.variants)
    cut = io.load(BASELINE, variants=["budget_cut_20"]).scenario
    assert cut.sites["cn"].budget.amount == pytest.approx(0.8 * s.sites["cn"].budget.amount)
    assert io.load(BASELINE, variants=["domestic_70"]).scenario.sites["cn"].domestic_min_share == 0.70
    denied = make_plan(io.load(BASELINE, variants=["h20_licence_denied"]))
    assert all(a.chip != "h20" for a in denied.allocation)
    assert any(d.chip == "h20" and d.decision == "deny" for d in denied.compliance)
