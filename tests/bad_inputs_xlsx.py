"""Make the xlsx files of the bad-input corpus (tests/bad_inputs/xlsx-*).

Run ``python tests/bad_inputs_xlsx.py`` to write them into tests/bad_inputs/;
tests/scenario_xlsx/test_xlsx_bad_files.py builds them again into a temporary
folder and checks they still give the messages in expected.yaml.

Each starts from one small valid scenario written by chipalloc's own writer
(so the cells are where a planner's would be) and is then damaged the way a
spreadsheet, a person or an attacker would: with openpyxl, or byte by byte.
Chips sheet: row 2 is a910, row 3 is h20; column F is unit_price.
"""
from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from pathlib import Path
from typing import Callable

BASE = {
    "schema_version": 1,
    "name": "bad xlsx base",
    "currency": "CNY",
    "integer_units": True,
    "flexibility": {"gpgpu": 1.0},
    "vendors": {"huawei": {"origin": "CN"}, "nvidia": {"origin": "US"}},
    "chips": {
        "a910": {"vendor": "huawei", "architecture": "gpgpu", "int8_tops": 640, "unit_price": 120000},
        "h20": {"vendor": "nvidia", "architecture": "gpgpu", "int8_tops": 296, "unit_price": 110000},
    },
    "sites": {"cn": {"country": "CN", "budget": {"amount": 1e9}}},
}


def base_workbook(path: Path, data: dict | None = None) -> None:
    import xlsxwriter

    from optimizer.scenario_xlsx.write import add_scenario_sheets

    wb = xlsxwriter.Workbook(str(path))
    add_scenario_sheets(wb, data or BASE, validations=False)
    wb.close()


def _edit(path: Path, change: Callable) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    change(wb)
    wb.save(path)


def _chip_cell(wb, chip: str, column: str):
    ws = wb["Chips"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == chip:
            return row[header.index(column)]
    raise KeyError(chip)


def _set(chip: str, column: str, value) -> Callable:
    def change(wb) -> None:
        _chip_cell(wb, chip, column).value = value
    return change


def _header(sheet: str, col: int, value) -> Callable:
    def change(wb) -> None:
        wb[sheet].cell(row=1, column=col, value=value)
    return change


def _rewrite(path: Path, member: str, edit: Callable[[bytes], bytes]) -> None:
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for i in src.infolist():
            data = src.read(i.filename)
            out.writestr(i, edit(data) if i.filename == member else data)
    path.write_bytes(buf.getvalue())


def make(folder: Path) -> list[Path]:
    """Write every bad xlsx file into ``folder``; returns their paths."""
    from openpyxl import Workbook

    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []

    def fresh(name: str, data: dict | None = None) -> Path:
        p = folder / name
        if p.exists():
            p.unlink()
        base_workbook(p, data)
        made.append(p)
        return p

    p = folder / "xlsx-not-a-zip.xlsx"
    p.write_text("schema_version: 1\nname: a YAML file saved with the wrong name\n")
    made.append(p)

    p = folder / "xlsx-excel-97.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    made.append(p)

    p = folder / "xlsx-zip-bomb.xlsx"  # 60 MB of zeros, about 60 KB packed
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/sharedStrings.xml", b"\x00" * 60_000_000)
    p.write_bytes(buf.getvalue())
    made.append(p)

    p = fresh("xlsx-xml-bomb.xlsx")
    _rewrite(p, "xl/sharedStrings.xml", lambda b: b.replace(
        b"<sst ", b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><sst ', 1))

    p = folder / "xlsx-no-scenario-sheets.xlsx"
    wb = Workbook()
    wb.active.title = "Read me"
    wb.active["A1"] = "nothing here"
    wb.save(p)
    made.append(p)

    _edit(fresh("xlsx-unknown-sheet.xlsx"), lambda wb: wb.create_sheet("Chps"))
    _edit(fresh("xlsx-unknown-column.xlsx"), _header("Chips", 6, "unit_prize"))
    _edit(fresh("xlsx-text-for-number.xlsx"), _set("h20", "unit_price", "about 95k"))
    _edit(fresh("xlsx-date-for-number.xlsx"), _set("h20", "unit_price", dt.datetime(2025, 3, 1)))
    _edit(fresh("xlsx-formula-no-value.xlsx"), _set("h20", "unit_price", "=100000*1.1"))
    _edit(fresh("xlsx-unknown-vendor.xlsx"), _set("h20", "vendor", "nvidai"))
    _edit(fresh("xlsx-missing-int8-tops.xlsx"), _set("h20", "int8_tops", None))
    _edit(fresh("xlsx-duplicate-id.xlsx"), _set("h20", "id", "a910"))
    _edit(fresh("xlsx-row-without-id.xlsx"), _set("h20", "id", None))

    def merge(wb) -> None:
        wb["Settings"].merge_cells("B2:C2")
    _edit(fresh("xlsx-merged-cells.xlsx"), merge)

    def far(wb) -> None:
        wb["Chips"].cell(row=1_048_576, column=16_384, value="x")
    _edit(fresh("xlsx-huge-sheet.xlsx"), far)

    def both(wb) -> None:
        ws = wb["Vendors"]
        header = [c.value for c in ws[1]]
        col = header.index("capacity_units") + 1
        ws.cell(row=2, column=col, value=100)
        ws.insert_cols(col + 1)
        ws.cell(row=1, column=col + 1, value="capacity_units.2025h1")
        ws.cell(row=2, column=col + 1, value=50)
    _edit(fresh("xlsx-one-value-and-per-period.xlsx"), both)

    p = fresh("xlsx-excel-error.xlsx")  # a formula whose stored value is #DIV/0! (as Excel leaves it)
    _rewrite(p, "xl/worksheets/sheet5.xml", lambda b: b.replace(
        b'<c r="F3" s="', b'<c r="F3" t="e" s="', 1).replace(b"<v>110000</v>", b"<f>1/0</f><v>#DIV/0!</v>", 1))

    p = folder / "xlsx-inputs-unknown-block.xlsx"  # a plan workbook whose Inputs sheet has a misspelt block title
    if p.exists():
        p.unlink()
    import xlsxwriter

    from optimizer.scenario_xlsx.write import add_scenario_sheets

    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet("Summary").write_string(0, 0, "a plan summary")
    add_scenario_sheets(wb, BASE, stacked="Inputs")
    wb.close()
    made.append(p)

    def misspell(wb) -> None:
        ws = wb["Inputs"]
        for row in ws.iter_rows(min_col=1, max_col=1):
            if row[0].value == "Chips":
                row[0].value = "Chps"
                return
    _edit(p, misspell)
    return made


if __name__ == "__main__":  # pragma: no cover
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here.parent))
    for f in make(here / "bad_inputs"):
        print(f)
