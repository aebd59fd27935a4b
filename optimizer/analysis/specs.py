"""What a what-if varies, and how to apply it to a scenario.

``--vary PATH=SPEC`` takes one of three SPEC forms:

- ``START:STOP:COUNT``: COUNT evenly spaced values from START to STOP, both
  ends included (``30e9:50e9:5`` is 30e9, 35e9, 40e9, 45e9, 50e9);
- ``a,b,c``: exactly these values, in this order (a single value is a
  one-point sweep);
- relative to the scenario's own value at PATH: ``-20%:+20%:9`` (evenly
  spaced percentages) or ``-10%,+10%``; each value is ``base x (1 + p)``.

Every value a sweep produces is applied with :func:`optimizer.io.set_path`
on the scenario's raw data (after its ``--variant`` and ``--set``), and the
whole scenario is validated again, so a value that makes it invalid is bad
input, named with the point, before anything is solved.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pydantic.fields import FieldInfo

from .. import io
from ..outcomes import outcome_scenarios
from ..overrides import complement_of
from ..validate import Origin
from ..errors import InputError, Problem
from ..schema import Scenario, annotation_at, value_at  # noqa: F401 - value_at re-exported

MAX_COUNT = 1000  # values in one --vary
MAX_POINTS = 5000  # points in a whole sweep (the grid of all --vary)


@dataclass(frozen=True)
class Vary:
    """One ``--vary``: a path, the SPEC as typed, and the values it expands to."""

    path: str
    spec: str
    values: tuple[Any, ...]
    base: Any = None  # the scenario's value at path (None when absent)
    rescales: tuple[str, ...] = ()  # an outcome's probability: the other outcomes' probability paths, rescaled


@dataclass
class Bounds:
    """Valid numeric range of a scenario field, from the schema."""

    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    integer: bool = False  # whole numbers only (e.g. lot_size)


# --------------------------------------------------------------------------- parsing


def split_vary(text: str) -> tuple[str, str]:
    """``PATH=SPEC`` -> (path, spec). Raises InputError."""
    if "=" not in text:
        raise InputError(f"--vary {text!r}: expected PATH=SPEC, e.g. --vary sites.cn.budget.amount=30e9:50e9:5")
    path, spec = text.split("=", 1)
    path, spec = path.strip(), spec.strip()
    if not path:
        raise InputError(f"--vary {text!r}: the path before '=' is empty")
    if not spec:
        raise InputError(
            f"--vary {text!r}: the SPEC after '=' is empty; use START:STOP:COUNT, a,b,c or -20%:+20%:9"
        )
    return path, spec


def _is_pct(token: str) -> bool:
    return token.strip().endswith("%")


def _pct(token: str, what: str) -> float:
    body = token.strip()[:-1].strip()
    try:
        p = float(body)
    except ValueError:
        raise InputError(f"{what}: {token.strip()!r} is not a percentage such as -20% or +15%") from None
    if not math.isfinite(p):
        raise InputError(f"{what}: {token.strip()!r} is not a finite percentage")
    return p / 100.0


def _number(token: str, what: str, role: str) -> float | int:
    v = io.parse_value(token)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{what}: {role} {token.strip()!r} is not a number (e.g. 30e9, 0.6, 110_000)")
    if not math.isfinite(v):
        raise InputError(f"{what}: {role} {token.strip()!r} is not a finite number")
    return v


def tidy(x: float) -> float:
    """Drop binary noise such as 0.6000000000000001 (12 significant digits)."""
    return float(f"{x:.12g}") if x != 0 else 0.0


def _spaced(start: float, stop: float, count: int) -> list[float]:
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1)
    return [tidy(start + i * step) for i in range(count - 1)] + [tidy(stop)]


def _relative(base: Any, path: str, what: str, pcts: list[float]) -> list[float]:
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        got = "no value" if base is None else f"the value {base!r}"
        raise InputError(
            f"{what}: a relative SPEC needs a number at {path}, but the scenario has {got} there; "
            "give absolute values instead (START:STOP:COUNT or a,b,c)"
        )
    return [tidy(base * (1.0 + p)) for p in pcts]


def parse_spec(spec: str, base: Any = None, path: str = "PATH") -> list[Any]:
    """Expand one SPEC into its values. ``base`` is the scenario's value at ``path``.

    Raises InputError with a message that names the rule broken.
    """
    what = f"--vary {path}={spec}"
    text = spec.strip()
    if not text:
        raise InputError(f"{what}: empty SPEC; use START:STOP:COUNT, a,b,c or -20%:+20%:9")
    if ":" in text:
        if "," in text:
            raise InputError(f"{what}: a SPEC is either START:STOP:COUNT or a comma list, not both")
        parts = text.split(":")
        if len(parts) != 3 or any(not p.strip() for p in parts):
            raise InputError(f"{what}: expected START:STOP:COUNT with three parts, e.g. 30e9:50e9:5 or -20%:+20%:9")
        start_t, stop_t, count_t = parts
        count_v = io.parse_value(count_t)
        if isinstance(count_v, float) and count_v.is_integer():
            count_v = int(count_v)
        if isinstance(count_v, bool) or not isinstance(count_v, int) or count_v < 1:
            raise InputError(f"{what}: COUNT {count_t.strip()!r} must be a whole number of points, at least 2")
        if count_v > MAX_COUNT:
            raise InputError(f"{what}: COUNT {count_v} is more than {MAX_COUNT} points for one --vary")
        pct_start, pct_stop = _is_pct(start_t), _is_pct(stop_t)
        if pct_start != pct_stop:
            raise InputError(f"{what}: START and STOP must both be percentages (-20%:+20%:9) or both be values")
        if pct_start:
            lo, hi = _pct(start_t, what), _pct(stop_t, what)
        else:
            lo, hi = _number(start_t, what, "START"), _number(stop_t, what, "STOP")
        if count_v == 1 and lo != hi:
            raise InputError(f"{what}: COUNT 1 gives a single point; make START equal STOP or use COUNT >= 2")
        if count_v > 1 and lo == hi:
            raise InputError(f"{what}: START equals STOP, so every point would be the same; use COUNT 1 or a range")
        if pct_start:
            return _relative(base, path, what, _spaced(lo, hi, count_v))
        if isinstance(lo, int) and isinstance(hi, int) and (count_v == 1 or (hi - lo) % (count_v - 1) == 0):
            step = 0 if count_v == 1 else (hi - lo) // (count_v - 1)
            return [lo + i * step for i in range(count_v)]
        return _spaced(float(lo), float(hi), count_v)
    items = text.split(",")
    if any(not t.strip() for t in items):
        raise InputError(f"{what}: empty item in the comma list (two commas in a row, or a trailing comma)")
    if len(items) > MAX_COUNT:
        raise InputError(f"{what}: {len(items)} values is more than {MAX_COUNT} for one --vary")
    pcts = [_is_pct(t) for t in items]
    if any(pcts) and not all(pcts):
        raise InputError(f"{what}: a comma list is either all percentages (-10%,+10%) or all values, not a mix")
    if all(pcts):
        values: list[Any] = _relative(base, path, what, [_pct(t, what) for t in items])
    else:
        values = []
        for t in items:
            v = io.parse_value(t)
            if isinstance(v, float) and not math.isfinite(v):
                raise InputError(f"{what}: {t.strip()!r} is not a finite number")
            values.append(v)
    seen: set = set()
    for v in values:
        key = (isinstance(v, bool), v if isinstance(v, (int, float, str, bool)) else repr(v))
        if key in seen:
            raise InputError(f"{what}: the value {_show(v)} appears twice; list each point once")
        seen.add(key)
    return values


# --------------------------------------------------------------------------- scenario paths


def base_data(loaded: io.Loaded) -> dict:
    """The raw scenario data with the loaded variants and ``--set`` overrides replayed."""
    data = loaded.source.data
    for a in loaded.applied:
        if "variant" in a:
            for p, v in a["changes"].items():
                data = io.set_path(data, p, v, file=loaded.path, origin=f"variants.{a['variant']}")
        else:
            data = io.set_path(data, a["set"], a["value"], file=loaded.path, origin="--set")
    return data


def bounds(path: str) -> Bounds | None:
    """The schema's valid range for the number at ``path`` (None if not a number field)."""
    found = annotation_at(tuple(path.split(".")))
    if found is None:
        return None
    ann, meta = found
    if ann not in (int, float):
        return None
    b = Bounds(integer=ann is int)
    flat: list = []
    for m in meta:
        flat.extend(m.metadata if isinstance(m, FieldInfo) else [m])
    for m in flat:
        if getattr(m, "gt", None) is not None:
            b.lower, b.lower_inclusive = float(m.gt), False
        if getattr(m, "ge", None) is not None:
            b.lower, b.lower_inclusive = float(m.ge), True
        if getattr(m, "lt", None) is not None:
            b.upper, b.upper_inclusive = float(m.lt), False
        if getattr(m, "le", None) is not None:
            b.upper, b.upper_inclusive = float(m.le), True
    return b


@dataclass
class PointScenario:
    """One point of a what-if: the assignments made and the validated scenario."""

    values: dict[str, Any]
    scenario: Scenario
    data: dict = field(repr=False, default_factory=dict)


def apply(data: dict, values: dict[str, Any], file: str | None, origin: str = "--vary") -> tuple[dict, Scenario]:
    """Set each path to its value and validate the whole scenario again.

    An invalid result raises InputError naming the point (``PATH=VALUE``).
    """
    new = data
    for p, v in values.items():
        new = io.set_path(new, p, v, file=file, origin=origin)
    try:
        sc = io.validate_data(new, file=file, overrides={p: Origin(f"{origin} {p}={_show(v)}") for p, v in values.items()})
        if sc.uncertainty is not None:  # each outcome is the point with its changes: valid too, before any solve
            outcome_scenarios(sc, data=new, file=file)
    except InputError as e:
        point = ", ".join(f"{p}={_show(v)}" for p, v in values.items())
        raise InputError(
            [Problem(f"at {point}: {pr.message}", path=pr.path, hint=pr.hint) for pr in e.problems], file=file
        ) from None
    return new, sc


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e6 or not v.is_integer() else f"{v:.6g}"
    return str(v)


def make_vary(text: str, loaded: io.Loaded, data: dict) -> Vary:
    """Parse one ``--vary PATH=SPEC`` against a loaded scenario (path checked, values expanded)."""
    path, spec = split_vary(text)
    io.set_path(data, path, None, file=loaded.path, origin="--vary")  # unknown path: exit 2 with nearest paths
    base = value_at(loaded.scenario, path)
    values = tuple(parse_spec(spec, base, path))
    # setting one outcome's probability rescales the others in proportion (they keep summing to 1)
    rescales = next((tuple(o) for x in values if (o := complement_of(data, path, x))), ())
    return Vary(path, spec, values, base, rescales)
