"""The Diagnosis sheet: first in its workbook, and it says what the diagnosis says."""
from __future__ import annotations

import openpyxl
from conftest import FIXTURES, SCENARIOS
import pytest

from optimizer import io
from optimizer.analysis.diagnose import diagnose
from optimizer.plan import make_plan
from optimizer.report.diagnosis_sheet import add_diagnosis_sheet, write_diagnosis_workbook
from optimizer.report.xlsx import Book


def _rows(ws):
    return [tuple(c for c in r) for r in ws.iter_rows(values_only=True)]


def test_sheet_goes_first_and_is_refused_anywhere_else(tmp_path):
    d = diagnose(io.load(FIXTURES / "diagnose_budget_min.yaml").scenario)
    late = Book()
    late.add_sheet("Summary")
    with pytest.raises(ValueError, match="goes first"):
        add_diagnosis_sheet(late, d)
    book = Book()
    add_diagnosis_sheet(book, d)
    book.add_sheet("Summary")
    book.save(str(tmp_path / "d.xlsx"))
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    assert wb.sheetnames == ["Diagnosis", "Summary"]
    assert wb.active.title == "Diagnosis"


def test_sheet_lists_the_conflict_and_every_fix(tmp_path):
    loaded = io.load(SCENARIOS / "domestic-90-infeasible.yaml")
    plan = make_plan(loaded, raise_on_status=False)
    d = diagnose(loaded.scenario)
    path = write_diagnosis_workbook(plan, d, tmp_path / "d.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Diagnosis", "Inputs", "About"]
    rows = _rows(wb["Diagnosis"])
    assert rows[0][0] == f"Infeasible: {loaded.scenario.name}"
    conflict = next(r for r in rows if r[0] == "Conflict")
    assert conflict[1] == d.sentence
    start = rows.index(("Constraint", "Rule", None, None, None, None))
    assert [r[0] for r in rows[start + 1:start + 1 + len(d.conflict)]] == d.conflict
    head = rows.index(("Constraint", "Scenario path", "Change", "Current", "Needed", "Paste after the command"))
    table = rows[head + 1:head + 1 + len(d.fixes)]
    assert table == [(f.constraint, f.path, f.direction, f.current, f.needed, f.set) for f in d.fixes]
    # the numbers are numbers, so finance can compare them
    assert all(isinstance(r[3], (int, float)) and isinstance(r[4], (int, float)) for r in table)
    about = dict(r[:2] for r in _rows(wb["About"]) if r[0])
    assert about.get("Scenario SHA-256") == loaded.source.sha256


def test_sheet_names_rows_that_cannot_fix_it_alone(tmp_path):
    loaded = io.load(SCENARIOS / "bytedance-2025.yaml",
                     sets=["sites.cn.domestic_min_share=0.95", "chips.h20.min_units=20000"])
    d = diagnose(loaded.scenario)
    book = Book()
    add_diagnosis_sheet(book, d)
    book.save(str(tmp_path / "d.xlsx"))
    rows = _rows(openpyxl.load_workbook(tmp_path / "d.xlsx")["Diagnosis"])
    alone = next(r for r in rows if r[0] == "Not enough alone")
    assert alone[1].startswith("capacity[cambricon], vendor_share[huawei]: ")
