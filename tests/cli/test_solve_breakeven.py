"""`solve` prints and writes the plan before the break-even search, which never blocks or loses the plan."""
from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import SCENARIOS, fixture_path
from optimizer.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("scenario", sorted(p.name for p in SCENARIOS.glob("*.yaml") if "infeasible" not in p.name))
def test_plan_is_printed_before_break_even_on_every_shipped_scenario(tmp_path, scenario, monkeypatch):
    from optimizer.analysis import breakeven

    seen = []

    def spy(plan, **kw):  # what the terminal shows when the search starts
        seen.append(True)
        return []

    monkeypatch.setattr(breakeven, "break_even", spy)
    out = tmp_path / "p.xlsx"
    r = run("solve", SCENARIOS / scenario, "-o", out)
    assert r.exit_code == 0, r.stderr
    assert seen and "workbook: " in r.stderr and out.exists()


def test_break_even_follows_the_summary_and_joins_the_workbook(tmp_path):
    out = tmp_path / "p.xlsx"
    r = run("solve", fixture_path("analysis_breakeven.yaml"), "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.index("workbook: ") < r.stderr.index("Break-even prices")
    assert "Break-even" in openpyxl.load_workbook(out).sheetnames


def test_no_breakeven_skips_the_search(tmp_path, monkeypatch):
    from optimizer.analysis import breakeven

    def boom(*a, **k):
        raise AssertionError("break-even must not run")

    monkeypatch.setattr(breakeven, "break_even", boom)
    out = tmp_path / "p.xlsx"
    r = run("solve", fixture_path("analysis_breakeven.yaml"), "-o", out, "--no-breakeven", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["break_even"] is None and doc["status"] == "optimal"
    assert "Break-even" not in openpyxl.load_workbook(out).sheetnames


def test_ctrl_c_during_break_even_keeps_the_plan_and_its_workbook(tmp_path, monkeypatch):
    from optimizer.analysis import breakeven

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(breakeven, "break_even", interrupted)
    out = tmp_path / "p.xlsx"
    r = run("solve", fixture_path("analysis_breakeven.yaml"), "-o", out)
    assert r.exit_code == 130
    assert "break-even search interrupted; the plan above stands" in r.stderr
    assert "effective TOPS" in r.stderr  # the summary was printed first
    wb = openpyxl.load_workbook(out)
    assert "Allocation" in wb.sheetnames and "Break-even" not in wb.sheetnames
