"""`chipalloc solve` adds the sensitivity report and break-even prices (JSON keys, sheets, summary lines)."""
from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import fixture_path

from optimizer.cli import cli

HAND = fixture_path("analysis_breakeven.yaml")
RANGING = fixture_path("analysis_ranging.yaml")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_json_has_sensitivity_and_break_even(solver):
    r = run("solve", RANGING, "--json", "--no-report", "--solver", solver)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    sens = doc["sensitivity"]
    assert sens["basis"] == "lp"
    assert [v["name"] for v in sens["variables"]] == ["units[cn,a]", "units[cn,b]", "units[cn,c]"]
    b = sens["variables"][1]
    assert b["allowable_increase"] is None  # unlimited -> null
    assert b["allowable_decrease"] == pytest.approx(1.0)
    share = next(c for c in sens["constraints"] if c["name"] == "domestic_share[cn]")
    assert share["shadow_price"] == pytest.approx(-1.0)
    assert (share["allowable_increase"], share["allowable_decrease"]) == (pytest.approx(4.0), pytest.approx(6.0))
    be = {(x["site"], x["chip"]): x for x in doc["break_even"]}
    assert set(be) == {("cn", "a"), ("cn", "b"), ("cn", "c")}
    for x in be.values():
        assert set(x) == {"site", "chip", "current_price", "break_even_price", "direction", "sentence"}
    assert be[("cn", "c")]["direction"] == "enters_below"


def test_hand_break_even_in_json():
    r = run("solve", HAND, "--json", "--no-report")
    doc = json.loads(r.stdout)
    be = {x["chip"]: x for x in doc["break_even"]}
    assert be["x"]["direction"] == "exits_above"
    assert be["x"]["break_even_price"] == pytest.approx(1.25, rel=1e-3)
    assert be["y"]["break_even_price"] == pytest.approx(0.16, rel=1e-3)
    assert be["y"]["sentence"] == "Chip Y at cn enters the plan below USD 0.16; today USD 0.2"
    assert be["z"]["break_even_price"] is None and be["w"]["break_even_price"] is None


def test_workbook_has_sheets_in_order(tmp_path):
    out = tmp_path / "plan.xlsx"
    r = run("solve", HAND, "-o", out)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Allocation", "Constraints", "Compliance", "Sensitivity", "Break-even", "Inputs", "About"]
    ws = wb["Break-even"]
    sentences = [row[-1] for row in ws.iter_rows(min_row=2, max_row=5, values_only=True)]
    assert "Chip X at cn leaves the plan above CNY 1.25; today CNY 1" in sentences


def test_summary_lists_break_even_sentences():
    r = run("solve", HAND, "--no-report")
    assert r.exit_code == 0
    assert "Break-even prices" in r.stderr
    assert "Chip Y at cn enters the plan below USD 0.16; today USD 0.2" in r.stderr
    assert r.stdout == ""
