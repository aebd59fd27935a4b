"""The LP/MILP matrix: variables, row names, senses, right-hand sides and coefficients, by hand."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from optimizer import model
from optimizer.schema import Scenario

S = load_fixture("core_all_rules.yaml").scenario
LM = model.build(S)


def row(name):
    i = LM.rows.index()[name]
    return LM.ref(i), dict(zip(LM.var.name, LM.A.getrow(i).toarray().ravel()))


def chips_of(lm):
    return [lm.coords.chips[c] for c in lm.var.chip]


def sites_of(lm):
    return [lm.coords.sites[c] for c in lm.var.site]


def test_variables_sorted_by_site_then_chip_and_denied_removed():
    # c is controlled (TPP 8,000 >= 4,800): denied in CN (tier 3), capped in MY (tier 2)
    assert LM.var.name == [
        "units[cn,a]", "units[cn,b]", "units[cn,d]",
        "units[my,a]", "units[my,b]", "units[my,c]", "units[my,d]",
    ]
    assert "units[cn,c]" not in LM.column_index()


def test_objective_and_spend_per_unit():
    # effective TOPS: a 100 x 1.0, b 300, c 1000, d 200 x 0.5 (asic) = 100
    eff = {"a": 100, "b": 300, "c": 1000, "d": 100}
    assert LM.c.tolist() == [eff[c] for c in chips_of(LM)]
    # spend in CNY: b costs 35 at my (site price); c costs USD 20 x 7 = 140
    price = {("cn", "a"): 10, ("cn", "b"): 40, ("cn", "d"): 40, ("my", "a"): 10, ("my", "b"): 35, ("my", "c"): 140,
             ("my", "d"): 40}
    assert LM.spend.tolist() == [price[k] for k in zip(sites_of(LM), chips_of(LM))]


def test_lot_size_is_the_scale_with_integer_units():
    assert LM.integer
    assert dict(zip(chips_of(LM), LM.scale.tolist())) == {"a": 1, "b": 2, "c": 1, "d": 1}
    lp = model.build(S.model_copy(update={"integer_units": False}))
    assert not lp.integer and set(lp.scale) == {1.0}


def test_row_names_in_stable_order():
    assert LM.rows.name == [
        "budget[cn]", "budget[my]", "budget[global]", "domestic_share[cn]", "capacity[dom]", "vendor_share[dom]",
        "chip_min[a]", "chip_max[a]", "power[cn]", "tpp_cap[MY]",
    ]
    assert set(LM.rows.family) == {"budget", "domestic_share", "capacity", "vendor_share", "chip_min", "chip_max",
                                   "power", "tpp_cap"}


def test_budget_rows():
    r, a = row("budget[cn]")
    assert (r.sense, r.rhs, r.subject) == ("<=", 2000, "cn")
    assert a == {"units[cn,a]": 10, "units[cn,b]": 40, "units[cn,d]": 40, "units[my,a]": 0, "units[my,b]": 0,
                 "units[my,c]": 0, "units[my,d]": 0}
    r, a = row("budget[global]")
    assert (r.sense, r.rhs, r.subject) == ("<=", 4500, "global")
    assert list(a.values()) == LM.spend.tolist()


def test_domestic_share_row():
    # sum((dom - 0.5) x price x units) >= 0 over cn only: a, d domestic (+0.5 x price), b foreign (-0.5 x 40)
    r, a = row("domestic_share[cn]")
    assert (r.sense, r.rhs) == (">=", 0)
    assert a == {"units[cn,a]": 5, "units[cn,b]": -20, "units[cn,d]": 20, "units[my,a]": 0, "units[my,b]": 0,
                 "units[my,c]": 0, "units[my,d]": 0}


@pytest.mark.parametrize(
    "basis, coef",
    [
        ("units", {"a": 0.5, "b": -0.5, "d": 0.5}),
        ("tops", {"a": 0.5 * 100, "b": -0.5 * 300, "d": 0.5 * 200}),  # raw INT8 TOPS, no flexibility
    ],
)
def test_domestic_share_bases(basis, coef):
    data = load_fixture("core_all_rules.yaml").source.data
    data["sites"]["cn"]["domestic_basis"] = basis
    lm = model.build(Scenario.model_validate(data))
    i = lm.rows.index()["domestic_share[cn]"]
    got = {c: lm.A[i, j] for j, (st, c) in enumerate(zip(sites_of(lm), chips_of(lm))) if st == "cn"}
    assert got == pytest.approx(coef)


def test_capacity_and_vendor_share_rows():
    r, a = row("capacity[dom]")
    assert (r.sense, r.rhs) == ("<=", 90)
    assert {k for k, x in a.items() if x} == {"units[cn,a]", "units[cn,d]", "units[my,a]", "units[my,d]"}
    assert set(a.values()) == {0, 1}
    # sum((is_dom - 0.8) x price x units) <= 0: dom chips 0.2 x price, others -0.8 x price
    r, a = row("vendor_share[dom]")
    assert (r.sense, r.rhs) == ("<=", 0)
    assert a == pytest.approx({"units[cn,a]": 2, "units[cn,b]": -32, "units[cn,d]": 8, "units[my,a]": 2,
                               "units[my,b]": -28, "units[my,c]": -112, "units[my,d]": 8})


def test_chip_rows():
    r, a = row("chip_min[a]")
    assert (r.sense, r.rhs) == (">=", 2)
    assert {k for k, x in a.items() if x == 1} == {"units[cn,a]", "units[my,a]"}
    r, a = row("chip_max[a]")
    assert (r.sense, r.rhs) == ("<=", 80)


def test_power_row_in_watts():
    r, a = row("power[cn]")
    assert (r.sense, r.rhs) == ("<=", pytest.approx(0.05 * 1e6))
    assert {k: x for k, x in a.items() if x} == {"units[cn,a]": 500, "units[cn,b]": 1000, "units[cn,d]": 800}


def test_tpp_cap_row_counts_only_capped_chips_in_that_country():
    r, a = row("tpp_cap[MY]")
    assert (r.sense, r.rhs, r.subject) == ("<=", 80_000, "MY")
    assert {k: x for k, x in a.items() if x} == {"units[my,c]": 8000}  # b (TPP 2,400) is allowed, not capped


def test_optional_rows_absent():
    lm = model.build(load_fixture("core_two_chips.yaml").scenario)
    assert lm.rows.name == ["budget[cn]"]
    # a floor of 0 and a max_share of 1 add nothing
    data = load_fixture("core_two_chips.yaml").source.data
    data["sites"]["cn"]["domestic_min_share"] = 0
    data["vendors"]["dom"]["max_share"] = 1
    lm = model.build(Scenario.model_validate(data))
    assert lm.rows.name == ["budget[cn]"]


def test_build_is_pure_and_repeatable():
    before = S.model_dump()
    again = model.build(S)
    assert S.model_dump() == before
    assert again.structure_key() == LM.structure_key()
    np.testing.assert_array_equal(again.A.toarray(), LM.A.toarray())
    np.testing.assert_array_equal(again.b, LM.b)


def test_row_index_unknown():
    with pytest.raises(KeyError):
        LM.rows.index()["budget[nowhere]"]


def test_matrix_is_sparse_and_every_row_belongs_to_a_family():
    import scipy.sparse as sp

    assert sp.issparse(LM.A) and LM.A.shape == (LM.m, LM.n)
    # 7 columns: budgets 3+4+7, domestic 3, capacity 4, vendor share 7, chip rows 2+2, power 3, tpp 1
    assert LM.A.nnz == 3 + 4 + 7 + 3 + 4 + 7 + 2 + 2 + 3 + 1
    assert all(model.family(f).kind in (f, "min_order") for f in LM.rows.family)
