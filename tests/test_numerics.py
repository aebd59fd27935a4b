"""Badly scaled but valid scenarios solve to the hand answer on both solvers, or fail clearly.

Each case is small enough to solve by hand (stated above it). Numbers span
a CNY 1,000 to a CNY 1e15 budget, unit prices from CNY 1 to CNY 1e9 in one
budget row, and capacities of 1e9 units. Numbers beyond what the solvers
hold accurately (io.MAX_MAGNITUDE = 1e15, io.MIN_MAGNITUDE = 1e-9) are refused
with exit 2 and a message naming the field.

Tolerances: a plan's effective TOPS is never above the hand optimum and at
most a relative 1e-7 below it -- the tie-break (least spend among plans within
optimizer.solve.TIE_REL of the best TOPS) may trade that much: with 1.1e10
TOPS at stake it gives up 1,100 units of a 1-TOPS chip to save CNY 1,100 --
and every plan passes the verifier's relative checks (optimizer.verify.REL_TOL).
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import SCENARIOS, SOLVERS

from optimizer import io
from optimizer.cli import cli
from optimizer.plan import make_plan
from optimizer.solve.lexicographic import LP_TIE_REL as TIE_REL  # the LP tie-break floor (whole lots: exact)
from optimizer.verify import violations

REL = 1e-6


def scenario(budget: float, *, integer: bool = False, cheap=(1.0, 1.0), dear=(1e9, 2e9), **sets):
    """cheap: domestic (price, TOPS); dear: foreign (price, TOPS); one CN site."""
    data = {
        "schema_version": 1, "name": "numerics", "integer_units": integer, "flexibility": {"g": 1.0},
        "vendors": {"dom": {"origin": "CN"}, "us": {"origin": "US"}},
        "chips": {
            "cheap": {"vendor": "dom", "architecture": "g", "unit_price": cheap[0], "int8_tops": cheap[1]},
            "dear": {"vendor": "us", "architecture": "g", "unit_price": dear[0], "int8_tops": dear[1]},
        },
        "sites": {"cn": {"country": "CN", "budget": {"amount": budget}}},
    }
    for path, value in sets.items():
        data = io.set_path(data, path.replace("__", "."), value)
    return io.validate_data(data)


def solved(s, solver):
    p = make_plan(s, solver=solver)
    units = {(a.site, a.chip): a.units for a in p.allocation}
    assert violations(s, p.units(), p.totals["effective_tops"]) == []
    return p, units


CASES = {
    # dear gives 2 TOPS per CNY, cheap 1: the whole CNY 1,000 goes to 1e-6 of a dear unit
    "budget 1e3, prices 1 and 1e9, fractional": (dict(budget=1e3), {"dear": 1e-6}, 2000.0),
    # whole units: one dear unit costs 1e9 > 1e3, so 1,000 cheap units
    "budget 1e3, prices 1 and 1e9, whole": (dict(budget=1e3, integer=True), {"cheap": 1000}, 1000.0),
    # CNY 1e15 buys 1e6 dear units: 2e15 TOPS
    "budget 1e15": (dict(budget=1e15, integer=True), {"dear": 1e6}, 2e15),
    # CNY 1e15 on cheap parts only (dear denied by a cap of 0): 1e15 units of 1 TOPS
    "budget 1e15, 1e15 units": (dict(budget=1e15, integer=True, chips__dear__max_units=0), {"cheap": 1e15}, 1e15),
    # half of CNY 1e10 must be domestic: 5e9 cheap units and 5 dear units
    "prices 1 to 1e9 under a domestic floor": (
        dict(budget=1e10, integer=True, sites__cn__domestic_min_share=0.5), {"cheap": 5e9, "dear": 5}, 5e9 + 5 * 2e9),
    # capacities of 1e9 units (cheap) and 5 units (dear); the budget is not binding
    "capacity 1e9": (
        dict(budget=1e15, integer=True, vendors__dom__capacity_units=1e9, vendors__us__capacity_units=5),
        {"cheap": 1e9, "dear": 5}, 1e9 + 1e10),
    # a tiny price next to a budget of 1e6: 1e6 / 1e-3 = 1e9 units
    "price 1e-3": (dict(budget=1e6, cheap=(1e-3, 1.0), dear=(1e9, 1.0)), {"cheap": 1e9}, 1e9),
}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", list(CASES))
def test_badly_scaled_scenarios_solve_to_the_hand_answer(case, solver):
    kwargs, want_units, want_tops = CASES[case]
    s = scenario(**kwargs)
    p, units = solved(s, solver)
    tops = p.totals["effective_tops"]
    # never above the optimum; below it by at most what the tie-break may trade for spend
    assert want_tops * (1 - TIE_REL) * (1 - 1e-12) <= tops <= want_tops * (1 + 1e-12)
    assert set(units) == {("cn", c) for c in want_units}
    for chip, u in want_units.items():
        traded = TIE_REL * want_tops / s.effective_tops_per_unit(chip)  # units that much TOPS buys
        assert abs(units[("cn", chip)] - u) <= REL * u + traded * 1.001, chip


@pytest.mark.parametrize("case", list(CASES))
def test_both_solvers_agree(case):
    kwargs, _, _ = CASES[case]
    s = scenario(**kwargs)
    a, _ = solved(s, "highs")
    b, _ = solved(s, "cbc")
    assert a.totals["effective_tops"] == pytest.approx(b.totals["effective_tops"], rel=REL)
    assert a.totals["spend"] == pytest.approx(b.totals["spend"], rel=REL)


def test_shipped_scenario_with_one_absurd_price_still_solves(solver):
    # an Ascend 910C at USD 1e9 (CNY 7.2e9) sits in the budget row next to CNY 45,000 parts:
    # the plan simply stops buying it, and both solvers agree with the verifier
    loaded = io.load(SCENARIOS / "bytedance-2025.yaml", sets=["chips.ascend910c.unit_price=1e9"])
    p, units = solved(loaded.scenario, solver)
    assert ("cn", "ascend910c") not in units
    assert p.totals["spend"] <= 40e9 * (1 + 1e-9)


FILE = """schema_version: 1
name: limits
flexibility: {g: 1.0}
fx: {USD: 7.2}
vendors: {dom: {origin: CN}}
chips:
  a: {vendor: dom, architecture: g, int8_tops: 100, unit_price: 10}
sites:
  cn: {country: CN, budget: {amount: 1000}}
"""


@pytest.mark.parametrize(
    "sets, message",
    [
        (["sites.cn.budget.amount=1e16"],
         "error: {file}: sites.cn.budget.amount: 1e+16: too large; chipalloc solves numbers up to 1e15 accurately "
         "(the value came from --set sites.cn.budget.amount=1e16)"),
        (["chips.a.int8_tops=1e300"],
         "error: {file}: chips.a.int8_tops: 1e+300: too large; chipalloc solves numbers up to 1e15 accurately "
         "(the value came from --set chips.a.int8_tops=1e300)"),
        (["chips.a.unit_price=1e-12"],
         "error: {file}: chips.a.unit_price: 1e-12: too small; a number that is not 0 must be at least 1e-9 "
         "(the value came from --set chips.a.unit_price=1e-12)"),
        (["sites.cn.budget={amount: 2e14, currency: USD}"],
         "error: {file}: sites.cn.budget.amount: CNY 1.44e+15 once converted with fx; chipalloc solves budgets up to 1e15 "
         "accurately (the value came from --set sites.cn.budget={amount: 2e14, currency: USD})"),
        (["chips.a.price_currency=USD", "chips.a.unit_price=5e14"],
         "error: {file}: chips.a.unit_price: CNY 3.6e+15 per unit at cn once converted with fx; chipalloc solves prices "
         "from 1e-9 to 1e15 accurately (the value came from --set chips.a.unit_price=5e14)"),
    ],
)
def test_numbers_beyond_the_solvers_range_are_refused_clearly(sets, message, tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text(FILE)
    args = ["solve", str(f), "--no-report"]
    for s in sets:
        args += ["--set", s]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 2
    assert r.stderr.strip() == message.replace("{file}", str(f))


def test_the_limits_themselves_are_accepted(tmp_path):
    f = tmp_path / "limits.yaml"
    f.write_text(FILE)
    s = io.load(f, sets=["sites.cn.budget.amount=1e15", "chips.a.unit_price=1e-9"]).scenario
    assert s.sites["cn"].budget.amount == 1e15
    assert s.chips["a"].unit_price == 1e-9
