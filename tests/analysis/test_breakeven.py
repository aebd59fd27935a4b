"""Break-even prices: hand-worked values, and re-solves just above and below every reported price.

The re-solves use make_plan on a scenario loaded with ``--set
sites.<site>.prices.<chip>=P`` (the CLI's own override path), not the
Resolver the search used.
"""
from __future__ import annotations

import pytest
from conftest import FIXTURES, SCENARIOS

from optimizer import io
from optimizer.analysis.breakeven import REL_TOL, break_even, break_even_row, money, with_site_price
from optimizer.analysis.engine import Resolver
from optimizer.plan import make_plan

HAND = FIXTURES / "analysis_breakeven.yaml"
BASELINE = SCENARIOS / "bytedance-2025.yaml"
GLOBAL = SCENARIOS / "global-2025.yaml"


def bought_at(path, site, chip, price, variants=(), sets=()) -> bool | None:
    """Does the optimal plan buy chip at site when that site's price is ``price``? None if no plan."""
    loaded = io.load(path, variants=list(variants), sets=list(sets) + [f"sites.{site}.prices.{chip}={price!r}"])
    plan = make_plan(loaded, raise_on_status=False)
    if not plan.result.ok:
        return None
    return plan.units().get((site, chip), 0.0) > 1e-9


def assert_brackets(path, row, variants=()):
    p = row.break_even_price
    below, above = p * (1 - 0.002), p * (1 + 0.002)
    if row.direction == "enters_below":
        assert bought_at(path, row.site, row.chip, below, variants) is True, row.sentence
        assert bought_at(path, row.site, row.chip, above, variants) is False, row.sentence
        assert p < row.current_price
    else:
        assert bought_at(path, row.site, row.chip, below, variants) is True, row.sentence
        assert bought_at(path, row.site, row.chip, above, variants) is False, row.sentence
        assert p > row.current_price


@pytest.fixture(scope="module")
def hand_rows():
    plan = make_plan(io.load(HAND))
    return {r.chip: r for r in break_even(plan)}


def test_hand_exits_above(hand_rows):
    x = hand_rows["x"]
    assert x.direction == "exits_above"
    assert x.current_price == 1.0
    assert x.break_even_price == pytest.approx(1.25, rel=REL_TOL)  # 10 TOPS / 8 TOPS per CNY
    assert x.sentence == "Chip X at cn leaves the plan above CNY 1.25; today CNY 1"


def test_hand_enters_below_in_the_chips_own_currency(hand_rows):
    y = hand_rows["y"]
    assert y.direction == "enters_below"
    assert y.current_price == 0.2  # USD, the chip's price currency
    assert y.break_even_price == pytest.approx(0.16, rel=REL_TOL)  # 8/10 CNY at 5 CNY per USD
    assert y.sentence == "Chip Y at cn enters the plan below USD 0.16; today USD 0.2"


def test_hand_minimum_purchase_has_no_break_even(hand_rows):
    z = hand_rows["z"]
    assert (z.direction, z.break_even_price) == ("exits_above", None)
    assert "stays in the plan at every price that leaves a feasible plan" in z.sentence
    assert bought_at(HAND, "cn", "z", 19.0) is True  # 5 units still fit CNY 100
    assert bought_at(HAND, "cn", "z", 21.0) is None  # no plan at all


def test_hand_never_bought_has_no_break_even(hand_rows):
    w = hand_rows["w"]
    assert (w.direction, w.break_even_price) == ("enters_below", None)
    assert w.sentence.startswith("Chip W at cn: no break-even price down to 1/1024 of today's price (it stays out")
    assert bought_at(HAND, "cn", "w", 0.001) is False


@pytest.mark.parametrize("chip", ["x", "y"])
def test_hand_rows_bracket_by_resolving(hand_rows, chip):
    assert_brackets(HAND, hand_rows[chip])


def test_json_shape(hand_rows):
    d = hand_rows["y"].to_dict()
    assert d == {
        "site": "cn", "chip": "y", "current_price": 0.2, "break_even_price": d["break_even_price"],
        "direction": "enters_below", "sentence": hand_rows["y"].sentence,
    }
    assert hand_rows["z"].to_dict()["break_even_price"] is None


@pytest.fixture(scope="module")
def baseline_rows():
    return break_even(make_plan(io.load(BASELINE)))


def test_baseline_one_row_per_allowed_chip(baseline_rows):
    # H100 is denied in CN (no variable), so no row for it
    assert [(r.site, r.chip) for r in baseline_rows] == [
        ("cn", "ascend910b"), ("cn", "ascend910c"), ("cn", "h20"), ("cn", "mlu370"),
    ]
    assert any(r.break_even_price is not None for r in baseline_rows)


def test_baseline_every_price_brackets_by_resolving(baseline_rows):
    checked = 0
    for row in baseline_rows:
        if row.break_even_price is None:
            continue
        assert_brackets(BASELINE, row)
        checked += 1
    assert checked >= 2


def test_baseline_nulls_hold_at_the_search_limit(baseline_rows):
    for row in baseline_rows:
        if row.break_even_price is not None:
            continue
        assert row.direction == "exits_above"
        assert bought_at(BASELINE, row.site, row.chip, row.current_price * 1024) is True


def test_baseline_sentence_uses_model_name_and_currency(baseline_rows):
    c = next(r for r in baseline_rows if r.chip == "ascend910c")
    assert c.currency == "USD" and c.current_price == 28600
    assert c.sentence == (
        f"Huawei Ascend 910C at cn leaves the plan above {money('USD', c.break_even_price)}; today USD 28,600"
    )


def test_guided_and_plain_search_agree():
    plan = make_plan(io.load(BASELINE, variants=["h20_licence_denied"]))
    guided = break_even(plan, guided=True)
    plain = break_even(plan, guided=False)
    for a, b in zip(guided, plain):
        assert (a.site, a.chip, a.direction) == (b.site, b.chip, b.direction)
        if a.break_even_price is None:
            assert b.break_even_price is None
        else:
            assert a.break_even_price == pytest.approx(b.break_even_price, rel=2 * REL_TOL)
    # the relaxation-guided search spends fewer whole-lot solves
    assert sum(r.probes for r in guided) < sum(r.probes for r in plain)


def test_two_site_scenario_rows_bracket_by_resolving():
    """Both sites of the global scenario; each probe moves one site's price only."""
    loaded = io.load(GLOBAL)
    plan = make_plan(loaded)
    rows = break_even(plan)
    assert {r.site for r in rows} == {"cn", "my"}
    for row in rows:
        if row.break_even_price is not None:
            assert_brackets(GLOBAL, row)


def test_whole_lots_enters_below():
    """MLU370 priced out of the baseline (CNY 80,000): it comes back below its exit price."""
    loaded = io.load(BASELINE, sets=["sites.cn.prices.mlu370=80000"])
    plan = make_plan(loaded)
    assert plan.units()[("cn", "mlu370")] == 0
    row = next(r for r in break_even(plan) if r.chip == "mlu370")
    assert row.direction == "enters_below" and row.current_price == 80000
    assert 45000 < row.break_even_price < 80000
    assert row.sentence == f"Cambricon MLU370-X8 at cn enters the plan below {money('CNY', row.break_even_price)}; today CNY 80,000"
    assert_brackets(BASELINE, row)


def test_with_site_price_moves_one_site_only():
    s = io.load(GLOBAL).scenario
    t = with_site_price(s, "my", "h20", 99_000)
    assert t.price("my", "h20") == 99_000
    assert t.price("cn", "h20") == s.price("cn", "h20") == 110_000
    assert t.chips == s.chips and s.sites["my"].prices == {}


def test_not_optimal_plan_gives_no_rows():
    plan = Resolver().plan(io.load(FIXTURES / "analysis_engine.yaml", variants=["capacity_below_min"]))
    assert break_even(plan) == []


@pytest.mark.parametrize("x, text", [(38200.0, "CNY 38,200"), (131_000.4, "CNY 131,000"), (0.16, "CNY 0.16"), (12.5, "CNY 12.5")])
def test_money(x, text):
    assert money("CNY", x) == text


def test_lp_entering_prices_from_duals_equal_the_search():
    """Every not-bought pair answered from the duals brackets by re-solving, and matches the plain search."""
    from optimizer.analysis.breakeven import entering_prices

    checked = 0
    for path, sets in ((HAND, []), (SCENARIOS / "bytedance-2025.yaml", ["integer_units=false", "chips.mlu370.unit_price=90000"]),
                       (GLOBAL, ["integer_units=false", "chips.mlu370.unit_price=90000", "sites.my.prices.h20=200000"])):
        plan = make_plan(io.load(path, sets=sets))
        exact = {k: v for k, v in entering_prices(plan).items() if v != "search"}
        checked += sum(v is not None for v in exact.values())
        reported = {(r.site, r.chip): r for r in break_even(plan)}
        for key, price in exact.items():
            if price is None:
                continue
            row = break_even_row(plan.scenario, key[0], key[1], 0.0, Resolver())
            assert row.break_even_price == pytest.approx(price, rel=2e-3), key
            assert reported[key].break_even_price == price and reported[key].probes == 0
            assert bought_at(path, key[0], key[1], price * 0.998, sets=sets) is True
            assert bought_at(path, key[0], key[1], price * 1.002, sets=sets) is False
    assert checked == 3  # y in the hand case, mlu370 in the baseline and in global-2025 (CNY 67,596 both)


def test_probe_budget_leaves_rows_without_a_price_and_says_so():
    """The budget is a count of re-solves, never a clock: the same rows are undetermined on every machine."""
    plan = make_plan(io.load(HAND))
    r = Resolver()
    rows = break_even(plan, resolver=r, max_probes=0)
    assert [row.chip for row in rows] == ["w", "x", "y", "z"]
    for row in rows:
        if row.chip == "y":  # not bought, with a negative reduced cost: answered from the LP duals, no re-solve
            assert row.break_even_price == pytest.approx(0.16) and row.probes == 0
            continue
        assert row.break_even_price is None
        assert "not determined (the search used its budget of 0 re-solves)" in row.sentence
    assert break_even(plan, resolver=r)[1].break_even_price == pytest.approx(1.25, rel=REL_TOL)


# --------------------------------------------------------------------------- rows on an executor


def test_rows_come_in_order_as_they_are_found_with_progress():
    """on_row sees every row once, in the returned order; on_done counts rows (duals rows first, at once)."""
    plan = make_plan(io.load(HAND))
    seen, counts = [], []
    rows = break_even(plan, on_row=seen.append, on_done=lambda n, total: counts.append((n, total)))
    assert seen == rows and [r.chip for r in rows] == ["w", "x", "y", "z"]
    # y is answered from the LP duals before any search; w, x and z are searched one by one
    assert counts == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_each_row_is_a_function_of_the_row_alone():
    """A row searched on its own, by a Resolver that has solved nothing before, in any order, equals the row
    of the whole search: what makes the serial run and any number of workers agree."""
    from optimizer.analysis.breakeven import RowWork, search_row

    plan = make_plan(io.load(BASELINE))
    rows = break_even(plan)
    relaxed = plan.scenario.model_copy(update={"integer_units": False})
    for row in reversed(rows):
        alone = search_row(RowWork(plan.scenario, relaxed, resolver=Resolver()), row.site, row.chip, row.current_units)
        assert alone == row
    # and a probe budget is per row: a row's answer does not depend on what the rows before it spent
    # (w spends 10 re-solves reaching 1/1024 of its price, then x needs 11: a budget of 11 for both would
    # leave x undetermined)
    w, x = break_even(make_plan(io.load(HAND)), max_probes=11)[:2]
    assert (w.chip, w.probes, x.chip, x.probes) == ("w", 10, "x", 11)
    assert x.break_even_price == pytest.approx(1.25, rel=REL_TOL)


def test_a_resolver_of_ones_own_cannot_go_to_workers(dask_cluster):
    from optimizer.analysis.executor import DaskExecutor

    plan = make_plan(io.load(HAND))
    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        with pytest.raises(ValueError, match="resolver= or executor="):
            break_even(plan, resolver=Resolver(), executor=ex)


def test_interrupted_search_raises_keyboard_interrupt_after_the_rows_found():
    plan = make_plan(io.load(BASELINE))
    seen = []

    def stop(n, total):
        if n >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        break_even(plan, on_row=seen.append, on_done=stop)
    assert [(r.site, r.chip) for r in seen] == [("cn", "ascend910b"), ("cn", "ascend910c")]


@pytest.mark.slow
@pytest.mark.parametrize("path, sets", [(BASELINE, []), (GLOBAL, []),
                                        (BASELINE, ["integer_units=false", "chips.mlu370.unit_price=90000"])])
def test_serial_and_two_workers_give_the_same_rows(dask_cluster, path, sets):
    from optimizer.analysis.executor import DaskExecutor

    plan = make_plan(io.load(path, sets=sets))
    serial = break_even(plan)
    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        seen = []
        on_workers = break_even(plan, executor=ex, on_row=seen.append)
    assert on_workers == serial and seen == serial  # every field, floats bit for bit, in order
    assert any(r.probes > 0 for r in serial)


def test_no_row_comes_near_its_probe_cap(baseline_rows, hand_rows):
    """The search needs at most 36 whole-lot re-solves a row (16 guided, 10 bracketing, 10 bisecting); the cap of
    ROW_PROBES only guards it."""
    from optimizer.analysis.breakeven import ROW_PROBES

    assert ROW_PROBES == 40
    assert all(0 <= r.probes <= 36 for r in [*baseline_rows, *hand_rows.values()])
