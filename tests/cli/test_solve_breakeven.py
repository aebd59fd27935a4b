"""`solve` prints and writes the plan before the break-even search, which never blocks or loses the plan."""
from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import SCENARIOS, fixture_path, workbook_values
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


# --------------------------------------------------------------------------- --workers and --scheduler


@pytest.mark.slow
@pytest.mark.parametrize("scenario, sets", [
    ("bytedance-2025.yaml", []),
    ("global-2025.yaml", []),  # two sites
    ("bytedance-2025.yaml", ["--set", "integer_units=false", "--set", "chips.mlu370.unit_price=90000"]),  # duals rows too
])
def test_serial_workers_and_scheduler_give_the_same_break_even_rows(tmp_path, dask_cluster, scenario, sets):
    got = {}
    for mode, extra in (("serial", []), ("workers", ["--workers", "2"]),
                        ("scheduler", ["--scheduler", dask_cluster.scheduler_address])):
        out = tmp_path / f"{mode}.xlsx"
        r = run("solve", SCENARIOS / scenario, *sets, *extra, "--json", "-o", out)
        assert r.exit_code == 0, r.stderr
        doc = json.loads(r.stdout)
        assert doc.pop("report") == str(out)
        got[mode] = (doc, workbook_values(out), r.stderr)
    doc, book, _ = got["serial"]
    assert doc["break_even"] and any(k[0] == "Break-even" for k in book)
    for mode in ("workers", "scheduler"):
        assert got[mode][0] == doc, mode  # the break-even rows and everything else, float for float
        assert got[mode][1] == book, mode
    n = len(doc["break_even"])
    assert "searching" not in got["serial"][2]
    assert f"searching {n} break-even rows on a local Dask cluster of 2 processes" in got["workers"][2]
    assert (f"searching {n} break-even rows on the Dask scheduler at {dask_cluster.scheduler_address} (2 workers)"
            in got["scheduler"][2])


def test_rows_are_printed_in_order_after_the_plan_and_the_same_as_in_json():
    human = run("solve", SCENARIOS / "bytedance-2025.yaml", "--no-report")
    doc = json.loads(run("solve", SCENARIOS / "bytedance-2025.yaml", "--no-report", "--json").stdout)
    assert human.exit_code == 0
    tail = human.stderr.split("Break-even prices (only that site's price moves; within 0.1%):\n", 1)[1]
    assert tail.splitlines() == [f"  {b['sentence']}" for b in doc["break_even"]]
    assert [(b["site"], b["chip"]) for b in doc["break_even"]] == [
        ("cn", "ascend910b"), ("cn", "ascend910c"), ("cn", "h20"), ("cn", "mlu370")]


@pytest.mark.parametrize("options, message", [
    (["--workers", "0"], "error: --workers 0: must be a whole number of processes, at least 1"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler do not go together"),
    (["--scheduler", "http://127.0.0.1:8786"], "unknown scheme 'http'; use tcp:// or tls://"),
])
def test_bad_cluster_options_exit_2_before_anything_is_solved_or_written(tmp_path, options, message):
    out = tmp_path / "p.xlsx"
    r = run("solve", fixture_path("analysis_breakeven.yaml"), *options, "-o", out)
    assert r.exit_code == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert "effective TOPS" not in r.stderr and not out.exists()


def test_unreachable_scheduler_exits_2_before_the_plan_is_written(tmp_path, monkeypatch):
    import socket

    from optimizer.analysis import executor as ex_mod

    monkeypatch.setattr(ex_mod, "CONNECT_TIMEOUT", 1.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        addr = f"tcp://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed
    out = tmp_path / "p.xlsx"
    r = run("solve", fixture_path("analysis_breakeven.yaml"), "--scheduler", addr, "--json", "-o", out)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: --scheduler {addr}: cannot reach a Dask scheduler there")
    assert r.stdout == "" and not out.exists()


def test_no_breakeven_starts_no_cluster(tmp_path, monkeypatch):
    from optimizer.cli import solve as solve_cli

    def no_cluster(*a, **k):
        raise AssertionError("no executor without a break-even search")

    monkeypatch.setattr(solve_cli, "make_executor", no_cluster)
    r = run("solve", fixture_path("analysis_breakeven.yaml"), "--no-breakeven", "--workers", "2", "--no-report")
    assert r.exit_code == 0, r.stderr
    assert "searching" not in r.stderr and "Break-even" not in r.stderr


def test_a_terminal_sees_a_count_of_rows_done_under_the_rows(monkeypatch, capsys):
    """On a terminal a line under the rows counts the rows finished (on any worker); it is cleared at the end."""
    import sys

    from optimizer.io import load
    from optimizer.plan import make_plan
    from optimizer.cli.solve import _break_even

    plan = make_plan(load(fixture_path("analysis_breakeven.yaml")))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    rows = _break_even(plan, None, quiet=False, path=None, announce=False)
    err = capsys.readouterr().err
    assert [r.chip for r in rows] == ["w", "x", "y", "z"]
    clear = "\r\033[K"
    assert "  searching: 0 of 4 rows done" in err and "  searching: 3 of 4 rows done" in err
    assert "of 4 rows done" not in err.rsplit(clear, 1)[1]  # nothing left under the last row
    shown = [line for line in err.replace(clear, "\n").splitlines() if line.startswith("  Chip")]
    assert shown == [f"  {r.sentence}" for r in rows]
