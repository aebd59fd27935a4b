"""The solution JSON document (chipalloc.solution/1): keys, values, and JSON-safe numbers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import load_fixture
from optimizer.plan import make_plan
from optimizer.report import json_out

TOP_KEYS = {"schema", "scenario", "status", "solver", "currency", "integer_units", "objective", "totals", "sites",
            "allocation", "constraints", "compliance", "report"}
ALLOC_KEYS = {"site", "chip", "vendor", "units", "unit_price", "spend", "int8_tops", "effective_tops", "domestic", "period", "delivery_period"}
CONS_KEYS = {"name", "kind", "lhs", "sense", "rhs", "slack", "binding", "shadow_price"}
COMP_KEYS = {"chip", "site", "country", "tier", "tpp", "density", "controlled", "decision", "reason"}


def strict_loads(text):
    def bad(name):
        raise AssertionError(f"{name} in JSON")

    return json.loads(text, parse_constant=bad)


@pytest.fixture
def site_prices_doc(solver):
    plan = make_plan(load_fixture("core_site_prices.yaml"), solver=solver)
    return strict_loads(json_out.dumps(json_out.plan_dict(plan, report="out.xlsx")))


def test_keys_and_values(site_prices_doc, solver):
    doc = site_prices_doc
    assert TOP_KEYS <= set(doc)
    assert doc["schema"] == "chipalloc.solution/1"
    assert (doc["scenario"], doc["status"], doc["solver"], doc["currency"], doc["integer_units"]) == (
        "core site prices", "optimal", solver, "CNY", True)
    # s1: 100 a x CNY 10 (10,000 TOPS); s2: 50 b x CNY 20 (15,000 TOPS)
    assert doc["objective"] == {"effective_tops": 25_000}
    assert doc["totals"] == {"spend": 2000, "units": 150, "int8_tops": 25_000, "delivered_tops": 25_000,
                             "effective_tops": 25_000}
    assert doc["sites"] == {
        "s1": {"spend": 1000, "budget": 1000, "domestic_share": 1.0, "power_mw": None},
        "s2": {"spend": 1000, "budget": 1000, "domestic_share": 0.0, "power_mw": None},
    }
    assert doc["allocation"] == [
        {"site": "s1", "chip": "a", "vendor": "dom", "units": 100, "unit_price": 10, "spend": 1000, "int8_tops": 10_000,
         "effective_tops": 10_000, "domestic": True, "period": None, "delivery_period": None},
        {"site": "s2", "chip": "b", "vendor": "us", "units": 50, "unit_price": 20, "spend": 1000, "int8_tops": 15_000,
         "effective_tops": 15_000, "domestic": False, "period": None, "delivery_period": None},
    ]
    assert [c["name"] for c in doc["constraints"]] == ["budget[s1]", "budget[s2]"]
    assert all(set(c) == CONS_KEYS for c in doc["constraints"])
    b2 = doc["constraints"][1]
    assert (b2["kind"], b2["lhs"], b2["sense"], b2["rhs"], b2["slack"], b2["binding"]) == ("budget", 1000, "<=", 1000, 0, True)
    assert b2["shadow_price"] == pytest.approx(15)  # 300 TOPS per CNY 20
    assert len(doc["compliance"]) == 4 and all(set(c) == COMP_KEYS for c in doc["compliance"])
    assert doc["report"] == "out.xlsx"


def test_allocation_keys_sorted_and_positive(solver):
    plan = make_plan(load_fixture("core_all_rules.yaml"), solver=solver)
    doc = strict_loads(json_out.dumps(json_out.plan_dict(plan)))
    rows = doc["allocation"]
    assert all(set(r) == ALLOC_KEYS for r in rows)
    assert [(r["site"], r["chip"]) for r in rows] == sorted((r["site"], r["chip"]) for r in rows)
    assert all(r["units"] > 0 for r in rows)
    # int8_tops in a row is the row's total, spend = units x unit_price
    for r in rows:
        assert r["spend"] == pytest.approx(r["units"] * r["unit_price"])
    assert doc["report"] is None


def test_numbers_are_plain_and_finite(solver):
    plan = make_plan(load_fixture("core_all_rules.yaml"), solver=solver)
    text = json_out.dumps(json_out.plan_dict(plan))
    assert "NaN" not in text and "Infinity" not in text and "-0.0" not in text

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        else:
            assert x is None or type(x) in (str, bool, int, float), type(x)
            if isinstance(x, float):
                assert math.isfinite(x)

    walk(strict_loads(text))


def test_measures_are_floats_even_when_whole(solver):
    plan = make_plan(load_fixture("core_lots.yaml"), solver=solver)
    doc = json_out.plan_dict(plan)
    assert all(type(r["units"]) is float for r in doc["allocation"])
    assert type(doc["totals"]["spend"]) is float


def test_clean():
    assert json_out.clean({"a": float("nan"), "b": float("inf"), "c": -0.0, 1: np.float64(2.5), "e": np.int64(3),
                           "f": (np.bool_(True), None, "x")}) == {
        "a": None, "b": None, "c": 0.0, "1": 2.5, "e": 3, "f": [True, None, "x"]}
    assert str(json_out.clean(-0.0)) == "0.0"
    assert type(json_out.clean(np.float64(1.0))) is float


def test_dumps_refuses_nothing_it_cleaned():
    assert strict_loads(json_out.dumps({"x": float("nan"), "y": [float("-inf")]})) == {"x": None, "y": [None]}


def test_not_optimal_document(solver):
    plan = make_plan(load_fixture("core_infeasible.yaml"), solver=solver, raise_on_status=False)
    doc = strict_loads(json_out.dumps(json_out.plan_dict(plan)))
    assert doc["status"] == "infeasible"
    assert doc["objective"] == {"effective_tops": None}
    assert doc["allocation"] == [] and doc["report"] is None


def test_shadow_prices_relaxation_label():
    plan = make_plan(load_fixture("core_lots.yaml"))
    doc = json_out.plan_dict(plan)
    assert doc["shadow_prices"]["basis"] == "relaxation"
    assert "right-hand side" in doc["shadow_prices"]["convention"]
