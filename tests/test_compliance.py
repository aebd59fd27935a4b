"""Export-control decisions per chip and site (US EAR 3A090 style rules)."""
from __future__ import annotations

import pytest

from conftest import SCENARIOS, scenario_of
from optimizer import compliance, io, verify
from optimizer.schema import Scenario

RULES = {
    "regime": "3A090",
    "origins": ["US"],
    "controlled_if": [{"tpp_min": 4800}, {"tpp_min": 1600, "density_min": 5.92}],
    "default_tier": 1,
    "tiers": {"CN": 3, "MY": 2},
    "tier_rules": {1: "allow", 2: "cap", 3: "deny"},
    "tpp_caps": {"MY": 790e6},
}


def scenario(chip: dict, country: str = "CN", origin: str = "US", licenses=()):
    data = {
        "schema_version": 1, "name": "c", "flexibility": {"g": 1.0},
        "vendors": {"v": {"origin": origin}},
        "chips": {"x": {"vendor": "v", "architecture": "g", "unit_price": 1, **chip}},
        "sites": {"s": {"country": country, "budget": {"amount": 1}}},
        "export_controls": {**RULES, "licenses": list(licenses)},
    }
    return scenario_of(data)


CASES = [
    # H100: TPP 15,832 >= 4,800 -> controlled; CN tier 3 -> deny
    pytest.param({"int8_tops": 1979, "tpp": 15832, "die_area_mm2": 814}, "CN", "US", True, "deny", "4,800", id="h100-cn"),
    # the same chip in tier-2 MY -> cap; in a tier-1 (default) country -> allow, still controlled
    pytest.param({"int8_tops": 1979, "tpp": 15832, "die_area_mm2": 814}, "MY", "US", True, "cap", "tier 2", id="h100-my"),
    pytest.param({"int8_tops": 1979, "tpp": 15832, "die_area_mm2": 814}, "DE", "US", True, "allow", "tier 1", id="h100-de"),
    # H20: TPP 2,368, density 2,368 / 814 = 2.91 < 5.92 -> below every threshold
    pytest.param({"int8_tops": 296, "tpp": 2368, "die_area_mm2": 814}, "CN", "US", False, "allow", "below", id="h20-cn"),
    # A100: TPP 4,992 >= 4,800 -> controlled by the first clause
    pytest.param({"int8_tops": 624, "tpp": 4992, "die_area_mm2": 826}, "CN", "US", True, "deny", "4,992", id="a100"),
    # TPP 2,000 (>= 1,600) and density 2,000 / 300 = 6.67 >= 5.92 -> controlled by the density clause
    pytest.param({"int8_tops": 250, "die_area_mm2": 300}, "CN", "US", True, "deny", "density 6.67", id="density-clause"),
    # TPP 2,000 with unknown die area: the density clause is assumed to hold (fail safe)
    pytest.param({"int8_tops": 250}, "CN", "US", True, "deny", "fail safe", id="unknown-die-area"),
    # TPP below 1,600 with unknown die area: nothing holds
    pytest.param({"int8_tops": 100}, "CN", "US", False, "allow", "below", id="small-unknown-area"),
    # a CN-origin chip is not governed by rules on US-origin chips, however fast
    pytest.param({"int8_tops": 1600}, "MY", "CN", False, "allow", "not governed", id="other-origin"),
]


@pytest.mark.parametrize("chip, country, origin, controlled, decision, reason", CASES)
def test_decision(chip, country, origin, controlled, decision, reason):
    s = scenario(chip, country, origin)
    d = compliance.decide(s, "s", "x")
    assert (d.controlled, d.decision) == (controlled, decision)
    assert reason in d.reason
    assert d.country == country
    # the verifier's own re-implementation agrees
    assert verify._export_decision(s, "s", "x") == decision


def test_tpp_defaults_to_eight_times_int8_and_tier_is_reported():
    d = compliance.decide(scenario({"int8_tops": 700}, "MY"), "s", "x")
    assert d.tpp == 5600 and d.tier == 2 and d.density is None


@pytest.mark.parametrize("status", ["allow", "cap", "deny"])
def test_licence_overrides_everything(status):
    # H100 would be denied in CN (tier 3); an explicit licence decides instead (a cap in CN needs a CN cap)
    data = scenario({"int8_tops": 1979, "tpp": 15832}, "CN").model_dump()
    data["export_controls"]["tpp_caps"]["CN"] = 1e6
    data["export_controls"]["licenses"] = [{"chip": "x", "country": "CN", "status": status, "note": "n"}]
    s = scenario_of(data)
    d = compliance.decide(s, "s", "x")
    assert d.decision == status and "licence" in d.reason and ": n" in d.reason
    assert d.controlled  # still reported as controlled
    assert verify._export_decision(s, "s", "x") == status


def test_licence_for_another_country_does_not_apply():
    s = scenario({"int8_tops": 1979}, "CN", licenses=[{"chip": "x", "country": "MY", "status": "allow"}])
    assert compliance.decide(s, "s", "x").decision == "deny"


def test_licence_can_deny_an_uncontrolled_chip():
    s = scenario({"int8_tops": 296, "tpp": 2368, "die_area_mm2": 814}, "CN",
                 licenses=[{"chip": "x", "country": "CN", "status": "deny"}])
    d = compliance.decide(s, "s", "x")
    assert (d.controlled, d.decision) == (False, "deny")


def test_no_export_controls_allows_everything():
    data = scenario({"int8_tops": 1979}).model_dump()
    data["export_controls"] = None
    d = compliance.decide(scenario_of(data), "s", "x")
    assert (d.decision, d.controlled, d.tier) == ("allow", False, None)


def test_decisions_sorted_by_site_then_chip():
    s = io.load(SCENARIOS / "global-2025.yaml").scenario
    ds = compliance.decisions(s)
    assert [(d.site, d.chip) for d in ds] == sorted((site, chip) for site in s.sites for chip in s.chips)


def test_capped_without_a_cap_is_a_problem():
    data = scenario({"int8_tops": 1979}, "MY").model_dump()
    data["export_controls"]["tpp_caps"] = {}
    s = Scenario.model_validate(data)  # the schema alone accepts it; io.validate_data would refuse it
    assert compliance.problems(s) == [
        ("export_controls.tpp_caps", "x is capped in MY (site s) but no cap is given; add tpp_caps.MY: <total TPP>")
    ]


def test_baseline_decisions():
    # bytedance-2025: H100 (TPP 15,832) denied in CN; H20 (2,368, density 2.91) allowed; domestic parts not governed
    s = io.load(SCENARIOS / "bytedance-2025.yaml").scenario
    got = {d.chip: d.decision for d in compliance.decisions(s)}
    assert got == {"h100": "deny", "h20": "allow", "ascend910b": "allow", "ascend910c": "allow", "mlu370": "allow"}
    s = io.load(SCENARIOS / "bytedance-2025.yaml", variants=["h20_licence_denied"]).scenario
    assert {d.chip: d.decision for d in compliance.decisions(s)}["h20"] == "deny"
