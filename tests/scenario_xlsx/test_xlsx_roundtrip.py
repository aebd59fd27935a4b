"""YAML -> xlsx -> data gives the same scenario (and the same plan), in both workbook forms."""
from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from optimizer import io, make_plan
from optimizer.errors import InputError
from optimizer.loader import read_source
from optimizer.scenario_xlsx.read import read_workbook
from optimizer.scenario_xlsx.template import example
from optimizer.scenario_xlsx.write import add_scenario_sheets, scenario_data, write_scenario_workbook
from optimizer.schema import Scenario
from optimizer.validate import validate_data

from conftest import FIXTURES, SCENARIOS, units_of

YAMLS = sorted(SCENARIOS.glob("*.yaml")) + sorted(FIXTURES.glob("*.yaml"))


def _sheets(tmp_path: Path, data, name="s.xlsx") -> Path:
    p = tmp_path / name
    write_scenario_workbook(p, data)
    return p


def _stacked(tmp_path: Path, data, name="plan.xlsx") -> tuple[Path, dict]:
    """A plan-like workbook: other sheets first, then the scenario as one stacked Inputs sheet."""
    p = tmp_path / name
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Summary").write_string(0, 0, "Effective TOPS")
    wb.add_worksheet("Allocation").write_number(0, 0, 42)
    refs = add_scenario_sheets(wb, data, stacked="Inputs")
    wb.add_worksheet("About").write_string(0, 0, "chipalloc")
    wb.close()
    return p, refs


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.name)
def test_every_shipped_scenario_and_fixture_round_trips(path, tmp_path):
    src = read_source(path)
    want = validate_data(src.data, src)
    for p in (_sheets(tmp_path, src.data), _stacked(tmp_path, src.data)[0]):
        back = read_source(p)
        assert validate_data(back.data, back) == want


V2 = {
    "schema_version": 2,
    "name": "every v2 feature",
    "description": "multi-line\ntext with = + - @ and 'quotes'",
    "currency": "CNY",
    "fx": {"USD": 7.2, "EUR": 7.81},
    "integer_units": False,
    "periods": ["2025q1", "2025q2", "2025q3"],
    "objective": "delivered",
    "buyer": {"name": "Buyer Co", "headquarters": "CN"},
    "flexibility": {"gpgpu": 1.0, "asic": 0.75},
    "vendors": {
        "huawei": {"origin": "CN", "capacity_units": {"2025q1": 10, "2025q3": 30}, "delivery_rate": 0.85,
                   "delivery_sd": 0.05, "max_share": 0.7, "lead_time": 1},
        "nvidia": {"name": "NVIDIA", "origin": "US", "capacity_units": 500},
    },
    "chips": {
        "a": {"vendor": "huawei", "architecture": "asic", "int8_tops": 1600, "unit_price": 28600, "price_currency": "USD",
              "price_by_period": {"2025q2": 27000, "2025q3": 26000}, "min_order_units": 5, "lot_size": 8,
              "available_from": "2025q1", "available_until": "2025q2", "power_w": 800},
        "b": {"vendor": "nvidia", "model": "=HYPERLINK(\"x\")", "architecture": "gpgpu", "int8_tops": 296,
              "unit_price": 110000, "tpp": 2368, "die_area_mm2": 814, "power_w": 400, "min_units": 1, "max_units": 900},
    },
    "sites": {
        "cn": {"country": "CN", "budget": {"amount": 4e9, "per_period": {"2025q1": 1e9, "2025q2": 2e9}},
               "domestic_min_share": 0.6, "domestic_basis": "tops", "power_mw": {"2025q1": 10, "2025q2": 20, "2025q3": 30},
               "prices": {"b": 105000}, "chips": ["a", "b"], "vendor_max_share": {"nvidia": 0.4}},
        "sg": {"name": "Singapore", "country": "SG", "budget": {"amount": 1e8, "currency": "USD"}, "chips": []},
    },
    "leases": {"l1": {"site": "sg", "chip": "b", "operator": "Operator", "price_per_period": 900, "price_currency": "USD",
                      "max_units": 50, "available_from": "2025q2", "counts_toward_tpp_cap": False, "delivery_rate": 0.99}},
    "budget": {"amount": 5e9, "currency": "CNY", "per_period": {"2025q3": 1e9}},
    "export_controls": {
        "regime": "rules", "origins": ["US"], "controlled_if": [{"tpp_min": 4800}, {"tpp_min": 1600, "density_min": 5.92}],
        "default_tier": 1, "tiers": {"CN": 3, "SG": 2}, "tier_rules": {1: "allow", 2: "cap", 3: "deny"},
        "tpp_caps": {"SG": 790e6}, "headquarters_countries": ["CN"],
        "licenses": {"l-b-cn": {"chip": "b", "country": "CN", "status": "allow", "note": "granted", "from": "2025q2",
                                "until": "2025q3"}},
    },
    "uncertainty": {
        "revealed": "2025q2", "refund_on_denial": 0.5, "risk": {"measure": "cvar", "alpha": 0.95, "weight": 0.5},
        "outcomes": {"ok": {"probability": 0.7},
                     "no": {"probability": 0.3, "description": "denied",
                            "changes": {"export_controls.licenses.l-b-cn.status": "deny", "chips.b.unit_price": 1.2e5}}},
    },
    "variants": {"empty": {}, "mix": {"sites.cn.chips": ["a"], "export_controls.tier_rules": {1: "allow", 2: "allow", 3: "deny"},
                                      "name": "2025", "sites.cn.domestic_min_share": None, "integer_units": True}},
}


@pytest.mark.parametrize("form", ["sheets", "stacked"])
def test_every_v2_feature_round_trips_as_the_same_data(form, tmp_path):
    want = validate_data(V2)
    p = _sheets(tmp_path, V2) if form == "sheets" else _stacked(tmp_path, V2)[0]
    back = read_source(p)
    assert validate_data(back.data, back) == want
    assert back.data["sites"]["sg"]["chips"] == []  # an explicitly empty list is not the default (every chip)
    assert back.data["export_controls"]["licenses"] == V2["export_controls"]["licenses"]  # a mapping stays one
    assert back.data["variants"] == V2["variants"]
    assert back.data["uncertainty"]["outcomes"] == V2["uncertainty"]["outcomes"]
    assert back.data["description"] == V2["description"]


def test_a_model_given_empty_stays_given(tmp_path):
    data = copy.deepcopy(V2)
    data["export_controls"] = {}
    data["uncertainty"]["risk"] = {}
    back = read_source(_sheets(tmp_path, data))
    assert back.data["export_controls"] == {"regime": "export controls"}  # the first field, at its default
    assert Scenario.model_validate(back.data) == Scenario.model_validate(data)


def test_an_empty_table_that_is_not_its_default_is_a_row_of_its_owner(tmp_path):
    data = copy.deepcopy(V2)
    data["export_controls"]["licenses"] = {}  # a mapping, so outcomes can add licences by id; the default is []
    data["uncertainty"]["outcomes"]["no"]["changes"] = {"export_controls.licenses.new": {"chip": "b", "country": "CN",
                                                                                         "status": "deny"}}
    p = _sheets(tmp_path, data)
    back = read_source(p)
    assert back.data["export_controls"]["licenses"] == {}
    assert validate_data(back.data, back) == validate_data(data)
    assert back.cells[("export_controls", "licenses")] == "'Export controls'!B6"
    from openpyxl import load_workbook as _load

    wb = _load(p)
    wb["Licences"]["A2"], wb["Licences"]["B2"], wb["Licences"]["C2"], wb["Licences"]["D2"] = "x", "b", "CN", "deny"
    wb.save(p)
    with pytest.raises(InputError) as e:
        read_source(p)
    assert e.value.render() == (f"{p}: 'Export controls'!B6: export_controls.licenses: licenses is given empty here and "
                                "with rows on the Licences sheet; keep one")


def test_licences_as_a_list_stay_a_list(tmp_path):
    data = copy.deepcopy(V2)
    data["export_controls"]["licenses"] = [{"chip": "b", "country": "CN", "status": "deny"},
                                           {"chip": "a", "country": "SG", "status": "cap"}]
    back = read_source(_sheets(tmp_path, data))
    assert back.data["export_controls"]["licenses"] == data["export_controls"]["licenses"]


def test_every_v2_feature_round_trips_from_a_validated_scenario(tmp_path):
    sc = Scenario.model_validate(V2)
    data = scenario_data(sc)
    assert data["sites"]["sg"]["chips"] == [] and data["variants"]["empty"] == {}
    back = read_source(_stacked(tmp_path, sc)[0])
    assert Scenario.model_validate(back.data) == sc


def test_a_validated_scenario_is_written_with_every_default(tmp_path):
    sc = io.load(SCENARIOS / "bytedance-2025.yaml").scenario
    p, refs = _stacked(tmp_path, sc)
    assert "vendors.nvidia.capacity_units" not in refs  # None: nothing to write
    assert "chips.h20.lot_size" in refs and "export_controls.tier_rules.2" in refs  # defaults written
    back = read_source(p)
    assert validate_data(back.data, back) == sc
    assert scenario_data(sc)["chips"]["h20"]["lot_size"] == 1


@pytest.mark.parametrize("form", ["sheets", "stacked"])
def test_the_cell_map_points_at_each_value(form, tmp_path):
    data = copy.deepcopy(V2)
    if form == "stacked":
        p, refs = _stacked(tmp_path, data)
    else:
        import xlsxwriter as xw

        p = tmp_path / "s.xlsx"
        wb = xw.Workbook(str(p))
        refs = add_scenario_sheets(wb, data)
        wb.close()
    wb = load_workbook(p)
    assert refs["fx.USD"] == ("'Inputs'!$B$" if form == "stacked" else "'FX'!$B$") + refs["fx.USD"].split("$")[-1]

    def cell(ref: str):
        m = re.fullmatch(r"'((?:[^']|'')+)'!\$([A-Z]+)\$(\d+)", ref)
        assert m, ref
        return wb[m.group(1).replace("''", "'")][f"{m.group(2)}{m.group(3)}"].value

    assert cell(refs["fx.USD"]) == 7.2
    assert cell(refs["chips.a.unit_price"]) == 28600
    assert cell(refs["vendors.huawei.capacity_units.2025q3"]) == 30
    assert cell(refs["sites.cn.prices.b"]) == 105000
    assert cell(refs["export_controls.controlled_if.1.density_min"]) == 5.92
    assert cell(refs["export_controls.licenses.l-b-cn.from"]) == "2025q2"
    assert cell(refs["uncertainty.outcomes.no.probability"]) == 0.3
    assert cell(refs["uncertainty.outcomes.no.changes.chips.b.unit_price"]) == 1.2e5
    assert cell(refs["variants.mix.name"]) == "'2025'"
    assert cell(refs["sites.cn.chips"]) == "a, b"
    # every scalar of the data has a cell, and that cell holds it
    flat = _flatten(data)
    assert "variants.mix.name" in flat and "uncertainty.outcomes.no.changes.chips.b.unit_price" in flat
    assert "vendors.huawei.capacity_units.2025q1" in flat and len(flat) > 90
    for path, value in flat.items():
        assert path in refs, path
        got = cell(refs[path])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert got == pytest.approx(value, rel=1e-15), path
        elif isinstance(value, str) and not path.startswith("variants."):
            assert got == value, path


def _flatten(data: dict) -> dict:
    """Dotted path -> value of every scalar (lists of scalars left out); changes keep their dotted keys."""
    out: dict = {}

    def walk(v, p: str) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                q = f"{p}.{k}" if p else str(k)
                if p == "variants" or q.endswith(".changes"):
                    for kk, xx in (x.items() if isinstance(x, dict) else []):
                        if p == "variants":
                            out[f"{q}.{kk}"] = xx
                    if q.endswith(".changes"):
                        for kk, xx in x.items():
                            out[f"{q}.{kk}"] = xx
                    continue
                walk(x, q)
        elif isinstance(v, list):
            if v and isinstance(v[0], dict):
                for i, x in enumerate(v):
                    walk(x, f"{p}.{i}")
        else:
            out[p] = v

    walk(data, "")
    return out


@pytest.mark.parametrize("name, sets", [("core_all_rules.yaml", []), ("core_fx.yaml", [])])
def test_solving_the_workbook_gives_the_same_plan(name, sets, tmp_path, solver):
    y = io.load(FIXTURES / name)
    x = io.load(_sheets(tmp_path, y.source.data))
    a, b = make_plan(y, solver=solver), make_plan(x, solver=solver)
    assert units_of(a) == units_of(b)
    assert a.totals == b.totals


def test_a_shipped_scenario_and_its_plan_workbook_inputs_solve_the_same(tmp_path):
    y = io.load(SCENARIOS / "bytedance-2025.yaml", variants=["budget_cut_20"])
    p, _ = _stacked(tmp_path, y.source.data)
    x = io.load(p, variants=["budget_cut_20"])
    assert x.scenario == y.scenario
    a, b = make_plan(y), make_plan(x)
    assert units_of(a) == units_of(b) and a.totals["effective_tops"] == b.totals["effective_tops"]
    assert a.totals["effective_tops"] == pytest.approx(131_294_346, abs=1)  # README's compare table


def test_scenario_text_is_never_a_formula(tmp_path):
    src = read_source(FIXTURES / "report_hostile.yaml")
    p = _sheets(tmp_path, src.data)
    with zipfile.ZipFile(p) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(z.read(n).decode() for n in sheets)
        strings = z.read("xl/sharedStrings.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)" in strings or \
        '=HYPERLINK("http://evil.example","click")' in strings
    assert 'quotePrefix="1"' in styles
    wb = load_workbook(p)
    settings_ws = wb["Settings"]
    name_cell = next(r[1] for r in settings_ws.iter_rows(min_row=2) if r[0].value == "name")
    assert name_cell.data_type == "s" and name_cell.quotePrefix
    assert read_source(p).data["name"] == src.data["name"]


def test_control_characters_and_literal_escapes_survive(tmp_path):
    data = copy.deepcopy(V2)
    data["description"] = "bell\x07 and a literal _x0041_ and tab\t"
    back = read_source(_sheets(tmp_path, data))
    assert back.data["description"] == data["description"]


def test_the_template_example_round_trips(tmp_path):
    data = example()
    back = read_source(_sheets(tmp_path, data))
    assert Scenario.model_validate(back.data) == Scenario.model_validate(data)
    assert read_workbook(_sheets(tmp_path, data, "again.xlsx").read_bytes(), "again.xlsx")[0] == back.data


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
_number = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False).map(lambda x: float(f"{x:.15g}"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=_text, note=_text, price=_number, share=st.floats(0.01, 1.0).map(lambda x: round(x, 12)))
def test_any_text_and_number_round_trips(model, note, price, share, tmp_path):
    from conftest import base_data

    if not model.strip() or not note.strip():
        return  # a cell of spaces is an empty cell
    data = base_data()
    data["chips"]["b"]["model"] = model
    data["chips"]["b"]["unit_price"] = price
    data["sites"]["cn"]["domestic_min_share"] = share
    data["export_controls"] = {"licenses": [{"chip": "b", "country": "CN", "status": "deny", "note": note}]}
    data["variants"] = {"v": {"chips.b.model": model, "name": note}}
    p = tmp_path / "h.xlsx"
    if p.exists():
        p.unlink()
    write_scenario_workbook(p, data)
    back = read_source(p).data
    assert back["chips"]["b"]["model"] == model
    assert back["chips"]["b"]["unit_price"] == price
    assert back["sites"]["cn"]["domestic_min_share"] == share
    assert back["export_controls"]["licenses"][0]["note"] == note
    assert back["variants"] == data["variants"]
