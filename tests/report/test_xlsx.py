"""Shared xlsx building blocks (XlsxWriter), read back with openpyxl: text safety, formulas with values, tables,
widths, print setup."""
from __future__ import annotations

import re
import shlex
import zipfile

import pytest
from openpyxl import load_workbook

from optimizer.report import xlsx
from optimizer.report.xlsx import (
    EXCEL_INF,
    EXCEL_MAX_TEXT,
    HEADER_BG,
    Book,
    cell_text,
    command_line,
    excel_number,
    money_header,
)


def _save(tmp_path, build, name="t.xlsx"):
    book = Book()
    sh = book.add_sheet("S")
    build(sh)
    path = tmp_path / name
    book.save(str(path))
    return path


def _roundtrip(tmp_path, build, data_only=False):
    return load_workbook(_save(tmp_path, build), data_only=data_only)["S"]


def _sheet_xml(path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml").decode("utf-8")


FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+SUM(1)", "@cmd", "-1+2", "=1+1", "\t=1", "=", "-"]


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_put_keeps_formula_like_text_as_text(tmp_path, text):
    path = _save(tmp_path, lambda sh: sh.put(1, 1, text))
    c = load_workbook(path)["S"]["A1"]
    assert c.value == text
    assert c.data_type == "s"
    assert c.quotePrefix  # stays text when a user edits the cell
    assert "<f>" not in _sheet_xml(path) and "<f " not in _sheet_xml(path)  # the raw XML has no formula


def test_plain_text_and_numbers_are_unchanged(tmp_path):
    def build(sh):
        sh.put(1, 1, "Huawei Ascend 910B")
        sh.put(2, 1, 1234.5, xlsx.FMT_NUM)
        sh.put(3, 1, 7)
        sh.put(4, 1, True)
        sh.put(5, 1, "1e9")  # stays the text it was
        sh.put(6, 1, "http://example.com")  # not turned into a hyperlink

    ws = _roundtrip(tmp_path, build)
    assert (ws["A1"].value, ws["A1"].data_type, ws["A1"].quotePrefix) == ("Huawei Ascend 910B", "s", False)
    assert (ws["A2"].value, ws["A2"].number_format) == (1234.5, "#,##0.00")
    assert ws["A3"].value == 7
    assert ws["A4"].value is True
    assert (ws["A5"].value, ws["A5"].data_type) == ("1e9", "s")
    assert ws["A6"].hyperlink is None and ws["A6"].value == "http://example.com"


def test_control_characters_do_not_break_the_save(tmp_path):
    ws = _roundtrip(tmp_path, lambda sh: sh.put(1, 1, "a\x01b\x1fc\nd"))
    assert ws["A1"].value == "a\ufffdb\ufffdc\nd"


def test_text_longer_than_excel_allows_is_cut(tmp_path):
    ws = _roundtrip(tmp_path, lambda sh: sh.put(1, 1, "x" * (EXCEL_MAX_TEXT + 10)))
    assert len(ws["A1"].value) == EXCEL_MAX_TEXT
    assert ws["A1"].value.endswith("\u2026")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_become_empty(value, tmp_path):
    assert cell_text(value) is None
    ws = _roundtrip(tmp_path, lambda sh: sh.put(1, 1, value, xlsx.FMT_INT))
    assert ws["A1"].value is None


def test_formula_is_stored_with_its_value(tmp_path):
    def build(sh):
        sh.put(1, 1, 2)
        sh.put(1, 2, 3)
        sh.formula(1, 3, "=A1*B1", 6, xlsx.FMT_INT)
        sh.formula(1, 4, '=IF(C1>5,"big","small")', "big")

    path = _save(tmp_path, build)
    ws = load_workbook(path)["S"]
    assert ws["C1"].data_type == "f" and ws["C1"].value == "=A1*B1" and ws["C1"].number_format == "#,##0"
    values = load_workbook(path, data_only=True)["S"]
    assert values["C1"].value == 6  # what pandas and previews read
    assert values["D1"].value == "big"


@pytest.mark.parametrize("value", [None, float("nan"), float("inf")])
def test_a_formula_without_a_value_is_refused(value):
    sh = Book().add_sheet("S")
    with pytest.raises(ValueError, match="computed value"):
        sh.formula(1, 1, "=1+1", value)


def test_formula_rejects_anything_but_a_formula():
    with pytest.raises(ValueError, match="not a formula"):
        Book().add_sheet("S").formula(1, 1, "A1*B1", 1.0)


def test_table_header_freeze_and_autofilter(tmp_path):
    def build(sh):
        last = sh.table(["Name", "Spend (CNY)"], [["a", 1.0], ["b", 2.0], ["c", 3.0]], [None, xlsx.FMT_MONEY])
        assert last == 4

    ws = _roundtrip(tmp_path, build)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B4"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb.endswith(HEADER_BG[1:])
    assert ws["B3"].number_format == "#,##0"
    assert ws.print_title_rows == "$1:$1"  # the header repeats on every printed page


def test_stacked_tables_keep_the_first_autofilter(tmp_path):
    def build(sh):
        sh.table(["A", "B"], [[1, 2]])
        sh.table(["C"], [[3], [4]], start_row=5, autofilter=False)

    ws = _roundtrip(tmp_path, build)
    assert ws.auto_filter.ref == "A1:B2"
    assert ws.freeze_panes == "A2"  # a later table does not move the frozen row


def test_empty_table_still_has_a_filterable_header(tmp_path):
    ws = _roundtrip(tmp_path, lambda sh: sh.table(["A", "B"], []))
    assert ws.auto_filter.ref == "A1:B2"


def test_money_header():
    assert money_header("Spend", "CNY") == "Spend (CNY)"


def _width(ws, letter):
    return ws.column_dimensions[letter].width


def test_fit_columns_follows_content_but_not_notes(tmp_path):
    def build(sh):
        sh.table(["Id", "Description"], [["a", "x" * 30], ["bb", "short"]])
        sh.note(5, 1, "a long note that should run on into the empty cells " * 3)
        sh.section(7, "A section title that is long too")
        sh.put(8, 1, 12_345_678.0, xlsx.FMT_NUM)
        sh.fit_columns(max_width=60)

    ws = _roundtrip(tmp_path, build)
    # XlsxWriter stores a width of w characters as w + 5 px / 7 px (about 0.71)
    assert _width(ws, "B") == pytest.approx(32.71, abs=0.01)  # 30 characters + 2
    # column A: the widest value is "12,345,678.00" (13 chars) + 2; the note and the title do not count
    assert _width(ws, "A") == pytest.approx(15.71, abs=0.01)


def test_fit_columns_caps_the_width(tmp_path):
    def build(sh):
        sh.put(1, 1, "y" * 500)
        sh.fit_columns(max_width=40)

    assert _width(_roundtrip(tmp_path, build), "A") == pytest.approx(40.71, abs=0.01)


def test_numbers_are_measured_as_shown():
    assert xlsx._shown(0.86, xlsx.FMT_PCT) == "86.0%"
    assert xlsx._shown(36_000_000_000, xlsx.FMT_INT) == "36,000,000,000"
    assert xlsx._shown(-1100, xlsx.FMT_SIGNED) == "-1,100"
    assert xlsx._shown(1e30, "0E+00") == "1E+30"


def test_wrapped_text_gets_a_row_height(tmp_path):
    def build(sh):
        sh.put(1, 1, "word " * 40, style=xlsx.WRAP_TOP)
        sh.widths[1] = 21  # 20 characters a line: 200 characters need 10 lines
        sh.put(2, 1, "short", style=xlsx.WRAP_TOP)

    ws = _roundtrip(tmp_path, build)
    assert ws.row_dimensions[1].height == 150  # 10 lines x 15 points
    assert ws.row_dimensions[2].height is None


def test_print_setup_one_page_wide_and_orientation_from_width(tmp_path):
    book = Book()
    narrow = book.add_sheet("Narrow")
    narrow.table(["A", "B"], [["x", 1]])
    narrow.fit_columns()
    wide = book.add_sheet("Wide")
    wide.table([f"Column {i}" for i in range(20)], [[i for i in range(20)]])
    wide.fit_columns()
    path = tmp_path / "p.xlsx"
    book.save(str(path))
    wb = load_workbook(path)
    for name, orientation in (("Narrow", "portrait"), ("Wide", "landscape")):
        ws = wb[name]
        assert ws.page_setup.orientation == orientation
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # one page wide (1 is the file format's default, so it may be left out), any number of pages tall
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.print_title_rows == "$1:$1"
        assert "&A" in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text
    assert wb["Wide"].print_area == "'Wide'!$A$1:$T$2"


def test_print_area_includes_a_chart(tmp_path):
    book = Book()
    sh = book.add_sheet("S")
    sh.table(["A"], [[1], [2]])
    ch = xlsx.chart(book, "column")
    ch.add_series({"values": ["S", 1, 0, 2, 0]})
    xlsx.insert_chart(sh, 5, 1, ch, 17, 8.5)
    path = tmp_path / "c.xlsx"
    book.save(str(path))
    ws = load_workbook(path)["S"]
    m = re.fullmatch(r"'S'!\$A\$1:\$([A-Z]+)\$(\d+)", ws.print_area)
    assert m
    # 17 cm = 643 px over columns of 64 px (8.43 characters): 11 columns; 8.5 cm = 321 px = 17 rows of 20 px from row 5
    assert m.group(1) == "K" and int(m.group(2)) >= 5 + 16


def test_book_refuses_a_duplicate_sheet_and_defines_names(tmp_path):
    book = Book()
    sh = book.add_sheet("Inputs")
    with pytest.raises(ValueError, match="already exists"):
        book.add_sheet("Inputs")
    sh.put(3, 2, 7.2)
    book.define_name("FX_USD", "Inputs!$B$3")
    path = tmp_path / "n.xlsx"
    book.save(str(path))
    wb = load_workbook(path)
    assert wb.defined_names["FX_USD"].attr_text == "Inputs!$B$3"
    assert book.names == {"FX_USD": "Inputs!$B$3"}


def test_excel_number_maps_infinity():
    assert excel_number(float("inf")) == EXCEL_INF
    assert excel_number(None) == EXCEL_INF
    assert excel_number(3.0) == 3.0


def test_command_line_is_shell_quoted():
    line = command_line(["/usr/local/bin/chipalloc", "solve", "my file.yaml", "--set", "name=a b"])
    assert line == "chipalloc solve 'my file.yaml' --set 'name=a b'"
    assert shlex.split(line)[1:] == ["solve", "my file.yaml", "--set", "name=a b"]


def test_references():
    assert xlsx.cell_ref(7, 2) == "B7" and xlsx.cell_ref(7, 2, True) == "$B$7"
    assert xlsx.sheet_ref("Inputs", 12, 2) == "Inputs!$B$12"
    assert xlsx.sheet_ref("Inputs 2", 12, 2) == "'Inputs 2'!$B$12"
    assert xlsx.range_ref("Allocation", 2, 11, 9) == "Allocation!$K$2:$K$9"
    assert xlsx.col_letter(27) == "AA"


def test_stored_differences_and_sums_are_what_a_spreadsheet_shows():
    # one unit in the last place apart: a spreadsheet shows 0, and so must the stored value
    a = 332875596.09999996
    assert a != 332875596.1 and xlsx.sheet_sub(a, 332875596.1) == 0.0
    assert xlsx.sheet_sub(1692.0, 1692.0) == 0.0
    assert xlsx.sheet_sub(1928.0, 1692.0) == 236.0
    assert xlsx.sheet_sub(1e-9, 0.0) == 1e-9  # a real difference from zero is kept
    assert xlsx.sheet_sub(-5.0, 5.0) == -10.0
    assert xlsx.sheet_sum([0.1] * 10) == 1.0  # correctly rounded, unlike sum() (0.9999999999999999)


# ---------------------------------------------------------------- table layouts, wrapped headers, page breaks
def test_table_layout_sums_as_sumifs_does_and_names_its_ranges():
    rows = [{"Site": "cn", "Period": "q1", "Spend": 10.0}, {"Site": "cn", "Period": "q2", "Spend": 5.0},
            {"Site": "my", "Period": "q1", "Spend": 7.0}, {"Site": "my", "Period": "q1", "Spend": "n/a"}]
    t = xlsx.TableLayout("Cash by period", ("Site", "Period", "Spend"), 2, 5, 6, rows)
    assert t.sum("Spend") == 22 and t.sum("Spend", Period="q1") == 17 and t.sum("Spend", Site="cn", Period="q2") == 5
    assert t.sum("Spend", Site="xx") == 0  # no match: 0, as SUMIFS
    assert t.column("Spend") == "'Cash by period'!$C$2:$C$5" and t.total_ref("Spend") == "'Cash by period'!$C$6"
    assert t.sumifs("Spend", [("Site", "$A9"), ("Period", "B$1")]) == (
        "SUMIFS('Cash by period'!$C$2:$C$5,'Cash by period'!$A$2:$A$5,$A9,'Cash by period'!$B$2:$B$5,B$1)")


def test_a_long_header_wraps_instead_of_widening_its_column(tmp_path):
    def build(sh):
        sh.header(1, ["Effective TOPS in service", "Site"])
        sh.put(2, 1, 16000, xlsx.FMT_INT)
        sh.put(2, 2, "a-rather-long-site-name")
        sh.fit_below_header(1, min_width=9)

    ws = _roundtrip(tmp_path, build)
    assert ws.column_dimensions["A"].width == pytest.approx(12, abs=1)  # "Effective" + room, not 25 characters
    assert ws.column_dimensions["B"].width == pytest.approx(len("a-rather-long-site-name") + 2, abs=1)
    assert ws.row_dimensions[1].height == 45  # the header wraps onto three lines


def _broken_rows(path) -> list[int]:
    return [int(b) + 1 for b in re.findall(r'<brk id="(\d+)"', _sheet_xml(path))]


def test_a_chart_that_would_be_cut_starts_a_new_page(tmp_path):
    # landscape A4 holds about 476 points of 15-point rows at 100% (95% of 17.7 cm): 31 rows
    def build(rows_above):
        def b(sh):
            sh.header(1, ["A", "B"])
            for r in range(2, rows_above + 1):
                sh.put(r, 1, r)
            sh.landscape = True
            ch = xlsx.chart(sh.book, "line")
            ch.add_series({"values": ["S", 1, 0, 3, 0]})
            xlsx.insert_chart(sh, rows_above + 2, 1, ch, 10, 5, keep_on_page=True)  # 5 cm: 10 rows
        return b

    assert _broken_rows(_save(tmp_path, build(10), "fits.xlsx")) == []
    # 25 rows and a 10-row chart do not fit: the break goes above the blank row over the chart
    assert _broken_rows(_save(tmp_path, build(25), "cut.xlsx")) == [26]


def test_no_break_without_keep_on_page(tmp_path):
    def b(sh):
        for r in range(1, 26):
            sh.put(r, 1, r)
        sh.landscape = True
        ch = xlsx.chart(sh.book, "line")
        ch.add_series({"values": ["S", 1, 0, 3, 0]})
        xlsx.insert_chart(sh, 27, 1, ch, 10, 5)

    assert _broken_rows(_save(tmp_path, b)) == []
