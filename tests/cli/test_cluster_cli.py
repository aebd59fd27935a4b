"""--workers and --scheduler on sweep, tornado and compare: same JSON and workbooks as in-process, clear errors,
and Ctrl-C writes a partial sweep (exit 130)."""
from __future__ import annotations

import json
import socket

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SCENARIOS, workbook_values, stop_after

from optimizer.analysis import executor as ex_mod
from optimizer.cli import cli, common, whatif

SMALL = str(FIXTURES / "whatif_small.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


COMMANDS = {
    "sweep-1d": ["sweep", BASELINE, "--vary", "sites.cn.budget.amount=20e9:60e9:24"],
    # a grid with 3 infeasible points (b's minimum above (1 - f) x budget), diagnosed on the workers
    "sweep-grid": ["sweep", SMALL, "--vary", "sites.cn.domestic_min_share=0.3,0.6,0.9", "--vary",
                   "chips.b.min_units=10,40,70"],
    "tornado": ["tornado", BASELINE, "--variant", "budget_cut_20", "--param", "flexibility.asic", "--param",
                "chips.h20.unit_price", "--param", "vendors.huawei.max_share", "--param", "fx.USD", "--param",
                "chips.ascend910c.max_units", "--param", "sites.cn.domestic_min_share"],
    "compare": ["compare", BASELINE, BASELINE + "@h20_licence_denied", BASELINE + "@budget_cut_20", SMALL,
                SMALL + "@rich"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_serial_workers_and_scheduler_give_the_same_json_and_workbook(tmp_path, dask_cluster, name):
    got = {}
    for mode, extra in (("serial", []), ("workers", ["--workers", "2"]),
                        ("scheduler", ["--scheduler", dask_cluster.scheduler_address])):
        out = tmp_path / f"{name}-{mode}.xlsx"
        res = run(*COMMANDS[name], *extra, "--json", "-o", str(out))
        assert res.exit_code == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc.pop("report") == str(out)
        got[mode] = (doc, workbook_values(out), res.stderr)
    (doc, cells, _), *others = got.values()
    for other_doc, other_cells, _ in others:
        assert other_doc == doc
        assert other_cells == cells
    assert "solving" not in got["serial"][2]
    assert "on a local Dask cluster of 2 processes" in got["workers"][2]
    assert f"on the Dask scheduler at {dask_cluster.scheduler_address} (2 workers)" in got["scheduler"][2]
    if name == "sweep-grid":
        assert sum(p["diagnosis"] is not None for p in doc["points"]) == 3 and doc["partial"] is False


def test_the_same_sweep_twice_gives_the_same_bytes(dask_cluster):
    args = ["sweep", BASELINE, "--vary", "chips.h20.unit_price=-30%:+30%:20", "--set", "integer_units=false",
            "--json", "--no-report", "--scheduler", dask_cluster.scheduler_address]
    assert run(*args).stdout == run(*args).stdout == run(*args[:-2]).stdout


# --------------------------------------------------------------------------- option errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [["sweep", SMALL, "--vary", "chips.b.unit_price=8,12"], ["tornado", SMALL],
                                     ["compare", SMALL, SMALL + "@rich"]])
@pytest.mark.parametrize(
    "options, message",
    [
        (["--workers", "0"], "error: --workers 0: must be a whole number of processes, at least 1"),
        (["--workers", "-2"], "error: --workers -2: must be a whole number of processes"),
        (["--workers", "two"], "'two' is not a valid integer"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler do not go together"),
        (["--scheduler", "http://127.0.0.1:8786"], "unknown scheme 'http'; use tcp:// or tls://"),
        (["--scheduler", "localhost"], "--scheduler localhost: not an address"),
    ],
)
def test_bad_cluster_options_exit_2_before_anything_is_written(tmp_path, command, options, message):
    out = tmp_path / "x.xlsx"
    res = run(*command, *options, "-o", str(out))
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not out.exists()


def test_unreachable_scheduler_exits_2_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(ex_mod, "CONNECT_TIMEOUT", 1.0)
    addr = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "x.xlsx"
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--scheduler", addr, "--json", "-o", str(out))
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: --scheduler {addr}: cannot reach a Dask scheduler there")
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert res.stdout == "" and not out.exists()


def test_bad_input_is_found_before_a_cluster_is_started(monkeypatch):
    started = []
    monkeypatch.setattr(common, "make_executor", lambda *a: started.append(a))
    res = run("sweep", SMALL, "--vary", "sites.cn.domestic_min_share=0.5:1.5:3", "--workers", "2", "--no-report")
    assert res.exit_code == 2 and "at sites.cn.domestic_min_share=1" in res.stderr
    assert started == []


# --------------------------------------------------------------------------- Ctrl-C


def _stop_after(monkeypatch, k: int):
    stop_after(monkeypatch, whatif, k)


@pytest.mark.parametrize("where", ["serial", "scheduler"])
def test_ctrl_c_writes_a_partial_sweep_and_exits_130(tmp_path, monkeypatch, dask_cluster, where):
    _stop_after(monkeypatch, 7)
    out = tmp_path / "partial.xlsx"
    extra = ["--scheduler", dask_cluster.scheduler_address] if where == "scheduler" else []
    # 300 whole-lot points in chunks of 8: the first chunks come back long before the last are solved
    res = run("sweep", BASELINE, "--vary", "sites.cn.budget.amount=20e9:60e9:300", *extra, "--json", "-o", str(out))
    assert res.exit_code == 130, res.stderr
    doc = json.loads(res.stdout)
    k = doc["points_done"]
    assert doc["partial"] is True and doc["points_total"] == 300 and 7 <= k < 300 and len(doc["points"]) == k
    if where == "serial":
        assert k == 7
    assert f"partial sweep: interrupted after {k} of 300 points" in res.stderr
    kept = [p["values"]["sites.cn.budget.amount"] for p in doc["points"]]
    assert kept == sorted(kept)  # in sweep order
    # each point kept is that point's answer: a sweep of just these values gives the same points
    monkeypatch.undo()
    again = json.loads(run("sweep", BASELINE, "--vary", "sites.cn.budget.amount=" + ",".join(map(repr, kept)),
                           "--json", "--no-report").stdout)
    assert again["points"] == doc["points"] and again["partial"] is False
    wb = openpyxl.load_workbook(out)
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert about["Points"].startswith(f"{k} of 300: PARTIAL SWEEP")
    notes = [c.value for row in wb["Sweep"].iter_rows(min_row=k + 2) for c in row if isinstance(c.value, str)]
    assert any(n.startswith("PARTIAL SWEEP: interrupted after") for n in notes)


def test_ctrl_c_in_a_grid_leaves_the_unsolved_cells_blank(tmp_path, monkeypatch):
    _stop_after(monkeypatch, 4)
    out = tmp_path / "grid.xlsx"
    res = run("sweep", SMALL, "--vary", "sites.cn.domestic_min_share=0.3,0.5", "--vary", "chips.b.min_units=10,30,60",
              "-o", str(out))
    assert res.exit_code == 130
    assert "partial sweep: interrupted after 4 of 6 points" in res.stderr
    # by hand: b (6 TOPS per CNY) gets all it may, (1 - f) x 1000, and a the rest: TOPS = 6000 - 1000 f while b's
    # minimum fits (10 m <= (1 - f) x 1000). Grid order: the first --vary outer, so the 4 points solved are
    # (0.3, 10), (0.3, 30), (0.3, 60): 5700 each, and (0.5, 10): 5500; (0.5, 30) and (0.5, 60) were never solved
    grid = openpyxl.load_workbook(out)["Grid"]
    assert [[c.value for c in row] for row in grid.iter_rows(min_row=2, max_row=3, min_col=2, max_col=4)] == [
        [pytest.approx(5700)] * 3, [pytest.approx(5500), None, None]]
    assert "not solved (PARTIAL SWEEP" in " ".join(str(c.value) for c in grid["A"] if c.value)


def test_ctrl_c_before_any_point_finished_writes_nothing(tmp_path, monkeypatch):
    _stop_after(monkeypatch, 1)
    monkeypatch.setattr(ex_mod, "chunk_size", lambda n: n)  # one chunk: nothing finishes before it is all done

    def interrupted_task(work, chunk):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setattr("optimizer.analysis.sweep.solve_points", interrupted_task)
    out = tmp_path / "none.xlsx"
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--json", "-o", str(out))
    assert res.exit_code == 130
    assert "interrupted before any of the 2 points finished; nothing was written" in res.stderr
    assert res.stdout == "" and not out.exists()


@pytest.mark.parametrize("command", [["tornado", SMALL], ["compare", SMALL, SMALL + "@rich"]])
def test_ctrl_c_in_tornado_or_compare_writes_nothing(tmp_path, monkeypatch, command):
    _stop_after(monkeypatch, 1)
    out = tmp_path / "x.xlsx"
    res = run(*command, "-o", str(out))
    assert res.exit_code == 130
    assert "interrupted; nothing was written" in res.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- what was applied


def test_sweep_tornado_and_compare_echo_what_was_applied():
    sets = ["--variant", "rich", "--set", "chips.a.unit_price=9"]
    for command in (["sweep", SMALL, "--vary", "chips.b.unit_price=8,12"], ["tornado", SMALL, "--param",
                                                                               "chips.b.unit_price"]):
        res = run(*command, *sets, "--no-report")
        assert res.exit_code == 0
        assert res.stderr.splitlines()[1] == "applied: variant rich; --set chips.a.unit_price=9"
        doc = json.loads(run(*command, *sets, "--no-report", "--json").stdout)
        assert doc["applied"] == [{"variant": "rich", "changes": {"sites.cn.budget.amount": 3000}},
                                  {"set": "chips.a.unit_price", "value": 9}]
    res = run("compare", SMALL, SMALL + "@cheap_b", "--set", "chips.a.unit_price=9", "--no-report")
    lines = res.stderr.splitlines()
    assert lines[1:3] == ["  whatif_small: --set chips.a.unit_price=9",
                          "  @cheap_b: variant cheap_b; --set chips.a.unit_price=9"]
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--no-report")
    assert not any(line.startswith("applied:") for line in res.stderr.splitlines())
