"""Every workbook, opened by a real spreadsheet (LibreOffice headless): recalculated, re-priced, printed.

- LibreOffice recalculates every formula (the test profile sets "always
  recalculate on load"), independently of chipalloc; each value chipalloc
  stored with a formula must equal LibreOffice's result.
- Changing the exchange-rate input cell (FX_USD) with openpyxl and
  recalculating moves the unit prices, spend, the Summary and the converted
  Inputs figures, checked against hand figures for report_two_sites.yaml,
  and a USD-priced lease's spend, payment schedule and Cash by period for
  periods_lease.yaml.
- Printed to PDF: A4, every sheet on one page (one page wide, and short
  enough here to be one page tall), and a long sweep repeats its header row
  on every page.

Slow (LibreOffice starts in a few seconds and converts all workbooks in one
run); skipped when soffice is not installed (.ci/run installs it).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, SCENARIOS

from optimizer.cli import cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]

TWO_SITES = FIXTURES / "report_two_sites.yaml"
SMALL = FIXTURES / "whatif_small.yaml"
BD = SCENARIOS / "bytedance-2025.yaml"
PERIODS_LEASE = FIXTURES / "periods_lease.yaml"
USD_LEASE = ["--set", "fx.USD=2", "--set", "leases.op_x.price_currency=USD", "--set", "leases.op_x.price_per_period=5"]
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
WORKBOOKS = {  # name: (command, exit code, sheets in order)
    "two": (["solve", TWO_SITES], 0, ["Summary", "Allocation", "Constraints", "Compliance", "Sensitivity", "Break-even",
                                      "Inputs", "About"]),
    "bd": (["solve", BD], 0, ["Summary", "Allocation", "Constraints", "Compliance", "Sensitivity", "Break-even",
                             "Inputs", "About"]),
    "global": (["solve", SCENARIOS / "global-2025.yaml"], 0, ["Summary", "Allocation", "Constraints", "Compliance",
                                                            "Sensitivity", "Break-even", "Inputs", "About"]),
    # ids such as "-s" and "-1" are SUMIFS criteria on the Summary; every text field is formula-like
    "hostile": (["solve", FIXTURES / "outputs_hostile.yaml"], 0, ["Summary", "Allocation", "Constraints", "Compliance",
                                                                 "Sensitivity", "Break-even", "Inputs", "About"]),
    "infeasible": (["solve", SCENARIOS / "domestic-90-infeasible.yaml"], 3, ["Diagnosis", "Inputs", "About"]),
    "sweep": (["sweep", BD, "--vary", "sites.cn.budget.amount=30e9:50e9:5"], 0, ["Sweep", "Inputs", "About"]),
    "grid": (["sweep", SMALL, "--vary", "sites.cn.domestic_min_share=0.4,0.6",
              "--vary", "sites.cn.budget.amount=500:1500:3"], 0, ["Sweep", "Grid", "Inputs", "About"]),
    "tornado": (["tornado", BD], 0, ["Tornado", "Inputs", "About"]),
    "compare": (["compare", BD, f"{BD}@h20_licence_denied", f"{BD}@budget_cut_20"], 0,
                ["Compare", "Inputs", "Inputs 2", "Inputs 3", "About"]),
    # plans by period: the lease priced in USD (5 at 2 CNY: the fixture's CNY 10, so its hand solution holds)
    "lease": (["solve", PERIODS_LEASE, *USD_LEASE], 0, ["Summary", "Allocation", "Orders by period", "Leases",
                                                      "Cash by period", "Constraints", "Compliance", "Sensitivity",
                                                      "Break-even", "Inputs", "About"]),
    "budget_power": (["solve", FIXTURES / "periods_budget_power.yaml"], 0,
                     ["Summary", "Allocation", "Orders by period", "Cash by period", "Constraints", "Compliance",
                      "Sensitivity", "Break-even", "Inputs", "About"]),
    "licence": (["solve", FIXTURES / "periods_licence.yaml"], 0,
                ["Summary", "Allocation", "Orders by period", "Cash by period", "Constraints", "Compliance",
                 "Sensitivity", "Break-even", "Inputs", "About"]),
    "outcomes": (["solve", FIXTURES / "io_outcomes.yaml"], 0,
                 ["Summary", "Risk", "Allocation", "Orders by period", "Constraints", "Compliance", "Sensitivity",
                  "Break-even", "Inputs", "About"]),
    # the Risk sheet's figures (SUMPRODUCT, MIN) over the hand-worked stranding fixture
    "risk": (["solve", FIXTURES / "risk_stranding.yaml", "--no-breakeven"], 0,
             ["Summary", "Risk", "Allocation", "Orders by period", "Constraints", "Compliance", "Sensitivity", "Inputs",
              "About"]),
    "risk_worst": (["solve", FIXTURES / "risk_single_period.yaml", "--no-breakeven"], 0,
                   ["Summary", "Risk", "Allocation", "Constraints", "Compliance", "Sensitivity", "Inputs", "About"]),
    # PERCENTILE.INC, STDEV.S, RSQ, VAR.P and SUMPRODUCT counts over the draws: numpy's figures, stored
    "simulate": (["simulate", SCENARIOS / "bytedance-2025-risk.yaml", "--draws", "300", "--target", "2e8"], 0,
                 ["Simulation", "Draws", "Inputs", "About"]),
    # the shipped plan by quarter: recalculated, and its compute chart printed whole (its Summary and Sensitivity
    # are longer than a page, so it is not in the one-page-per-sheet check)
    "quarters": (["solve", SCENARIOS / "bytedance-2025-quarters.yaml", "--no-breakeven"], 0,
                 ["Summary", "Allocation", "Orders by period", "Leases", "Cash by period", "Constraints", "Compliance",
                  "Sensitivity", "Inputs", "About"]),
}
LONG = {"quarters", "simulate"}  # the simulation: a page of figures and a page of charts and tables, 300 draws
A4 = (595.3, 841.9)  # points


class Office:
    def __init__(self, profile: Path):
        self.profile = profile
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)

    def convert(self, files: list[Path], to: str, outdir: Path) -> list[Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = ["soffice", f"-env:UserInstallation=file://{self.profile}", "--headless", "--norestore",
               "--convert-to", to, "--outdir", str(outdir), *map(str, files)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        out = [outdir / (f.stem + "." + to.split(":")[0]) for f in files]
        missing = [p for p in out if not p.exists()]
        assert not missing, missing
        return out


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Office:
    return Office(tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    out = {}
    for name, (args, code, _) in WORKBOOKS.items():
        path = folder / f"{name}.xlsx"
        r = CliRunner().invoke(cli, [str(a) for a in args] + ["-o", str(path)], catch_exceptions=False)
        assert r.exit_code == code, r.stderr
        out[name] = path
    return out


@pytest.fixture(scope="module")
def recalculated(written, office, tmp_path_factory) -> dict[str, Path]:
    paths = office.convert(list(written.values()), "xlsx", tmp_path_factory.mktemp("recalculated"))
    return dict(zip(written, paths))


@pytest.fixture(scope="module")
def printed(written, office, tmp_path_factory) -> dict[str, Path]:
    paths = office.convert(list(written.values()), "pdf", tmp_path_factory.mktemp("pdf"))
    return dict(zip(written, paths))


# ---------------------------------------------------------------- stored values = LibreOffice's
def _same(stored, computed) -> bool:
    if isinstance(stored, (int, float)) and isinstance(computed, (int, float)):
        return abs(stored - computed) <= 1e-9 * max(1.0, abs(stored), abs(computed))
    return stored == computed


def test_the_office_really_recalculates(office, tmp_path):
    """Guard for the test below: a deliberately wrong stored value is replaced by the computed one."""
    from optimizer.report.xlsx import Book

    book = Book()
    sh = book.add_sheet("S")
    sh.put(1, 1, 2)
    sh.formula(1, 2, "=A1*3", 999)
    book.save(str(tmp_path / "wrong.xlsx"))
    (out,) = office.convert([tmp_path / "wrong.xlsx"], "xlsx", tmp_path / "out")
    assert openpyxl.load_workbook(out, data_only=True)["S"]["B1"].value == 6


@pytest.mark.parametrize("name", list(WORKBOOKS))
def test_every_stored_formula_value_is_what_a_spreadsheet_computes(name, written, recalculated):
    formulas = openpyxl.load_workbook(written[name])
    stored = openpyxl.load_workbook(written[name], data_only=True)
    computed = openpyxl.load_workbook(recalculated[name], data_only=True)
    assert computed.sheetnames == formulas.sheetnames == WORKBOOKS[name][2]
    checked = 0
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                s = stored[ws.title][c.coordinate].value
                v = computed[ws.title][c.coordinate].value
                assert s is not None, (name, ws.title, c.coordinate, c.value)  # never a blank for pandas or a phone
                assert _same(s, v), (name, ws.title, c.coordinate, c.value, s, v)
                checked += 1
    # the diagnosis workbook holds no formulas (its Inputs is the scenario as written)
    assert checked >= {"sweep": 1, "grid": 0, "infeasible": 0}.get(name, 5), (name, checked)


# ---------------------------------------------------------------- finance flexes the exchange rate
def test_changing_the_fx_cell_reprices_the_workbook(written, office, tmp_path):
    wb = openpyxl.load_workbook(written["two"])
    sheet, cell = wb.defined_names["FX_USD"].attr_text.split("!")
    sheet = sheet.strip("'")
    assert wb[sheet][cell.replace("$", "")].value == 7
    wb[sheet][cell.replace("$", "")].value = 8  # USD 1 = CNY 8 instead of 7
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    (out,) = office.convert([edited], "xlsx", tmp_path / "out")
    back = openpyxl.load_workbook(out, data_only=True)

    alloc = back["Allocation"]
    head = [c.value for c in alloc[1]]
    col = {h.split(" (")[0]: i + 1 for i, h in enumerate(head) if h}
    rows = {(alloc.cell(r, 1).value, alloc.cell(r, 2).value): r for r in range(2, 6)}
    # b: USD 5 (USD 6 at my) now at 8: CNY 40 and 48; a stays CNY 10
    expect = {("cn", "a"): (10, 20), ("cn", "b"): (40, 28 * 40), ("my", "a"): (10, 20), ("my", "b"): (48, 16 * 48)}
    for key, (price, spend) in expect.items():
        assert alloc.cell(rows[key], col["Unit price"]).value == pytest.approx(price)
        assert alloc.cell(rows[key], col["Spend"]).value == pytest.approx(spend)
    total = 20 + 1120 + 20 + 768  # 1928
    tot = next(r for r in range(2, 12) if alloc.cell(r, 1).value == "Total")
    assert alloc.cell(tot, col["Spend"]).value == pytest.approx(total)
    assert alloc.cell(tot + 2, col["Spend"]).value == pytest.approx(total - 1692)  # Difference: vs the solved plan
    assert alloc.cell(tot, col["Effective TOPS"]).value == pytest.approx(10740)  # compute does not depend on fx

    summary = back["Summary"]
    figures = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(1, summary.max_row + 1)}
    assert figures["Total spend"] == pytest.approx(total)
    assert figures["Site budgets"] == pytest.approx(1000 + 100 * 8)
    assert figures["Effective TOPS"] == pytest.approx(10740)
    sites = {summary.cell(r, 1).value: r for r in range(1, summary.max_row + 1)}
    cn, my = sites["cn"], sites["my"]
    assert summary.cell(cn, 4).value == pytest.approx(1140) and summary.cell(cn, 6).value == pytest.approx(1.14)
    assert summary.cell(my, 5).value == pytest.approx(800) and summary.cell(my, 6).value == pytest.approx((20 + 768) / 800)
    assert summary.cell(cn, 7).value == pytest.approx(20 / 1140)  # domestic share of spend at cn
    assert summary.cell(sites["us"], 5).value == pytest.approx(1120 + 768)
    assert summary.cell(sites["us"], 6).value == pytest.approx(1888 / total)

    # the Inputs sheet stays the scenario as written (re-solvable): b's price in its own currency, the new rate
    inputs = back["Inputs"]
    hdr = next(r for r in range(1, inputs.max_row + 1) if inputs.cell(r, 1).value == "Chips") + 1
    head = [c.value for c in inputs[hdr]]
    rb = next(r for r in range(hdr, hdr + 5) if inputs.cell(r, 1).value == "b")
    assert inputs.cell(rb, head.index("unit_price") + 1).value == 5
    assert inputs.cell(rb, head.index("price_currency") + 1).value == "USD"
    assert inputs[cell.replace("$", "")].value == 8


def test_changing_the_fx_cell_reprices_leases_and_cash_by_period(written, office, tmp_path):
    """periods_lease.yaml with the lease at USD 5 per unit and quarter (CNY 10 at 2): 10 leased units for four
    quarters and 60 y bought in q1 for CNY 600. At 4 CNY per USD the lease costs CNY 20 per unit and quarter."""
    wb = openpyxl.load_workbook(written["lease"])
    sheet, cell = wb.defined_names["FX_USD"].attr_text.split("!")
    sheet = sheet.strip("'")
    assert wb[sheet][cell.replace("$", "")].value == 2
    wb[sheet][cell.replace("$", "")].value = 4
    edited = tmp_path / "lease4.xlsx"
    wb.save(edited)
    (out,) = office.convert([edited], "xlsx", tmp_path / "out")
    back = openpyxl.load_workbook(out, data_only=True)

    leases = back["Leases"]
    head = {str(c.value).split(" (")[0]: c.column for c in leases[1] if c.value}
    assert [leases.cell(2, head[k]).value for k in ("Price per period", "Spend", "Paid q1", "Paid q4")] == [
        20, 800, 200, 200]  # 10 units x CNY 20 x 4 quarters
    assert leases.cell(4, head["Spend"]).value == 400  # the solver's verified lease spend, at the old rate
    assert leases.cell(5, head["Spend"]).value == 400  # Difference: 800 - 400

    cash = back["Cash by period"]
    head = {str(c.value).split(" (")[0]: c.column for c in cash[1] if c.value}
    rows = {(cash.cell(r, 1).value, cash.cell(r, 2).value): r for r in range(2, 10)}
    assert [cash.cell(rows[("q1", "all sites")], head[k]).value for k in ("Orders", "Lease payments", "Spend")] == [
        600, 200, 800]
    assert cash.cell(rows[("q4", "my")], head["Cumulative spend"]).value == 600 + 800
    # compute does not depend on the rate: the objective still matches the verified plan
    k = head["Effective TOPS in service"]
    objective = next(r for r in range(2, cash.max_row + 1) if str(cash.cell(r, 1).value).startswith("Average"))
    assert cash.cell(objective, k).value == 16000 and cash.cell(objective + 2, k).value == 0

    summary = back["Summary"]
    figures = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(1, summary.max_row + 1)}
    assert figures["Lease spend"] == 800 and figures["Purchase spend"] == 600 and figures["Total spend"] == 1400
    my = next(r for r in range(1, summary.max_row + 1) if summary.cell(r, 1).value == "my")
    assert summary.cell(my, 4).value == 1400 and summary.cell(my, 6).value == pytest.approx(1.4)  # over budget now


# ---------------------------------------------------------------- printing
def _pages(pdf: Path) -> list[tuple[str, float, float]]:
    """(sheet name from the footer, width, height) per page."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[: len(sizes)]
    names = []
    for p in pages:
        lines = [x for x in p.splitlines() if x.strip()]
        m = re.match(r"\s*(.+?)\s{2,}Page (\d+) of (\d+)\s*$", lines[-1])
        assert m, lines[-1]
        names.append(m.group(1))
    return [(n, w, h) for n, (w, h) in zip(names, sizes)]


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils (pdfinfo) is not installed")
@pytest.mark.parametrize("name", [n for n in WORKBOOKS if n not in LONG])
def test_every_sheet_prints_on_one_a4_page(name, printed):
    pages = _pages(printed[name])
    names = [n for n, _, _ in pages]
    # one page per sheet, in order: never split across; Cash by period may put its chart on a second page, and
    # Inputs (the whole scenario, stacked blocks) runs to as many pages as it needs, one page wide
    assert [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]] == WORKBOOKS[name][2]
    assert all(names.count(n) == 1 or (n == "Cash by period" and names.count(n) == 2) or n == "Inputs"
               for n in names), names
    for n, w, h in pages:
        assert sorted((round(w, 1), round(h, 1))) == sorted(A4), (n, w, h)
    orientation = {n: ("landscape" if w > h else "portrait") for n, w, h in pages}
    assert orientation.get("Allocation", "landscape") == "landscape"  # 17 columns
    assert orientation.get("Diagnosis", "landscape") == "landscape"


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils (pdfinfo) is not installed")
@pytest.mark.parametrize("name", ["lease", "budget_power", "licence", "quarters"])
def test_the_compute_chart_is_never_cut_by_a_page_break(name, printed):
    text = subprocess.run(["pdftotext", "-layout", str(printed[name]), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")
    names = [n for n, _, _ in _pages(printed[name])]
    cash = [text[i] for i, n in enumerate(names) if n == "Cash by period"]
    (page,) = [p for p in cash if "Effective TOPS in service by period" in p]  # the chart's title ...
    lines = [x.strip() for x in page.splitlines() if x.strip()]
    assert "period" in lines  # ... and its category axis title below the plot, on the same page
    for p in cash:  # every page of the sheet starts with its header row (its cells wrap over a few lines)
        head = " ".join([x for x in p.splitlines() if x.strip()][:6]).split()
        assert {"Period", "Site", "Orders", "Cumulative", "delivered"} <= set(head), head


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils (pdfinfo) is not installed")
def test_a_long_sweep_repeats_its_header_on_every_page(office, tmp_path):
    out = tmp_path / "long.xlsx"
    r = CliRunner().invoke(cli, ["sweep", str(SMALL), "--vary", "sites.cn.budget.amount=100:15000:150", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    (pdf,) = office.convert([out], "pdf", tmp_path / "pdf")
    pages = _pages(pdf)
    sweep_pages = [i for i, (n, _, _) in enumerate(pages) if n == "Sweep"]
    assert len(sweep_pages) >= 3  # 150 rows: several pages tall ...
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    for i in sweep_pages:  # ... each starting with the header row
        first = next(x for x in text[i].splitlines() if x.strip())
        assert "sites.cn.budget.amount" in first and "Effective TOPS" in first, first
