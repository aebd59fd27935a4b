"""Loading scenario files: numbers as planners type them, --set / variants, duplicate keys, JSON.

(The corpus of malformed files lives in tests/bad_inputs; this file covers basic behaviour.)
"""
from __future__ import annotations

import json
import textwrap

import pytest

from conftest import base_data, fixture_path, load_fixture
from optimizer import io
from optimizer.errors import InputError

SCENARIO = textwrap.dedent(
    """\
    schema_version: 1
    name: numbers
    flexibility: {{gpgpu: 1.0}}
    vendors:
      dom: {{origin: CN}}
    chips:
      a: {{vendor: dom, architecture: gpgpu, int8_tops: 100, unit_price: {price}}}
    sites:
      cn:
        country: CN
        budget: {{amount: {amount}}}
        domestic_min_share: {share}
    """
)


def write(tmp_path, amount="40e9", share="0.6", price="110000", name="s.yaml"):
    p = tmp_path / name
    p.write_text(SCENARIO.format(amount=amount, share=share, price=price), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "typed, value",
    [
        ("40e9", 40e9),  # YAML 1.1 reads this as a string; we read a number
        ("4.0e10", 4e10),  # likewise (no sign in the exponent)
        ("4.0e+10", 4e10),
        ("40E9", 40e9),
        ("40_000_000_000", 40e9),
        ("40000000000", 40e9),
        ("40000000000.0", 40e9),
        ("1.5e-3", 1.5e-3),
    ],
)
def test_budget_numbers_load_as_numbers(tmp_path, typed, value):
    s = io.load(write(tmp_path, amount=typed)).scenario
    amount = s.sites["cn"].budget.amount
    assert isinstance(amount, float) and amount == value


@pytest.mark.parametrize("typed, value", [("0.6", 0.6), ("6e-1", 0.6), (".6", 0.6), ("1", 1.0), ("0", 0.0)])
def test_share_numbers(tmp_path, typed, value):
    assert io.load(write(tmp_path, share=typed)).scenario.sites["cn"].domestic_min_share == value


def test_price_with_underscores_and_exponent(tmp_path):
    assert io.load(write(tmp_path, price="1.1e5")).scenario.chips["a"].unit_price == 110_000
    assert io.load(write(tmp_path, price="110_000")).scenario.chips["a"].unit_price == 110_000


def test_loaded_keeps_source(tmp_path):
    p = write(tmp_path)
    loaded = io.load(p)
    assert loaded.path == str(p)
    assert len(loaded.source.sha256) == 64
    assert loaded.applied == []
    assert loaded.source.line_of(("sites", "cn", "budget", "amount")) == 11


def test_duplicate_key_names_both_lines(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text(SCENARIO.format(amount="1", share="0.5", price="1") + "name: again\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        io.load(p)
    text = ei.value.render()
    assert "'name'" in text and "2" in text and "13" in text  # first on line 2, again on line 13
    assert ei.value.problems[0].line == 13


def test_duplicate_key_in_json(tmp_path):
    p = tmp_path / "dup.json"
    p.write_text('{"schema_version": 1, "name": "a", "name": "b"}', encoding="utf-8")
    with pytest.raises(InputError, match="name"):
        io.load(p)


def test_json_scenario_loads_like_yaml(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(base_data()), encoding="utf-8")
    s = io.load(p).scenario
    assert s.chips["b"].int8_tops == 300 and s.sites["cn"].budget.amount == 1000


def test_schema_error_from_file_has_line(tmp_path):
    p = write(tmp_path, share="1.5")
    with pytest.raises(InputError) as ei:
        io.load(p)
    (prob,) = ei.value.problems
    assert prob.path == "sites.cn.domestic_min_share" and prob.line == 12
    assert ei.value.render().startswith(f"{p}:12")


# ------------------------------------------------------------------ --set and variants


@pytest.mark.parametrize(
    "assignment, path, value",
    [
        ("sites.cn.budget.amount=40e9", ("sites", "cn", "budget", "amount"), 40e9),
        ("sites.cn.budget.amount=4.0e10", ("sites", "cn", "budget", "amount"), 40e9),
        ("sites.cn.budget.amount=40_000_000_000", ("sites", "cn", "budget", "amount"), 40e9),
        ("sites.cn.domestic_min_share=0.7", ("sites", "cn", "domestic_min_share"), 0.7),
        ("chips.a.unit_price=5", ("chips", "a", "unit_price"), 5.0),
        ("integer_units=false", ("integer_units",), False),
        ("chips.a.max_units=30", ("chips", "a", "max_units"), 30.0),  # a schema field not in the file
    ],
)
def test_set_overrides(assignment, path, value):
    loaded = io.load(fixture_path("core_two_chips.yaml"), sets=[assignment])
    obj = loaded.scenario
    for p in path:
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    assert obj == value
    assert loaded.applied[-1]["set"] == assignment.split("=")[0]


def test_set_changes_the_plan():
    from optimizer.plan import make_plan

    # budget 2000 -> 200 units of a (10 TOPS per CNY): 20,000 TOPS
    plan = make_plan(load_fixture("core_two_chips.yaml", sets=("sites.cn.budget.amount=2e3",)))
    assert plan.totals["effective_tops"] == pytest.approx(20_000)


@pytest.mark.parametrize("bad", ["sites.cn.budjet.amount=5", "chips.zz.unit_price=5", "nonsense=1"])
def test_set_unknown_path_is_bad_input(bad):
    with pytest.raises(InputError) as ei:
        io.load(fixture_path("core_two_chips.yaml"), sets=[bad])
    assert "unknown path" in ei.value.render()


def test_set_without_equals_is_bad_input():
    with pytest.raises(InputError, match="PATH=VALUE"):
        io.load(fixture_path("core_two_chips.yaml"), sets=["sites.cn.budget.amount"])


def test_set_value_is_validated():
    with pytest.raises(InputError) as ei:
        io.load(fixture_path("core_two_chips.yaml"), sets=["sites.cn.budget.amount=-5"])
    assert "sites.cn.budget.amount" in [p.path for p in ei.value.problems]


def test_set_does_not_touch_the_file():
    p = fixture_path("core_two_chips.yaml")
    before = p.read_bytes()
    io.load(p, sets=["sites.cn.budget.amount=5"])
    assert p.read_bytes() == before


def test_variant_then_set():
    loaded = io.load(fixture_path("core_domestic.yaml"), variants=["units_basis"], sets=["sites.cn.budget.amount=900"])
    site = loaded.scenario.sites["cn"]
    assert site.domestic_basis == "units"  # from the variant
    assert site.budget.amount == 900  # --set is applied after the variant
    assert loaded.applied[0]["variant"] == "units_basis"
    assert loaded.applied[1] == {"set": "sites.cn.budget.amount", "value": 900}


def test_unknown_variant_lists_known_ones():
    with pytest.raises(InputError) as ei:
        io.load(fixture_path("core_domestic.yaml"), variants=["nope"])
    text = ei.value.render()
    assert "nope" in text and "units_basis" in text and "tops_basis" in text


def test_parse_value():
    assert io.parse_value("40e9") == 40e9
    assert io.parse_value("0.6") == 0.6
    assert io.parse_value("true") is True
    assert io.parse_value("CN") == "CN"
    assert io.parse_value("{amount: 5}") == {"amount": 5}


# ------------------------------------------------------------------ located lines in version-2 shapes

V2_LOCATED = textwrap.dedent(
    """\
    schema_version: 2
    name: loc
    periods: [q1, q2]
    flexibility: {gpgpu: 1.0}
    vendors:
      huawei:
        origin: CN
        capacity_units:
          q1: 100
          q2: -5
    chips:
      a: {vendor: huawei, architecture: gpgpu, int8_tops: 1, unit_price: 1}
    sites:
      cn:
        country: CN
        power_mw: lots
        budget: {amount: 10}
    export_controls:
      licenses:
        a_cn:
          chip: a
          country: CN
          status: deny
          form: q1
    """
)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_union_branches_aliases_and_licences_by_id_are_located_at_their_line(tmp_path, suffix):
    import yaml

    p = tmp_path / f"loc{suffix}"
    text = V2_LOCATED if suffix == ".yaml" else json.dumps(yaml.safe_load(V2_LOCATED), indent=2)
    p.write_text(text)
    lines = text.splitlines()

    def line(fragment):
        (n,) = [i + 1 for i, t in enumerate(lines) if fragment in t]
        return n

    with pytest.raises(InputError) as ei:
        io.load(p)
    assert [(q.line, q.path, q.message, q.hint) for q in ei.value.problems] == [
        # a number-or-mapping field given as a mapping: the period's own line (pydantic's union tag is dropped)
        (line('q2": -5' if suffix == ".json" else "q2: -5"), "vendors.huawei.capacity_units.q2",
         "-5: must be greater than or equal to 0", ""),
        (line("lots"), "sites.cn.power_mw", "'lots': expected a number", ""),
        # licences given as a mapping id -> licence; 'form' is near the alias 'from' of the field from_
        (line("form"), "export_controls.licenses.a_cn.form", "unknown field 'form'", "did you mean from?"),
    ]
