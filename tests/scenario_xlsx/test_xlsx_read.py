"""Reading workbooks written by hand (openpyxl here, as a person or another tool would): data, cells, refusals."""
from __future__ import annotations

import datetime as dt
import io as _io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import Workbook

from optimizer import io
from optimizer.errors import InputError
from optimizer.loader import read_source
from optimizer.scenario_xlsx import read as R

SETTINGS = [["field", "value"], ["schema_version", 1], ["name", "hand made"], ["integer_units", False]]
FLEX = [["architecture", "multiplier"], ["gpgpu", 1]]
VENDORS = [["id", "origin", "capacity_units"], ["dom", "CN", None], ["us", "US", 100]]
CHIPS = [["id", "vendor", "architecture", "int8_tops", "unit_price"],
         ["a", "dom", "gpgpu", 100, 10], ["b", "us", "gpgpu", 300, 40]]
SITES = [["id", "country", "budget.amount", "chips"], ["cn", "CN", 1000, None]]


def book(tmp_path: Path, sheets: dict[str, list[list]], name: str = "w.xlsx") -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
    p = tmp_path / name
    wb.save(p)
    return p


def base(**more) -> dict[str, list[list]]:
    sheets = {"Settings": SETTINGS, "Flexibility": FLEX, "Vendors": VENDORS, "Chips": CHIPS, "Sites": SITES}
    sheets.update(more)
    return {k: v for k, v in sheets.items() if v is not None}


def errors(path: Path) -> list[str]:
    with pytest.raises(InputError) as e:
        io.load(path)
    return [p.render(str(path)) for p in e.value.problems]


def test_a_hand_made_workbook_loads(tmp_path):
    p = book(tmp_path, base())
    loaded = io.load(p)
    sc = loaded.scenario
    assert sc.name == "hand made" and sc.integer_units is False
    assert sc.vendors["us"].capacity_units == 100 and sc.vendors["dom"].capacity_units is None
    assert sc.chips["b"].unit_price == 40 and sc.sites["cn"].budget.amount == 1000
    assert loaded.source.cells[("chips", "b", "unit_price")] == "Chips!E3"
    assert loaded.source.where(("chips", "b", "nonexistent")) == "Chips!A3"  # the row, for a field not given
    assert loaded.source.where(("sites",)) == "Sites!A1"
    assert loaded.source.lines == {} and len(loaded.source.sha256) == 64


def test_the_plan_is_the_yaml_plan(tmp_path):
    from optimizer import make_plan

    from conftest import base_data, units_of

    data = base_data()  # the same scenario as plain data: a=10 TOPS per CNY wins the whole budget
    p = book(tmp_path, base(FX=[["currency", "rate"], ["USD", 7.0]]))
    plan = make_plan(io.load(p))
    assert io.load(p).scenario.fx == data["fx"]
    assert units_of(plan) == {("cn", "a"): pytest.approx(100.0)}
    assert plan.totals["effective_tops"] == pytest.approx(10_000)


def test_a_formula_with_its_stored_value_is_read_as_that_value(tmp_path):
    p = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    for title, rows in base().items():
        ws = wb.add_worksheet(title)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif v is not None:
                    ws.write_number(r, c, v)
    wb.get_worksheet_by_name("Chips").write_formula(2, 4, "=20*2", None, 40)
    wb.close()
    assert io.load(p).scenario.chips["b"].unit_price == 40


def test_free_text_above_the_blocks_of_an_inputs_sheet_is_ignored_and_so_are_other_sheets(tmp_path):
    rows = [["Scenario inputs"], ["a note a planner wrote"], []]
    for title, block in base().items():
        rows += [[title]] + block + [[]]
    p = book(tmp_path, {"Summary": [["Effective TOPS", 1]], "Inputs": rows, "Chps": [["junk"]]})
    sc = io.load(p).scenario
    assert sc.chips["a"].int8_tops == 100
    assert io.load(p).source.cells[("chips", "a", "int8_tops")] == "Inputs!D21"


@pytest.mark.parametrize(
    "sheets, want",
    [
        (base(Settings=SETTINGS + [["nmae", "x"]]),
         ["Settings!A5: unknown field 'nmae' (did you mean name?)"]),
        (base(Settings=SETTINGS + [["vendors", "x"]]),
         ["Settings!A5: unknown field 'vendors' (vendors go on the Vendors sheet)"]),
        (base(Settings=SETTINGS + [["name", "again"]]),
         ["Settings!A5: name: field 'name' is given twice (first in row 3); keep one"]),
        (base(Settings=SETTINGS + [[None, "orphan"]]),
         ["Settings!B5: a value with no field name; write the field (e.g. name) in the field column"]),
        (base(Sites=[["id", "country", "budget.amount", "prices.a"], ["cn", "CN", 1000, 5]]),
         ["Sites!D1: sites: unknown column 'prices.a' (prices go on the Prices sheet)"]),
        (base(Sites=[["id", "country", "country"], ["cn", "CN", "CN"]]),
         ["Sites!C1: sites: column 'country' appears twice (first in column 2)"]),
        (base(Sites=[["id", "country", None, "budget.amount"], ["cn", "CN", "x", 1000]]),
         ["Sites!C2: sites: a value in a column with no header; give the column a header or clear the cell"]),
        (base(Sites=[["country", "budget.amount"], ["CN", 1000]]),
         ["Sites!A1: sites: the Sites table has no 'id' column; its header row starts id"]),
        (base(FX=[["currency", "rate"], [None, 7.2]]),
         ["FX!B2: fx: a rate with no currency; write the currency in column 'currency'"]),
        (base(Prices=[["site", "chip", "price"], ["cm", "a", 9]]),
         ["Prices!A2: sites.cm: unknown site 'cm': not on the Sites sheet (known: cn)"]),
        (base(Prices=[["site", "chip", "price"], ["cn", "a", 9], ["cn", "a", 8]]),
         ["Prices!B3: sites.cn.prices.a: site 'cn' and chip 'a' are given twice (first in row 2); keep one"]),
        (base(Variants=[["variant", "path", "value"], ["v", None, 5]]),
         ["Variants!C2: variants.v: a value with no path; write the dotted path it sets, e.g. chips.h20.unit_price"]),
        (base(Variants=[["variant", "path", "value"], ["v", "name", None]]),
         ["Variants!C2: variants.v: no value for name; write the value (null clears the field)"]),
        (base(Variants=[["variant", "path", "value"], ["v", "name", "x"], ["v", "name", "y"]]),
         ["Variants!B3: variants.v: path 'name' is given twice for variant 'v' (first in row 2); keep one"]),
        (base(Outcomes=[["outcome", "probability", "path", "value"], ["o", 0.5, "name", "x"], ["o", 0.4, "name2", "y"]]),
         ["Outcomes!B3: uncertainty.outcomes.o.probability: probability of outcome 'o' is 0.5 in row 2 and 0.4 here; "
          "give it once"]),
        (base(Licences=[["id", "chip", "country", "status"], ["l1", "a", "CN", "deny"], [None, "b", "CN", "deny"]]),
         ["Licences!A3: export_controls.licenses: a licence with no id; give every row an id (a mapping) or none (a list)"]),
        (base(Chips=CHIPS + [[], ["Vendors"], ["id", "origin"], ["x", "CN"]]),
         ["Chips!A5: the Vendors table goes on its own sheet 'Vendors', not on 'Chips'"]),
        (base(**{"Export controls": [["field", "value"], ["regime", "r"], [], ["export_controls.tiers"],
                                     ["country", "tier"], ["CN", 3], ["export_controls.tiers"], ["country", "tier"]]}),
         ["'Export controls'!A7: a second export_controls.tiers block (the first starts in row 4); keep one"]),
        (base(**{"Export controls": [["field", "value"], ["regime", "r"], ["Export Controls.tiers"]]}),
         ["'Export controls'!A3: unknown block title 'Export Controls.tiers' (did you mean export_controls.tiers?)"]),
    ],
    ids=lambda v: v[0][:40] if isinstance(v, list) and v and isinstance(v[0], str) else None,
)
def test_located_refusals(sheets, want, tmp_path):
    p = book(tmp_path, sheets)
    got = errors(p)
    assert got == [f"{p}: {w}" for w in want]


def test_a_key_with_no_value_is_an_error_at_its_cell(tmp_path):
    p = book(tmp_path, base(FX=[["currency", "rate"], ["USD", None]], Chips=CHIPS))
    got = errors(p)
    assert got == [f"{p}: FX!B2: fx.USD: nothing: expected a number"]  # as YAML's "fx: {USD: }" says


def test_licences_without_ids_are_a_list_and_with_ids_a_mapping(tmp_path):
    rows = [["id", "chip", "country", "status", "from"], [None, "b", "CN", "deny", None]]
    p = book(tmp_path, base(Licences=rows))
    assert io.read_source(p).data["export_controls"]["licenses"] == [{"chip": "b", "country": "CN", "status": "deny"}]
    rows[1][0] = "deny-b"
    rows[1][4] = "2025q1"
    p = book(tmp_path, base(Licences=rows), "m.xlsx")
    assert io.read_source(p).data["export_controls"]["licenses"] == {
        "deny-b": {"chip": "b", "country": "CN", "status": "deny", "from": "2025q1"}}


def test_validation_messages_name_cells_for_every_kind_of_place(tmp_path):
    p = book(tmp_path, base(
        Settings=SETTINGS + [["currency", "yuan"]],
        Vendors=[["id", "origin", "delivery_rate"], ["dom", "China", 0.9], ["us", "US", 1.5]],
        Variants=[["variant", "path", "value"], ["cut", "sites.cn.budget.amount", -1]],
    ))
    got = errors(p)
    assert f"{p}: Settings!B5: currency: 'yuan' is not a three-letter currency code such as CNY, USD" in got
    assert f"{p}: Vendors!B2: vendors.dom.origin: 'China' is not a two-letter ISO country code such as CN, US, MY" in got
    assert f"{p}: Vendors!C3: vendors.us.delivery_rate: 1.5: must be less than or equal to 1" in got
    # a bad value from a variant names the Variants cell it came from
    p2 = book(tmp_path, base(Variants=[["variant", "path", "value"], ["cut", "sites.cn.budget.amount", -1]]), "v.xlsx")
    with pytest.raises(InputError) as e:
        io.load(p2, variants=["cut"])
    assert e.value.render() == f"{p2}: Variants!C2: variants.cut.sites.cn.budget.amount: -1: must be greater than 0"


def test_lists_read_from_one_cell(tmp_path):
    p = book(tmp_path, base(Sites=[["id", "country", "budget.amount", "chips"], ["cn", "CN", 1000, "a, b"]],
                            Settings=SETTINGS + [["description", "x"]]))
    assert io.load(p).scenario.sites["cn"].chips == ["a", "b"]
    p = book(tmp_path, base(Sites=[["id", "country", "budget.amount", "chips"], ["cn", "CN", 1000, "[]"]]), "e.xlsx")
    assert io.load(p).scenario.sites["cn"].chips == []


def test_dates_where_text_belongs_are_refused_too(tmp_path):
    p = book(tmp_path, base(Settings=SETTINGS + [["description", dt.datetime(2025, 4, 1, 12, 30)]]))
    assert errors(p) == [f"{p}: Settings!B5: description: a date (2025-04-01T12:30:00) where text belongs; Excel took "
                         "the entry for a date: format the cell as Text and type it again"]


def test_more_than_ten_problems_are_counted(tmp_path):
    rows = [["field", "value"]] + [[f"bad{i}", 1] for i in range(14)]
    p = book(tmp_path, base(Settings=rows))
    with pytest.raises(InputError) as e:
        io.load(p)
    assert len(e.value.problems) == 14
    assert e.value.render().splitlines()[-1] == "... and 4 more problems"


# ---------------------------------------------------------------- hostile files


def test_rows_and_columns_beyond_the_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "MAX_ROWS", 5)
    p = book(tmp_path, base(Chips=CHIPS + [[]] * 3 + [["z", "dom", "gpgpu", 1, 1]]))
    assert errors(p) == [f"{p}: Chips!A1: the sheet reaches E7; a scenario sheet has at most 5 rows and 1,000 "
                         "columns (delete the cells beyond the tables)"]


def test_a_sheet_whose_dimension_lies_is_still_bounded(tmp_path, monkeypatch):
    """A <dimension> claiming one cell while data sits far below: rows are walked without building empty ones."""
    p = book(tmp_path, base(Chips=CHIPS))
    raw = p.read_bytes()
    src = zipfile.ZipFile(_io.BytesIO(raw))
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for i in src.infolist():
            data = src.read(i.filename)
            if b"<c r=\"E3\"" in data:  # the Chips sheet
                data = data.replace(b'<dimension ref="A1:E3"/>', b'<dimension ref="A1"/>')
                data = data.replace(b"</sheetData>", b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t>'
                                                     b"</is></c></row></sheetData>")
            out.writestr(i, data)
    p.write_bytes(buf.getvalue())
    assert errors(p) == [f"{p}: Chips!A1: data in row 900,000; a scenario sheet has at most 10,000 rows"]


def test_too_many_members_and_encrypted_members(tmp_path):
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(R.MAX_MEMBERS + 1):
            z.writestr(f"f{i}", b"")
    p = tmp_path / "many.xlsx"
    p.write_bytes(buf.getvalue())
    with pytest.raises(InputError, match=r"holds 2,001 files"):
        read_source(p)
    q = book(tmp_path, base())
    raw = bytearray(q.read_bytes())
    # set the 'encrypted' flag of the first member in its local header and in the central directory
    raw[6] |= 1
    cd = raw.rfind(b"PK\x01\x02", 0, len(raw))
    first_cd = raw.find(b"PK\x01\x02")
    raw[first_cd + 8] |= 1
    assert cd >= first_cd
    q.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="encrypted"):
        read_source(q)


def test_a_zip_that_is_not_a_workbook(tmp_path):
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    p = tmp_path / "hello.xlsx"
    p.write_bytes(buf.getvalue())
    msg = errors(p)[0]
    assert msg.startswith(f"{p}: cannot read the workbook: ") and msg.endswith("save it again from Excel or LibreOffice as .xlsx")


def test_a_workbook_named_yaml_is_still_read_as_a_workbook(tmp_path):
    p = book(tmp_path, base(), "scenario.yaml")
    assert io.load(p).scenario.name == "hand made"


def test_workbook_size_limit_is_checked_before_reading(tmp_path, monkeypatch):
    from optimizer import loader

    p = book(tmp_path, base())
    monkeypatch.setattr(loader, "MAX_XLSX_BYTES", 100)
    monkeypatch.setattr(R, "read_workbook", lambda *a: (_ for _ in ()).throw(AssertionError("parsed")))
    with pytest.raises(InputError, match=r"a scenario workbook is at most 100 bytes"):
        read_source(p)


def test_an_inputs_sheet_in_another_layout_gets_one_message(tmp_path):
    """E.g. the Inputs sheet of a plan workbook from before plan workbooks could be re-solved."""
    rows = [["Scenario inputs"], ["The scenario as solved"], [], ["Scenario"], ["Setting", "Value"], ["Name", "x"], [],
            ["Flexibility"], ["Architecture", "Multiplier"], ["gpgpu", 1], [], ["Vendors"], ["Vendor", "Name"], ["dom", "D"]]
    p = book(tmp_path, {"Summary": [["a"]], "Inputs": rows})
    assert errors(p) == [f"{p}: Inputs!A1: this Inputs sheet does not hold a scenario in chipalloc's layout (no Settings "
                         "block: a title row Settings, then a header row field, value); solve the scenario file this "
                         "workbook was made from"]
