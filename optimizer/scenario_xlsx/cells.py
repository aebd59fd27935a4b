"""What a cell holds for each kind of scenario value, both ways.

- Numbers, booleans and text are typed cells. Text a schema field wants but
  that Excel stored as a number (a period id ``2025``) is read as text.
- A list is one text cell, comma-separated: ``2025q1, 2025q2``; ``[]`` is an
  explicitly empty list (an empty cell means "not given", i.e. the default).
- A value in Variants or Outcomes is read the way ``--set`` reads a value
  (YAML flow: ``0.6``, ``true``, ``null``, ``{1: allow, 2: cap}``); text
  that would read as something else is written quoted (``'2025'``).
- Control characters (other than tab and newline), which a cell cannot
  hold, are stored escaped as ``_x0001_`` (Excel's own convention) and
  unescaped on reading; so a literal ``_x0001_`` typed in a cell reads as
  that control character, as it does in Excel.
"""
from __future__ import annotations

import math
import re
from typing import Any, Literal, get_args, get_origin

import yaml

from ..overrides import parse_value

EMPTY_LIST = "[]"
_CONTROL = re.compile(r"_x([0-9A-Fa-f]{4})_")


def constraints(meta: tuple | list) -> list:
    """Flatten pydantic FieldInfo metadata into annotated_types constraints (Ge, Gt, Le, Lt, pattern...)."""
    out: list = []
    for m in meta:
        inner = getattr(m, "metadata", None)
        if isinstance(inner, list):
            out += constraints(inner)
        else:
            out.append(m)
    return out


def bounds(meta: tuple | list) -> dict[str, float]:
    """{'ge'|'gt'|'le'|'lt': value} of a numeric field."""
    out: dict[str, float] = {}
    for c in constraints(meta):
        for k in ("ge", "gt", "le", "lt"):
            v = getattr(c, k, None)
            if v is not None:
                out[k] = v
    return out


def is_share(ann: Any, meta: tuple | list) -> bool:
    """A fraction of 1 (shown as a percentage): a number bounded by 0 below and 1 above."""
    if ann not in (float, int):
        return False
    b = bounds(meta)
    lo = b.get("ge", b.get("gt"))
    hi = b.get("le", b.get("lt"))
    return lo is not None and hi is not None and lo >= 0 and hi <= 1


def is_text(ann: Any) -> bool:
    if ann is str:
        return True
    return get_origin(ann) is Literal and all(isinstance(a, str) for a in get_args(ann))


def is_number(ann: Any) -> bool:
    return ann in (int, float)


def is_list(ann: Any) -> bool:
    return get_origin(ann) is list


def number_text(v: int | float) -> str:
    """A number as the text a person would have typed: 2025, 1.5."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def unescape(text: str) -> str:
    """Undo the ``_xHHHH_`` escape of control characters (a literal ``_x0041_`` stays as it is)."""
    def sub(m: re.Match) -> str:
        code = int(m.group(1), 16)
        if (code < 0x20 and code not in (9, 10)) or code in (0xFFFE, 0xFFFF):
            return chr(code)
        return m.group(0)

    return _CONTROL.sub(sub, text) if "_x" in text else text


def split_list(text: str) -> list[str]:
    t = text.strip()
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    return [x.strip() for x in t.split(",") if x.strip()]


def is_free_text(ann: Any, meta: tuple | list) -> bool:
    """Text of any shape (a name, a note), as opposed to ids, codes and choices."""
    return ann is str and not any(getattr(c, "pattern", None) for c in constraints(meta))


def from_cell(value: Any, ann: Any, meta: tuple | list = ()) -> Any:
    """The scenario value of a non-empty cell, for a field annotated ``ann`` (Any: a --set style value).

    Text is read without surrounding spaces, except free text (names,
    notes), which is kept as typed.
    """
    if isinstance(value, str):
        if ann is Any:
            return parse_value(value)
        if is_list(ann):
            return split_list(value)
        return value if is_free_text(ann, meta) else value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if is_list(ann):
            return [number_text(value)]
        if is_text(ann):
            return number_text(value)
        if ann is int and isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def key_from_cell(value: Any, ann: Any) -> Any:
    """A mapping key from a cell: text, or a whole number where the schema keys by number (tier_rules)."""
    if isinstance(value, bool):
        return value
    if ann is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        return value
    if isinstance(value, (int, float)):
        return number_text(value)
    return value


def to_cell(value: Any, ann: Any) -> Any:
    """What to store for a scenario value: a number, a boolean, or text (None: leave the cell empty)."""
    if value is None and ann is not Any:
        return None
    if ann is Any:
        if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(value)):
            return value
        if isinstance(value, str):
            return value if parse_value(value) == value and not isinstance(parse_value(value), bool) else quote(value)
        return flow(value)
    if isinstance(value, list):
        return ", ".join(str(x) for x in value) if value else EMPTY_LIST
    if isinstance(value, (dict, tuple)):
        return flow(value)
    return value


def quote(text: str) -> str:
    """Text in YAML quotes, reading back as exactly ``text``: single quotes, or double quotes with escapes
    when it holds anything but printable characters and spaces (a line break, a control character, U+0085)."""
    style = "'" if all(ch.isprintable() for ch in text) else '"'
    out = yaml.safe_dump(text, default_style=style, width=1_000_000_000, allow_unicode=True)
    return out[: -len("\n...\n")] if out.endswith("\n...\n") else out.rstrip("\n")


def flow(value: Any) -> str:
    """A value as one line of YAML flow style (``{1: allow, 2: cap}``, ``null``)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000_000, allow_unicode=True,
                          sort_keys=False).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    elif text.endswith("..."):
        text = text[:-3].strip()
    return text
