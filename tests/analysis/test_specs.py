"""SPEC parsing for --vary: one rule per case, values worked out by hand."""
from __future__ import annotations

import pytest

from conftest import FIXTURES

from optimizer import io
from optimizer.analysis import specs
from optimizer.errors import InputError

SMALL = str(FIXTURES / "whatif_small.yaml")


@pytest.mark.parametrize(
    "spec, base, expected",
    [
        # START:STOP:COUNT, inclusive, evenly spaced
        ("30e9:50e9:5", None, [30e9, 35e9, 40e9, 45e9, 50e9]),
        ("0:100:5", None, [0, 25, 50, 75, 100]),
        ("0.5:0.7:3", None, [0.5, 0.6, 0.7]),  # no 0.6000000000000001
        ("1:2:3", None, [1.0, 1.5, 2.0]),  # whole ends, fractional step: floats
        ("10:0:3", None, [10, 5, 0]),  # descending
        ("40_000:40_000:1", None, [40000]),  # one point, planner-style number
        # comma lists, in the order given
        ("0.7,0.5,0.6", None, [0.7, 0.5, 0.6]),
        ("110000", None, [110000]),
        ("spend,units,tops", None, ["spend", "units", "tops"]),
        ("true,false", None, [True, False]),
        # relative to the base value
        ("-20%:+20%:5", 100.0, [80.0, 90.0, 100.0, 110.0, 120.0]),
        ("-20%:+20%:9", 0.6, [0.48, 0.51, 0.54, 0.57, 0.6, 0.63, 0.66, 0.69, 0.72]),
        ("-10%,+10%", 40e9, [36e9, 44e9]),
        ("0%", 7, [7.0]),
    ],
)
def test_valid_specs(spec, base, expected):
    got = specs.parse_spec(spec, base, "p")
    assert got == pytest.approx(expected) if all(isinstance(x, (int, float)) for x in expected) else got == expected
    assert [type(x) is bool for x in got] == [type(x) is bool for x in expected]


def test_whole_number_ranges_stay_integers():
    assert all(type(x) is int for x in specs.parse_spec("0:100:5"))
    assert all(type(x) is float for x in specs.parse_spec("1:2:3"))


@pytest.mark.parametrize(
    "spec, base, message",
    [
        ("", None, "empty SPEC"),
        ("1:2", None, "three parts"),
        ("1:2:3:4", None, "three parts"),
        ("1::3", None, "three parts"),
        ("1:2:x", None, "COUNT 'x' must be a whole number"),
        ("1:2:2.5", None, "COUNT '2.5' must be a whole number"),
        ("1:2:0", None, "COUNT '0' must be a whole number"),
        ("1:2:-3", None, "COUNT '-3' must be a whole number"),
        ("1:2:1001", None, "more than 1000 points"),
        ("a:2:3", None, "START 'a' is not a number"),
        ("1:b:3", None, "STOP 'b' is not a number"),
        ("1:.inf:3", None, "not a finite number"),
        ("1:2:1", None, "COUNT 1 gives a single point"),
        ("5:5:3", None, "START equals STOP"),
        ("-20%:30:3", None, "both be percentages"),
        ("x%:+20%:3", 1.0, "not a percentage"),
        ("-20%:+20%:3", None, "needs a number at p"),
        ("-20%:+20%:3", "spend", "needs a number at p"),
        ("1,,2", None, "empty item"),
        ("1,2,", None, "empty item"),
        ("1,10%", 5.0, "not a mix"),
        ("1,2,1", None, "appears twice"),
        (".nan,1", None, "not a finite number"),
        ("1:2,3", None, "not both"),
    ],
)
def test_invalid_specs(spec, base, message):
    with pytest.raises(InputError) as e:
        specs.parse_spec(spec, base, "p")
    assert message in str(e.value)
    assert "--vary p=" in str(e.value)  # the message names what was typed


@pytest.mark.parametrize(
    "text, message",
    [
        ("chips.a.unit_price", "expected PATH=SPEC"),
        ("=1,2", "path before '=' is empty"),
        ("chips.a.unit_price=", "SPEC after '=' is empty"),
    ],
)
def test_invalid_vary_option(text, message):
    with pytest.raises(InputError, match=message):
        specs.split_vary(text)


def test_make_vary_unknown_path_names_nearest():
    loaded = io.load(SMALL)
    with pytest.raises(InputError) as e:
        specs.make_vary("chips.a.unit_prise=1,2", loaded, specs.base_data(loaded))
    assert e.value.exit_code == 2
    assert "unknown path 'chips.a.unit_prise'" in str(e.value)
    assert "chips.a.unit_price" in str(e.value)


def test_make_vary_relative_uses_value_after_variants_and_sets():
    loaded = io.load(SMALL, variants=["rich"], sets=["chips.b.unit_price=20"])
    data = specs.base_data(loaded)
    v = specs.make_vary("sites.cn.budget.amount=-10%,+10%", loaded, data)
    assert v.base == 3000 and v.values == pytest.approx((2700.0, 3300.0))
    v = specs.make_vary("chips.b.unit_price=-50%:+50%:3", loaded, data)
    assert v.values == pytest.approx((10.0, 20.0, 30.0))


def test_make_vary_relative_uses_schema_default():
    # delivery_rate is not in the file: its default 1.0 is the base
    loaded = io.load(SMALL)
    v = specs.make_vary("vendors.us.delivery_rate=-50%,-10%", loaded, specs.base_data(loaded))
    assert v.values == pytest.approx((0.5, 0.9))


def test_base_data_replays_variants_then_sets_without_touching_source():
    loaded = io.load(SMALL, variants=["rich", "cheap_b"], sets=["chips.b.unit_price=9"])
    data = specs.base_data(loaded)
    assert data["sites"]["cn"]["budget"]["amount"] == 3000
    assert data["chips"]["b"]["unit_price"] == 9  # --set after the variant
    assert loaded.source.data["chips"]["b"]["unit_price"] == 10  # the file's data is untouched


def test_apply_invalid_point_names_the_point():
    loaded = io.load(SMALL)
    with pytest.raises(InputError) as e:
        specs.apply(specs.base_data(loaded), {"sites.cn.domestic_min_share": 1.2}, file=SMALL)
    msg = str(e.value)
    assert "at sites.cn.domestic_min_share=1.2" in msg and "less than or equal to 1" in msg


@pytest.mark.parametrize(
    "path, lower, lower_inclusive, upper, integer",
    [
        ("chips.a.unit_price", 0.0, False, None, False),
        ("vendors.dom.delivery_rate", 0.0, False, 1.0, False),
        ("vendors.dom.capacity_units", 0.0, True, None, False),
        ("flexibility.asic", 0.0, False, 10.0, False),
        ("sites.cn.domestic_min_share", 0.0, True, 1.0, False),
        ("sites.cn.budget.amount", 0.0, False, None, False),
        ("vendors.dom.max_share", 0.0, False, 1.0, False),  # optional field: bounds inside the Optional
        ("chips.a.lot_size", 1.0, True, 10_000_000.0, True),
    ],
)
def test_bounds_from_schema(path, lower, lower_inclusive, upper, integer):
    b = specs.bounds(path)
    assert (b.lower, b.lower_inclusive, b.upper, b.integer) == (lower, lower_inclusive, upper, integer)


@pytest.mark.parametrize("path", ["name", "chips.a.model", "chips.a", "nosuch.path"])
def test_bounds_none_for_non_numbers(path):
    assert specs.bounds(path) is None
