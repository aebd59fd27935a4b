"""The Risk sheet of the solve workbook, on the hand-worked risk fixtures (numbers from their headers, as in
tests/analysis/test_risk.py): outcomes, figures as formulas, EVPI and hedging in risk_text's words, the hedged
orders beside the base plan's, and the chart."""
from __future__ import annotations

import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from optimizer import io
from optimizer.analysis.risk import risk_figures
from optimizer.cli import cli
from optimizer.plan import make_plan
from optimizer.report.risk_text import evpi_sentence, hedging_sentence

STRANDING = FIXTURES / "risk_stranding.yaml"
SINGLE = FIXTURES / "risk_single_period.yaml"


class Risk:
    """The Risk sheet of a solve workbook, values and formulas."""

    def __init__(self, path):
        self.path = path
        self.v = openpyxl.load_workbook(path, data_only=True)["Risk"]
        self.f = openpyxl.load_workbook(path)["Risk"]
        self.labels = [self.v.cell(r, 1).value for r in range(1, self.v.max_row + 1)]

    def row(self, label: str, after: str | None = None) -> int:
        start = self.labels.index(after) if after else 0
        return self.labels.index(label, start) + 1

    def outcomes(self) -> dict[str, list]:
        h = self.row("Outcome")
        out = {}
        r = h + 1
        while self.v.cell(r, 1).value not in (None, "Expected"):
            out[self.v.cell(r, 1).value] = [self.v.cell(r, c).value for c in range(2, 11)]
            r += 1
        return out

    def figure(self, label: str):
        r = self.row(label, after="Figure")
        return self.v.cell(r, 2).value, self.f.cell(r, 2).value

    def orders(self) -> list[list]:
        h = self.row("Kind")
        out = []
        r = h + 1
        while self.v.cell(r, 1).value in ("purchase", "lease"):
            out.append([self.v.cell(r, c).value for c in range(1, 9)])
            r += 1
        return out

    def notes(self) -> list[str]:
        return [x for x in self.labels if isinstance(x, str)]


def solve(tmp_path, path, *args) -> Risk:
    out = tmp_path / "plan.xlsx"
    r = CliRunner().invoke(cli, ["solve", str(path), *args, "--no-breakeven", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return Risk(out)


def test_stranding_by_hand(tmp_path):
    """x = 0: all d in q2 (50000/9 in both outcomes); own optima 10,000 and 50000/9; the base plan (100 h in q1)
    re-optimised: 10,000 licensed, 12500/9 denied; WS 22000/3, EVPI 16000/9, base value 14500/3, hedging 6500/9."""
    sh = solve(tmp_path, STRANDING)
    assert openpyxl.load_workbook(sh.path).sheetnames[:3] == ["Summary", "Risk", "Allocation"]
    o = sh.outcomes()
    a = pytest.approx
    # probability, TOPS, spend, stranded units, stranded money, own optimum, regret, base plan TOPS, description
    assert o["licensed"] == [0.4, a(50000 / 9), a(1000), 0, 0, a(10000), a(40000 / 9), a(10000), "h stays licensed"]
    assert o["denied"] == [0.6, a(50000 / 9), a(1000), 0, 0, a(50000 / 9), a(0, abs=1e-6), a(12500 / 9), None]
    e = sh.row("Expected")
    assert sh.v.cell(e, 3).value == a(50000 / 9) and sh.v.cell(e, 7).value == a(22000 / 3)
    assert sh.v.cell(e, 9).value == a(14500 / 3)
    assert sh.f.cell(e, 3).value == f"=SUMPRODUCT($B${e - 2}:$B${e - 1},$C${e - 2}:$C${e - 1})"
    assert sh.f.cell(e - 2, 8).value == f"=G{e - 2}-C{e - 2}"  # regret = own optimum - the hedged plan's TOPS
    assert sh.figure("Expected")[0] == a(50000 / 9)
    assert sh.figure("Maximised (expected)")[0] == a(50000 / 9)
    ws, ws_f = sh.figure("Wait-and-see")
    assert ws == a(22000 / 3) and ws_f.startswith("=SUMPRODUCT(")
    evpi, evpi_f = sh.figure("EVPI")
    assert evpi == a(16000 / 9) and evpi_f == f"=B{sh.row('Wait-and-see', 'Figure')}-B{sh.row('Maximised (expected)')}"
    assert sh.figure("Base plan value")[0] == a(14500 / 3)
    hedge, hedge_f = sh.figure("Value of hedging")
    assert hedge == a(6500 / 9) and hedge_f == f"=B{sh.row('Maximised (expected)')}-B{sh.row('Base plan value')}"
    # the sentences are the terminal's
    f = risk_figures(make_plan(io.load(STRANDING)))
    notes = sh.notes()
    assert evpi_sentence(f)[0].upper() + evpi_sentence(f)[1:] + "." in notes
    assert hedging_sentence(f)[0].upper() + hedging_sentence(f)[1:] + "." in notes
    assert "Knowing the outcome in advance would be worth 1,778 effective TOPS (wait-and-see 7,333 against the " \
           "hedged plan's 5,556)." in notes
    # the hedge orders nothing in q1; the base plan 100 h
    assert sh.orders() == [["purchase", "cn", "h", None, "q1", 0, 100, -100]]


def test_stranding_likely_licensed_hedges_like_the_base_plan(tmp_path):
    """0.6 / 0.4: 100 h in q1 (as the base plan); licensed 10,000, denied strands 100 h (CNY 750 lost) and buys
    d with CNY 250: 12500/9; expected 59000/9."""
    sh = solve(tmp_path, STRANDING, "--variant", "likely_licensed")
    o = sh.outcomes()
    assert o["denied"][1:5] == [pytest.approx(12500 / 9), pytest.approx(1000), 100, pytest.approx(750)]
    assert sh.figure("Maximised (expected)")[0] == pytest.approx(59000 / 9)
    assert sh.figure("Value of hedging")[0] == pytest.approx(0, abs=1e-6)
    assert sh.orders() == [["purchase", "cn", "h", None, "q1", 100, 100, 0]]


def test_worst_case_without_periods_by_hand(tmp_path):
    """worst: A = 3000/7 (42.857 a, 57.143 b), both outcomes 38000/7; WS min(8000, 10000) = 8000, EVPI 18000/7;
    the base plan (100 a) stays: a_fails 2,000, b_fails 10,000, worst 2,000; hedging 24000/7."""
    sh = solve(tmp_path, SINGLE)
    o = sh.outcomes()
    assert [o["a_fails"][1], o["b_fails"][1]] == [pytest.approx(38000 / 7)] * 2
    assert [o["a_fails"][7], o["b_fails"][7]] == [pytest.approx(2000), pytest.approx(10000)]
    worst, worst_f = sh.figure("Worst outcome")
    assert worst == pytest.approx(38000 / 7) and worst_f.startswith("=MIN(")
    obj, obj_f = sh.figure("Maximised (worst)")
    assert obj == pytest.approx(38000 / 7) and obj_f == f"=B{sh.row('Worst outcome', 'Figure')}"
    ws, ws_f = sh.figure("Wait-and-see")
    assert ws == pytest.approx(8000) and ws_f.startswith("=MIN(")
    assert sh.figure("EVPI")[0] == pytest.approx(18000 / 7)
    base, base_f = sh.figure("Base plan value")
    assert base == pytest.approx(2000) and base_f.startswith("=MIN(")
    assert sh.figure("Value of hedging")[0] == pytest.approx(24000 / 7)
    assert sh.orders() == [["purchase", "cn", "a", None, None, pytest.approx(300 / 7), 100, pytest.approx(-400 / 7)],
                           ["purchase", "cn", "b", None, None, pytest.approx(400 / 7), 0, pytest.approx(400 / 7)]]
    assert "every order (all are shared): the hedged plan's (shared by every outcome) beside the base plan's" in sh.notes()


def test_cvar_is_a_value_and_the_objective_a_formula_of_it(tmp_path):
    """cvar at alpha 0.5, weight 1, probabilities 0.5 / 0.5: the worse outcome, 38000/7."""
    sh = solve(tmp_path, SINGLE, "--variant", "cvar")
    cvar, cvar_f = sh.figure("CVaR at alpha 0.5")
    assert cvar == pytest.approx(38000 / 7) and not str(cvar_f).startswith("=")
    obj, obj_f = sh.figure("Maximised (cvar)")
    assert obj == pytest.approx(38000 / 7)
    assert obj_f == f"=0*B{sh.row('Expected', 'Figure')}+1*B{sh.row('CVaR at alpha 0.5', 'Figure')}"


def test_the_chart_shows_both_plans(tmp_path):
    sh = solve(tmp_path, STRANDING)
    with zipfile.ZipFile(sh.path) as z:
        xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    risk = [x for x in xml if "Effective TOPS by outcome" in x]
    assert len(risk) == 1
    assert "Hedged plan" in risk[0] and "Base plan" in risk[0] and "<c:barChart>" in risk[0]


def test_plans_without_outcomes_have_no_risk_sheet(tmp_path):
    out = tmp_path / "p.xlsx"
    r = CliRunner().invoke(cli, ["solve", str(FIXTURES / "sim_single.yaml"), "--no-breakeven", "-o", str(out)])
    assert r.exit_code == 0
    assert "Risk" not in openpyxl.load_workbook(out).sheetnames


def test_solve_works_out_the_risk_figures_once(tmp_path, monkeypatch):
    """The terminal, the JSON and the Risk sheet (written twice: before and after break-even) share one RiskFigures."""
    from optimizer.analysis import risk

    calls = []
    real = risk.risk_figures

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(risk, "risk_figures", counted)
    out = tmp_path / "p.xlsx"
    r = CliRunner().invoke(cli, ["solve", str(STRANDING), "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0 and "Break-even" in openpyxl.load_workbook(out).sheetnames
    assert len(calls) == 1
