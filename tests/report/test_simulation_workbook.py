"""The simulation workbook on a hand-made result: every figure worked out by hand, the formulas that compute them,
round histogram bins, frozen headers and print setup."""
from __future__ import annotations

import math
import zipfile

import numpy as np
import openpyxl
import pytest
from conftest import FIXTURES

from optimizer import io
from optimizer.analysis.simulate import Draw, SimulationResult
from optimizer.report.simulation_workbook import (
    build_simulation_workbook, histogram_counts, histogram_edges, write_simulation_workbook,
)

# five draws: outcomes A (1, 2, 3) and B (4, 10); vendor x's drawn rate is a tenth of the draw's TOPS
VALUES = [1.0, 2.0, 3.0, 4.0, 10.0]
OUTCOMES = ["A", "A", "A", "B", "B"]


def hand_result(target=3.5, partial=False) -> SimulationResult:
    draws = [Draw(i, o, {"x": v / 10}, v) for i, (o, v) in enumerate(zip(OUTCOMES, VALUES))]
    return SimulationResult("hand", "highs", 5 if not partial else 9, 4, target, draws, 3.9, [
        {"kind": "purchase", "site": "cn", "chip": "a", "period": None, "units": 12.0}], partial=partial,
        measure="expected", solver_version="1.0")


@pytest.fixture
def loaded():
    return io.load(FIXTURES / "risk_stranding.yaml")  # for the Inputs and About sheets (outcomes A, B are made up)


def _write(res, loaded, tmp_path):
    path = tmp_path / "sim.xlsx"
    write_simulation_workbook(res, loaded, path)
    return path


def _figures(ws) -> dict:
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 25) if ws.cell(r, 1).value}


def test_figures_by_hand(tmp_path, loaded):
    path = _write(hand_result(), loaded, tmp_path)
    ws = openpyxl.load_workbook(path, data_only=True)["Simulation"]
    fig = _figures(ws)
    # mean 20/5 = 4; sample variance (9 + 4 + 1 + 0 + 36) / 4 = 12.5
    # PERCENTILE.INC: rank (n - 1) q: P5 at 0.2 -> 1 + 0.2 (2 - 1) = 1.2; P50 at 2 -> 3; P95 at 3.8 -> 4 + 0.8 x 6 = 8.8
    assert fig["Draws"] == 5 and fig["Mean"] == 4 and fig["Standard deviation"] == pytest.approx(math.sqrt(12.5))
    assert fig["P5"] == pytest.approx(1.2) and fig["P50 (median)"] == 3 and fig["P95"] == pytest.approx(8.8)
    assert fig["Lowest"] == 1 and fig["Highest"] == 10 and fig["Plan's objective"] == 3.9
    assert fig["Target (--target)"] == 3.5 and fig["Probability below the target"] == pytest.approx(0.6)  # 1, 2, 3
    # by outcome: A 3 draws, mean 2; B 2 draws, mean 7
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    o = labels.index("Outcome") + 1
    assert [[ws.cell(r, c).value for c in range(1, 6)] for r in (o + 1, o + 2)] == [
        ["A", None, 3, pytest.approx(0.6), 2], ["B", None, 2, pytest.approx(0.4), 7]]
    # variance shares: x's rate is TOPS / 10, so RSQ = 1; the outcome's: between 0.6 (2 - 4)^2 + 0.4 (7 - 4)^2 = 6
    # over the population variance 50 / 5 = 10: 0.6
    s = labels.index("Source") + 1
    assert {ws.cell(r, 1).value: ws.cell(r, 3).value for r in (s + 1, s + 2)} == {
        "x": pytest.approx(1.0), "outcome": pytest.approx(0.6)}
    # the orders kept in every draw
    k = labels.index("Kind") + 1
    assert [ws.cell(k + 1, c).value for c in range(1, 7)] == ["purchase", "cn", "a", None, None, 12]


def test_the_figures_are_formulas_over_the_draws(tmp_path, loaded):
    ws = openpyxl.load_workbook(_write(hand_result(), loaded, tmp_path))["Simulation"]
    f = _figures(ws)
    tops = "Draws!$D$2:$D$6"  # Draw, Outcome, Delivery rate x, Effective TOPS
    assert f["Draws"] == f"=COUNT({tops})"
    assert f["Mean"] == f"=AVERAGE({tops})"
    assert f["Standard deviation"] == f"=_xlfn.STDEV.S({tops})"
    assert f["P5"] == f"=_xlfn.PERCENTILE.INC({tops},0.05)"
    assert f["P95"] == f"=_xlfn.PERCENTILE.INC({tops},0.95)"
    assert f["Probability below the target"].startswith(f"=SUMPRODUCT(--({tops}<$B$")
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    o = labels.index("Outcome") + 1
    assert ws.cell(o + 1, 3).value == f"=SUMPRODUCT(--(Draws!$B$2:$B$6=A{o + 1}))"  # exact match, not COUNTIF
    s = labels.index("Source") + 1
    assert ws.cell(s + 1, 3).value == f"=RSQ({tops},Draws!$C$2:$C$6)"
    assert "_xlfn.VAR.P" in ws.cell(s + 2, 3).value
    bins = labels.index("Bin") + 1
    assert ws.cell(bins + 1, 4).value == f"=SUMPRODUCT(({tops}>=B{bins + 1})*({tops}<C{bins + 1}))"


def test_draws_sheet_layout(tmp_path, loaded):
    wb = openpyxl.load_workbook(_write(hand_result(), loaded, tmp_path))
    assert wb.sheetnames == ["Simulation", "Draws", "Inputs", "About"]
    d = wb["Draws"]
    assert [c.value for c in d[1]] == ["Draw", "Outcome", "Delivery rate x", "Effective TOPS"]
    assert [[c.value for c in r] for r in d.iter_rows(min_row=2, max_row=6)] == [
        [i, o, pytest.approx(v / 10), v] for i, (o, v) in enumerate(zip(OUTCOMES, VALUES))]
    assert d.freeze_panes == "A2" and d.auto_filter.ref == "A1:D6"
    assert d["C2"].number_format == "0.0000" and d["D2"].number_format == "#,##0"
    assert d.print_title_rows == "$1:$1" and d.page_setup.paperSize == 9  # A4, header on every page
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert about["Seed"] == 4 and about["Draws"] == 5 and about["Target"] == 3.5 and about["Solver version"] == "1.0"


def test_the_histogram_chart_is_there(tmp_path, loaded):
    path = _write(hand_result(), loaded, tmp_path)
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert "<c:barChart>" in xml and "Effective TOPS over 5 draws" in xml


def test_a_partial_run_says_so(tmp_path, loaded):
    wb = openpyxl.load_workbook(_write(hand_result(partial=True), loaded, tmp_path))
    notes = [c.value for r in wb["Simulation"].iter_rows(max_row=6) for c in r if isinstance(c.value, str)]
    assert "Partial simulation: interrupted after 5 of 9 draws; the figures are over the finished draws" in notes
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows(min_row=2)}
    assert about["Draws"].startswith("5 of 9: partial simulation")


def test_one_draw_has_no_standard_deviation_formula(tmp_path, loaded):
    res = SimulationResult("one", "highs", 1, 0, None, [Draw(0, None, {}, 7.0)], 7.0)
    ws = openpyxl.load_workbook(_write(res, loaded, tmp_path))["Simulation"]
    f = _figures(ws)
    assert f["Standard deviation"] == 0 and f["P5"].startswith("=_xlfn.PERCENTILE.INC(")
    assert "Outcome" not in [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]


def test_no_draws_no_workbook(loaded):
    with pytest.raises(ValueError):
        build_simulation_workbook(SimulationResult("none", "highs", 3, 0, None, [], 1.0), loaded)


# ---------------------------------------------------------------- histogram bins
def test_round_bin_edges_by_hand():
    # range 1..10 over about 20 bins: 0.45 -> step 0.5, from 1.0 to 10.0: 18 bins
    edges = histogram_edges(np.array(VALUES))
    assert edges[0] == 1.0 and edges[-1] == 10.0 and len(edges) == 19
    assert all(b - a == pytest.approx(0.5) for a, b in zip(edges, edges[1:]))
    counts = histogram_counts(np.array(VALUES), edges)
    # [1, 1.5): 1; [2, 2.5): 2; [3, 3.5): 3; [4, 4.5): 4; the last bin [9.5, 10] holds 10
    assert sum(counts) == 5 and counts[0] == counts[2] == counts[4] == counts[6] == counts[-1] == 1
    # 190.2M..219.7M: raw step 1.475M -> 2M, from 190M to 220M
    e = histogram_edges(np.array([190.2e6, 219.7e6]))
    assert e[0] == 190e6 and e[-1] == 220e6 and e[1] - e[0] == 2e6
    # all equal: one bin [v, v]
    assert histogram_edges(np.array([5.0, 5.0])) == [5.0, 5.0]
    assert histogram_counts(np.array([5.0, 5.0]), [5.0, 5.0]) == [2]


def test_bin_edges_are_short_decimals():
    e = histogram_edges(np.array([0.1, 0.7]))  # step 0.05: 0.1, 0.15, ... never 0.15000000000000002
    assert all(len(repr(x)) <= 6 for x in e), e
