"""What a cell holds for each kind of value, both ways."""
from __future__ import annotations

from typing import Any, Literal

import pytest
from annotated_types import Ge, Gt, Le

from optimizer.scenario_xlsx.cells import (
    flow,
    from_cell,
    is_share,
    key_from_cell,
    number_text,
    quote,
    split_list,
    to_cell,
    unescape,
)


@pytest.mark.parametrize(
    "value, ann, want",
    [
        ("2025q1, 2025q2", list[str], ["2025q1", "2025q2"]),
        ("[2025q1,2025q2 ]", list[str], ["2025q1", "2025q2"]),
        ("[]", list[str], []),
        ("US", list[str], ["US"]),
        (2025, list[str], ["2025"]),
        (2025, str, "2025"),  # a period id typed as a number
        (2025.0, str, "2025"),
        (1.5, str, "1.5"),
        (3.0, int, 3),
        (3.5, int, 3.5),  # left to the schema to refuse
        (" h20 ", Literal["h20"], "h20"),
        ("  Huawei ", str, "  Huawei "),  # free text is kept as typed
        ("95000", float, "95000"),  # the schema reads text digits as it does in YAML
        (True, bool, True),
        ("0.6", Any, 0.6),
        ("null", Any, None),
        ("{1: allow, 2: cap}", Any, {1: "allow", 2: "cap"}),
        ("'2025'", Any, "2025"),
        (7, Any, 7),
    ],
)
def test_from_cell(value, ann, want):
    got = from_cell(value, ann)
    assert got == want and type(got) is type(want)


def test_patterned_text_is_stripped_but_free_text_is_not():
    from optimizer.schema import Country

    assert from_cell(" CN ", str, Country.__metadata__) == "CN"
    assert from_cell(" CN ", str, ()) == " CN "


@pytest.mark.parametrize(
    "value",
    [None, "abc", "2025", "true", "yes", "null", "", "a: b", "=1+1", "-2+3", "@cmd", "it's", "NO", "0.6", "[x]",
     "0\x0c", "0\r", "a\nb", " x ", "0\x85", "a\u2028b", "tab\there", {1: "allow", 2: "cap"}, [1, 2], {"a": [1, {"b": None}]}, 1.58e9, 0.1, True,
     False, 0, -3],
)
def test_any_value_round_trips_through_its_cell(value):
    cell = to_cell(value, Any)
    back = from_cell(cell, Any) if isinstance(cell, str) else cell
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize(
    "value, want",
    [(["2025q1", "2025q2"], "2025q1, 2025q2"), ([], "[]"), (None, None), (3, 3), ("x", "x"), (True, True)],
)
def test_to_cell_for_fields(value, want):
    assert to_cell(value, list[str] if isinstance(value, list) else str) == want


def test_keys():
    assert key_from_cell(1.0, int) == 1 and key_from_cell("2", int) == 2
    assert key_from_cell(2025, str) == "2025"
    assert key_from_cell("CN", str) == "CN"


def test_helpers():
    assert number_text(40e9) == "40000000000" and number_text(0.25) == "0.25" and number_text(7) == "7"
    assert quote("it's") == "'it''s'"
    assert quote("form\x0cfeed") == '"form\\ffeed"'  # control characters: double quotes with escapes
    assert flow({1: "allow"}) == "{1: allow}" and flow(None) == "null" and flow([1, 2]) == "[1, 2]"
    assert split_list(" a , ,b ") == ["a", "b"]


def test_control_characters_unescape_but_literal_escapes_stay():
    assert unescape("a_x0001_b") == "a\x01b"
    assert unescape("_x0041_") == "_x0041_"  # Excel's escape of a letter is not a control character: kept
    assert unescape("tab_x0009_") == "tab_x0009_"  # a cell can hold a tab itself
    assert unescape("cr_x000D_") == "cr\r"  # XML would turn a carriage return into a newline: Excel escapes it
    assert unescape("no escapes") == "no escapes"


def test_shares_are_numbers_bounded_by_zero_and_one():
    assert is_share(float, (Ge(0.0), Le(1.0)))
    assert is_share(float, (Gt(0.0), Le(1.0)))
    assert not is_share(float, (Gt(0.0), Le(10.0)))
    assert not is_share(float, (Ge(0.0),))
    assert not is_share(str, (Ge(0.0), Le(1.0)))
