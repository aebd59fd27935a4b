"""The terminal summary (optimizer/report/terminal.py).

- Version-1 plans print exactly what they printed before the dated output
  existed: the golden files under tests/report/golden/ were written by the
  summary without it (main at 891ae06, on the scenarios as they are there),
  and are compared byte for byte. A change to a shipped scenario changes its
  golden file; a change to the summary must not.
- Dated plans: the figures in each table are the hand solutions of the
  fixtures' header comments (tests/fixtures/periods_*.yaml).
"""
from __future__ import annotations

import re

import pytest
from conftest import FIXTURES, SCENARIOS, TESTS

from optimizer import io
from optimizer.plan import make_plan
from optimizer.report.terminal import mw, summary

GOLDEN = TESTS / "report" / "golden"


def _plan(path, variants=(), sets=()):
    return make_plan(io.load(path, variants=list(variants), sets=list(sets)))


def _table(text: str, header_start: str) -> list[list[str]]:
    """The rows of the table whose header line starts with ``header_start``, cut into cells at the columns its
    dashed rule marks (so an empty cell stays an empty string)."""
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(header_start))
    rule = lines[i + 1]
    assert set(rule.replace(" ", "")) == {"-"}, rule
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    rows = []
    for line in lines[i + 2:]:
        if not line.strip():
            break
        rows.append([line[a:b].strip() for a, b in spans])
    return rows


@pytest.mark.parametrize("path, variants, sets, golden", [
    (SCENARIOS / "bytedance-2025.yaml", [], [], "terminal_bytedance-2025.txt"),
    (SCENARIOS / "global-2025.yaml", [], [], "terminal_global-2025.txt"),
    (SCENARIOS / "h20-licence-denied.yaml", [], [], "terminal_h20-licence-denied.txt"),
    (FIXTURES / "report_two_sites.yaml", [], [], "terminal_report_two_sites.txt"),
    (SCENARIOS / "bytedance-2025.yaml", ["budget_cut_20"], ["chips.mlu370.unit_price=38000"],
     "terminal_bytedance-2025_budget_cut_20.txt"),
])
def test_version_1_output_is_byte_identical(path, variants, sets, golden):
    text = summary(_plan(path, variants, sets), report="reports/plan.xlsx")
    assert text == (GOLDEN / golden).read_text()


def test_mw_keeps_small_envelopes_readable():
    assert (mw(0), mw(151.25), mw(0.0005), mw(0.01), mw(1.0)) == ("0.0", "151.2", "0.0005", "0.01", "1.0")


# ---------------------------------------------------------------- dated plans
@pytest.fixture(scope="module")
def budget_power() -> str:
    return summary(_plan(FIXTURES / "periods_budget_power.yaml"))


@pytest.fixture(scope="module")
def lease() -> str:
    return summary(_plan(FIXTURES / "periods_lease.yaml"))


@pytest.fixture(scope="module")
def licence() -> str:
    return summary(_plan(FIXTURES / "periods_licence.yaml"))


def test_the_objective_is_said_in_words(budget_power, licence):
    # in_service: (500 in q1 + 14,750 in q2) / 2; delivered: 10,000 h at cn + 5,000 d at my
    assert "objective                    7,625   effective TOPS in service, averaged over the 2 periods q1-q2" in budget_power
    assert "effective TOPS              14,750   delivered by the end of q2 (INT8 x flexibility x delivery rate)" in budget_power
    assert "objective                   15,000   effective TOPS delivered by the end of q4" in licence
    assert "effective TOPS  " not in licence  # with objective delivered the objective is that figure
    assert "(INT8 x flexibility x delivery rate)\n" not in budget_power.split("objective")[0]


def test_allocation_has_the_order_and_delivery_period(budget_power, licence):
    rows = _table(budget_power, "site  chip  ordered  delivered")
    assert [r[:4] for r in rows] == [["cn", "a", "q1", "q1"], ["cn", "b", "q2", "q2"]]
    assert [r[-4:] for r in rows] == [["5", "10", "CNY 50", "500"], ["48", "10", "CNY 475", "14,250"]]  # 47.5 b
    # h has a lead time of one period: ordered in q3, delivered in q4
    h = next(r for r in _table(licence, "site  chip  ordered  delivered") if r[1] == "h")
    assert h[:4] == ["cn", "h", "q3", "q4"] and h[-3:] == ["10", "CNY 1,000", "10,000"]


def test_by_period_table(budget_power):
    rows = _table(budget_power, "period  site")
    assert rows == [
        ["q1", "cn", "CNY 50", "CNY 50", "100.0%", "5", "500", "0.0005 / 0.001 MW"],
        ["q2", "cn", "CNY 475", "-", "-", "48", "14,750", "0.01 / 0.01 MW"],
    ]
    head = budget_power.splitlines()[budget_power.splitlines().index(next(
        x for x in budget_power.splitlines() if x.startswith("period  site")))]
    assert re.split(r"\s{2,}", head.strip()) == ["period", "site", "spend", "cap", "used", "units delivered",
                                                 "effective TOPS in service", "power in use"]


def test_leases_table_and_key_figures(lease):
    assert _table(lease, "lease  site  chip") == [
        ["op_x", "my", "x", "Example DC Sdn Bhd", "q1", "10", "10", "4", "CNY 400", "10,000"]]
    assert "total spend              CNY 1,000   for 60 units bought and 10 leased" in lease
    assert "lease spend                CNY 400   payments over the periods each lease is in service" in lease
    assert "delivered TOPS               6,000   (INT8 x delivery rate, purchases)" in lease
    # lease payments count in every period the lease is in service
    assert _table(lease, "period  site") == [
        ["q1", "my", "CNY 700", "-", "-", "60", "16,000", "-"],
        ["q2", "my", "CNY 100", "-", "-", "0", "16,000", "-"],
        ["q3", "my", "CNY 100", "-", "-", "0", "16,000", "-"],
        ["q4", "my", "CNY 100", "-", "-", "0", "16,000", "-"],
    ]


def test_export_decisions_merge_consecutive_periods(licence, lease):
    section = licence.split("export controls:\n", 1)[1].split("\n\n")[0].splitlines()
    assert section == [
        "  h at cn (CN), q2-q3: deny - h to CN delivered in q2-q3: licence 'h_cn' denies from q2 to q3 "
        "(licence required, none granted)",
        "  x at cn (CN), q1-q4: deny - x at cn: buyer headquartered in CN, a controlled chip (TPP 8,000 >= 4,800): "
        "denied anywhere without a licence",
        "  x at my (MY), q1-q4: deny - x at my: buyer headquartered in CN, a controlled chip (TPP 8,000 >= 4,800): "
        "denied anywhere without a licence",
    ]
    assert "  x at my (MY), leased: cap - lease op_x: controlled (TPP 8,000 >= 4,800)" in lease


def test_two_sites_get_an_all_sites_row(licence):
    # periods_licence has two sites: each period has a row for both together, then one per site. Hand solution:
    # 100 d at my (CNY 1,000, 5,000 TOPS; the order period is a tie) and 100 h at cn ordered in q3, delivered in
    # q4 (CNY 1,000, 10,000 TOPS)
    rows = _table(licence, "period  site")
    assert [r[:2] for r in rows] == [["q1", "all"], ["", "cn"], ["", "my"], ["q2", "all"], ["", "cn"], ["", "my"],
                                     ["q3", "all"], ["", "cn"], ["", "my"], ["q4", "all"], ["", "cn"], ["", "my"]]
    q3_cn, q4_all, q4_cn, q4_my = rows[7], rows[9], rows[10], rows[11]
    assert q3_cn[2:] == ["CNY 1,000", "-", "-", "0", "0", "-"]  # paid when ordered, delivered a period later
    assert q4_cn[2:] == ["CNY 0", "-", "-", "100", "10,000", "-"]
    assert q4_my[5:7] == ["0", "5,000"]
    assert q4_all[6:] == ["15,000", ""]  # both sites in service; no power envelope for all sites together


def test_a_plan_with_outcomes_does_not_show_one_outcome_as_the_plan():
    text = summary(_plan(FIXTURES / "io_outcomes.yaml"))
    assert ("objective                  452,189   effective TOPS in service, averaged over the 4 periods "
            "2025q1-2025q4; expected value over the 2 outcomes (granted, denied)") in text
    assert "total spend            CNY 336.40M   expected over the outcomes" in text
    assert "by period: not shown for a plan with outcomes" in text
    rows = _table(text, "site  chip        ordered  delivered  outcome")
    assert [r[4] for r in rows] == ["all", "denied", "denied", "denied", "granted", "granted"]


def test_a_lease_without_periods(tmp_path):
    import yaml

    data = dict(io.load(FIXTURES / "periods_lease.yaml").data)
    data.pop("periods")
    data["leases"] = {"op_x": {**data["leases"]["op_x"], "price_per_period": 40}}  # one period: CNY 40 per unit
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    text = summary(_plan(p))
    # the same plan in one period: 10 leased (CNY 400, up to the TPP cap) and 60 y (CNY 600)
    assert ("objective                   16,000   effective TOPS (INT8 x flexibility x delivery rate; "
            "purchases and leases)") in text
    assert _table(text, "lease  site  chip") == [
        ["op_x", "my", "x", "Example DC Sdn Bhd", "-", "10", "40", "1", "CNY 400", "10,000"]]
    assert "by period" not in text


# ---------------------------------------------------------------- the README shows real output
def _readme_blocks() -> list[str]:
    from conftest import REPO

    text = (REPO / "README.md").read_text().split("### Plans by period and leases", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```\n(.*?)```", text, flags=re.S)


def test_the_readme_shows_what_the_summary_prints():
    lease, licence = _readme_blocks()[:2]
    shown = lease.splitlines()
    assert shown[0] == "$ chipalloc solve tests/fixtures/periods_lease.yaml --no-report" and shown[-1] == "..."
    real = [x.rstrip() for x in summary(_plan(FIXTURES / "periods_lease.yaml")).splitlines()]
    assert shown[1:-1] == real[:len(shown) - 2]
    real = {x.rstrip() for x in summary(_plan(FIXTURES / "periods_licence.yaml")).splitlines()}
    for line in licence.splitlines():
        assert line == "..." or line in real, line
