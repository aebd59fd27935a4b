"""Sensitivity and Break-even sheets read back with openpyxl: placement, headers, values, 1E+30, text safety."""
from __future__ import annotations

import math

import openpyxl
import pytest
from conftest import FIXTURES

from optimizer import io
from optimizer.analysis.breakeven import BreakEven
from optimizer.analysis.sensitivity import ConstraintRange, Sensitivity, VariableRange, sensitivity
from optimizer.plan import make_plan
from optimizer.report.whatif_sheets import (
    BREAKEVEN_COLUMNS, CONSTRAINT_COLUMNS, VARIABLE_COLUMNS, add_breakeven_sheet, add_sensitivity_sheet,
)
from optimizer.report.workbook import write_plan_workbook
from optimizer.report.xlsx import Book

RANGING = FIXTURES / "analysis_ranging.yaml"


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _table_after(rows, header):
    """The data rows under ``header`` up to the first empty row."""
    i = next(k for k, r in enumerate(rows) if tuple(r[: len(header)]) == tuple(header))
    out = []
    for r in rows[i + 1:]:
        if r[0] is None:
            break
        out.append(r[: len(header)])
    return out


def _save_and_load(book, tmp_path):
    path = tmp_path / "w.xlsx"
    book.save(str(path))
    return openpyxl.load_workbook(path)


def test_sensitivity_sheet_hand_values(tmp_path):
    sens = sensitivity(make_plan(io.load(RANGING)))
    wb = Book()
    add_sensitivity_sheet(wb, sens)
    ws = _save_and_load(wb, tmp_path)["Sensitivity"]
    rows = _rows(ws)
    assert "Basis: the linear programme" in rows[1][0]
    variables = _table_after(rows, VARIABLE_COLUMNS)
    assert variables == [
        ["units[cn,a]", 6, 0, 2, 1, 1],
        ["units[cn,b]", 4, 0, 3, 1e30, 1],
        ["units[cn,c]", 0, -1, 1, 1, 1e30],
    ]
    constraints = _table_after(rows, CONSTRAINT_COLUMNS)
    assert [r[0] for r in constraints] == ["budget[cn]", "domestic_share[cn]", "chip_max[c]"]
    assert constraints[0][1:] == [10, pytest.approx(2.4), 10, 1e30, 10]
    assert constraints[1][1:] == [0, pytest.approx(-1.0), 0, 4, 6]
    assert constraints[2][1:] == [0, 0, 5, 1e30, 5]
    # unlimited allowances display as 1E+30, as in Excel's report
    cell = next(c for row in ws.iter_rows() for c in row if c.value == 1e30)
    assert cell.number_format == "0E+00"


def test_sensitivity_sheet_says_relaxation(tmp_path):
    sens = sensitivity(make_plan(io.load(RANGING, sets=["integer_units=true"])))
    assert sens.basis == "relaxation"
    wb = Book()
    add_sensitivity_sheet(wb, sens)
    ws = _save_and_load(wb, tmp_path)["Sensitivity"]
    assert "continuous relaxation of the integer plan" in ws.cell(row=2, column=1).value


def _be(site="cn", chip="x", model="Chip X", price=1.25, direction="exits_above", sentence="s") -> BreakEven:
    return BreakEven(site, chip, model, "CNY", 1.0, 95.0, price, direction, sentence)


def test_breakeven_sheet_values(tmp_path):
    rows = [
        _be(),
        BreakEven("cn", "y", "Chip Y", "USD", 0.2, 0.0, 0.16, "enters_below", "Chip Y at cn enters the plan below USD 0.16"),
        BreakEven("cn", "z", "Chip Z", "CNY", 1.0, 5.0, None, "exits_above", "Chip Z stays in"),
    ]
    wb = Book()
    add_breakeven_sheet(wb, rows)
    ws = _save_and_load(wb, tmp_path)["Break-even"]
    got = _rows(ws)
    assert tuple(got[0]) == BREAKEVEN_COLUMNS
    assert got[1] == ["cn", "x", "Chip X", "leaves above", "CNY", 1, 1.25, pytest.approx(0.25), 95, "s"]
    assert got[2] == ["cn", "y", "Chip Y", "enters below", "USD", 0.2, 0.16, pytest.approx(-0.2), 0,
                      "Chip Y at cn enters the plan below USD 0.16"]
    assert got[3][:8] == ["cn", "z", "Chip Z", "stays in", "CNY", 1, None, None]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:J4"


def test_scenario_text_never_becomes_a_formula(tmp_path):
    evil = "=HYPERLINK(\"http://x\",\"y\")"
    wb = Book()
    add_breakeven_sheet(wb, [_be(model=evil, sentence=evil + " at cn leaves the plan above CNY 1.25")])
    sens = Sensitivity("lp", [VariableRange("units[cn,=1+1]", "cn", "=1+1", 1.0, 0.0, 2.0, math.inf, 1.0)],
                       [ConstraintRange("budget[=cmd]", "budget", "<=", 1.0, 0.5, 1.0, math.inf, 1.0)])
    add_sensitivity_sheet(wb, sens)
    path = tmp_path / "w.xlsx"
    wb.save(str(path))
    back = openpyxl.load_workbook(path)
    for ws in (back["Break-even"], back["Sensitivity"]):
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    assert back["Break-even"].cell(row=2, column=3).value == evil


def test_plan_workbook_places_both_sheets_after_compliance(tmp_path):
    plan = make_plan(io.load(RANGING))
    sens = sensitivity(plan)
    out = write_plan_workbook(
        plan, tmp_path / "plan.xlsx",
        extra_sheets=[lambda book: add_sensitivity_sheet(book, sens), lambda book: add_breakeven_sheet(book, [_be()])],
    )
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Allocation", "Constraints", "Compliance", "Sensitivity", "Break-even", "Inputs", "About"]


def test_empty_inputs_still_make_readable_sheets(tmp_path):
    wb = Book()
    add_breakeven_sheet(wb, [])
    add_sensitivity_sheet(wb, Sensitivity("lp", [], [], 0.0, "nothing may be bought at any site"))
    back = _save_and_load(wb, tmp_path)
    assert "No rows" in back["Break-even"].cell(row=2, column=1).value
    texts = [c for r in _rows(back["Sensitivity"]) for c in r if isinstance(c, str)]
    assert any("No variable cells" in t for t in texts)
