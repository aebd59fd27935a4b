"""The solve workbook (XlsxWriter), read back with openpyxl and pandas.

Expected figures for report_two_sites.yaml are worked out by hand in the
fixture's header comment. Every formula is stored with its value: the values
(what pandas and previews read) are checked against the hand figures, and
the Allocation formulas are also evaluated here, in Python, from the cells
and defined names they reference (a tiny evaluator for the formula shapes
that sheet uses). tests/report/test_libreoffice.py recalculates every formula
of every workbook with LibreOffice and compares it with the stored value.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from optimizer import io
from optimizer.errors import OutputError
from optimizer.plan import make_plan
from optimizer.report.workbook import (
    ALLOCATION_COLUMNS,
    CONSTRAINT_COLUMNS,
    SHEETS,
    add_about_sheet,
    add_inputs_sheet,
    write_plan_workbook,
)
from optimizer.report.xlsx import HEADER_BG, Book

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
BYTEDANCE = TESTS.parent / "scenarios" / "bytedance-2025.yaml"
TWO_SITES = FIXTURES / "report_two_sites.yaml"
HOSTILE = FIXTURES / "report_hostile.yaml"

# report_two_sites.yaml, worked out by hand in the fixture
HAND_ROWS = {  # (site, chip): (units, unit price CNY, spend, effective TOPS); b costs USD 5 (USD 6 in my) at 7 CNY
    ("cn", "a"): (2, 10.0, 20.0, 90.0),
    ("cn", "b"): (28, 35.0, 980.0, 6720.0),
    ("my", "a"): (2, 10.0, 20.0, 90.0),
    ("my", "b"): (16, 42.0, 672.0, 3840.0),
}
HAND_TOTALS = {"Units": 48, "Spend": 1692.0, "Effective TOPS": 10740.0, "Ordered TOPS": 13600.0,
               "Delivered TOPS": 10920.0}


# ---------------------------------------------------------------- helpers
def _plan(path: Path, variants=(), sets=()):
    return make_plan(io.load(path, variants=list(variants), sets=list(sets)))


def _write(plan, tmp_path: Path, name: str = "plan.xlsx", **kw) -> Path:
    return write_plan_workbook(plan, tmp_path / name, **kw)


def _coord(col: int, row: int) -> str:
    return f"{get_column_letter(col)}{row}"


def find_column(ws, name: str, row: int = 1) -> int:
    """1-based column whose header in ``row`` is ``name`` or ``name (unit)``."""
    for c in ws[row]:
        v = c.value
        if isinstance(v, str) and (v == name or v.startswith(name + " (")):
            return c.column
    raise KeyError(f"{ws.title}: no column {name!r} in row {row}")


_CELL = r"\$?([A-Z]{1,3})\$?(\d+)"
_NAME = r"FX_[A-Z]{3}"


def _operand(ws, ref: str, depth: int) -> float:
    """A cell on ``ws`` or a defined name (resolved to its cell on another sheet)."""
    if re.fullmatch(_NAME, ref):
        target = ws.parent.defined_names[ref].attr_text
        sheet, cell = target.split("!")
        return evaluate(ws.parent[sheet.strip("'")], cell.replace("$", ""), depth + 1)
    return evaluate(ws, ref.replace("$", ""), depth + 1)


def evaluate(ws, coord: str, depth: int = 0) -> float:
    """Value of a cell, evaluating the Allocation sheet's formula shapes: products of cells and names, SUM, A-B."""
    assert depth < 20, "formula cycle"
    cell = ws[coord]
    if cell.data_type != "f":
        assert not isinstance(cell.value, str), f"{ws.title}!{coord} holds text {cell.value!r}, expected a number"
        return 0.0 if cell.value is None else float(cell.value)
    expr = cell.value[1:]
    m = re.fullmatch(rf"SUM\({_CELL}:{_CELL}\)", expr)
    if m:
        c0, r0, c1, r1 = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        assert c0 == c1, expr
        return sum(evaluate(ws, f"{c0}{r}", depth + 1) for r in range(r0, r1 + 1))
    m = re.fullmatch(rf"({_CELL})-({_CELL})", expr)
    if m:
        return _operand(ws, m.group(1), depth) - _operand(ws, m.group(4), depth)
    if re.fullmatch(rf"(?:{_CELL}|{_NAME})(?:\*(?:{_CELL}|{_NAME}))*", expr):
        out = 1.0
        for ref in expr.split("*"):
            out *= _operand(ws, ref, depth)
        return out
    raise AssertionError(f"unexpected formula {cell.value!r} in {ws.title}!{coord}")


def alloc_rows(ws) -> list[int]:
    """Rows of the allocation table (between the header and the Total row)."""
    out = []
    for r in range(2, ws.max_row + 1):
        v = ws.cell(row=r, column=1).value
        if v == "Total":
            return out
        out.append(r)
    raise AssertionError("no Total row on Allocation")


def total_row(ws) -> int:
    for r in range(2, ws.max_row + 1):
        if ws.cell(row=r, column=1).value == "Total":
            return r
    raise AssertionError("no Total row")


def row_of(ws, first_col_value: str, col: int = 1) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(row=r, column=col).value == first_col_value:
            return r
    raise KeyError(first_col_value)


@dataclass
class Written:
    plan: object
    wb: object  # formulas
    values: object  # data_only: the values stored with the formulas
    path: Path

    def __iter__(self):  # plan, wb = fixture
        return iter((self.plan, self.wb))

    def __getitem__(self, i):
        return (self.plan, self.wb)[i]


def _load(plan, path: Path) -> Written:
    return Written(plan, load_workbook(path), load_workbook(path, data_only=True), path)


# ---------------------------------------------------------------- workbooks built once
@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    plan = _plan(TWO_SITES)
    return _load(plan, write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "two.xlsx"))


@pytest.fixture(scope="module")
def bytedance(tmp_path_factory):
    plan = _plan(BYTEDANCE)
    return _load(plan, write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "bd.xlsx"))


@pytest.fixture(scope="module")
def continuous(tmp_path_factory):
    plan = _plan(TWO_SITES, sets=["integer_units=false"])
    return _load(plan, write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "lp.xlsx"))


# ---------------------------------------------------------------- sheets and order
def test_sheet_names_and_order(two_sites):
    _, wb = two_sites
    assert wb.sheetnames == ["Summary", "Allocation", "Constraints", "Compliance", "Inputs", "About"]
    assert tuple(wb.sheetnames) == SHEETS
    assert wb.active.title == "Summary"


def test_first_and_extra_sheets_go_where_promised(tmp_path):
    plan = _plan(TWO_SITES)

    def sheet(name):
        def add(book):
            book.add_sheet(name).put(1, 1, name)
        return add

    path = _write(plan, tmp_path, first_sheets=[sheet("Diagnosis")], extra_sheets=[sheet("Sensitivity"), sheet("Break-even")])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Diagnosis", "Summary", "Allocation", "Constraints", "Compliance", "Sensitivity", "Break-even",
                             "Inputs", "About"]
    assert wb["Sensitivity"]["A1"].value == "Sensitivity"
    assert wb.active.title == "Diagnosis"


# ---------------------------------------------------------------- Allocation
def test_allocation_headers(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    header = [c.value for c in ws[1]]
    names = ["Site", "Chip", "Vendor", "Origin", "Domestic", "Units", "Price", "Price currency", "Unit price", "Spend",
             "INT8 TOPS", "Flexibility", "Delivery rate", "Effective TOPS"]
    for name in names:
        col = find_column(ws, name)
        assert header[col - 1] in (name, f"{name} (CNY)")
    # money headers carry the reporting currency; the others are the plain names
    assert "Unit price (CNY)" in header and "Spend (CNY)" in header
    for name in set(names) - {"Unit price", "Spend"}:
        assert name in header
    # the spec's order is kept
    cols = [find_column(ws, n) for n in names]
    assert cols == sorted(cols)


def test_allocation_rows_match_hand_solution(two_sites):
    ws = two_sites.wb["Allocation"]
    vs = two_sites.values["Allocation"]
    col = {n: find_column(ws, n) for n in ALLOCATION_COLUMNS}
    got = {}
    for r in alloc_rows(ws):
        key = (ws.cell(row=r, column=col["Site"]).value, ws.cell(row=r, column=col["Chip"]).value)
        got[key] = (
            ws.cell(row=r, column=col["Units"]).value,
            evaluate(ws, _coord(col["Unit price"], r)),
            evaluate(ws, _coord(col["Spend"], r)),
            evaluate(ws, _coord(col["Effective TOPS"], r)),
        )
        # the values stored with the formulas are the same numbers
        for name, i in (("Unit price", 1), ("Spend", 2), ("Effective TOPS", 3)):
            assert vs.cell(row=r, column=col[name]).value == pytest.approx(got[key][i], rel=1e-12)
        # per-row inputs, from the fixture; b is priced in USD (6 at my), a in CNY
        chip = key[1]
        assert ws.cell(row=r, column=col["Price"]).value == {"a": 10, "b": 6 if key[0] == "my" else 5}[chip]
        assert ws.cell(row=r, column=col["Price currency"]).value == {"a": "CNY", "b": "USD"}[chip]
        assert ws.cell(row=r, column=col["INT8 TOPS"]).value == {"a": 100, "b": 300}[chip]
        assert ws.cell(row=r, column=col["Flexibility"]).value == {"a": 0.5, "b": 1.0}[chip]
        assert ws.cell(row=r, column=col["Delivery rate"]).value == {"a": 0.9, "b": 0.8}[chip]
        assert ws.cell(row=r, column=col["Vendor"]).value == {"a": "dom", "b": "us"}[chip]
        assert ws.cell(row=r, column=col["Origin"]).value == {"a": "CN", "b": "US"}[chip]
        assert ws.cell(row=r, column=col["Domestic"]).value == ("yes" if (key == ("cn", "a")) else "no")
        assert ws.cell(row=r, column=col["Model"]).value == {"a": "Dom A1", "b": "US B300"}[chip]
    assert list(got) == sorted(HAND_ROWS)  # sorted by site then chip, units > 0 only
    for key, (units, price, spend, eff) in HAND_ROWS.items():
        assert got[key][0] == units
        assert got[key][1] == pytest.approx(price, rel=1e-12)
        assert got[key][2] == pytest.approx(spend, rel=1e-12)
        assert got[key][3] == pytest.approx(eff, rel=1e-12)


def test_spend_and_effective_tops_are_live_formulas_over_their_row(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    L = {n: get_column_letter(find_column(ws, n)) for n in ALLOCATION_COLUMNS}
    for r in alloc_rows(ws):
        spend = ws[f"{L['Spend']}{r}"]
        eff = ws[f"{L['Effective TOPS']}{r}"]
        assert spend.data_type == "f" and eff.data_type == "f"
        assert spend.value == f"={L['Units']}{r}*{L['Unit price']}{r}"
        assert eff.value == f"={L['Units']}{r}*{L['INT8 TOPS']}{r}*{L['Flexibility']}{r}*{L['Delivery rate']}{r}"


def test_unit_price_is_the_own_price_times_the_fx_input_cell(two_sites):
    plan, wb = two_sites
    ws = wb["Allocation"]
    L = {n: get_column_letter(find_column(ws, n)) for n in ALLOCATION_COLUMNS}
    # one defined name per rate, pointing at the rate's cell on Inputs, which holds 7
    target = wb.defined_names["FX_USD"].attr_text
    m = re.fullmatch(r"'?Inputs'?!\$B\$(\d+)", target)
    assert m, target
    inputs = wb["Inputs"]
    r_fx = int(m.group(1))
    assert inputs.cell(row=r_fx, column=1).value == "USD" and inputs.cell(row=r_fx, column=2).value == 7
    assert list(wb.defined_names) == ["FX_USD"]  # the reporting currency needs no rate
    for r in alloc_rows(ws):
        price = ws[f"{L['Unit price']}{r}"].value
        if ws[f"{L['Price currency']}{r}"].value == "USD":
            assert price == f"={L['Price']}{r}*FX_USD"
        else:
            assert price == f"={L['Price']}{r}"
    # the chip and site rows keep their own currency on Inputs (the layout chipalloc reads back)
    chips = _block(inputs, "Chips")
    assert (chips["b"]["unit_price"], chips["b"]["price_currency"]) == (5, "USD")
    sites = _block(inputs, "Sites")
    assert (sites["my"]["budget.amount"], sites["my"]["budget.currency"]) == (100, "USD")


def _block(ws, title: str) -> dict:
    """{id: {header: value}} of one titled block of the stacked Inputs sheet."""
    r = row_of(ws, title)
    head = [c.value for c in ws[r + 1]]
    out = {}
    i = r + 2
    while i <= ws.max_row and ws.cell(row=i, column=1).value not in (None, ""):
        out[ws.cell(row=i, column=1).value] = {h: ws.cell(row=i, column=j + 1).value for j, h in enumerate(head) if h}
        i += 1
    return out

def test_totals_row_sums_with_formulas_and_matches_hand_totals(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    vs = two_sites.values["Allocation"]
    rows = alloc_rows(ws)
    tot = total_row(ws)
    assert tot == rows[-1] + 1
    for name, expected in HAND_TOTALS.items():
        letter = get_column_letter(find_column(ws, name))
        cell = ws[f"{letter}{tot}"]
        assert cell.value == f"=SUM({letter}{rows[0]}:{letter}{rows[-1]})"
        assert evaluate(ws, cell.coordinate) == pytest.approx(expected, rel=1e-12)
        assert vs[cell.coordinate].value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("which", ["two_sites", "continuous", "bytedance"])
def test_formula_results_equal_the_solver(which, request):
    w = request.getfixturevalue(which)
    plan, wb = w
    ws = wb["Allocation"]
    vs = w.values["Allocation"]
    col = {n: find_column(ws, n) for n in ALLOCATION_COLUMNS}
    rows = alloc_rows(ws)
    assert len(rows) == len(plan.allocation) > 0
    for r, a in zip(rows, plan.allocation):
        assert (ws.cell(row=r, column=col["Site"]).value, ws.cell(row=r, column=col["Chip"]).value) == (a.site, a.chip)
        assert evaluate(ws, _coord(col["Spend"], r)) == pytest.approx(a.spend, rel=1e-12)
        assert evaluate(ws, _coord(col["Effective TOPS"], r)) == pytest.approx(a.effective_tops, rel=1e-12)
    tot = total_row(ws)
    t = plan.totals
    expect = {"Units": t["units"], "Spend": t["spend"], "Effective TOPS": t["effective_tops"],
              "Ordered TOPS": t["int8_tops"], "Delivered TOPS": t["delivered_tops"]}
    for name, value in expect.items():
        assert evaluate(ws, _coord(col[name], tot)) == pytest.approx(value, rel=1e-9)
        # the Difference row (live formulas minus the solver's verified figure) evaluates to zero
        diff = row_of(ws, "Difference")
        assert ws.cell(row=diff, column=col[name]).data_type == "f"
        assert evaluate(ws, _coord(col[name], diff)) == pytest.approx(0.0, abs=1e-6 * max(1.0, abs(value)))
        assert vs.cell(row=diff, column=col[name]).value == pytest.approx(0.0, abs=1e-6 * max(1.0, abs(value)))
        assert vs.cell(row=tot, column=col[name]).value == pytest.approx(value, rel=1e-9)


def test_bytedance_rows_known_from_the_reference_figures(bytedance):
    # ascend910c: USD 28,600 x 7.2 = CNY 205,920; the 70,000-unit max binds; 1600 x 0.75 x 0.85 = 1020 per unit
    _, wb = bytedance
    ws = wb["Allocation"]
    r = row_of(ws, "ascend910c", col=find_column(ws, "Chip"))
    assert ws.cell(row=r, column=find_column(ws, "Price")).value == 28_600
    assert ws.cell(row=r, column=find_column(ws, "Price currency")).value == "USD"
    assert evaluate(ws, _coord(find_column(ws, "Unit price"), r)) == pytest.approx(205_920, rel=1e-12)
    assert bytedance.values["Allocation"].cell(row=r, column=find_column(ws, "Unit price")).value == pytest.approx(205_920)
    assert ws.cell(row=r, column=find_column(ws, "Units")).value == 70_000
    assert evaluate(ws, _coord(find_column(ws, "Effective TOPS"), r)) == pytest.approx(70_000 * 1020, rel=1e-12)
    assert evaluate(ws, _coord(find_column(ws, "Spend"), total_row(ws))) <= 40e9
    assert wb["Allocation"].cell(row=1, column=find_column(ws, "Spend")).value == "Spend (CNY)"


# ---------------------------------------------------------------- formatting
def test_number_formats(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    r = alloc_rows(ws)[0]
    fmt = {n: ws.cell(row=r, column=find_column(ws, n)).number_format for n in ALLOCATION_COLUMNS}
    assert fmt["Units"] == "#,##0"
    assert fmt["Unit price"] == "#,##0"
    assert fmt["Spend"] == "#,##0"
    assert fmt["Effective TOPS"] == "#,##0"
    assert fmt["Delivery rate"] == "0.0%"
    assert ws.cell(row=total_row(ws), column=find_column(ws, "Spend")).number_format == "#,##0"
    summary = wb["Summary"]
    r = row_of(summary, "Total spend")
    assert summary.cell(row=r, column=2).number_format == "#,##0"
    assert summary.cell(row=r, column=3).value == "CNY"
    hdr = row_of(summary, "Budget used", col=6)
    assert summary.cell(row=hdr, column=6).value == "Budget used"
    assert summary.cell(row=hdr + 1, column=6).number_format == "0.0%"
    assert summary.cell(row=hdr + 1, column=7).number_format == "0.0%"  # domestic share


def test_fractional_units_show_decimals(continuous):
    _, wb = continuous
    ws = wb["Allocation"]
    r = alloc_rows(ws)[0]
    assert ws.cell(row=r, column=find_column(ws, "Units")).number_format == "#,##0.00"


@pytest.mark.parametrize("sheet", ["Allocation", "Constraints", "Compliance", "About"])
def test_table_sheets_have_styled_frozen_filtered_header(two_sites, sheet):
    _, wb = two_sites
    ws = wb[sheet]
    assert ws.freeze_panes == "A2"
    for c in ws[1]:
        if c.value is None:
            continue
        assert c.font.b
        assert c.fill.fgColor.rgb.endswith(HEADER_BG[1:])
    ref = ws.auto_filter.ref
    assert ref is not None and ref.startswith("A1:")
    last_col = max(c.column for c in ws[1] if c.value is not None)
    assert ref.split(":")[1].rstrip("0123456789") == get_column_letter(last_col)


def test_autofilter_covers_the_data_rows_but_not_the_totals(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    end_row = int(re.sub(r"^[A-Z]+", "", ws.auto_filter.ref.split(":")[1]))
    assert end_row == alloc_rows(ws)[-1] == total_row(ws) - 1


def test_columns_are_fitted(two_sites):
    _, wb = two_sites
    for name in ("Allocation", "Constraints", "Compliance"):
        ws = wb[name]
        for c in ws[1]:
            w = ws.column_dimensions[get_column_letter(c.column)].width
            assert w is not None and w >= len(str(c.value)), (name, c.value, w)
    ws = wb["Compliance"]
    reason = find_column(ws, "Reason")
    longest = max(len(str(ws.cell(row=r, column=reason).value)) for r in range(2, 8))
    assert ws.column_dimensions[get_column_letter(reason)].width >= min(longest, 90)


# ---------------------------------------------------------------- Summary
def test_summary_key_figures(two_sites):
    ws = two_sites.values["Summary"]  # the values stored with the formulas
    assert ws["A1"].value == "Report two sites"

    def fig(name):
        r = row_of(ws, name)
        return ws.cell(row=r, column=2).value, ws.cell(row=r, column=3).value

    assert fig("Status") == ("optimal", None)
    assert fig("Solver")[0] == "highs"
    assert fig("Effective TOPS") == (10740, "TOPS")
    assert fig("Delivered TOPS") == (10920, "TOPS")
    assert fig("Ordered TOPS") == (13600, "TOPS")
    assert fig("Total spend") == (1692, "CNY")
    assert fig("Units ordered") == (48, "units")
    # per site: spend, budget (my: USD 100 x 7 = CNY 700) and % used
    hdr = row_of(ws, "Site")
    assert [c.value for c in ws[hdr]][:8] == ["Site", "Name", "Country", "Spend (CNY)", "Budget (CNY)", "Budget used",
                                             "Domestic share", "Domestic floor"]
    sites = {ws.cell(row=r, column=1).value: [ws.cell(row=r, column=j).value for j in range(1, 9)] for r in (hdr + 1, hdr + 2)}
    assert sites["cn"][3:6] == [1000, 1000, 1]
    assert sites["my"][3] == 692 and sites["my"][4] == 700
    assert sites["my"][5] == pytest.approx(692 / 700, rel=1e-12)
    assert sites["cn"][6] == pytest.approx(20 / 1000, rel=1e-12)  # domestic share on spend: 2 a x CNY 10
    assert sites["my"][6] == 0  # nothing domestic bought in Malaysia
    assert fig("Site budgets") == (1700, "CNY")


def test_summary_figures_are_formulas_over_allocation(two_sites):
    plan, wb = two_sites
    ws = wb["Summary"]
    alloc = wb["Allocation"]
    L = {n: get_column_letter(find_column(alloc, n)) for n in ALLOCATION_COLUMNS}
    last = alloc_rows(alloc)[-1]

    def col(name):
        return f"Allocation!${L[name]}$2:${L[name]}${last}"

    for figure, column in (("Effective TOPS", "Effective TOPS"), ("Delivered TOPS", "Delivered TOPS"),
                           ("Ordered TOPS", "Ordered TOPS"), ("Units ordered", "Units"), ("Total spend", "Spend")):
        assert ws.cell(row=row_of(ws, figure), column=2).value == f"=SUM({col(column)})", figure
    # per site, vendor and chip: SUMIFS over Allocation with the row's own id as the criterion
    hdr = row_of(ws, "Site")
    r = row_of(ws, "my")
    assert ws.cell(row=r, column=4).value == f"=SUMIFS({col('Spend')},{col('Site')},A{r})"
    assert ws.cell(row=r, column=5).value.endswith("*FX_USD")  # budget: Inputs' amount x the rate
    assert ws.cell(row=r, column=6).value == f"=D{r}/E{r}"
    assert ws.cell(row=r, column=7).value == (f'=SUMIFS({col("Spend")},{col("Site")},A{r},{col("Domestic")},"yes")'
                                              f"/SUMIFS({col('Spend')},{col('Site')},A{r})")
    assert ws.cell(row=hdr + 1, column=10).value == "no floor"  # neither site has a domestic floor
    r = row_of(ws, "us")
    assert ws.cell(row=r, column=5).value == f"=SUMIFS({col('Spend')},{col('Vendor')},A{r})"
    assert ws.cell(row=r, column=4).value == f"=SUMIFS({col('Units')},{col('Vendor')},A{r})"
    r = row_of(ws, "b")
    assert ws.cell(row=r, column=6).value == f"=SUMIFS({col('Effective TOPS')},{col('Chip')},A{r})"
    # and their values, by hand: us 980 + 672 = 1652 for 28 + 16 units, chip b 6720 + 3840 effective TOPS
    vs = two_sites.values["Summary"]
    assert [vs.cell(row=row_of(ws, "us"), column=j).value for j in (4, 5)] == [44, 1652]
    assert vs.cell(row=row_of(ws, "us"), column=6).value == pytest.approx(1652 / 1692)
    assert vs.cell(row=r, column=6).value == 10560
    assert vs.cell(row=r, column=7).value == pytest.approx(10560 / 10740)


def test_pandas_reads_numbers_not_blanks(two_sites):
    alloc = pd.read_excel(two_sites.path, sheet_name="Allocation")
    rows = alloc[alloc["Site"].isin(["cn", "my"])]
    assert rows["Spend (CNY)"].tolist() == [20, 980, 20, 672]
    assert rows["Unit price (CNY)"].tolist() == [10, 35, 10, 42]
    assert rows["Effective TOPS"].tolist() == [90, 6720, 90, 3840]
    total = alloc[alloc["Site"] == "Total"]
    assert total["Spend (CNY)"].item() == 1692 and total["Ordered TOPS"].item() == 13600
    diff = alloc[alloc["Site"] == "Difference"]
    assert diff["Spend (CNY)"].item() == 0 and not diff[["Units", "Effective TOPS"]].isna().any(axis=None)
    summary = pd.read_excel(two_sites.path, sheet_name="Summary", header=None)
    figures = dict(zip(summary[0], summary[1]))
    assert figures["Effective TOPS"] == 10740 and figures["Total spend"] == 1692


def test_summary_domestic_share_against_floor(bytedance):
    plan, wb = bytedance
    ws = bytedance.values["Summary"]
    hdr = row_of(ws, "Site")
    cols = [c.value for c in ws[hdr]]
    r = hdr + 1
    assert ws.cell(row=r, column=cols.index("Domestic floor") + 1).value == 0.6
    share = ws.cell(row=r, column=cols.index("Domestic share") + 1).value
    # domestic = everything but H20: (40e9 - 40,000 left - 51,000 x 110,000) / spend, recomputed from the Allocation rows
    alloc = wb["Allocation"]
    dom = spend = 0.0
    for row in alloc_rows(alloc):
        s = evaluate(alloc, _coord(find_column(alloc, "Spend"), row))
        spend += s
        if alloc.cell(row=row, column=find_column(alloc, "Domestic")).value == "yes":
            dom += s
    assert share == pytest.approx(dom / spend, rel=1e-9)
    assert ws.cell(row=r, column=cols.index("Floor met") + 1).value == "yes"
    met = wb["Summary"].cell(row=r, column=cols.index("Floor met") + 1).value
    assert met == f'=IF(G{r}>=H{r}-0.000000001,"yes","no")'  # live: follows the share


def test_summary_has_charts_over_its_own_tables(two_sites):
    _, wb = two_sites
    charts = wb["Summary"]._charts
    ws = two_sites.values["Summary"]
    assert len(charts) == 2
    titles = ["".join(run.t for p in ch.title.tx.rich.p for run in (p.r or [])) for ch in charts]
    assert titles == ["Spend by vendor (CNY)", "Effective TOPS by chip"]
    # spend by vendor: the series points at the Spend column of the vendor table, in vendor order
    ref = charts[0].series[0].val.numRef.f
    m = re.fullmatch(r"'?Summary'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", ref)
    assert m
    col = column_index_from_string(m.group(1))
    values = [ws.cell(row=r, column=col).value for r in range(int(m.group(2)), int(m.group(4)) + 1)]
    assert values == [40, 1652]  # dom: 2 a + 2 a; us: 980 + 672


def test_summary_lists_binding_constraints_and_relaxation(two_sites):
    plan, wb = two_sites
    ws = wb["Summary"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for c in plan.constraints:
        if c.binding:
            assert c.name in texts
    assert any("continuous relaxation" in t for t in texts)


# ---------------------------------------------------------------- Constraints
def test_constraints_sheet(two_sites):
    plan, wb = two_sites
    ws = wb["Constraints"]
    header = [c.value for c in ws[1] if c.value is not None]
    for name in ("Name", "Kind", "LHS", "Sense", "RHS", "Slack", "Binding", "Shadow price", "Meaning"):
        assert name in header
    assert tuple(header) == CONSTRAINT_COLUMNS
    col = {n: header.index(n) + 1 for n in header}
    names = [ws.cell(row=r, column=1).value for r in range(2, 2 + len(plan.constraints))]
    assert names == [c.name for c in plan.constraints]
    # budget[cn]: CNY 1000 spent of 1000; budget[my]: 692 of USD 100 = CNY 700, slack 8 (less than one chip a: binding)
    r = names.index("budget[my]") + 2
    assert ws.cell(row=r, column=col["LHS"]).value == pytest.approx(692)
    assert ws.cell(row=r, column=col["RHS"]).value == pytest.approx(700)
    assert ws.cell(row=r, column=col["Slack"]).value == pytest.approx(8)
    assert ws.cell(row=r, column=col["Sense"]).value == "<="
    assert ws.cell(row=r, column=col["Unit"]).value == "CNY"
    assert ws.cell(row=r, column=col["Binding"]).value == "yes"
    for i, c in enumerate(plan.constraints, start=2):
        sp = ws.cell(row=i, column=col["Shadow price"])
        assert sp.value == pytest.approx(c.shadow_price)
        assert ws.cell(row=i, column=col["Meaning"]).value == c.meaning
        assert ws.cell(row=i, column=col["Binding"]).value == ("yes" if c.binding else "no")
    assert "tpp_cap[MY]" in names
    assert ws.cell(row=names.index("tpp_cap[MY]") + 2, column=col["Unit"]).value == "TPP"


def test_constraints_label_relaxation_duals_only_for_whole_units(two_sites, continuous):
    def texts(wb):
        ws = wb["Constraints"]
        out = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
        head = ws.cell(row=1, column=CONSTRAINT_COLUMNS.index("Shadow price") + 1)
        return out, head.comment.text if head.comment else ""

    body, note = texts(two_sites[1])
    assert any("continuous relaxation" in t for t in body)
    assert "continuous relaxation" in note
    body, note = texts(continuous[1])
    assert not any("continuous relaxation" in t for t in body)
    assert "per one-unit increase" in note


# ---------------------------------------------------------------- Compliance
def test_compliance_sheet(two_sites):
    _, wb = two_sites
    ws = wb["Compliance"]
    header = [c.value for c in ws[1]]
    for name in ("Site", "Chip", "TPP", "Density", "Controlled", "Tier", "Decision", "Reason"):
        find_column(ws, name)
    col = {n: find_column(ws, n) for n in ("Site", "Chip", "TPP", "Density", "Controlled", "Tier", "Decision", "Reason")}
    rows = {}
    for r in range(2, ws.max_row + 1):
        site = ws.cell(row=r, column=col["Site"]).value
        if site in ("cn", "my"):
            rows[(site, ws.cell(row=r, column=col["Chip"]).value)] = {n: ws.cell(row=r, column=c).value for n, c in col.items()}
    assert len(rows) == 6  # 3 chips x 2 sites
    assert rows[("cn", "c")]["Decision"] == "deny" and rows[("my", "c")]["Decision"] == "cap"
    assert rows[("cn", "c")]["Controlled"] == "yes" and rows[("cn", "b")]["Controlled"] == "no"
    assert rows[("cn", "c")]["Tier"] == 3 and rows[("my", "c")]["Tier"] == 2
    assert rows[("cn", "c")]["TPP"] == 5000 and rows[("cn", "b")]["TPP"] == 2400  # default 8 x 300
    assert rows[("cn", "c")]["Density"] == 10  # 5000 / 500 mm²
    assert rows[("cn", "a")]["Density"] == "unknown"
    assert "tier 3" in rows[("cn", "c")]["Reason"]
    assert "Density (TPP/mm²)" in header


# ---------------------------------------------------------------- Inputs and About
def _texts(ws) -> list:
    return [c.value for row in ws.iter_rows() for c in row if c.value is not None]


def test_inputs_sheet_carries_the_scenario_as_solved_and_reads_back(tmp_path):
    plan = _plan(TWO_SITES, variants=["lean"], sets=["chips.a.unit_price=12"])
    path = _write(plan, tmp_path)
    ws = load_workbook(path, data_only=True)["Inputs"]
    values = _texts(ws)
    for block in ("Settings", "FX", "Flexibility", "Vendors", "Chips", "Sites", "Prices", "Export controls",
                  "Licences", "Variants"):
        assert block in values, block
    for text in ("Dom A1", "US B300", "US C200", "Domestic Co", "Malaysia", "Test rules"):
        assert text in values
    # the solved scenario: the variant's cn budget of 500 and the --set price of 12, said in the note
    assert _block(ws, "Sites")["cn"]["budget.amount"] == 500
    assert _block(ws, "Chips")["a"]["unit_price"] == 12
    note = ws.cell(row=2, column=1).value
    assert "run chipalloc solve on this workbook" in note
    assert "Values as solved: the file with variant lean; --set chips.a.unit_price=12 applied" in note
    # and it is the scenario: the workbook itself re-solves to the same plan
    from optimizer import io

    again = make_plan(io.load(path))
    assert again.totals["effective_tops"] == plan.totals["effective_tops"]
    assert again.units() == plan.units()


def test_about_sheet(bytedance):
    plan, wb = bytedance
    ws = wb["About"]
    items = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    assert items["Tool"].startswith("chipalloc ")
    assert items["Solver"] == "highs"
    assert items["Solver version"].startswith("HiGHS ")
    assert Path(items["Scenario file"]).resolve() == BYTEDANCE.resolve()
    assert items["Scenario SHA-256"] == hashlib.sha256(BYTEDANCE.read_bytes()).hexdigest()
    solved = dt.datetime.fromisoformat(items["Solved at"])
    assert abs((dt.datetime.now(dt.timezone.utc) - solved).total_seconds()) < 3600
    assert items["Command line"]
    assert items["Applied variants and overrides"] == "none"
    assert items["XlsxWriter"]


def test_inputs_and_about_can_be_added_to_any_workbook(tmp_path):
    loaded = io.load(TWO_SITES, sets=["description=changed"])
    book = Book()
    refs = add_inputs_sheet(book, loaded.scenario, loaded.applied)
    add_about_sheet(book, scenario_path="x.yaml", scenario_sha256="abc", solver="cbc", solver_version="CBC",
                    applied=loaded.applied, extra={"Analysis": "sweep", "Points": 5})
    assert book.sheetnames == ["Inputs", "About"]
    # the Inputs writer tells where each scenario value went, as the scenario-workbook writer does
    assert refs["fx.USD"] == book.names["FX_USD"]
    book.save(str(tmp_path / "a.xlsx"))
    wb = load_workbook(tmp_path / "a.xlsx")
    for path, value in (("fx.USD", 7), ("sites.my.budget.amount", 100), ("chips.b.unit_price", 5),
                        ("sites.my.prices.b", 6), ("flexibility.asic", 0.5), ("export_controls.tpp_caps.MY", 1e9)):
        sheet, cell = refs[path].split("!")
        assert wb[sheet][cell.replace("$", "")].value == value, path
    about = wb["About"]
    items = {about.cell(row=r, column=1).value: about.cell(row=r, column=2).value for r in range(2, about.max_row + 1)}
    assert items["Analysis"] == "sweep" and items["Points"] == 5
    assert items["Applied variants and overrides"] == "--set description=changed"
    assert items["Scenario SHA-256"] == "abc"


# ---------------------------------------------------------------- scenario text stays text
HOSTILE_TEXTS = [
    '=HYPERLINK("http://evil.example","click")',  # scenario name
    "=SET(1)",  # description, replaced by --set
    "@cmd",  # vendor name
    "=1+1",  # vendor name
    '=HYPERLINK("http://x","y")',  # chip model
    "+SUM(1)",  # chip model
    "-2+3",  # site name, from the variant
    "=cmd|' /C calc'!A0",  # export-control regime
    "@SUM(A1:A9)",  # licence note
]
# what the workbook's own formulas are made of: references (on our sheets), the FX names, SUM/SUMIFS/IF,
# numbers, operators and the literals "yes" and "no"; anything left over would be text from the scenario
_TOKENS = re.compile(r"(?:(?:Allocation|Inputs|'Inputs')!)?\$?[A-Z]{1,3}\$?\d+|FX_[A-Z]{3}|SUMIFS|SUM|IF|\d+(?:\.\d+)?"
                     r'|"yes"|"no"|[=*/+\-(),:<>]')


def our_formula(value: str) -> bool:
    """Made of our tokens only, and referring to at least one cell or name (``=1+1`` is not ours)."""
    refers = re.search(r"\$?[A-Z]{1,3}\$?\d+|FX_[A-Z]{3}", value)
    return value.startswith("=") and bool(refers) and _TOKENS.sub("", value) == ""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    plan = _plan(HOSTILE, variants=["evil"], sets=["description==SET(1)"])
    assert plan.totals["effective_tops"] == 100  # 10 units of c1 at 10 TOPS each
    path = write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "hostile.xlsx")
    return load_workbook(path)


def test_the_formula_check_would_catch_scenario_text():
    assert our_formula("=SUMIFS(Allocation!$K$2:$K$5,Allocation!$A$2:$A$5,A12)")
    assert our_formula('=IF(G30>=H30-0.000000001,"yes","no")') and our_formula("=H2*FX_USD")
    for text in HOSTILE_TEXTS:
        assert not our_formula(text), text


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_scenario_text_is_stored_as_text(hostile, text):
    found = [(ws.title, c) for ws in hostile for row in ws.iter_rows() for c in row if c.value == text]
    assert found, f"{text!r} not in the workbook"
    for title, c in found:
        assert c.data_type == "s", (title, c.coordinate)
        assert c.quotePrefix, (title, c.coordinate)  # stays text when a user edits the cell


def test_hostile_text_appears_where_expected(hostile):
    ws = hostile["Allocation"]
    r = alloc_rows(ws)[0]
    cell = ws.cell(row=r, column=find_column(ws, "Model"))
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"
    assert hostile["Summary"]["A1"].value == '=HYPERLINK("http://evil.example","click")'
    assert hostile["Summary"]["A1"].data_type == "s"


def test_the_only_formulas_are_the_workbooks_own(hostile):
    formulas = [(ws.title, c.coordinate, c.value) for ws in hostile for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas  # Spend, Effective TOPS, totals, Summary figures ...
    for title, coord, value in formulas:
        assert title in ("Allocation", "Summary", "Inputs"), (title, coord, value)
        assert our_formula(value), (title, coord, value)


# ---------------------------------------------------------------- writing
def test_refuses_to_overwrite_without_force(tmp_path):
    plan = _plan(TWO_SITES)
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        write_plan_workbook(plan, target)
    assert target.read_bytes() == b"keep me"
    write_plan_workbook(plan, target, force=True)
    assert load_workbook(target).sheetnames[0] == "Summary"


def test_failure_while_writing_leaves_no_file(tmp_path):
    plan = _plan(TWO_SITES)

    def broken(book):
        book.add_sheet("Half")
        raise RuntimeError("disk on fire")

    target = tmp_path / "out" / "plan.xlsx"
    with pytest.raises(RuntimeError):
        write_plan_workbook(plan, target, extra_sheets=[broken])
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []  # no temporary file left behind


def test_failure_keeps_the_old_file_under_force(tmp_path):
    plan = _plan(TWO_SITES)
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"old")

    def broken(book):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_plan_workbook(plan, target, force=True, first_sheets=[broken])
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["plan.xlsx"]


def test_a_folder_is_not_a_target(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        write_plan_workbook(_plan(TWO_SITES), tmp_path)


def test_workbook_for_a_plan_without_solution(tmp_path):
    # the diagnosis workbook reuses this writer for an infeasible scenario
    loaded = io.load(TWO_SITES, sets=["chips.a.min_units=1000"])
    plan = make_plan(loaded, raise_on_status=False)
    assert plan.status == "infeasible"
    wb = load_workbook(_write(plan, tmp_path))
    assert wb.sheetnames == list(SHEETS)
    ws = wb["Summary"]
    assert ws.cell(row=row_of(ws, "Status"), column=2).value == "infeasible"
    assert ws._charts == []
    assert wb["Allocation"].cell(row=2, column=1).value == "Total"


def test_plan_that_buys_nothing(tmp_path):
    # budgets below the cheapest chip (CNY 10): the optimum is to buy nothing
    plan = _plan(TWO_SITES, sets=["sites.cn.budget.amount=5", "sites.my.budget.amount=1"])
    assert plan.status == "optimal" and plan.allocation == []
    path = _write(plan, tmp_path)
    wb = load_workbook(path)
    ws = wb["Allocation"]
    assert total_row(ws) == 2
    assert ws.auto_filter.ref == "A1:Q1"
    for name in HAND_TOTALS:
        assert evaluate(ws, _coord(find_column(ws, name), 2)) == 0
    summary = load_workbook(path, data_only=True)["Summary"]
    assert summary.cell(row=row_of(summary, "Total spend"), column=2).value == 0
    assert wb["Summary"].cell(row=row_of(summary, "Total spend"), column=2).value == "=Allocation!$K$2"


def test_plan_from_a_scenario_without_a_file(tmp_path):
    plan = make_plan(io.load(TWO_SITES).scenario)
    wb = load_workbook(_write(plan, tmp_path))
    ws = wb["About"]
    items = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)}
    assert items["Scenario file"] == "-" and items["Scenario SHA-256"] == "-"
    assert items["Solver"] == "highs"


def test_cli_solve_writes_the_workbook(tmp_path):
    from click.testing import CliRunner

    from optimizer.cli import cli as main

    out = tmp_path / "cli.xlsx"
    res = CliRunner().invoke(main, ["solve", str(TWO_SITES), "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    # solve adds its analysis sheets after Compliance (issue 3)
    assert wb.sheetnames == [*SHEETS[:4], "Sensitivity", "Break-even", *SHEETS[4:]]
    ws = wb["Allocation"]
    assert evaluate(ws, _coord(find_column(ws, "Effective TOPS"), total_row(ws))) == pytest.approx(10740)
    res = CliRunner().invoke(main, ["solve", str(TWO_SITES), "-o", str(out)])
    assert res.exit_code == 2


def test_a_dated_plan_shows_the_order_and_delivery_period(tmp_path):
    from conftest import base_data, scenario_of

    data = base_data()  # a: 10 TOPS per CNY, b: 7.5; CNY 1000 in cn
    data.update(schema_version=2, periods=["q1", "q2"])
    data["vendors"]["dom"]["capacity_units"] = 60  # a runs out: 60 a (CNY 600) then b with the rest
    plan = make_plan(scenario_of(data))
    assert plan.dated
    path = _write(plan, tmp_path)
    ws = load_workbook(path)["Allocation"]
    head = [c.value for c in ws[1]]
    assert head[:4] == ["Site", "Chip", "Period", "Delivery period"]
    rows = alloc_rows(ws)
    assert {ws.cell(row=r, column=3).value for r in rows} <= {"q1", "q2"}
    for r in rows:  # no lead time: delivered in the order period
        assert ws.cell(row=r, column=4).value == ws.cell(row=r, column=3).value
    values = load_workbook(path, data_only=True)["Allocation"]
    units = {c: sum(values.cell(row=r, column=head.index("Units") + 1).value for r in rows
                    if values.cell(row=r, column=2).value == c) for c in ("a", "b")}
    assert units == pytest.approx({"a": 60, "b": 10})  # (1000 - 600) / 40
    tot = total_row(ws)
    assert values.cell(row=tot, column=head.index("Spend (CNY)") + 1).value == pytest.approx(1000)


def test_no_difference_row_where_the_solver_totals_are_not_row_sums(tmp_path):
    # periods_lease.yaml: a lease's payments are in the solver's spend but not on Allocation, and effective TOPS
    # is the in-service objective; a Difference row would report those as errors
    plan = _plan(FIXTURES / "periods_lease.yaml")
    assert plan.leases
    ws = load_workbook(_write(plan, tmp_path))["Allocation"]
    firsts = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert "Total" in firsts and "Difference" not in firsts and "Solver (verified)" not in firsts
    assert any(isinstance(v, str) and v.startswith("With periods, leases or outcomes") for v in firsts)
