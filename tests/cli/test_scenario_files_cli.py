"""A planner's path through Excel: template -> fill in -> validate -> solve; convert; re-solve a plan workbook.

Step 2 (filling in) is done here with openpyxl the way a person edits cells,
and once through LibreOffice (slow; skipped when soffice is not installed).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner
from openpyxl import load_workbook

from optimizer.cli import cli
from optimizer.scenario_xlsx import layout as L
from optimizer.scenario_xlsx.write import add_scenario_sheets

from conftest import SCENARIOS

BYTEDANCE = SCENARIOS / "bytedance-2025.yaml"


def run(args: list[str]):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def solve_json(path: Path, *more: str) -> dict:
    r = run(["solve", path, "--json", "--no-report", *more])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def same_plan(a: dict, b: dict) -> None:
    assert a["status"] == b["status"] == "optimal"
    assert a["totals"] == b["totals"]
    assert a["allocation"] == b["allocation"]
    assert a["break_even"] == b["break_even"]


# ---------------------------------------------------------------- template


def test_template_writes_a_documented_valid_workbook(tmp_path):
    out = tmp_path / "plan.xlsx"
    r = run(["template", out])
    assert r.exit_code == 0, r.stderr
    assert r.stderr == f"wrote {out}: fill in the sheets (Read me first), then chipalloc validate {out}\n"
    v = run(["validate", out])
    assert v.exit_code == 0 and v.stdout == f"{out}: ok\n"
    solved = solve_json(out)  # the example solves as written: two periods, a lease, a licence, two outcomes
    assert solved["status"] == "optimal" and solved["totals"]["effective_tops"] > 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["Read me"] + L.sheet_names() + ["Lists"]
    assert wb["Lists"].sheet_state == "hidden" and wb.active.title == "Read me"
    for part in L.parts():  # an example row on every sheet and in every block
        if part.main:
            ws = wb[part.sheet]
            assert ws.max_row >= 2 and ws.freeze_panes in ("A2", "B2"), part.sheet
            assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
            assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # one page wide
            assert ws.print_title_rows in ("1:1", "$1:$1")
    readme = [c.value for c in wb["Read me"]["B"] if c.value]
    for lf in L.by_title()["Chips"].leaves:
        assert lf.name in readme or f"{lf.name}.<period>" in readme


def _validations(ws) -> dict[str, str]:
    """Header of each column -> its drop-down list (formula1) where it has one."""
    header = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            col = str(dv.sqref).split(":")[0].rstrip("0123456789")
            out[header.get(col, col)] = dv.formula1
    return out


def test_template_has_drop_downs_for_references_and_choices(tmp_path):
    out = tmp_path / "t.xlsx"
    run(["template", out])
    wb = load_workbook(out)
    chips = _validations(wb["Chips"])
    assert chips["vendor"] == "'Vendors'!$A$2:$A$1001"
    assert chips["architecture"] == "'Flexibility'!$A$2:$A$1001"
    sites = _validations(wb["Sites"])
    assert sites["country"] == "'Lists'!$A$2:$A$251"
    assert sites["domestic_basis"] == '"spend,units,tops"'
    assert _validations(wb["Licences"])["status"] == '"allow,cap,deny"'
    assert _validations(wb["Vendors"])["origin"] == "'Lists'!$A$2:$A$251"
    assert wb["Lists"]["A2"].value == "AD" and wb["Lists"]["A251"].value == "ZW" and wb["Lists"].max_row == 251


def test_template_refuses_to_overwrite_and_wants_xlsx(tmp_path):
    out = tmp_path / "t.xlsx"
    out.write_text("mine")
    r = run(["template", out])
    assert r.exit_code == 2 and r.stderr == f"error: {out}: already exists; pass --force to replace it\n"
    assert out.read_text() == "mine"
    assert run(["template", out, "--force"]).exit_code == 0
    r = run(["template", tmp_path / "t.yaml"])
    assert r.exit_code == 2 and "give a name ending in .xlsx" in r.stderr


# ---------------------------------------------------------------- step 2: fill it in


def _clear(ws, from_row: int = 2) -> None:
    for row in ws.iter_rows(min_row=from_row):
        for c in row:
            c.value = None


def _fill_table(ws, rows: list[dict]) -> None:
    """Write records under the existing header of a sheet, by column name, as a person would."""
    _clear(ws)
    header = [c.value for c in ws[1]]
    for i, rec in enumerate(rows, start=2):
        for k, v in rec.items():
            ws.cell(row=i, column=header.index(k) + 1, value=v)


def fill_template_with_bytedance(path: Path) -> None:
    """Overwrite the template's example rows with the baseline scenario, cell by cell (openpyxl, no chipalloc)."""
    wb = load_workbook(path)
    ws = wb["Settings"]
    values = {"schema_version": 1, "name": "ByteDance 2025 AI accelerator plan (China)",
              "description": "filled in by hand", "currency": "CNY", "integer_units": True,
              "periods": None, "uncertainty.revealed": None}
    for row in ws.iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    _fill_table(wb["FX"], [{"currency": "USD", "rate": 7.2}])
    _fill_table(wb["Flexibility"], [{"architecture": "gpgpu", "multiplier": 1}, {"architecture": "asic", "multiplier": 0.75}])
    _fill_table(wb["Vendors"], [
        {"id": "huawei", "name": "Huawei", "origin": "CN", "capacity_units": 200000, "delivery_rate": 0.85, "max_share": 0.7},
        {"id": "cambricon", "name": "Cambricon", "origin": "CN", "capacity_units": 142000, "delivery_rate": 0.9},
        {"id": "nvidia", "name": "NVIDIA", "origin": "US", "delivery_rate": 0.95},
    ])
    _fill_table(wb["Chips"], [
        {"id": "h20", "vendor": "nvidia", "model": "NVIDIA H20", "architecture": "gpgpu", "int8_tops": 296,
         "unit_price": 110000, "tpp": 2368, "die_area_mm2": 814, "power_w": 400},
        {"id": "h100", "vendor": "nvidia", "model": "NVIDIA H100 SXM", "architecture": "gpgpu", "int8_tops": 1979,
         "unit_price": 27500, "price_currency": "USD", "tpp": 15832, "die_area_mm2": 814, "power_w": 700},
        {"id": "ascend910b", "vendor": "huawei", "model": "Huawei Ascend 910B", "architecture": "asic", "int8_tops": 640,
         "unit_price": 120000, "die_area_mm2": 665.61, "power_w": 400},
        {"id": "ascend910c", "vendor": "huawei", "model": "Huawei Ascend 910C", "architecture": "asic", "int8_tops": 1600,
         "unit_price": 28600, "price_currency": "USD", "die_area_mm2": 1331, "power_w": 800, "max_units": 70000},
        {"id": "mlu370", "vendor": "cambricon", "model": "Cambricon MLU370-X8", "architecture": "asic", "int8_tops": 256,
         "unit_price": 45000, "power_w": 250},
    ])
    _fill_table(wb["Sites"], [{"id": "cn", "name": "Mainland China", "country": "CN", "budget.amount": 40e9,
                               "budget.currency": "CNY", "domestic_min_share": 0.6, "power_mw": 300}])
    for name in ("Prices", "Leases", "Licences", "Outcomes"):
        _clear(wb[name])
    ws = wb["Export controls"]
    _clear(ws, 1)
    rows = [["field", "value"], ["regime", "US EAR 3A090 (Oct 2023)"], ["origins", "US"], ["default_tier", 1], [],
            ["export_controls.controlled_if"], ["tpp_min", "density_min"], [4800], [1600, 5.92], [],
            ["export_controls.tiers"], ["country", "tier"], ["CN", 3], ["HK", 3], ["MO", 3], ["MY", 2], [],
            ["export_controls.tier_rules"], ["tier", "rule"], [1, "allow"], [2, "cap"], [3, "deny"], [],
            ["export_controls.tpp_caps"], ["country", "tpp_cap"], ["MY", 790e6]]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=v)
    _fill_table(wb["Variants"], [
        {"variant": "h20_licence_denied", "path": "export_controls.licenses",
         "value": "[{chip: h20, country: CN, status: deny, note: licence required since 2025-04; none granted}]"},
        {"variant": "budget_cut_20", "path": "sites.cn.budget.amount", "value": 32e9},
        {"variant": "domestic_70", "path": "sites.cn.domestic_min_share", "value": 0.7},
    ])
    wb.save(path)


def test_template_filled_in_validates_and_solves_like_the_yaml(tmp_path):
    out = tmp_path / "mine.xlsx"
    run(["template", out])
    fill_template_with_bytedance(out)
    v = run(["validate", out])
    assert v.exit_code == 0, v.stderr
    want = solve_json(BYTEDANCE)
    got = solve_json(out)
    same_plan(got, want)
    assert got["totals"]["effective_tops"] == pytest.approx(156_469_704, abs=1)  # as in the README
    same_plan(solve_json(out, "--variant", "h20_licence_denied"), solve_json(BYTEDANCE, "--variant", "h20_licence_denied"))


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_filled_in_and_saved_by_libreoffice(tmp_path):
    """A formula typed into a cell is refused until a spreadsheet has stored its value; LibreOffice does."""
    src = tmp_path / "in" / "mine.xlsx"
    src.parent.mkdir()
    run(["template", src])
    fill_template_with_bytedance(src)
    wb = load_workbook(src)
    ws = wb["Chips"]
    col = [c.value for c in ws[1]].index("unit_price") + 1
    ws.cell(row=2, column=col, value="=100000+10000")  # h20: openpyxl stores no value for it
    wb.save(src)
    r = run(["validate", src])
    assert r.exit_code == 2
    assert r.stderr == (f"error: {src}: Chips!F2: chips.h20.unit_price: a formula with no stored value; type the value, "
                        "or open and save the workbook in Excel or LibreOffice so the formula's value is stored\n")
    outdir = tmp_path / "out"
    profile = tmp_path / "profile"
    subprocess.run([_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
                    "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=240,
                   env={**os.environ, "HOME": str(tmp_path)})
    saved = outdir / "mine.xlsx"
    assert run(["validate", saved]).exit_code == 0
    same_plan(solve_json(saved), solve_json(BYTEDANCE))


# ---------------------------------------------------------------- step 6: re-solve the plan workbook


def plan_like_workbook(path: Path, data: dict) -> None:
    """What the solve workbook will be: report sheets, the stacked Inputs sheet, About."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Summary")
    ws.write_string(0, 0, "Effective TOPS")
    ws.write_formula(0, 1, "=Allocation!B1*2", None, 84)
    wb.add_worksheet("Allocation").write_number(0, 1, 42)
    refs = add_scenario_sheets(wb, data, stacked="Inputs")
    ws.write_formula(1, 1, f"={refs['fx.USD']}*28600", None, 7.2 * 28600)  # a price formula on the FX input cell
    wb.add_worksheet("About").write_string(0, 0, "chipalloc")
    wb.close()


def test_a_plan_workbook_is_re_solved_from_its_inputs_sheet_after_finance_changes_a_price(tmp_path):
    from optimizer.loader import read_source

    p = tmp_path / "plan.xlsx"
    plan_like_workbook(p, read_source(BYTEDANCE).data)
    same_plan(solve_json(p), solve_json(BYTEDANCE))
    wb = load_workbook(p)
    ws = wb["Inputs"]
    hdr_row = next(r for r in ws.iter_rows() if r[0].value == "Chips")[0].row + 1
    header = [c.value for c in ws[hdr_row]]
    h20 = next(r for r in ws.iter_rows(min_row=hdr_row + 1) if r[0].value == "h20")
    h20[header.index("unit_price")].value = 95000  # finance edits one cell
    wb.save(p)
    same_plan(solve_json(p), solve_json(BYTEDANCE, "--set", "chips.h20.unit_price=95000"))


# ---------------------------------------------------------------- convert and the other commands


def test_convert_both_ways_from_the_command_line(tmp_path):
    x, y = tmp_path / "b.xlsx", tmp_path / "b.yaml"
    r = run(["convert", BYTEDANCE, x])
    assert r.exit_code == 0 and r.stderr == f"{BYTEDANCE} -> {x} (xlsx): 3 vendors, 5 chips, 1 sites\n"
    assert run(["convert", x, y]).exit_code == 0
    same_plan(solve_json(y), solve_json(BYTEDANCE))
    r = run(["convert", BYTEDANCE, x])
    assert r.exit_code == 2 and r.stderr == f"error: {x}: already exists; pass --force to replace it\n"
    assert run(["convert", BYTEDANCE, x, "--force"]).exit_code == 0
    r = run(["convert", BYTEDANCE, tmp_path / "b.txt"])
    assert r.exit_code == 2 and "end it in .yaml, .yml, .json or .xlsx" in r.stderr
    assert "Comments in a YAML file are not kept" in " ".join(run(["convert", "--help"]).stdout.split())


def test_convert_of_a_bad_workbook_names_the_cell_and_writes_nothing(tmp_path):
    from conftest import TESTS

    bad = TESTS / "bad_inputs" / "xlsx-text-for-number.xlsx"
    r = run(["convert", bad, tmp_path / "x.yaml"])
    assert r.exit_code == 2
    assert r.stderr == f"error: {bad}: Chips!F3: chips.h20.unit_price: 'about 95k': expected a number\n"
    assert list(tmp_path.iterdir()) == []


def _no_paths(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("report", None)
    return doc


def test_every_command_reads_a_workbook(tmp_path):
    x = tmp_path / "b.xlsx"
    run(["convert", BYTEDANCE, x])
    for args in (["sweep", "--vary", "sites.cn.budget.amount=30e9,40e9"], ["tornado", "--param", "flexibility.asic"]):
        a = run([args[0], x, *args[1:], "--json", "--no-report"])
        b = run([args[0], BYTEDANCE, *args[1:], "--json", "--no-report"])
        assert a.exit_code == b.exit_code == 0, a.stderr
        assert _no_paths(json.loads(a.stdout)) == _no_paths(json.loads(b.stdout)) or \
            json.loads(a.stdout).get("points") == json.loads(b.stdout).get("points")
    c = run(["compare", x, f"{x}@budget_cut_20", "--json", "--no-report"])
    assert c.exit_code == 0, c.stderr
    d = run(["compare", BYTEDANCE, f"{BYTEDANCE}@budget_cut_20", "--json", "--no-report"])
    ca, cb = json.loads(c.stdout), json.loads(d.stdout)
    assert [s.get("effective_tops") for s in ca["scenarios"]] == [s.get("effective_tops") for s in cb["scenarios"]]
