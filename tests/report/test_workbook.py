"""The solve workbook, read back with openpyxl.

Expected figures for report_two_sites.yaml are worked out by hand in the
fixture's header comment. The live formulas are evaluated here, in Python,
from the cells they reference (a tiny evaluator for the three formula shapes
the workbook uses), and compared with the hand figures and the solver's.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path

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
from optimizer.report.xlsx import HEADER_FILL, find_column

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
BYTEDANCE = TESTS.parent / "scenarios" / "bytedance-2025.yaml"
TWO_SITES = FIXTURES / "report_two_sites.yaml"
HOSTILE = FIXTURES / "report_hostile.yaml"

# report_two_sites.yaml, worked out by hand in the fixture
HAND_ROWS = {  # (site, chip): (units, unit price CNY, spend, effective TOPS)
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


_CELL = r"([A-Z]{1,3})(\d+)"


def evaluate(ws, coord: str, depth: int = 0) -> float:
    """Value of a cell, evaluating the workbook's own formula shapes: products, SUM(range), A-B."""
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
    m = re.fullmatch(rf"{_CELL}-{_CELL}", expr)
    if m:
        return evaluate(ws, m.group(1) + m.group(2), depth + 1) - evaluate(ws, m.group(3) + m.group(4), depth + 1)
    if re.fullmatch(rf"{_CELL}(\*{_CELL})*", expr):
        out = 1.0
        for ref in expr.split("*"):
            out *= evaluate(ws, ref, depth + 1)
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


# ---------------------------------------------------------------- workbooks built once
@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    plan = _plan(TWO_SITES)
    path = write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "two.xlsx")
    return plan, load_workbook(path)


@pytest.fixture(scope="module")
def bytedance(tmp_path_factory):
    plan = _plan(BYTEDANCE)
    path = write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "bd.xlsx")
    return plan, load_workbook(path), path


@pytest.fixture(scope="module")
def continuous(tmp_path_factory):
    plan = _plan(TWO_SITES, sets=["integer_units=false"])
    path = write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "lp.xlsx")
    return plan, load_workbook(path)


# ---------------------------------------------------------------- sheets and order
def test_sheet_names_and_order(two_sites):
    _, wb = two_sites
    assert wb.sheetnames == ["Summary", "Allocation", "Constraints", "Compliance", "Inputs", "About"]
    assert tuple(wb.sheetnames) == SHEETS
    assert wb.active.title == "Summary"


def test_first_and_extra_sheets_go_where_promised(tmp_path):
    plan = _plan(TWO_SITES)

    def sheet(name):
        def add(wb):
            wb.create_sheet(name)["A1"] = name
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
    names = ["Site", "Chip", "Vendor", "Origin", "Domestic", "Units", "Unit price", "Spend", "INT8 TOPS", "Flexibility",
             "Delivery rate", "Effective TOPS"]
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
    _, wb = two_sites
    ws = wb["Allocation"]
    col = {n: find_column(ws, n) for n in ALLOCATION_COLUMNS}
    got = {}
    for r in alloc_rows(ws):
        key = (ws.cell(row=r, column=col["Site"]).value, ws.cell(row=r, column=col["Chip"]).value)
        got[key] = (
            ws.cell(row=r, column=col["Units"]).value,
            ws.cell(row=r, column=col["Unit price"]).value,
            evaluate(ws, _coord(col["Spend"], r)),
            evaluate(ws, _coord(col["Effective TOPS"], r)),
        )
        # per-row inputs, from the fixture
        chip = key[1]
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


def test_totals_row_sums_with_formulas_and_matches_hand_totals(two_sites):
    _, wb = two_sites
    ws = wb["Allocation"]
    rows = alloc_rows(ws)
    tot = total_row(ws)
    assert tot == rows[-1] + 1
    for name, expected in HAND_TOTALS.items():
        letter = get_column_letter(find_column(ws, name))
        cell = ws[f"{letter}{tot}"]
        assert cell.value == f"=SUM({letter}{rows[0]}:{letter}{rows[-1]})"
        assert evaluate(ws, cell.coordinate) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("which", ["two_sites", "continuous", "bytedance"])
def test_formula_results_equal_the_solver(which, request):
    plan, wb = request.getfixturevalue(which)[:2]
    ws = wb["Allocation"]
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


def test_bytedance_rows_known_from_the_reference_figures(bytedance):
    # ascend910c: USD 28,600 x 7.2 = CNY 205,920; the 70,000-unit max binds; 1600 x 0.75 x 0.85 = 1020 per unit
    _, wb, _ = bytedance
    ws = wb["Allocation"]
    r = row_of(ws, "ascend910c", col=find_column(ws, "Chip"))
    assert ws.cell(row=r, column=find_column(ws, "Unit price")).value == pytest.approx(205_920, rel=1e-12)
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
        assert c.fill.fgColor.rgb == HEADER_FILL.fgColor.rgb
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
    plan, wb = two_sites
    ws = wb["Summary"]
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


def test_summary_domestic_share_against_floor(bytedance):
    plan, wb, _ = bytedance
    ws = wb["Summary"]
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


def test_summary_has_charts_over_its_own_tables(two_sites):
    _, wb = two_sites
    ws = wb["Summary"]
    charts = ws._charts
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


def test_inputs_sheet_carries_the_scenario(tmp_path):
    plan = _plan(TWO_SITES, variants=["lean"], sets=["chips.a.unit_price=12"])
    wb = load_workbook(_write(plan, tmp_path))
    ws = wb["Inputs"]
    values = _texts(ws)
    for section in ("Scenario", "Exchange rates", "Flexibility", "Vendors", "Chips", "Sites", "Site price overrides",
                    "Export controls", "Licences", "TPP caps", "Applied to this run", "Variants defined in the file"):
        assert section in values, section
    for text in ("Dom A1", "US B300", "US C200", "Domestic Co", "Malaysia", "Test rules"):
        assert text in values
    # chips table: b is USD 5 = CNY 35
    hdr = row_of(ws, "Chip")
    cols = [c.value for c in ws[hdr]]
    r = row_of(ws, "b")
    assert ws.cell(row=r, column=cols.index("Unit price") + 1).value == 5
    assert ws.cell(row=r, column=cols.index("Price currency") + 1).value == "USD"
    assert ws.cell(row=r, column=cols.index("Unit price (CNY)") + 1).value == 35
    # the applied variant and --set, each change on its own row
    r = row_of(ws, "Applied to this run")
    applied = [[ws.cell(row=i, column=j).value for j in range(1, 5)] for i in range(r + 2, r + 4)]
    assert applied == [["variant", "lean", "sites.cn.budget.amount", 500], ["--set", None, "chips.a.unit_price", 12]]
    # and the solved scenario reflects them: site cn budget is 500
    r = row_of(ws, "Site")
    r_cn = r + 1
    assert ws.cell(row=r_cn, column=1).value == "cn" and ws.cell(row=r_cn, column=4).value == 500


def test_about_sheet(bytedance):
    plan, wb, _ = bytedance
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


def test_inputs_and_about_can_be_added_to_any_workbook():
    from openpyxl import Workbook

    loaded = io.load(TWO_SITES, sets=["description=changed"])
    wb = Workbook()
    ws = add_inputs_sheet(wb, loaded.scenario, loaded.applied)
    about = add_about_sheet(wb, scenario_path="x.yaml", scenario_sha256="abc", solver="cbc", solver_version="CBC",
                            applied=loaded.applied, extra={"Analysis": "sweep", "Points": 5})
    assert ws.title == "Inputs" and about.title == "About"
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
OUR_FORMULA = re.compile(rf"=(SUM\({_CELL}:{_CELL}\)|{_CELL}-{_CELL}|{_CELL}(\*{_CELL})*)")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    plan = _plan(HOSTILE, variants=["evil"], sets=["description==SET(1)"])
    assert plan.totals["effective_tops"] == 100  # 10 units of c1 at 10 TOPS each
    path = write_plan_workbook(plan, tmp_path_factory.mktemp("wb") / "hostile.xlsx")
    return load_workbook(path)


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
    assert formulas  # Spend, Effective TOPS, totals ...
    for title, coord, value in formulas:
        assert title == "Allocation", (title, coord, value)
        assert OUR_FORMULA.fullmatch(value), (coord, value)


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

    def broken(wb):
        wb.create_sheet("Half")
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

    def broken(wb):
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
    wb = load_workbook(_write(plan, tmp_path))
    ws = wb["Allocation"]
    assert total_row(ws) == 2
    assert ws.auto_filter.ref == "A1:O1"
    for name in HAND_TOTALS:
        assert evaluate(ws, _coord(find_column(ws, name), 2)) == 0
    summary = wb["Summary"]
    assert summary.cell(row=row_of(summary, "Total spend"), column=2).value == 0


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
