"""Shared xlsx helpers: text safety, tables, widths, provenance."""
from __future__ import annotations

import shlex

import pytest
from openpyxl import Workbook, load_workbook

from optimizer.report import xlsx
from optimizer.report.xlsx import (
    EXCEL_INF,
    EXCEL_MAX_TEXT,
    HEADER_FILL,
    about_sheet,
    cell_text,
    command_line,
    excel_number,
    find_column,
    fit_columns,
    formula,
    header,
    money_header,
    note_cell,
    put,
    section,
    table,
)


def _roundtrip(tmp_path, build):
    wb = Workbook()
    build(wb.active)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return load_workbook(path).active


FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+SUM(1)", "@cmd", "-1+2", "=1+1", "\t=1", "=", "-"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_put_keeps_formula_like_text_as_text_after_save(tmp_path, text):
    ws = _roundtrip(tmp_path, lambda ws: put(ws, 1, 1, text))
    c = ws["A1"]
    assert c.value == text
    assert c.data_type == "s"
    assert c.quotePrefix


def test_plain_text_and_numbers_are_unchanged(tmp_path):
    def build(ws):
        put(ws, 1, 1, "Huawei Ascend 910B")
        put(ws, 2, 1, 1234.5, xlsx.FMT_NUM)
        put(ws, 3, 1, 7)
        put(ws, 4, 1, True)
        put(ws, 5, 1, "1e9")  # stays the text it was

    ws = _roundtrip(tmp_path, build)
    assert (ws["A1"].value, ws["A1"].data_type, ws["A1"].quotePrefix) == ("Huawei Ascend 910B", "s", False)
    assert (ws["A2"].value, ws["A2"].number_format) == (1234.5, "#,##0.00")
    assert ws["A3"].value == 7
    assert ws["A4"].value is True
    assert (ws["A5"].value, ws["A5"].data_type) == ("1e9", "s")


def test_control_characters_do_not_break_the_save(tmp_path):
    ws = _roundtrip(tmp_path, lambda ws: put(ws, 1, 1, "a\x01b\x1fc\nd"))
    assert ws["A1"].value == "a\ufffdb\ufffdc\nd"


def test_text_longer_than_excel_allows_is_cut(tmp_path):
    ws = _roundtrip(tmp_path, lambda ws: put(ws, 1, 1, "x" * (EXCEL_MAX_TEXT + 10)))
    assert len(ws["A1"].value) == EXCEL_MAX_TEXT
    assert ws["A1"].value.endswith("\u2026")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_become_empty(value):
    assert cell_text(value) is None


def test_formula_writes_formulas_and_rejects_anything_else(tmp_path):
    ws = _roundtrip(tmp_path, lambda ws: (put(ws, 1, 1, 2), put(ws, 1, 2, 3), formula(ws, 1, 3, "=A1*B1", xlsx.FMT_INT)))
    assert ws["C1"].data_type == "f" and ws["C1"].value == "=A1*B1" and ws["C1"].number_format == "#,##0"
    with pytest.raises(ValueError):
        formula(Workbook().active, 1, 1, "A1*B1")


def test_table_header_freeze_and_autofilter(tmp_path):
    def build(ws):
        last = table(ws, ["Name", "Spend (CNY)"], [["a", 1.0], ["b", 2.0], ["c", 3.0]], [None, xlsx.FMT_MONEY])
        assert last == 4

    ws = _roundtrip(tmp_path, build)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B4"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == HEADER_FILL.fgColor.rgb
    assert ws["B3"].number_format == "#,##0"


def test_stacked_tables_keep_the_first_autofilter():
    ws = Workbook().active
    table(ws, ["A", "B"], [[1, 2]])
    table(ws, ["C"], [[3], [4]], start_row=5, autofilter=False)
    assert ws.auto_filter.ref == "A1:B2"
    assert ws.freeze_panes == "A2"  # a later table does not move the frozen row


def test_empty_table_still_has_a_filterable_header():
    ws = Workbook().active
    table(ws, ["A", "B"], [])
    assert ws.auto_filter.ref == "A1:B2"


def test_find_column_by_name_or_unit_suffix():
    ws = Workbook().active
    header(ws, 1, ["Site", "Unit price (CNY)", "Units", "Spend (CNY)"])
    assert find_column(ws, "Site") == 1
    assert find_column(ws, "Unit price") == 2
    assert find_column(ws, "Units") == 3  # not confused with "Unit price"
    assert find_column(ws, "Spend") == 4
    with pytest.raises(KeyError):
        find_column(ws, "Unit")


def test_money_header():
    assert money_header("Spend", "CNY") == "Spend (CNY)"


def test_fit_columns_follows_content_but_not_notes():
    ws = Workbook().active
    table(ws, ["Id", "Description"], [["a", "x" * 30], ["bb", "short"]])
    note_cell(ws, 5, 1, "a long note that should run on into the empty cells " * 3)
    section(ws, 7, "A section title that is long too")
    put(ws, 8, 1, 12_345_678.0)
    fit_columns(ws, max_width=60)
    assert ws.column_dimensions["B"].width == 32  # 30 characters + 2
    # column A: the widest value is "12,345,678.00" (13 chars) + 2; the note and the title do not count
    assert ws.column_dimensions["A"].width == 15


def test_fit_columns_caps_the_width():
    ws = Workbook().active
    put(ws, 1, 1, "y" * 500)
    fit_columns(ws, max_width=40)
    assert ws.column_dimensions["A"].width == 40


def test_excel_number_maps_infinity():
    assert excel_number(float("inf")) == EXCEL_INF
    assert excel_number(None) == EXCEL_INF
    assert excel_number(3.0) == 3.0


def test_command_line_is_shell_quoted():
    line = command_line(["/usr/local/bin/chipalloc", "solve", "my file.yaml", "--set", "name=a b"])
    assert line == "chipalloc solve 'my file.yaml' --set 'name=a b'"
    assert shlex.split(line)[1:] == ["solve", "my file.yaml", "--set", "name=a b"]


def test_legacy_about_sheet(tmp_path):
    wb = Workbook()
    about_sheet(wb, {"Solver": "highs", "Points": [1, 2]})
    path = tmp_path / "a.xlsx"
    wb.save(path)
    ws = load_workbook(path)["About"]
    items = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    assert items["Tool"].startswith("chipalloc ")
    assert items["Solver"] == "highs"
    assert items["Points"] == "[1, 2]"
    assert "Generated at" in items and "Command line" in items
