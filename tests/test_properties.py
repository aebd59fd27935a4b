"""Property tests: random valid small scenarios give verified plans at least as good as a simple greedy plan.

The greedy plan is built here, independently of the model: buy the (site, chip) pairs in order of effective
TOPS per reporting-currency unit, each as far as every remaining limit allows (site and global budget,
vendor capacity, chip maximum, power, TPP cap), in whole lots when integer_units. To stay feasible by
construction it buys only domestic chips at a site with a domestic floor and nothing from a vendor with a
max_share below 1; it is then checked by optimizer.verify.violations before being compared.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scenario_of
from optimizer import compliance, verify
from optimizer.plan import make_plan

COUNTRIES = ["CN", "US", "MY"]


@st.composite
def scenarios(draw):
    integer = draw(st.booleans())
    n_vendors = draw(st.integers(1, 3))
    vendors = {}
    for i in range(n_vendors):
        v = {"origin": draw(st.sampled_from(["CN", "US"])),
             "delivery_rate": draw(st.sampled_from([1.0, 0.9, 0.75, 0.5]))}
        if draw(st.booleans()):
            v["capacity_units"] = draw(st.integers(1, 5000))
        vendors[f"v{i}"] = v
    if n_vendors > 1 and draw(st.booleans()):  # at most one vendor with a share cap, so buying stays possible
        vendors[f"v{draw(st.integers(0, n_vendors - 1))}"]["max_share"] = draw(st.sampled_from([0.3, 0.5, 0.8]))
    flexibility = {"gpgpu": 1.0, "asic": draw(st.sampled_from([0.5, 0.75, 1.25]))}
    chips = {}
    for i in range(draw(st.integers(2, 4))):
        c = {
            "vendor": f"v{draw(st.integers(0, n_vendors - 1))}",
            "architecture": draw(st.sampled_from(["gpgpu", "asic"])),
            "int8_tops": draw(st.integers(1, 2000)),
            "unit_price": draw(st.integers(1, 20_000)),
            "power_w": draw(st.integers(50, 1000)),
            "lot_size": draw(st.sampled_from([1, 1, 2, 8])),
        }
        if draw(st.booleans()):
            c["price_currency"] = "USD"
            c["unit_price"] = max(1, c["unit_price"] // 7)
        if draw(st.integers(0, 2)) == 0:
            c["max_units"] = draw(st.integers(1, 3000))
        chips[f"c{i}"] = c
    sites = {}
    for i in range(draw(st.integers(1, 2))):
        s = {"country": draw(st.sampled_from(COUNTRIES)),
             "budget": {"amount": draw(st.integers(10_000, 10_000_000)), "currency": draw(st.sampled_from(["CNY", "USD"]))}}
        if s["country"] in {v["origin"] for v in vendors.values()} and draw(st.booleans()):
            s["domestic_min_share"] = draw(st.sampled_from([0.3, 0.6, 0.9]))
            s["domestic_basis"] = draw(st.sampled_from(["spend", "units", "tops"]))
        if draw(st.booleans()):
            s["power_mw"] = draw(st.sampled_from([0.05, 0.5, 5.0]))
        if draw(st.booleans()):
            cid = draw(st.sampled_from(sorted(chips)))
            s["prices"] = {cid: draw(st.integers(1, 20_000))}
        sites[f"s{i}"] = s
    data = {
        "schema_version": 1, "name": "random", "currency": "CNY", "fx": {"USD": 7.0}, "integer_units": integer,
        "flexibility": flexibility, "vendors": vendors, "chips": chips, "sites": sites,
    }
    if draw(st.booleans()):
        data["budget"] = {"amount": draw(st.integers(10_000, 20_000_000))}
    if draw(st.booleans()):
        ec = {
            "origins": ["US"],
            "controlled_if": [{"tpp_min": draw(st.integers(500, 10_000))}],
            "tiers": {"CN": 3, "MY": 2},
            "tier_rules": {1: "allow", 2: "cap", 3: "deny"},
            "tpp_caps": {"MY": draw(st.integers(0, 20_000_000))},
        }
        if draw(st.booleans()):
            ec["licenses"] = [{"chip": draw(st.sampled_from(sorted(chips))), "country": draw(st.sampled_from(COUNTRIES)),
                               "status": "deny"}]
        data["export_controls"] = ec
    return scenario_of(data)


def greedy(s) -> dict:
    """A feasible plan by a simple rule (see the module docstring); never uses the model or a solver."""
    inf = math.inf
    decisions = {(d.site, d.chip): d.decision for d in compliance.decisions(s)}
    site_left = {k: (s.money(v.budget) if v.budget else inf) for k, v in s.sites.items()}
    global_left = s.money(s.budget) if s.budget else inf
    cap_left = {k: (v.capacity_units if v.capacity_units is not None else inf) for k, v in s.vendors.items()}
    chip_left = {k: (c.max_units if c.max_units is not None else inf) for k, c in s.chips.items()}
    power_left = {k: (v.power_mw * 1e6 if v.power_mw is not None else inf) for k, v in s.sites.items()}
    tpp_left = dict(s.export_controls.tpp_caps) if s.export_controls else {}

    pairs = []
    for site, st_ in s.sites.items():
        for chip, c in s.chips.items():
            d = decisions[(site, chip)]
            if d == "deny":
                continue
            if st_.domestic_min_share and not s.is_domestic(site, chip):
                continue
            mx = s.vendors[c.vendor].max_share
            if mx is not None and mx < 1:
                continue
            price = s.price_reporting(site, chip)
            pairs.append((s.effective_tops_per_unit(chip) / price, site, chip, price, d))
    pairs.sort(key=lambda t: -t[0])

    units = {}
    for _, site, chip, price, d in pairs:
        c = s.chips[chip]
        country = s.sites[site].country
        limits = [site_left[site] / price, global_left / price, cap_left[c.vendor], chip_left[chip]]
        if s.sites[site].power_mw is not None:
            limits.append(power_left[site] / c.power_w)
        if d == "cap":
            limits.append(tpp_left[country] / c.tpp_value)
        u = max(0.0, min(limits))
        if s.integer_units:
            u = math.floor(u / c.lot_size + 1e-9) * c.lot_size
        if u <= 0:
            continue
        units[(site, chip)] = float(u)
        site_left[site] -= u * price
        global_left -= u * price
        cap_left[c.vendor] -= u
        chip_left[chip] -= u
        power_left[site] -= u * c.power_w
        if d == "cap":
            tpp_left[country] -= u * c.tpp_value
    return units


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@SETTINGS
@given(s=scenarios())
def test_plan_is_verified_and_beats_greedy(solver, s):
    base = greedy(s)
    assert verify.violations(s, base) == [], "the test's own greedy plan must be feasible"
    base_tops = verify.effective_tops(s, base)

    plan = make_plan(s, solver=solver)  # raises if the verifier rejects the plan
    assert plan.status == "optimal"
    assert verify.violations(s, plan.units(), plan.result.objective) == []
    assert plan.totals["effective_tops"] >= base_tops - 1e-6 * max(1.0, base_tops)
    # bookkeeping the reports rely on
    assert plan.totals["spend"] == pytest.approx(sum(a.spend for a in plan.allocation), rel=1e-9, abs=1e-6)
    assert all(a.units > 0 for a in plan.allocation)
    if s.integer_units:
        for a in plan.allocation:
            lots = a.units / s.chips[a.chip].lot_size
            assert lots == round(lots)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=scenarios())
def test_solvers_agree_and_relaxation_bounds_integer(s):
    h = make_plan(s, solver="highs").totals["effective_tops"]
    c = make_plan(s, solver="cbc").totals["effective_tops"]
    assert h == pytest.approx(c, rel=1e-6, abs=1e-6)
    lp = make_plan(s.model_copy(update={"integer_units": False}), solver="highs").totals["effective_tops"]
    assert lp >= h - 1e-6 * max(1.0, lp)
