"""convert: YAML, JSON and xlsx in every direction, checked by reading the output back; nothing half-written."""
from __future__ import annotations

import json

import pytest
import yaml

from optimizer import convert as C
from optimizer import io, make_plan
from optimizer.errors import ChipallocError, InputError, OutputError
from optimizer.loader import ScenarioLoader, read_source

from conftest import FIXTURES, SCENARIOS, units_of

BYTEDANCE = SCENARIOS / "bytedance-2025.yaml"


def test_yaml_to_xlsx_to_yaml_to_json_is_the_same_scenario_and_plan(tmp_path):
    want = io.load(BYTEDANCE).scenario
    x = C.convert(BYTEDANCE, tmp_path / "b.xlsx")
    y = C.convert(x.target, tmp_path / "b.yaml")
    j = C.convert(y.target, tmp_path / "b.json")
    back = C.convert(j.target, tmp_path / "again.xlsx")
    for p in (x.target, y.target, j.target, back.target):
        assert io.load(p).scenario == want, p
    assert units_of(make_plan(io.load(y.target))) == units_of(make_plan(io.load(BYTEDANCE)))
    text = y.target.read_text()
    assert text.startswith(f"# converted by chipalloc from {x.target} (comments in the original are not kept)\n")
    assert list(yaml.safe_load(text))[:4] == ["schema_version", "name", "description", "currency"]  # schema order
    assert "  origins: [US]\n" in text  # lists of plain values on one line
    assert json.loads(j.target.read_text())["chips"]["h20"]["unit_price"] == 110000


def test_strings_the_loader_would_misread_are_quoted(tmp_path):
    data = read_source(FIXTURES / "core_two_chips.yaml").data
    data["name"] = "40e9"
    data["description"] = "yes"
    data["vendors"][next(iter(data["vendors"]))]["name"] = "NO"
    src = tmp_path / "s.json"
    src.write_text(json.dumps(data))
    out = C.convert(src, tmp_path / "s.yaml").target
    back = yaml.load(out.read_text(), Loader=ScenarioLoader)  # noqa: S506 - a SafeLoader
    assert back["name"] == "40e9" and back["description"] == "yes"


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_every_shipped_scenario_converts_both_ways(name, tmp_path):
    want = io.load(SCENARIOS / name).scenario
    x = C.convert(SCENARIOS / name, tmp_path / "s.xlsx").target
    y = C.convert(x, tmp_path / "s.yaml").target
    assert io.load(y).scenario == want


def test_bad_input_is_refused_with_its_location_and_nothing_is_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BYTEDANCE.read_text().replace("unit_price: 110000", "unit_price: -5", 1))
    with pytest.raises(InputError) as e:
        C.convert(bad, tmp_path / "out.xlsx")
    assert "chips.h20.unit_price: -5: must be greater than 0" in e.value.render()
    assert not (tmp_path / "out.xlsx").exists()


def test_existing_output_needs_force_and_the_input_is_never_the_output(tmp_path):
    out = tmp_path / "b.xlsx"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        C.convert(BYTEDANCE, out)
    assert out.read_bytes() == b"keep me"
    C.convert(BYTEDANCE, out, force=True)
    assert io.load(out).scenario == io.load(BYTEDANCE).scenario
    with pytest.raises(OutputError, match="is the input file"):
        C.convert(out, out, force=True)


def test_the_output_format_comes_from_its_name(tmp_path):
    with pytest.raises(OutputError, match=r"end it in \.yaml, \.yml, \.json or \.xlsx"):
        C.convert(BYTEDANCE, tmp_path / "b.csv")
    assert C.format_of("A.YML") == "yaml"


def test_a_conversion_that_would_change_the_scenario_writes_nothing(tmp_path, monkeypatch):
    from optimizer.scenario_xlsx import read as R

    real = R.read_workbook

    def lossy(raw, name):
        data, cells = real(raw, name)
        data["chips"]["h20"]["unit_price"] = 1
        return data, cells

    monkeypatch.setattr(R, "read_workbook", lossy)
    with pytest.raises(ChipallocError, match=r"would change the scenario at chips\.h20\.unit_price \(110000\.0 became 1\.0\)"):
        C.convert(BYTEDANCE, tmp_path / "b.xlsx")
    assert list(tmp_path.iterdir()) == []  # neither the workbook nor a temporary file


def test_numbers_are_compared_at_the_precision_a_workbook_keeps():
    assert C.comparable(0.30000000000000004) == C.comparable(0.3)
    assert C.comparable(0.1) != C.comparable(0.1000000000000002)
    assert C.comparable({"a": [1, 2.5]}) == {"a": [1.0, 2.5]}
