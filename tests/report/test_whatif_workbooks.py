"""Sweep, tornado and compare workbooks (XlsxWriter) read back with openpyxl and pandas: sheets, headers, values,
formulas with their values, number formats, charts, colour scale, and what was applied."""
from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest
from conftest import FIXTURES

from optimizer import io
from optimizer.analysis.compare import compare, load_targets
from optimizer.analysis.sweep import sweep
from optimizer.analysis.tornado import tornado
from optimizer.report.compare_workbook import write_compare_workbook
from optimizer.report.sweep_workbook import write_sweep_workbook
from optimizer.report.tornado_workbook import write_tornado_workbook

SMALL = str(FIXTURES / "whatif_small.yaml")


def header(ws) -> list:
    """Row 1 without the empty cells to its right (notes under the table may reach further)."""
    cells = [c.value for c in ws[1]]
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def col(ws, name: str) -> int:
    return header(ws).index(name) + 1


def refs(chart) -> list[str]:
    return [(s.yVal if s.yVal is not None else s.val).numRef.f for s in chart.series]  # scatter: yVal


def test_sweep_one_vary(tmp_path):
    res = sweep(io.load(SMALL, variants=["rich"]), ["chips.b.min_units=0,50,150"])
    out = write_sweep_workbook(res, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Sweep", "Inputs", "About"]
    ws = wb["Sweep"]
    h = header(ws)
    assert h[:4] == ["chips.b.min_units", "Status", "Effective TOPS", "Spend (CNY)"]
    assert "Domestic share cn" in h and "Units cn/a" in h and "Units cn/b" in h and h[-1] == "Binding constraints"
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == [0, 50, 150]
    # budget 3000: 11000 as long as b is not forced past a's spend; 150 units of b (1500) need 1500 of a: capacity 1000
    assert [ws.cell(r, 2).value for r in (2, 3, 4)] == ["optimal", "optimal", "infeasible"]
    assert ws.cell(2, 3).value == pytest.approx(11000, rel=1e-6)
    assert ws.cell(4, 3).value is None and ws.cell(4, col(ws, "Units cn/b")).value is None
    assert ws.cell(3, col(ws, "Units cn/b")).value == pytest.approx(100, rel=1e-6)
    assert "budget" not in (ws.cell(2, len(h)).value or "") and "capacity[dom]" in ws.cell(2, len(h)).value
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    kinds = {type(c).__name__: c for c in ws._charts}
    # a numeric varied value: a scatter chart, the points where their values fall (a minimum of 0 has no row, so
    # every point is solved and there are no breakpoints to mark)
    assert set(kinds) == {"ScatterChart", "BarChart"}
    assert res.method == "points" and "adds or removes rows" in res.method_note
    assert refs(kinds["ScatterChart"]) == ["Sweep!$C$2:$C$4"]
    bar = kinds["BarChart"]
    assert bar.grouping == "stacked" and len(bar.series) == 2  # one series per chip and site bought
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert "rich" in about["Applied variants and overrides"]
    assert about["Points"] == 3 and about["Points without an optimal plan"] == 1
    # the sweep sheet says what was applied to every point, as the solve workbook's About and Inputs do
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Applied to every point (before the varied values): variant rich" in notes
    inputs = [c.value for row in wb["Inputs"].iter_rows() for c in row]
    assert "Applied to this run" in inputs and "rich" in inputs


def test_sweep_applied_sets_are_shown(tmp_path):
    res = sweep(io.load(SMALL, sets=["chips.b.unit_price=9"]), ["sites.cn.budget.amount=36e9,40e9"])
    wb = openpyxl.load_workbook(write_sweep_workbook(res, tmp_path / "s.xlsx"))
    ws = wb["Sweep"]
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Applied to every point (before the varied values): --set chips.b.unit_price=9" in notes
    # large varied values get thousands separators, not 36000000000
    assert ws.cell(2, 1).value == 36e9 and ws.cell(2, 1).number_format == "#,##0"


def test_sweep_grid_has_colour_scale(tmp_path):
    res = sweep(io.load(SMALL), ["sites.cn.domestic_min_share=0.4,0.6", "sites.cn.budget.amount=500:1500:3"])
    wb = openpyxl.load_workbook(write_sweep_workbook(res, tmp_path / "g.xlsx"))
    assert wb.sheetnames == ["Sweep", "Grid", "Inputs", "About"]
    g = wb["Grid"]
    assert [g.cell(1, j).value for j in (2, 3, 4)] == [500, 1000, 1500]
    assert [g.cell(i, 1).value for i in (2, 3)] == [0.4, 0.6]
    for i, f in ((2, 0.4), (3, 0.6)):
        for j, b in ((2, 500), (3, 1000), (4, 1500)):
            assert g.cell(i, j).value == pytest.approx((6 - f) * b, rel=1e-6)
    rules = [(str(cf.sqref), r.type) for cf in g.conditional_formatting for r in cf.rules]
    assert rules == [("B2:D3", "colorScale")]
    assert len(g._charts) == 1
    assert wb["Sweep"]._charts == []  # the line and stacked charts are for one --vary


def test_tornado_workbook(tmp_path):
    res = tornado(io.load(SMALL), pct=20)
    wb = openpyxl.load_workbook(write_tornado_workbook(res, tmp_path / "t.xlsx"))
    assert wb.sheetnames == ["Tornado", "Inputs", "About"]
    ws = wb["Tornado"]
    assert header(ws)[:10] == ["Parameter", "Path", "Base value", "Low value", "High value", "Effective TOPS at low",
                               "Effective TOPS at high", "Low - base", "High - base", "Swing"]
    paths = [ws.cell(r, 2).value for r in range(2, 2 + len(res.rows))]
    assert paths == [r.path for r in res.rows] and paths[0] == "sites.cn.budget.amount"
    # the changes are live formulas against the base figure under the table, stored with their values
    base_row = len(res.rows) + 3
    assert ws.cell(base_row, 1).value == "Base effective TOPS"
    assert ws.cell(2, 8).value == f"=F2-$F${base_row}" and ws.cell(2, 9).value == f"=G2-$F${base_row}"
    values = openpyxl.load_workbook(tmp_path / "t.xlsx", data_only=True)["Tornado"]
    assert values.cell(2, 8).value == pytest.approx(-1100, rel=1e-6)
    assert values.cell(2, 9).value == pytest.approx(1100, rel=1e-6)
    assert values.cell(2, 6).value - values.cell(base_row, 6).value == pytest.approx(values.cell(2, 8).value)
    # number formats: the budget (1,000 and more) with thousands separators, changes signed
    assert ws.cell(2, 3).number_format == "#,##0" and ws.cell(2, 8).number_format == "+#,##0;-#,##0;0"
    frame = pd.read_excel(tmp_path / "t.xlsx", sheet_name="Tornado", nrows=len(res.rows))
    assert not frame[["Low - base", "High - base"]].isna().any(axis=None)
    swings = [ws.cell(r, 10).value for r in range(2, 2 + len(res.rows))]
    assert swings == sorted(swings, reverse=True)
    (chart,) = ws._charts
    assert type(chart).__name__ == "BarChart" and chart.type == "bar"  # horizontal bars
    assert refs(chart) == [f"Tornado!$H$2:$H${1 + len(res.rows)}", f"Tornado!$I$2:$I${1 + len(res.rows)}"]
    assert chart.x_axis.scaling.orientation == "maxMin"  # largest swing at the top


def test_compare_workbook(tmp_path):
    res = compare(load_targets([SMALL, SMALL + "@rich", SMALL + "@cheap_b"]))
    wb = openpyxl.load_workbook(write_compare_workbook(res, tmp_path / "c.xlsx"))
    assert wb.sheetnames == ["Compare", "Inputs", "Inputs 2", "Inputs 3", "About"]
    ws = wb["Compare"]
    assert header(ws) == ["Section", "Figure", "Unit", "whatif_small", "@rich", "@cheap_b",
                          "@rich - whatif_small", "@cheap_b - whatif_small"]
    rows = {ws.cell(r, 2).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value}
    r = rows["Effective TOPS"]
    assert [ws.cell(r, c).value for c in (4, 5, 6)] == pytest.approx([5500, 11000, 6250], rel=1e-6)
    assert ws.cell(r, 7).value == f"=E{r}-D{r}" and ws.cell(r, 8).value == f"=F{r}-D{r}"  # live differences
    values = openpyxl.load_workbook(tmp_path / "c.xlsx", data_only=True)["Compare"]
    assert [values.cell(r, c).value for c in (7, 8)] == pytest.approx([5500, 750], rel=1e-6)  # stored with them
    frame = pd.read_excel(tmp_path / "c.xlsx", sheet_name="Compare")
    diff = frame[frame["Figure"] == "Effective TOPS"]["@rich - whatif_small"]
    assert diff.item() == pytest.approx(5500, rel=1e-6)
    b = rows["Binding: budget[cn]"]
    assert [ws.cell(b, c).value for c in (4, 5, 6, 7, 8)] == ["yes", "no", "yes", "changed", None]
    charts = ws._charts
    assert len(charts) == 2 and all(c.type == "col" and c.grouping == "clustered" for c in charts)
    assert all(len(c.series) == 3 for c in charts)  # one series per scenario
    # what each column applied is said on the sheet
    notes = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(n.startswith("@rich: ") and n.endswith("applied: variant rich") for n in notes)
    assert any(n.startswith("whatif_small: ") and n.endswith("applied: none") for n in notes)


def test_scenario_text_stays_text(tmp_path):
    hostile = tmp_path / "=HYPERLINK(1).yaml"
    shutil.copy(SMALL, hostile)
    res = compare(load_targets([SMALL, str(hostile)]))
    wb = openpyxl.load_workbook(write_compare_workbook(res, tmp_path / "c.xlsx"))
    cell = wb["Compare"].cell(1, 5)
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
