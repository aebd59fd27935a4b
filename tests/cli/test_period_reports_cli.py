"""`chipalloc solve` on plans by period: the summary on stderr and the workbook's sheets, end to end.

Figures: the hand solutions of tests/fixtures/periods_*.yaml (header comments).
"""
from __future__ import annotations

import json

import openpyxl
from click.testing import CliRunner
from conftest import FIXTURES

from optimizer.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_solve_prints_the_dated_summary_and_writes_the_period_sheets(tmp_path):
    out = tmp_path / "plan.xlsx"
    r = run("solve", FIXTURES / "periods_lease.yaml", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    err = r.stderr
    assert "objective                   16,000   effective TOPS in service, averaged over the 4 periods q1-q4" in err
    assert "leases (paid per unit and period in service, from the start period to the end):" in err
    assert "op_x   my    x     Example DC Sdn Bhd  q1        10" in err
    assert "by period (cash paid" in err and "q1      my    CNY 700" in err
    assert "  x at my (MY), q1-q4: deny - " in err and "  x at my (MY), leased: cap - " in err
    assert f"workbook: {out}" in err
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb.sheetnames == ["Summary", "Allocation", "Orders by period", "Leases", "Cash by period", "Constraints",
                             "Compliance", "Sensitivity", "Break-even", "Inputs", "About"]
    figures = {wb["Summary"].cell(r, 1).value: wb["Summary"].cell(r, 2).value for r in range(1, 40)}
    assert figures["Effective TOPS in service (average)"] == 16000
    assert (figures["Purchase spend"], figures["Lease spend"], figures["Total spend"]) == (600, 400, 1000)


def test_json_is_unchanged_by_the_reports(tmp_path):
    # the report work only adds sheets and terminal tables: the JSON document has the plan's own figures
    r = run("solve", FIXTURES / "periods_lease.yaml", "--json", "--no-report")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "chipalloc.solution/2" and r.stderr == ""
    assert doc["totals"]["lease_spend"] == 400 and doc["totals"]["effective_tops"] == 16000
    assert [p["spend"] for p in doc["periods"]] == [700, 100, 100, 100]


def test_a_version_2_scenario_with_per_period_values_writes_its_inputs(tmp_path):
    # power_mw and budget.per_period by period, windows: Inputs shows them as field.period columns
    out = tmp_path / "bp.xlsx"
    r = run("solve", FIXTURES / "periods_budget_power.yaml", "-o", out)
    assert r.exit_code == 0, r.stderr
    ws = openpyxl.load_workbook(out)["Inputs"]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert {"power_mw.q1", "power_mw.q2", "budget.per_period.q1", "periods", "objective"} <= texts
    assert not any(t.startswith("{'") for t in texts)  # no mapping written as its Python text
