"""`chipalloc simulate`: figures against the analysis and an independent numpy evaluation, the JSON schema, the
workbook read back, bad input (exit 2, no file), an infeasible scenario (exit 3), Ctrl-C (partial, exit 130), and
the same JSON and workbook in this process, on two local workers and on a scheduler."""
from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO, SCENARIOS, workbook_values, stop_after

from optimizer import io
from optimizer.analysis.simulate import SCHEMA, simulate
from optimizer.cli import cli
from optimizer.cli import simulate as simulate_cli

SINGLE = str(FIXTURES / "sim_single.yaml")
RISK = str(SCENARIOS / "bytedance-2025-risk.yaml")
STRANDING = str(FIXTURES / "risk_stranding.yaml")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def independent(draws: int, seed: int) -> np.ndarray:
    """sim_single.yaml by hand: the plan is 40 a (vendor va, 100 TOPS) and 60 b (vb, 90 TOPS); each draw takes
    va's rate then vb's from Beta distributions with mean 0.8, sd 0.1 and mean 0.9, sd 0.05 (numpy's own
    parametrisation: a = m k, b = (1 - m) k, k = m (1 - m) / sd^2 - 1), on the stream SeedSequence(seed, (d,))."""
    out = []
    for d in range(draws):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d,)))
        k_a, k_b = 0.8 * 0.2 / 0.01 - 1, 0.9 * 0.1 / 0.0025 - 1
        ra, rb = rng.beta(0.8 * k_a, 0.2 * k_a), rng.beta(0.9 * k_b, 0.1 * k_b)
        out.append(40 * 100 * ra + 60 * 90 * rb)
    return np.array(out)


# --------------------------------------------------------------------------- the figures
def test_json_figures_equal_an_independent_numpy_evaluation(tmp_path):
    res = run("simulate", SINGLE, "--draws", 400, "--seed", 7, "--target", 8000, "--json", "--no-report")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    want = independent(400, 7)
    got = np.array([d["effective_tops"] for d in doc["draws_table"]])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    e = doc["effective_tops"]
    assert e["mean"] == pytest.approx(want.mean(), rel=1e-12)
    assert e["sd"] == pytest.approx(want.std(ddof=1), rel=1e-12)
    for q in (5, 50, 95):
        assert e[f"p{q}"] == pytest.approx(np.percentile(want, q), rel=1e-12)
    assert doc["prob_below_target"] == np.mean(want < 8000)
    assert doc["plan_effective_tops"] == pytest.approx(8060)
    # the analysis gives the same document (apart from where it came from)
    direct = simulate(io.load(SINGLE), draws=400, seed=7, target=8000).to_dict()
    assert {k: v for k, v in doc.items() if k in direct} == json.loads(json.dumps(direct))


def test_json_schema_fields():
    doc = json.loads(run("simulate", RISK, "--draws", 60, "--seed", 3, "--json", "--no-report").stdout)
    assert doc["schema"] == SCHEMA == "chipalloc.simulation/1"
    assert set(doc) == {"schema", "scenario", "file", "applied", "solver", "seed", "draws", "draws_done", "partial",
                        "target", "plan_effective_tops", "measure", "effective_tops", "prob_below_target",
                        "contributions", "outcomes", "shared_orders", "draws_table", "report", "warnings"}
    assert doc["file"] == RISK and doc["draws"] == doc["draws_done"] == 60 and doc["partial"] is False
    assert doc["measure"] == "expected" and doc["target"] is None and doc["prob_below_target"] is None
    assert set(doc["effective_tops"]) == {"mean", "sd", "p5", "p50", "p95"}
    assert {c["source"] for c in doc["contributions"]} == {"huawei", "cambricon", "nvidia", "outcome"}
    assert sum(o["draws"] for o in doc["outcomes"]) == 60
    row = doc["draws_table"][0]
    assert set(row) == {"draw", "outcome", "rates", "effective_tops"} and set(row["rates"]) == {
        "huawei", "cambricon", "nvidia"}
    # the orders every draw keeps are the hedged plan's Q1 orders, as solve reports them
    solved = json.loads(run("solve", RISK, "--json", "--no-report", "--no-breakeven").stdout)
    assert doc["shared_orders"] == solved["uncertainty"]["shared_orders"]
    assert doc["plan_effective_tops"] == solved["objective"]["effective_tops"]


def test_terminal_text_says_the_figures(tmp_path):
    res = run("simulate", SINGLE, "--draws", 200, "--seed", 1, "--target", 8000, "--no-report")
    assert res.exit_code == 0 and res.stdout == ""
    want = independent(200, 1)
    text = res.stderr
    assert f"mean {want.mean():,.0f}   sd {want.std(ddof=1):,.0f}" in text
    assert (f"P5 {np.percentile(want, 5):,.0f}   P50 {np.percentile(want, 50):,.0f}   "
            f"P95 {np.percentile(want, 95):,.0f}") in text
    assert f"below the target of 8,000 effective TOPS in {100 * np.mean(want < 8000):.1f}% of the draws" in text
    assert "the plan's effective TOPS at the planned delivery rates: 8,060" in text
    assert "need not add up to 1" in " ".join(text.split())
    assert "the plan's orders, kept in every draw:" in text
    assert "    cn     a                                     40 units" in text


def test_risk_text_lists_outcomes_and_the_kept_q1_orders():
    text = run("simulate", RISK, "--draws", 50, "--no-report").stderr
    assert "the plan maximises the expected effective TOPS: 205,120,202" in text
    assert "orders placed before the outcome is known, kept in every draw:" in text
    assert "    cn     h20              in 2025q1          46,909 units" in text
    for name in ("allowed", "licence_gap", "licence_gap_ample_huawei", "denied_ample_huawei", "licence_gap_low_yield"):
        assert f"\n  {name} " in text


# --------------------------------------------------------------------------- the workbook
def test_workbook_read_back_equals_the_result(tmp_path):
    out = tmp_path / "sim.xlsx"
    res = run("simulate", RISK, "--draws", 120, "--seed", 5, "--target", 200e6, "--json", "-o", out)
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["report"] == str(out)
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb.sheetnames == ["Simulation", "Draws", "Inputs", "About"]
    draws = wb["Draws"]
    head = [c.value for c in draws[1]]
    assert head == ["Draw", "Outcome", "Delivery rate cambricon", "Delivery rate huawei", "Delivery rate nvidia",
                    "Effective TOPS"]
    assert draws.freeze_panes == "A2"
    # numbers are stored with 16 significant digits (XlsxWriter): equal to 1e-15
    rows = [[c.value for c in r] for r in draws.iter_rows(min_row=2, max_row=121)]
    assert len(rows) == len(doc["draws_table"]) == 120
    for r, d in zip(rows, doc["draws_table"]):
        assert r == [d["draw"], d["outcome"]] + [pytest.approx(x, rel=1e-15) for x in (
            d["rates"]["cambricon"], d["rates"]["huawei"], d["rates"]["nvidia"], d["effective_tops"])]
    sim = wb["Simulation"]
    fig = {sim.cell(r, 1).value: sim.cell(r, 2).value for r in range(1, 30)}
    e = doc["effective_tops"]
    assert fig["Draws"] == 120
    assert [fig[k] for k in ("Mean", "Standard deviation", "P5", "P50 (median)", "P95")] == [
        pytest.approx(e[k], rel=1e-15) for k in ("mean", "sd", "p5", "p50", "p95")]
    assert fig["Probability below the target"] == pytest.approx(doc["prob_below_target"], rel=1e-15)
    assert fig["Plan's objective"] == pytest.approx(doc["plan_effective_tops"], rel=1e-15)
    # the formulas behind them
    f = openpyxl.load_workbook(out)["Simulation"]
    formulas = {f.cell(r, 1).value: f.cell(r, 2).value for r in range(1, 30)}
    assert formulas["P5"] == "=_xlfn.PERCENTILE.INC(Draws!$F$2:$F$121,0.05)"
    assert formulas["Standard deviation"] == "=_xlfn.STDEV.S(Draws!$F$2:$F$121)"
    assert formulas["Mean"] == "=AVERAGE(Draws!$F$2:$F$121)"
    # histogram: the bins count every draw once; by outcome: the JSON's counts and means
    labels = [sim.cell(r, 1).value for r in range(1, sim.max_row + 1)]
    h = labels.index("Bin") + 1
    counts = []
    r = h + 1
    while isinstance(sim.cell(r, 4).value, (int, float)):
        counts.append(sim.cell(r, 4).value)
        r += 1
    assert sum(counts) == 120
    o = labels.index("Outcome") + 1
    by = {sim.cell(r, 1).value: (sim.cell(r, 3).value, sim.cell(r, 5).value) for r in range(o + 1, o + 6)}
    assert by == {x["name"]: (x["draws"], pytest.approx(x["mean"], rel=1e-15)) for x in doc["outcomes"]}
    s = labels.index("Source") + 1
    shares = {sim.cell(r, 1).value: sim.cell(r, 3).value for r in range(s + 1, s + 5)}
    assert shares == {c["source"]: pytest.approx(c["share"], rel=1e-15) for c in doc["contributions"]}
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert about["Seed"] == 5 and about["Draws"] == 120 and about["Analysis"] == "simulate (Monte Carlo)"


# --------------------------------------------------------------------------- bad input, infeasible
@pytest.mark.parametrize("args, message", [
    (["--draws", "0"], "error: --draws 0: must be a whole number of draws, at least 1 (e.g. --draws 10000)"),
    (["--draws", "-5"], "error: --draws -5: must be a whole number of draws, at least 1"),
    (["--draws", "ten"], "'ten' is not a valid integer"),
    (["--seed", "-1"], "error: --seed -1: must be a whole number from 0 to"),
    (["--workers", "0"], "error: --workers 0: must be a whole number of processes, at least 1"),
    (["--draws", "2000000"], "error: --draws 2,000,000: a worksheet holds at most 1,048,575 draws"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "x.xlsx"
    res = run("simulate", SINGLE, *args, "-o", out)
    assert res.exit_code == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert res.stdout == "" and not out.exists()


def test_a_missing_scenario_exits_2(tmp_path):
    out = tmp_path / "x.xlsx"
    res = run("simulate", tmp_path / "nope.yaml", "-o", out)
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and "nope.yaml" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_a_bad_delivery_sd_exits_2(tmp_path):
    res = run("simulate", SINGLE, "--set", "vendors.va.delivery_sd=0.5", "--no-report")
    assert res.exit_code == 2
    assert "vendors.va.delivery_sd" in res.stderr and "too large for a delivery rate of 0.8" in res.stderr


def test_an_infeasible_scenario_exits_3_with_its_diagnosis(tmp_path):
    out = tmp_path / "x.xlsx"
    res = run("simulate", SCENARIOS / "domestic-90-infeasible.yaml", "--draws", 10, "-o", out)
    assert res.exit_code == 3
    assert res.stderr.startswith("infeasible") and "nothing to simulate" in res.stderr
    assert not out.exists()


# --------------------------------------------------------------------------- Ctrl-C
def _stop_after(monkeypatch, k: int):
    stop_after(monkeypatch, simulate_cli, k)


def test_ctrl_c_writes_the_finished_draws_marked_partial(tmp_path, monkeypatch):
    _stop_after(monkeypatch, 37)
    out = tmp_path / "partial.xlsx"
    res = run("simulate", SINGLE, "--draws", 500, "--seed", 2, "--json", "-o", out)
    assert res.exit_code == 130
    doc = json.loads(res.stdout)
    assert doc["partial"] is True and doc["draws"] == 500 and doc["draws_done"] == 37
    assert [d["draw"] for d in doc["draws_table"]] == list(range(37))
    want = independent(37, 2)
    assert doc["effective_tops"]["mean"] == pytest.approx(want.mean(), rel=1e-12)
    assert "partial simulation: interrupted after 37 of 500 draws" in res.stderr
    wb = openpyxl.load_workbook(out)
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert about["Draws"].startswith("37 of 500: partial simulation")
    notes = [c.value for row in wb["Simulation"].iter_rows(max_row=6) for c in row if isinstance(c.value, str)]
    assert any(n.startswith("Partial simulation: interrupted after 37 of 500 draws") for n in notes)


def test_ctrl_c_before_any_draw_finished_writes_nothing(tmp_path, monkeypatch):
    def interrupted(work, chunk):
        raise KeyboardInterrupt
        yield  # pragma: no cover

    monkeypatch.setattr("optimizer.analysis.simulate.run_draws", interrupted)
    out = tmp_path / "none.xlsx"
    res = run("simulate", SINGLE, "--draws", 20, "--json", "-o", out)
    assert res.exit_code == 130
    assert "interrupted before any of the 20 draws finished; nothing was written" in res.stderr
    assert res.stdout == "" and not out.exists()


# --------------------------------------------------------------------------- where the draws run
@pytest.mark.slow
def test_serial_workers_and_scheduler_give_the_same_json_and_workbook(tmp_path, dask_cluster):
    got = {}
    for mode, extra in (("serial", []), ("workers", ["--workers", "2"]),
                        ("scheduler", ["--scheduler", dask_cluster.scheduler_address])):
        out = tmp_path / f"{mode}.xlsx"
        res = run("simulate", RISK, "--draws", 300, "--seed", 9, "--target", 2e8, *extra, "--json", "-o", out)
        assert res.exit_code == 0, res.stderr
        doc = json.loads(res.stdout)
        assert doc.pop("report") == str(out)
        got[mode] = (doc, workbook_values(out), res.stderr)
    (doc, cells, _), *others = got.values()
    for other_doc, other_cells, _ in others:
        assert other_doc == doc
        assert other_cells == cells
    assert "on a local Dask cluster of 2 processes" in got["workers"][2]
    assert f"on the Dask scheduler at {dask_cluster.scheduler_address} (2 workers)" in got["scheduler"][2]


# --------------------------------------------------------------------------- the README shows real output
def test_readme_monte_carlo_example_is_real_output():
    text = (REPO / "README.md").read_text().split("### Monte Carlo", 1)[1].split("\n### ", 1)[0]
    block = text.split("```\n$ chipalloc simulate ", 1)[1].split("```", 1)[0]
    command, shown = block.split("\n", 1)
    file, *options = command.split()
    res = run("simulate", REPO / file, *options)
    assert res.exit_code == 0
    assert res.stderr == shown
