"""Schema v1: one rule per case, each naming the field path and saying what is wrong."""
from __future__ import annotations

import pytest

from conftest import base_data, scenario_of
from optimizer.errors import InputError
from optimizer.io import validate_data
from optimizer.schema import SCHEMA_VERSION, SCHEMA_VERSIONS, Scenario


def _set(*path_and_value):
    *path, value = path_and_value

    def mutate(d):
        cur = d
        for p in path[:-1]:
            cur = cur[p]
        cur[path[-1]] = value

    return mutate


def _pop(*path):
    def mutate(d):
        cur = d
        for p in path[:-1]:
            cur = cur[p]
        del cur[path[-1]]

    return mutate


def _rename_chip(d):
    d["chips"]["H20"] = d["chips"].pop("a")


CASES = [
    # (mutation, problem path, message fragment)
    pytest.param(_set("budgett", {"amount": 1}), "budgett", "unknown field", id="unknown-field-top"),
    pytest.param(_set("chips", "a", "unit_prise", 3), "chips.a.unit_prise", "unknown field", id="unknown-field-chip"),
    pytest.param(_set("schema_version", 3), "schema_version", "schema_version: 1 or 2", id="schema-version-3"),
    pytest.param(_set("schema_version", "1"), "schema_version", "schema_version: 1", id="schema-version-string"),
    pytest.param(_pop("schema_version"), "schema_version", "missing", id="schema-version-missing"),
    pytest.param(_rename_chip, "chips.H20", "not a valid id", id="bad-id-uppercase"),
    pytest.param(_set("vendors", "big co", {"origin": "US"}), "vendors.big co", "not a valid id", id="bad-id-space"),
    pytest.param(_set("vendors", "dom", "origin", "China"), "vendors.dom.origin", "two-letter", id="bad-country"),
    pytest.param(_set("sites", "cn", "country", "cn"), "sites.cn.country", "two-letter", id="bad-country-lowercase"),
    pytest.param(_set("currency", "yuan"), "currency", "three-letter", id="bad-currency"),
    pytest.param(_set("sites", "cn", "domestic_min_share", 1.5), "sites.cn.domestic_min_share", "less than or equal to 1",
                 id="share-above-1"),
    pytest.param(_set("sites", "cn", "domestic_min_share", -0.1), "sites.cn.domestic_min_share", "greater than or equal to 0",
                 id="share-below-0"),
    pytest.param(_set("vendors", "dom", "max_share", 1.2), "vendors.dom.max_share", "less than or equal to 1",
                 id="max-share-above-1"),
    pytest.param(_set("vendors", "dom", "delivery_rate", 0), "vendors.dom.delivery_rate", "greater than 0",
                 id="delivery-rate-0"),
    pytest.param(_set("vendors", "dom", "delivery_rate", 1.2), "vendors.dom.delivery_rate", "less than or equal to 1",
                 id="delivery-rate-above-1"),
    pytest.param(_set("flexibility", "gpgpu", 11), "flexibility.gpgpu", "less than or equal to 10", id="flexibility-above-10"),
    pytest.param(_set("flexibility", "gpgpu", 0), "flexibility.gpgpu", "greater than 0", id="flexibility-0"),
    pytest.param(_set("chips", "a", "lot_size", 0), "chips.a.lot_size", "greater than or equal to 1", id="lot-size-0"),
    pytest.param(_set("chips", "a", "lot_size", 2.5), "chips.a.lot_size", "whole number", id="lot-size-fraction"),
    pytest.param(_set("chips", "a", "unit_price", -1), "chips.a.unit_price", "greater than 0", id="price-negative"),
    pytest.param(_set("chips", "a", "unit_price", float("nan")), "chips.a.unit_price", "finite", id="price-nan"),
    pytest.param(_set("chips", "a", "int8_tops", float("inf")), "chips.a.int8_tops", "finite", id="tops-inf"),
    pytest.param(_set("chips", "a", "int8_tops", 0), "chips.a.int8_tops", "greater than 0", id="tops-0"),
    pytest.param(_set("sites", "cn", "budget", {"amount": 0}), "sites.cn.budget.amount", "greater than 0", id="budget-0"),
    pytest.param(_set("fx", "USD", 0), "fx.USD", "greater than 0", id="fx-0"),
    pytest.param(lambda d: d["chips"]["a"].update(min_units=10, max_units=5), "chips.a.min_units",
                 "min_units (10) is above max_units (5)", id="min-above-max"),
    pytest.param(_set("chips", "a", "vendor", "huawe"), "chips.a.vendor", "unknown vendor 'huawe'", id="unknown-vendor"),
    pytest.param(_set("chips", "a", "architecture", "npu"), "chips.a.architecture", "unknown architecture 'npu'",
                 id="unknown-architecture"),
    pytest.param(_set("export_controls", {"licenses": [{"chip": "zz", "country": "CN", "status": "deny"}]}),
                 "export_controls.licenses.0.chip", "unknown chip 'zz'", id="licence-unknown-chip"),
    pytest.param(_set("sites", "cn", "prices", {"zz": 5}), "sites.cn.prices.zz", "unknown chip 'zz'", id="site-price-unknown-chip"),
    pytest.param(_set("chips", "a", "price_currency", "EUR"), "chips.a.price_currency", "fx", id="price-currency-not-in-fx"),
    pytest.param(_set("sites", "cn", "budget", {"amount": 5, "currency": "EUR"}), "sites.cn.budget.currency", "fx",
                 id="site-budget-currency-not-in-fx"),
    pytest.param(_set("budget", {"amount": 5, "currency": "EUR"}), "budget.currency", "fx", id="global-budget-currency-not-in-fx"),
    pytest.param(_set("sites", "cn", "power_mw", 10), "chips.a.power_w", "power_w", id="power-without-power-w"),
    pytest.param(_set("export_controls", {"controlled_if": [{"tpp_min": 1}], "tiers": {"CN": 2}}), "export_controls.tpp_caps",
                 "tpp_caps.CN", id="capped-tier-without-cap"),
    pytest.param(_set("export_controls", {"tiers": {"CN": 4}}), "export_controls.tier_rules", "tier 4",
                 id="tier-without-rule"),
    pytest.param(_set("sites", "cn", "domestic_basis", "money"), "sites.cn.domestic_basis", "spend", id="bad-basis"),
    pytest.param(_set("export_controls", {"licenses": [{"chip": "a", "country": "CN", "status": "maybe"}]}),
                 "export_controls.licenses.0.status", "deny", id="bad-licence-status"),
    pytest.param(_pop("name"), "name", "missing", id="name-missing"),
    pytest.param(_set("sites", {}), "sites", "at least one", id="no-sites"),
]


@pytest.mark.parametrize("mutate, path, fragment", CASES)
def test_schema_rule(mutate, path, fragment):
    data = base_data()
    mutate(data)
    with pytest.raises(InputError) as ei:
        validate_data(data, file="scenario.yaml")
    problems = ei.value.problems
    assert path in [p.path for p in problems], [(p.path, p.message) for p in problems]
    mine = [p for p in problems if p.path == path]
    assert any(fragment in p.message + " " + p.hint for p in mine), [(p.path, p.message) for p in mine]
    text = ei.value.render()
    assert text.startswith("scenario.yaml") and path in text
    assert "Traceback" not in text and "pydantic" not in text.lower()


def test_unknown_field_suggests_the_near_name():
    data = base_data()
    data["chips"]["a"]["unit_prise"] = 3
    with pytest.raises(InputError) as ei:
        validate_data(data)
    assert "unit_price" in ei.value.render()


def test_power_without_power_w_names_every_chip():
    data = base_data()
    data["sites"]["cn"]["power_mw"] = 10
    data["chips"]["b"]["power_w"] = 700
    with pytest.raises(InputError) as ei:
        validate_data(data)
    assert [p.path for p in ei.value.problems] == ["chips.a.power_w"]


def test_several_problems_are_reported_together():
    data = base_data()
    data["chips"]["a"]["vendor"] = "nope"
    data["chips"]["b"]["architecture"] = "nope"
    with pytest.raises(InputError) as ei:
        validate_data(data)
    assert {"chips.a.vendor", "chips.b.architecture"} <= {p.path for p in ei.value.problems}


def test_supported_versions():
    assert SCHEMA_VERSION == 2 and SCHEMA_VERSIONS == (1, 2)


def test_defaults():
    data = base_data()
    del data["integer_units"], data["currency"]
    s = scenario_of(data)
    assert s.currency == "CNY" and s.integer_units is True
    a = s.chips["a"]
    assert (a.lot_size, a.min_units, a.max_units, a.price_currency) == (1, 0, None, None)
    assert a.tpp_value == 8 * 100  # TPP defaults to 8 x INT8 TOPS
    assert a.density is None
    assert s.vendors["dom"].delivery_rate == 1.0
    site = s.sites["cn"]
    assert (site.domestic_basis, site.domestic_min_share, site.prices) == ("spend", None, {})
    assert s.chips["a"].model is None


def test_derived_values():
    data = base_data()
    data["chips"]["b"].update(price_currency="USD", unit_price=5, die_area_mm2=600, tpp=2400)
    data["sites"]["cn"]["prices"] = {"b": 4}
    data["vendors"]["us"]["delivery_rate"] = 0.5
    data["sites"]["cn"]["budget"] = {"amount": 100, "currency": "USD"}
    s = scenario_of(data)
    assert s.rate("USD") == 7 and s.rate(None) == 1 and s.rate("CNY") == 1
    assert s.price("cn", "b") == 4  # site override, in the chip's currency
    assert s.price_reporting("cn", "b") == 28  # USD 4 x 7
    assert s.money(s.sites["cn"].budget) == 700
    assert s.effective_tops_per_unit("b") == 300 * 1.0 * 0.5
    assert s.chips["b"].density == 2400 / 600
    assert s.is_domestic("cn", "a") and not s.is_domestic("cn", "b")


def test_scenario_is_frozen():
    s = scenario_of(base_data())
    with pytest.raises(Exception):
        s.name = "x"  # type: ignore[misc]


def test_model_validate_directly_raises_pydantic_error_with_path():
    from pydantic import ValidationError

    data = base_data()
    data["chips"]["a"]["vendor"] = "nope"
    with pytest.raises(ValidationError, match="chips.a.vendor"):
        Scenario.model_validate(data)
