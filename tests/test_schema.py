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


# ------------------------------------------------------------------ schema version 2: one rule per case

_BASE_V2 = {
    "schema_version": 2,
    "name": "base v2",
    "currency": "CNY",
    "fx": {"USD": 7.0},
    "integer_units": False,
    "periods": ["q1", "q2", "q3"],
    "buyer": {"headquarters": "CN"},
    "flexibility": {"gpgpu": 1.0},
    "vendors": {"dom": {"origin": "CN", "capacity_units": {"q1": 10, "q2": 20}, "delivery_rate": 0.8, "lead_time": 1},
                "us": {"origin": "US"}},
    "chips": {
        "a": {"vendor": "dom", "architecture": "gpgpu", "int8_tops": 100, "unit_price": 10, "available_from": "q1"},
        "b": {"vendor": "us", "architecture": "gpgpu", "int8_tops": 300, "unit_price": 40, "price_by_period": {"q2": 35}},
    },
    "sites": {"cn": {"country": "CN", "budget": {"amount": 1000, "per_period": {"q1": 400}}}},
    "leases": {"l1": {"site": "cn", "chip": "b", "operator": "op", "price_per_period": 2, "available_from": "q2"}},
    "export_controls": {"headquarters_countries": ["CN"],
                        "licenses": {"b_cn": {"chip": "b", "country": "CN", "status": "deny", "from": "q2"}}},
    "uncertainty": {"revealed": "q2", "risk": {"measure": "cvar", "alpha": 0.9, "weight": 0.5},
                    "outcomes": {"up": {"probability": 0.25}, "down": {"probability": 0.75,
                                                                       "changes": {"chips.a.unit_price": 12}}}},
}


def base_data_v2() -> dict:
    import copy

    return copy.deepcopy(_BASE_V2)


def _licence_list(d):
    d["export_controls"]["licenses"] = [{"chip": "b", "country": "CN", "status": "deny", "from": "q2", "until": "q9"}]


CASES_V2 = [
    # (mutation, problem path, exact message)
    pytest.param(_set("export_controls", "licenses", "b_cn", "from", "q4"), "export_controls.licenses.b_cn.from",
                 "unknown period 'q4'; periods are q1, q2, q3", id="licence-from-unknown"),
    pytest.param(_licence_list, "export_controls.licenses.0.until", "unknown period 'q9'; periods are q1, q2, q3",
                 id="licence-list-until-unknown"),
    pytest.param(_set("sites", "cn", "budget", "per_period", {"q0": 5}), "sites.cn.budget.per_period.q0",
                 "unknown period 'q0'; periods are q1, q2, q3", id="per-period-unknown"),
    pytest.param(_set("budget", {"amount": 5, "per_period": {"q5": 1}}), "budget.per_period.q5",
                 "unknown period 'q5'; periods are q1, q2, q3", id="global-per-period-unknown"),
    pytest.param(_set("chips", "b", "price_by_period", {"q7": 1}), "chips.b.price_by_period.q7",
                 "unknown period 'q7'; periods are q1, q2, q3", id="price-by-period-unknown"),
    pytest.param(_set("chips", "a", "available_until", "q_3"), "chips.a.available_until",
                 "unknown period 'q_3'; did you mean 'q3'?", id="available-until-near"),
    pytest.param(_set("leases", "l1", "available_until", "q8"), "leases.l1.available_until",
                 "unknown period 'q8'; periods are q1, q2, q3", id="lease-until-unknown"),
    pytest.param(_set("vendors", "dom", "capacity_units", {"q4": 1}), "vendors.dom.capacity_units.q4",
                 "unknown period 'q4'; periods are q1, q2, q3", id="capacity-unknown"),
    pytest.param(lambda d: d["sites"]["cn"].update(power_mw={"q4": 1}) or [c.update(power_w=1) for c in d["chips"].values()],
                 "sites.cn.power_mw.q4", "unknown period 'q4'; periods are q1, q2, q3", id="power-unknown"),
    pytest.param(_set("uncertainty", "revealed", "q0"), "uncertainty.revealed", "unknown period 'q0'; periods are q1, q2, q3",
                 id="revealed-unknown"),
    pytest.param(_set("export_controls", "licenses", "b_cn", "until", "q1"), "export_controls.licenses.b_cn.until",
                 "until q1 is before from q2; make until q2 or later", id="until-before-from"),
    pytest.param(lambda d: d["chips"]["a"].update(available_from="q3", available_until="q2"), "chips.a.available_until",
                 "available_until q2 is before available_from q3; make available_until q3 or later", id="window-reversed"),
    pytest.param(lambda d: d["leases"]["l1"].update(available_until="q1"), "leases.l1.available_until",
                 "available_until q1 is before available_from q2; make available_until q2 or later", id="lease-window-reversed"),
    # lead time 2 of 3 periods: a chip first ordered in q2 could only arrive after q3
    pytest.param(lambda d: d["vendors"]["dom"].update(lead_time=2) or d["chips"]["a"].update(available_from="q2"),
                 "vendors.dom.lead_time",
                 "a lead time of 2 periods leaves a no order period (first order q2, last period q3); "
                 "shorten the lead time or let a be ordered earlier", id="lead-time-no-order-period"),
    pytest.param(_set("leases", "l1", "site", "us"), "leases.l1.site", "unknown site 'us'; known: cn", id="lease-site"),
    pytest.param(_set("leases", "l1", "chip", "bb"), "leases.l1.chip", "unknown chip 'bb'; did you mean 'b'?", id="lease-chip"),
    pytest.param(_set("sites", "cn", "budget", "per_period", "q1", -1), "sites.cn.budget.per_period.q1",
                 "-1: must be greater than or equal to 0", id="per-period-negative"),
    pytest.param(_set("vendors", "dom", "capacity_units", "q2", -3), "vendors.dom.capacity_units.q2",
                 "-3: must be greater than or equal to 0", id="capacity-per-period-negative"),
    pytest.param(_set("uncertainty", "outcomes", "up", "probability", 0.2), "uncertainty.outcomes",
                 "outcome probabilities sum to 0.95 (up 0.2 + down 0.75), not 1; make them sum to 1 (within 1e-9)",
                 id="probabilities"),
    pytest.param(_set("uncertainty", "risk", "alpha", 0), "uncertainty.risk.alpha",
                 "0: must be between 0 and 1, both excluded (e.g. 0.9)", id="alpha-0"),
    pytest.param(_set("uncertainty", "risk", "weight", -0.1), "uncertainty.risk.weight", "-0.1: must be from 0 to 1",
                 id="weight-negative"),
    pytest.param(_set("uncertainty", "outcomes", "down", "changes", {"periods": ["q1"]}), "uncertainty.outcomes.down.changes.periods",
                 "an outcome cannot change periods: every outcome has the base scenario's periods", id="outcome-periods"),
    # sd^2 must stay below m(1-m) = 0.16 for the Beta distribution: 0.4 is the limit
    pytest.param(_set("vendors", "dom", "delivery_sd", 0.4), "vendors.dom.delivery_sd",
                 "0.4 is too large for a delivery rate of 0.8: a Beta distribution with that mean needs a standard "
                 "deviation below 0.4", id="delivery-sd"),
    pytest.param(_set("vendors", "us", "delivery_sd", 0.01), "vendors.us.delivery_sd",
                 "0.01 is too large for a delivery rate of 1, which cannot vary; set delivery_sd: 0 or a delivery_rate below 1",
                 id="delivery-sd-rate-1"),
    pytest.param(_set("chips", "b", "price_currency", "RMB"), "chips.b.price_currency",
                 "RMB is not an ISO 4217 currency code; write CNY", id="rmb"),
    pytest.param(_set("currency", "RMB"), "currency", "RMB is not an ISO 4217 currency code; write CNY", id="rmb-reporting"),
    pytest.param(_set("integer_units", "no"), "integer_units", "'no': expected true or false", id="no-for-false"),
    pytest.param(_set("periods", []), "periods", "needs at least one period, e.g. periods: [2025q1, 2025q2, 2025q3, 2025q4]",
                 id="periods-empty"),
    pytest.param(_set("export_controls", "licenses", "oops"), "export_controls.licenses",
                 "expected a list of licences or a mapping id: licence, got a string", id="licences-text"),
]


@pytest.mark.parametrize("mutate, path, message", CASES_V2)
def test_schema_v2_rule(mutate, path, message):
    data = base_data_v2()
    validate_data(data)  # the base is valid, so the one mutation is the only problem
    mutate(data)
    with pytest.raises(InputError) as ei:
        validate_data(data, file="scenario.yaml")
    assert [(p.path, p.message) for p in ei.value.problems] == [(path, message)]


def _v1_with(mutate):
    data = base_data()
    mutate(data)
    return data


CASES_V1_WITH_V2 = [
    pytest.param(_set("vendors", "dom", "capacity_units", {"q1": 5}), "vendors.dom.capacity_units",
                 "a value per period needs schema_version: 2 and periods: [...]; in version 1 write one number", id="capacity"),
    pytest.param(lambda d: d["sites"]["cn"].update(power_mw={"q1": 5}) or [c.update(power_w=1) for c in d["chips"].values()],
                 "sites.cn.power_mw",
                 "a value per period needs schema_version: 2 and periods: [...]; in version 1 write one number", id="power"),
    pytest.param(_set("chips", "a", "price_by_period", {"q1": 5}), "chips.a.price_by_period",
                 "prices by period need schema_version: 2 and periods: [...]; in version 1 leave them out", id="prices"),
    pytest.param(_set("sites", "cn", "budget", {"amount": 5, "per_period": {"q1": 1}}), "sites.cn.budget.per_period",
                 "a cap per period needs schema_version: 2 and periods: [...]; in version 1 leave it out", id="budget"),
    pytest.param(_set("chips", "a", "available_from", "q1"), "chips.a.available_from",
                 "an order window needs schema_version: 2 and periods: [...]; in version 1 leave it out", id="window"),
    pytest.param(_set("export_controls", {"licenses": [{"chip": "a", "country": "CN", "status": "deny", "until": "q1"}]}),
                 "export_controls.licenses.0.until",
                 "a dated licence needs schema_version: 2 and periods: [...]; in version 1 a licence holds for the whole plan",
                 id="dated-licence"),
    pytest.param(_set("vendors", "dom", "lead_time", 1), "vendors.dom.lead_time",
                 "a lead time needs schema_version: 2 and periods: [...]; in version 1 leave it out", id="lead-time"),
    pytest.param(_set("leases", {"l": {"site": "cn", "chip": "a", "operator": "o", "price_per_period": 1}}), "leases",
                 "leases need schema_version: 2", id="leases"),
    pytest.param(_set("export_controls", {"licenses": {"x": {"chip": "a", "country": "CN", "status": "deny"}}}),
                 "export_controls.licenses",
                 "licences by id need schema_version: 2; in version 1 write them as a list (- {chip: ..., country: ..., status: ...})",
                 id="licences-by-id"),
    pytest.param(_set("uncertainty", {"revealed": "q1", "outcomes": {"o": {"probability": 1}}}), "uncertainty.revealed",
                 "revealed names a period: it needs schema_version: 2 and periods: [...]; in version 1 leave it out",
                 id="revealed"),
    pytest.param(lambda d: d.update(periods=["q1", "q2"], leases={"l": {"site": "cn", "chip": "a", "operator": "o",
                                                                        "price_per_period": 1}}),
                 "schema_version", "version 1 has no periods, but this file uses periods and leases; write schema_version: 2",
                 id="periods-in-v1"),
]


@pytest.mark.parametrize("mutate, path, message", CASES_V1_WITH_V2)
def test_version_2_fields_in_a_version_1_file(mutate, path, message):
    data = _v1_with(mutate)
    with pytest.raises(InputError) as ei:
        validate_data(data, file="scenario.yaml")
    assert [(p.path, p.message) for p in ei.value.problems] == [(path, message)]
    data["schema_version"] = 2  # and the fix the message gives works (given periods where the field names one)
    data.setdefault("periods", ["q1", "q2"])
    validate_data(data)


def test_an_uncertainty_block_without_periods_is_read_in_version_1():
    data = base_data()
    data["uncertainty"] = {"outcomes": {"a": {"probability": 0.5}, "b": {"probability": 0.5}}}
    assert set(scenario_of(data).uncertainty.outcomes) == {"a", "b"}


@pytest.mark.parametrize(
    "mutate, path, message",
    [
        (lambda d: d["export_controls"].update(headquarters_countries=[]), "buyer.headquarters",
         "headquarters CN has no effect: export_controls.headquarters_countries is empty; add headquarters_countries: [CN] "
         "if the headquarters rule should apply"),
        (lambda d: d.pop("buyer"), "export_controls.headquarters_countries",
         "has no effect without buyer.headquarters; add buyer: {headquarters: CN} if the headquarters rule should apply"),
    ],
    ids=["headquarters-without-countries", "countries-without-headquarters"],
)
def test_headquarters_rule_half_given_is_a_warning_not_an_error(mutate, path, message):
    from optimizer.schema import warning_problems

    data = base_data_v2()
    assert warning_problems(scenario_of(data)) == []
    mutate(data)
    s = scenario_of(data)  # valid: a warning never fails validation
    assert warning_problems(s) == [(path, message)]


def test_no_headquarters_warning_without_export_controls():
    from optimizer.schema import warning_problems

    data = base_data_v2()
    del data["export_controls"]
    assert warning_problems(scenario_of(data)) == []
