"""CLI: chipalloc sweep / tornado / compare through click's CliRunner (exit codes, JSON, files, messages)."""
from __future__ import annotations

import io as _io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.analysis.diagnose import diagnose
from optimizer.cli import cli
from optimizer.cli import whatif

SMALL = str(FIXTURES / "whatif_small.yaml")
UNBOUNDED = str(FIXTURES / "whatif_unbounded.yaml")
BASELINE = str(SCENARIOS / "bytedance-2025.yaml")


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def jdoc(res) -> dict:
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)  # exactly one JSON document on stdout


def units_of_solution(doc: dict) -> dict:
    return {f"{a['site']}/{a['chip']}": a["units"] for a in doc["allocation"]}


# --------------------------------------------------------------------------- sweep


def test_sweep_json_shape_and_values():
    doc = jdoc(run("sweep", SMALL, "--vary", "sites.cn.budget.amount=1000,3000", "--json", "--no-report"))
    assert set(doc) >= {"schema", "vary", "points", "applied", "report"}
    assert doc["schema"] == "chipalloc.sweep/1" and doc["report"] is None
    assert doc["vary"] == [{"path": "sites.cn.budget.amount", "spec": "1000,3000", "base": 1000.0, "values": [1000, 3000],
                           "rescales": []}]
    assert len(doc["points"]) == 2
    for p in doc["points"]:
        assert set(p) == {"values", "status", "effective_tops", "spend", "units", "domestic_share", "binding",
                          "diagnosis"}
        assert set(p["units"]) == {"cn/a", "cn/b"} and p["diagnosis"] is None  # both points are optimal
    p0, p1 = doc["points"]
    assert p0["values"] == {"sites.cn.budget.amount": 1000}
    assert p0["effective_tops"] == pytest.approx(5500, rel=1e-6)
    assert p1["effective_tops"] == pytest.approx(11000, rel=1e-6) and p1["spend"] == pytest.approx(2000, rel=1e-6)
    assert p1["domestic_share"] == {"cn": pytest.approx(0.5)}
    assert "capacity[dom]" in p1["binding"] and "budget[cn]" not in p1["binding"]


def test_sweep_text_goes_to_stderr_only():
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--no-report")
    assert res.exit_code == 0
    assert res.stdout == ""
    assert "chips.b.unit_price" in res.stderr and "optimal" in res.stderr and "6,250" in res.stderr


def test_one_point_sweep_equals_solve_through_the_cli():
    solved = jdoc(run("solve", BASELINE, "--json", "--no-report"))
    swept = jdoc(run("sweep", BASELINE, "--vary", "chips.h20.unit_price=110000", "--json", "--no-report"))
    (p,) = swept["points"]
    assert p["effective_tops"] == pytest.approx(solved["totals"]["effective_tops"], rel=1e-7)
    assert p["spend"] == pytest.approx(solved["totals"]["spend"], rel=1e-7)
    assert {k: u for k, u in p["units"].items() if u} == units_of_solution(solved)
    assert p["binding"] == [c["name"] for c in solved["constraints"] if c["binding"]]


def test_every_sweep_point_equals_solve_with_set_through_the_cli():
    swept = jdoc(run("sweep", SMALL, "--variant", "rich", "--vary", "vendors.dom.capacity_units=40:120:3", "--json",
                     "--no-report"))
    assert [a["variant"] for a in swept["applied"]] == ["rich"]
    for p in swept["points"]:
        v = p["values"]["vendors.dom.capacity_units"]
        solved = jdoc(run("solve", SMALL, "--variant", "rich", "--set", f"vendors.dom.capacity_units={v}", "--json",
                          "--no-report"))
        assert p["effective_tops"] == pytest.approx(solved["totals"]["effective_tops"], rel=1e-7)
        assert p["spend"] == pytest.approx(solved["totals"]["spend"], rel=1e-7)
        assert {k: u for k, u in p["units"].items() if u} == pytest.approx(units_of_solution(solved), rel=1e-7)


def test_sweep_with_cbc():
    doc = jdoc(run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--solver", "cbc", "--json", "--no-report"))
    assert doc["solver"] == "cbc"
    assert [p["effective_tops"] for p in doc["points"]] == pytest.approx([6250, 5000], rel=1e-6)


def test_sweep_infeasible_point_exits_0_with_its_status():
    doc = jdoc(run("sweep", SMALL, "--vary", "chips.b.min_units=0,100", "--json", "--no-report"))
    assert [p["status"] for p in doc["points"]] == ["optimal", "infeasible"]
    bad = doc["points"][1]
    assert bad["effective_tops"] is None and bad["units"] == {} and bad["binding"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--vary", "chips.b.unit_price=1:2"], "expected START:STOP:COUNT"),
        (["--vary", "chips.b.unit_prise=1,2"], "nearest valid paths: chips.b.unit_price"),
        (["--vary", "sites.cn.domestic_min_share=0.5:1.5:3"], "at sites.cn.domestic_min_share=1"),
        (["--vary", "chips.b.unit_price=1,2", "--variant", "nope"], "known variants: all_domestic, cheap_b, rich"),
        (["--vary", "chips.b.unit_price=1,2", "--set", "chips.b.unit_price=-1"], "chips.b.unit_price"),
        (["--vary", "chips.b.unit_price"], "expected PATH=SPEC"),
        ([], "Missing option '--vary'"),
    ],
)
def test_sweep_bad_input_exits_2_before_writing(tmp_path, args, message):
    out = tmp_path / "s.xlsx"
    res = run("sweep", SMALL, *args, "-o", str(out))
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_sweep_invalid_point_names_the_point_and_solves_nothing(monkeypatch):
    from optimizer.analysis import engine

    calls = []
    monkeypatch.setattr(engine.Resolver, "plan", lambda self, s: calls.append(s))
    res = run("sweep", SMALL, "--vary", "vendors.us.delivery_rate=0.9:1.1:3", "--no-report")
    assert res.exit_code == 2
    assert "at vendors.us.delivery_rate=1.1" in res.stderr and "less than or equal to 1" in res.stderr
    assert calls == []


def test_sweep_missing_file_exits_2():
    res = run("sweep", "no/such.yaml", "--vary", "chips.b.unit_price=1,2")
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_sweep_output_file_rules(tmp_path):
    out = tmp_path / "s.xlsx"
    out.write_bytes(b"keep me")
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "-o", str(out))
    assert res.exit_code == 2 and "already exists" in res.stderr and "--force" in res.stderr
    assert out.read_bytes() == b"keep me"
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "-o", str(out), "--force", "--json")
    assert jdoc(res)["report"] == str(out)
    assert out.read_bytes()[:2] == b"PK"  # an xlsx (zip) replaced it


def test_sweep_default_report_path_and_no_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--no-report")
    assert res.exit_code == 0 and not (tmp_path / "reports").exists()
    doc = jdoc(run("sweep", SMALL, "--vary", "chips.b.unit_price=8,12", "--json"))
    written = list((tmp_path / "reports").glob("whatif_small-sweep-*.xlsx"))
    assert len(written) == 1 and doc["report"] == str(Path("reports") / written[0].name)


def test_progress_bar_only_on_a_terminal_and_for_more_than_a_handful(monkeypatch):
    class Tty(_io.StringIO):
        def isatty(self):
            return True

    for stream, n, shown in ((Tty(), 10, True), (Tty(), 3, False), (_io.StringIO(), 10, False)):
        monkeypatch.setattr(sys, "stderr", stream)
        with whatif.progress(n, "sweep") as tick:
            assert (tick is not None) == shown
            for done in (2, 2, 5, n):  # finished points, as an executor reports them (a chunk at a time)
                if tick:
                    tick(done, n)
            if tick:
                assert tick.seen == n
        assert ("sweep" in stream.getvalue()) == shown
        if shown:
            assert "100%" in stream.getvalue()


# --------------------------------------------------------------------------- tornado


def test_tornado_json_shape_sorted():
    doc = jdoc(run("tornado", SMALL, "--json", "--no-report"))
    assert doc["schema"] == "chipalloc.tornado/1" and doc["pct"] == 20
    assert doc["base"]["status"] == "optimal" and doc["base"]["effective_tops"] == pytest.approx(5500, rel=1e-6)
    assert len(doc["params"]) == 11
    for p in doc["params"]:
        assert set(p) == {"path", "label", "base_value", "low", "high", "swing", "note"}
        assert set(p["low"]) == set(p["high"]) == {"value", "status", "effective_tops", "spend", "delta"}
    swings = [p["swing"] for p in doc["params"]]
    assert swings == sorted(swings, reverse=True)
    top = doc["params"][0]
    assert top["path"] == "sites.cn.budget.amount"
    assert (top["low"]["value"], top["high"]["value"]) == (800, 1200)
    assert top["low"]["delta"] == pytest.approx(-1100, rel=1e-6) and top["high"]["delta"] == pytest.approx(1100, rel=1e-6)
    us = next(p for p in doc["params"] if p["path"] == "vendors.us.delivery_rate")
    assert us["high"]["value"] == 1 and "clipped" in us["note"]


def test_tornado_params_and_pct():
    doc = jdoc(run("tornado", SMALL, "--param", "chips.b.unit_price", "--param", "sites.cn.domestic_min_share",
                   "--pct", "50", "--json", "--no-report"))
    assert [p["path"] for p in doc["params"]] == ["chips.b.unit_price", "sites.cn.domestic_min_share"]
    b = doc["params"][0]
    # b at 5: 12 TOPS per CNY: 2500 + 500 x 12 = 8500; at 15: 4 per CNY, all on a: 5000
    assert (b["low"]["value"], b["high"]["value"]) == (5, 15)
    assert (b["low"]["effective_tops"], b["high"]["effective_tops"]) == (pytest.approx(8500), pytest.approx(5000))
    # floor 0.25 -> (6 - 0.25) x 1000; 0.75 -> 5250
    f = doc["params"][1]
    assert (f["low"]["effective_tops"], f["high"]["effective_tops"]) == (pytest.approx(5750), pytest.approx(5250))


def test_tornado_text_and_workbook(tmp_path):
    out = tmp_path / "t.xlsx"
    res = run("tornado", SMALL, "-o", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    assert "sites.cn.budget.amount" in res.stderr and f"workbook: {out}" in res.stderr
    assert out.exists()


def test_tornado_base_infeasible_exits_3(tmp_path):
    out = tmp_path / "t.xlsx"
    res = run("tornado", SMALL, "--set", "chips.b.min_units=100", "--json", "-o", str(out))
    assert res.exit_code == 3
    doc = json.loads(res.stdout)
    assert doc["schema"] == "chipalloc.tornado/1" and doc["base"]["status"] == "infeasible" and doc["params"] == []
    assert "infeasible" in res.stderr and not out.exists()


def test_tornado_base_unbounded_exits_4():
    res = run("tornado", UNBOUNDED, "--no-report")
    assert res.exit_code == 4 and "unbounded" in res.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--pct", "0"], "--pct"),
        (["--pct", "100"], "--pct"),
        (["--pct", "abc"], "not a valid float"),
        (["--param", "chips.a.unit_prise"], "nearest valid paths: chips.a.unit_price"),
        (["--param", "name"], "moves numbers"),
        (["--variant", "nope"], "unknown variant 'nope'"),
    ],
)
def test_tornado_bad_input_exits_2(args, message):
    res = run("tornado", SMALL, "--no-report", *args)
    assert res.exit_code == 2 and message in res.stderr


# --------------------------------------------------------------------------- compare


def test_compare_json_shape_and_diffs():
    doc = jdoc(run("compare", SMALL, SMALL + "@rich", SMALL + "@cheap_b", "--json", "--no-report"))
    assert doc["schema"] == "chipalloc.compare/1"
    labels = [s["label"] for s in doc["scenarios"]]
    assert labels == ["whatif_small", "@rich", "@cheap_b"]  # one file: variants are labelled by name
    keys = {"label", "file", "variants", "applied", "scenario", "status", "effective_tops", "delivered_tops", "int8_tops",
            "spend", "units_total", "units", "spend_by_site", "domestic_share", "spend_by_vendor", "binding", "diagnosis",
            "diff"}
    assert all(set(s) == keys for s in doc["scenarios"])
    assert all(s["diagnosis"] is None for s in doc["scenarios"])  # all optimal
    assert doc["scenarios"][0]["diff"] is None
    rich, cheap = doc["scenarios"][1]["diff"], doc["scenarios"][2]["diff"]
    assert rich["effective_tops"] == pytest.approx(5500, rel=1e-6) and rich["spend"] == pytest.approx(1000, rel=1e-6)
    assert rich["binding_removed"] == ["budget[cn]"] and rich["binding_added"] == ["capacity[dom]"]
    assert cheap["effective_tops"] == pytest.approx(750, rel=1e-6)
    assert cheap["units"]["cn/b"] == pytest.approx(12.5, rel=1e-6)


def test_compare_diffs_equal_two_independent_cli_solves():
    doc = jdoc(run("compare", BASELINE, BASELINE + "@domestic_70", "--json", "--no-report"))
    a = jdoc(run("solve", BASELINE, "--json", "--no-report"))
    b = jdoc(run("solve", BASELINE, "--variant", "domestic_70", "--json", "--no-report"))
    d = doc["scenarios"][1]["diff"]
    assert d["effective_tops"] == pytest.approx(b["totals"]["effective_tops"] - a["totals"]["effective_tops"], abs=1e-3)
    assert d["spend"] == pytest.approx(b["totals"]["spend"] - a["totals"]["spend"], abs=1e-3)
    ua, ub = units_of_solution(a), units_of_solution(b)
    assert {k: v for k, v in d["units"].items() if v} == {k: ub.get(k, 0) - ua.get(k, 0) for k in set(ua) | set(ub)
                                                          if ub.get(k, 0) != ua.get(k, 0)}


def test_compare_infeasible_scenario_exits_0():
    doc = jdoc(run("compare", SMALL, SMALL + "@all_domestic", "--set", "chips.b.min_units=1", "--json", "--no-report"))
    # every target gets --set: b must be bought (10 CNY) so the base is feasible; all_domestic forbids any b
    assert [s["status"] for s in doc["scenarios"]] == ["optimal", "infeasible"]


def test_compare_text_and_workbook(tmp_path):
    out = tmp_path / "c.xlsx"
    res = run("compare", SMALL, SMALL + "@rich", "-o", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    assert "Effective TOPS" in res.stderr and "diff @rich" in res.stderr and out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        ([SMALL + "@nope"], "known variants: all_domestic, cheap_b, rich"),
        (["no/such.yaml"], "no such file"),
        ([SMALL, "--set", "chips.q.unit_price=1"], "unknown path 'chips.q.unit_price'"),
        ([], "Missing argument"),
    ],
)
def test_compare_bad_input_exits_2(args, message):
    res = run("compare", *args, "--no-report")
    assert res.exit_code == 2 and message in res.stderr


def test_commands_are_registered():
    res = run("--help")
    for name in ("sweep", "tornado", "compare"):
        assert name in res.stdout


# --------------------------------------------------------------------------- diagnosis of infeasible points

DIAG_KEYS = {"conflict", "explanation", "rules", "fixes", "no_single_fix", "integer_only", "notes"}
FIX_KEYS = {"constraint", "path", "current", "needed", "set", "direction", "text"}


def _set_args(fix_set: str) -> list[str]:
    flag, assignment = fix_set.split(" ", 1)  # "--set PATH=VALUE", exactly as a planner pastes it
    assert flag == "--set"
    return [flag, assignment]


def test_sweep_infeasible_point_json_diagnosis_equals_solve_and_each_fix_works():
    doc = jdoc(run("sweep", SMALL, "--vary", "chips.b.min_units=0,100", "--json", "--no-report"))
    ok, bad = doc["points"]
    assert ok["diagnosis"] is None
    d = bad["diagnosis"]
    assert set(d) == DIAG_KEYS and all(set(f) == FIX_KEYS for f in d["fixes"])
    independent = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario).to_dict()
    assert d == json.loads(json.dumps(independent))
    # worked by hand: budget 2000, floor 0, b.min_units 50
    assert [f["set"] for f in d["fixes"]] == [
        "--set sites.cn.budget.amount=2000", "--set sites.cn.domestic_min_share=0", "--set chips.b.min_units=50"]
    # the point fails on its own, and each fix pasted after the point's --set makes it feasible
    assert run("solve", SMALL, "--set", "chips.b.min_units=100", "--no-report").exit_code == 3
    for f in d["fixes"]:
        res = run("solve", SMALL, "--set", "chips.b.min_units=100", *_set_args(f["set"]), "--no-report")
        assert res.exit_code == 0, (f["set"], res.stderr)


def test_sweep_baseline_infeasible_point_fixes_work_when_pasted():
    # the shipped scenario with 30,000 H20 contracted and a 95% domestic floor; one fix moves the varied number itself
    setting = ["--set", "chips.h20.min_units=30000"]
    doc = jdoc(run("sweep", BASELINE, "--vary", "sites.cn.domestic_min_share=0.95", *setting, "--json", "--no-report"))
    (p,) = doc["points"]
    assert p["status"] == "infeasible"
    independent = diagnose(io.load(BASELINE, sets=["chips.h20.min_units=30000",
                                                   "sites.cn.domestic_min_share=0.95"]).scenario).to_dict()
    assert p["diagnosis"]["conflict"] == independent["conflict"]
    assert p["diagnosis"]["fixes"] == json.loads(json.dumps(independent["fixes"]))
    assert "domestic_share[cn]" in p["diagnosis"]["conflict"] and "chip_min[h20]" in p["diagnosis"]["conflict"]
    assert p["diagnosis"]["fixes"]
    for f in p["diagnosis"]["fixes"]:
        res = run("solve", BASELINE, *setting, "--set", "sites.cn.domestic_min_share=0.95", *_set_args(f["set"]),
                  "--no-report")
        assert res.exit_code == 0, (f["set"], res.stderr)


def test_sweep_text_names_the_conflict_and_the_first_fix():
    res = run("sweep", SMALL, "--vary", "chips.b.min_units=0,100", "--no-report")
    assert res.exit_code == 0 and res.stdout == ""
    assert "conflict: budget[cn], domestic_share[cn], chip_min[b]" in res.stderr
    assert "chips.b.min_units=100: --set sites.cn.budget.amount=2000" in res.stderr


def test_sweep_sheet_has_the_diagnosis_text(tmp_path):
    import openpyxl

    out = tmp_path / "s.xlsx"
    res = run("sweep", SMALL, "--vary", "chips.b.min_units=0,100", "-o", str(out))
    assert res.exit_code == 0, res.stderr
    ws = openpyxl.load_workbook(out)["Sweep"]
    h = [c.value for c in ws[1]]
    dcol, fcol = h.index("Diagnosis") + 1, h.index("Fixes (one number each)") + 1
    sentence = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario).sentence
    assert sentence.startswith("budget[cn] <= CNY 1,000 of spend cannot hold together with domestic_share[cn] >= 50%")
    assert ws.cell(3, 1).value == 100 and ws.cell(3, dcol).value == sentence and ws.cell(3, dcol).data_type == "s"
    assert ws.cell(3, fcol).value == ("--set sites.cn.budget.amount=2000; --set sites.cn.domestic_min_share=0; "
                                      "--set chips.b.min_units=50")
    assert ws.cell(2, dcol).value in (None, "") and ws.cell(2, fcol).value in (None, "")


def test_compare_infeasible_column_carries_its_diagnosis(tmp_path):
    import openpyxl

    out = tmp_path / "c.xlsx"
    args = ["compare", SMALL, SMALL + "@all_domestic", "--set", "chips.b.min_units=1"]
    doc = jdoc(run(*args, "--json", "--no-report"))
    first, bad = doc["scenarios"]
    assert first["diagnosis"] is None
    independent = diagnose(io.load(SMALL, variants=["all_domestic"], sets=["chips.b.min_units=1"]).scenario)
    assert bad["diagnosis"] == json.loads(json.dumps(independent.to_dict()))
    # by hand: one b (CNY 10) must be bought and a 100% floor forbids it; a can take at most 990 of 1000 -> 0.99
    assert bad["diagnosis"]["conflict"] == ["domestic_share[cn]", "chip_min[b]"]
    assert [f["set"] for f in bad["diagnosis"]["fixes"]] == [
        "--set sites.cn.domestic_min_share=0.99", "--set chips.b.min_units=0"]
    for f in bad["diagnosis"]["fixes"]:
        res = run("solve", SMALL, "--variant", "all_domestic", "--set", "chips.b.min_units=1", *_set_args(f["set"]),
                  "--no-report")
        assert res.exit_code == 0, (f["set"], res.stderr)
    text = run(*args, "-o", str(out))
    assert text.exit_code == 0
    assert "domestic_share[cn], chip_min[b]" in text.stderr and "--set sites.cn.domestic_min_share=0.99" in text.stderr
    assert independent.sentence in text.stderr
    ws = openpyxl.load_workbook(out)["Compare"]
    rows = {ws.cell(r, 2).value: r for r in range(2, ws.max_row + 1)}
    assert ws.cell(rows["Diagnosis"], 5).value == independent.sentence
    assert ws.cell(rows["Diagnosis"], 4).value in (None, "")  # the optimal column has none
    assert ws.cell(rows["Conflict"], 5).value == "domestic_share[cn], chip_min[b]"


def test_tornado_infeasible_base_prints_the_diagnosis_like_solve():
    res = run("tornado", SMALL, "--set", "chips.b.min_units=100", "--json", "--no-report")
    assert res.exit_code == 3
    doc = json.loads(res.stdout)
    independent = diagnose(io.load(SMALL, sets=["chips.b.min_units=100"]).scenario)
    assert doc["base"]["diagnosis"] == json.loads(json.dumps(independent.to_dict()))
    solved = run("solve", SMALL, "--set", "chips.b.min_units=100", "--no-report")
    assert solved.exit_code == 3
    assert solved.stderr.strip() in res.stderr  # the same conflict and fixes as solve prints
    assert "--set sites.cn.budget.amount=2000" in res.stderr and "nothing to swing" in res.stderr
    assert "Traceback" not in res.stderr


# --------------------------------------------------------------------------- sweep: exact breakpoints
THREE = str(FIXTURES / "parametric_three.yaml")


def test_a_continuous_budget_sweep_reports_its_breakpoints(tmp_path):
    out = tmp_path / "three.xlsx"
    doc = jdoc(run("sweep", THREE, "--vary", "sites.cn.budget.amount=100:4000:40", "--json", "-o", str(out)))
    assert doc["method"] == "breakpoints" and doc["solves"] == 3 and "right-hand side" in doc["method_note"]
    assert [b["value"] for b in doc["breakpoints"]] == pytest.approx([1000, 2000])
    assert [b["kind"] for b in doc["breakpoints"]] == ["value", "value"]
    assert [b["effective_tops"] for b in doc["breakpoints"]] == pytest.approx([10000, 17500])
    assert [b["tops_slope_after"] for b in doc["breakpoints"]] == pytest.approx([7.5, 4])
    assert doc["points"][25]["effective_tops"] == pytest.approx(17500 + 4 * 600)  # B = 2600, by hand

    import openpyxl

    ws = openpyxl.load_workbook(out)["Sweep"]
    title = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("Breakpoints"))
    assert [c.value for c in ws[title + 1]][:3] == ["sites.cn.budget.amount", "Kind", "Effective TOPS"]
    assert [[ws.cell(r, c).value for c in (1, 2, 3)] for r in (title + 2, title + 3)] == [
        [pytest.approx(1000), "value", pytest.approx(10000)], [pytest.approx(2000), "value", pytest.approx(17500)]]
    (chart,) = [c for c in ws._charts if c.tagname == "scatterChart"]
    assert len(chart.series) == 2  # the points, and the breakpoints marked on them


def test_each_point_solves_every_point_with_the_same_values():
    exact = jdoc(run("sweep", THREE, "--vary", "sites.cn.budget.amount=100:4000:9", "--json", "--no-report"))
    each = jdoc(run("sweep", THREE, "--vary", "sites.cn.budget.amount=100:4000:9", "--json", "--no-report",
                    "--each-point"))
    assert each["method"] == "points" and each["solves"] == 9 and each["breakpoints"] is None
    for a, b in zip(exact["points"], each["points"]):
        assert a["effective_tops"] == pytest.approx(b["effective_tops"], rel=1e-12)
        assert a["units"] == pytest.approx(b["units"], abs=1e-9)


def test_a_whole_lot_sweep_says_why_it_has_no_breakpoints():
    res = run("sweep", BASELINE, "--vary", "sites.cn.budget.amount=30e9,40e9", "--no-report")
    assert res.exit_code == 0
    assert "each a verified highs solve (whole lots" in res.stderr and "no breakpoints" in res.stderr
