"""Turn plain scenario data into a validated Scenario, or located problems.

pydantic does the schema work; this module maps its errors to
:class:`~optimizer.errors.Problem` with the dotted field path, the line in the
file, and a fix ("did you mean unit_price?"), and adds the checks that need
the whole scenario (ISO countries, numbers a solver can handle, booleans where
numbers belong, export decisions that cannot be modelled).
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from . import compliance
from .errors import InputError, Problem, ScenarioWarning
from .loader import Source, kind_of
from .schema import UNION_TAGS, Scenario, _field, field_names, model_at, warning_problems

def _loc_path(loc: tuple) -> str:
    return ".".join(str(x) for x in loc)


def _clean_loc(loc: tuple) -> tuple:
    # pydantic adds pseudo-locations for unions, e.g. 'float', '[key]', 'function-after[...]'
    out = []
    for x in loc:
        if isinstance(x, str) and (x.startswith("function-") or x in UNION_TAGS
                                   or x in {"float", "int", "str", "bool", "constrained-str", "[key]"}):
            continue
        out.append(x)
    return tuple(out)


def _field_names(model: type[BaseModel]) -> list[str]:
    return field_names(model)




def _show(v: Any) -> str:
    """A value as the planner typed it, for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    if isinstance(v, (int, float)):
        return repr(v)
    if v is None:
        return "nothing"
    if isinstance(v, str):
        return repr(v)
    return kind_of(v)


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _number_hint(inp: Any) -> str:
    """Why a string that was meant as a number did not read as one."""
    if not isinstance(inp, str):
        return ""
    t = inp.strip()
    if t.endswith("%") and _as_number(t[:-1]) is not None:
        v = _as_number(t[:-1])
        return f"shares are fractions of 1: write {v / 100:g} for {t}"
    if "," in t and _as_number(t.replace(",", "")) is not None:
        return f"write numbers without commas: {t.replace(',', '')} or {t.replace(',', '_')}"
    return ""


_SHOULD = re.compile(r"^Input should be ")

# the valid range of a few bounded fields, said whole (pydantic names only the bound that was crossed)
_RANGES = {
    ("risk", "alpha"): "must be between 0 and 1, both excluded (e.g. 0.9)",
    ("risk", "weight"): "must be from 0 to 1",
}

_YAML_BOOLS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}


def _bool_hint(inp: Any) -> str:
    if isinstance(inp, str) and inp.strip().lower() in _YAML_BOOLS:
        return f"write {_YAML_BOOLS[inp.strip().lower()]}, not {inp.strip()}"
    return "write true or false"


def _problem_for(err: dict, loc: tuple, src: Source | None) -> Problem:
    typ = err["type"]
    ctx = err.get("ctx") or {}
    inp = err.get("input")
    hint = ""
    if typ == "missing":
        msg = "required field is missing"
    elif typ == "schema_version":
        msg = f"unsupported schema_version {_show(ctx.get('got'))}; this chipalloc reads schema_version: 1 or 2"
    elif typ == "min_above_max":
        msg = (
            f"min_units ({_show(float(ctx['min_units']))}) is above max_units ({_show(float(ctx['max_units']))}); "
            "lower min_units or raise max_units"
        )
        loc = loc + ("min_units",)
    elif typ == "string_pattern_mismatch":
        pat = ctx.get("pattern", "")
        if "A-Z]{2}" in pat:
            msg = f"{_show(inp)} is not a two-letter ISO country code such as CN, US, MY"
        elif "A-Z]{3}" in pat:
            msg = f"{_show(inp)} is not a three-letter currency code such as CNY, USD"
        else:
            msg = f"{_show(inp)} is not a valid id (use lowercase letters, digits, '_' and '-')"
    elif typ == "finite_number":
        msg = "must be a finite number (NaN and infinity are not allowed)"
    elif typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and tuple(loc[-2:]) in _RANGES:
        msg = f"{_show(inp)}: {_RANGES[tuple(loc[-2:])]}"
    elif typ == "greater_than" and len(loc) == 4 and loc[:2] == ("uncertainty", "outcomes") and loc[3] == "probability":
        msg = f"{_show(inp)}: must be greater than 0"
        hint = "leave out an outcome that cannot happen"
    elif typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg = f"{_show(inp)}: " + _SHOULD.sub("must be ", err["msg"])
        le = ctx.get("le")
        if typ == "less_than_equal" and le == 1 and isinstance(inp, (int, float)) and 2 <= inp <= 100:
            hint = f"shares are fractions of 1: write {inp / 100:g} for {inp:g}%"
    elif typ in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping (key: value lines), got {kind_of(inp)}"
    elif typ == "list_type" and loc == ("export_controls", "licenses"):
        msg = f"expected a list of licences or a mapping id: licence, got {kind_of(inp)}"
    elif typ == "list_type":
        msg = f"expected a list, got {kind_of(inp)}"
    elif typ in ("float_type", "float_parsing", "int_type", "int_parsing", "int_parsing_size"):
        want = "a whole number" if typ.startswith("int") else "a number"
        msg = f"{_show(inp)}: expected {want}"
        hint = _number_hint(inp)
    elif typ == "int_from_float":
        msg = f"{_show(inp)}: must be a whole number"
    elif typ == "string_type":
        msg = f"expected text, got {kind_of(inp)}"
        if isinstance(inp, (int, float)) and not isinstance(inp, bool):
            hint = "put it in quotes"
    elif typ == "too_short":
        msg = "needs at least one entry"
    elif typ == "bool_type" or typ == "bool_parsing":
        msg = f"{_show(inp)}: expected true or false"
        hint = _bool_hint(inp)
    else:
        msg = _SHOULD.sub("must be ", err["msg"])
        if isinstance(inp, (str, int, float, bool)):
            msg = f"{_show(inp)}: {msg[0].lower() + msg[1:]}"
    return Problem(msg, path=_loc_path(loc), line=src.where(loc) if src else None, hint=hint)


def problems_from_validation(e: ValidationError, src: Source | None = None, data: Any = None) -> list[Problem]:
    out: list[Problem] = []
    suggested: set[tuple] = set()  # fields a misspelled key probably meant: not also reported missing
    errors = e.errors(include_url=False)
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = _clean_loc(tuple(err["loc"]))
            parent = model_at(loc[:-1])
            if parent is not None:
                close = difflib.get_close_matches(str(loc[-1]), _field_names(parent), n=1, cutoff=0.6)
                if close:
                    suggested.add(loc[:-1] + (close[0],))
    for err in errors:
        loc = _clean_loc(tuple(err["loc"]))
        ctx = err.get("ctx") or {}
        typ = err["type"]
        if typ == "reference":
            for path, msg in ctx.get("problems", []):
                out.append(Problem(msg, path=path, line=src.where(loc_of(path, data)) if src else None))
            continue
        if typ == "extra_forbidden":
            parent = model_at(loc[:-1])
            key = str(loc[-1])
            hint = ""
            if parent is not None:
                close = difflib.get_close_matches(key, _field_names(parent), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(_field_names(parent))
            out.append(Problem(f"unknown field {key!r}", path=_loc_path(loc), line=src.where(loc) if src else None, hint=hint))
            continue
        if typ == "missing" and loc in suggested:
            continue
        out.append(_problem_for(err, loc, src))
    return out


# ISO 3166-1 alpha-2 (249 assigned codes) and XK (Kosovo, user-assigned but in common use)
ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
    MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
    UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK""".split()
)


def country_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Country codes that have the right shape but name no country."""
    found: list[tuple[str, str]] = []
    for vid, v in sc.vendors.items():
        found.append((f"vendors.{vid}.origin", v.origin))
    for sid, st in sc.sites.items():
        found.append((f"sites.{sid}.country", st.country))
    ec = sc.export_controls
    if ec is not None:
        found += [(f"export_controls.origins.{i}", c) for i, c in enumerate(ec.origins)]
        found += [(f"export_controls.tiers.{c}", c) for c in ec.tiers]
        found += [(f"export_controls.tpp_caps.{c}", c) for c in ec.tpp_caps]
        found += [(f"export_controls.licenses.{i}.country", lic.country) for i, lic in sc.licences()]
        found += [(f"export_controls.headquarters_countries.{i}", c) for i, c in enumerate(ec.headquarters_countries)]
    if sc.buyer is not None:
        found.append(("buyer.headquarters", sc.buyer.headquarters))
    return [(p, f"{c!r} is not an ISO 3166 country code (e.g. CN, US, MY)") for p, c in found if c not in ISO_COUNTRIES]


def _numeric_annotation(ann: Any) -> bool:
    from typing import get_args, get_origin

    while True:
        if ann in (int, float):
            return True
        args = [a for a in get_args(ann) if a is not type(None)]
        origin = get_origin(ann)
        if origin in (dict, list) or not args:
            return False
        ann = args[0]


def bool_number_problems(data: Any) -> list[tuple[tuple, str]]:
    """true/false where the schema wants a number: pydantic would silently read 1 or 0."""
    from typing import get_args, get_origin

    out: list[tuple[tuple, str]] = []

    def unwrap(ann: Any) -> Any:
        while True:
            if get_origin(ann) in (dict, list) or (isinstance(ann, type) and issubclass(ann, BaseModel)):
                return ann
            args = [a for a in get_args(ann) if a is not type(None)]
            if not args:
                return ann
            ann = args[0]

    def walk(value: Any, ann: Any, loc: tuple, depth: int = 0) -> None:
        if depth > 20:
            return
        ann = unwrap(ann)
        if isinstance(value, bool):
            if _numeric_annotation(ann):
                out.append((loc, f"{_show(value)}: expected a number"))
            return
        if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(value, dict):
            for k, v in value.items():
                f = _field(ann, k)
                if f is not None:
                    walk(v, f.annotation, loc + (k,), depth + 1)
        elif get_origin(ann) is dict and isinstance(value, dict):
            sub = get_args(ann)[1]
            for k, v in value.items():
                walk(v, sub, loc + (k,), depth + 1)
        elif get_origin(ann) is list and isinstance(value, list):
            sub = get_args(ann)[0]
            for i, v in enumerate(value):
                walk(v, sub, loc + (i,), depth + 1)

    walk(data, Scenario, ())
    return out


# Numbers the solvers handle accurately: a CNY 1e15 budget and a CNY 1 price sit fine in one
# model, 1e300 does not (HiGHS treats 1e20 as infinite and PuLP then fails).
MAX_MAGNITUDE = 1e15
MIN_MAGNITUDE = 1e-9
_MAX_TEXT, _MIN_TEXT = "1e15", "1e-9"


def magnitude_problems(data: Any) -> list[tuple[tuple, str]]:
    """Numbers too large or too small (but not zero) to solve accurately, as (loc, message)."""
    out: list[tuple[tuple, str]] = []

    def walk(v: Any, loc: tuple, depth: int) -> None:
        if depth > 20:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                if not (depth == 0 and k == "variants"):
                    walk(x, loc + (k,), depth + 1)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, loc + (i,), depth + 1)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            a = abs(float(v)) if not isinstance(v, int) or v.bit_length() < 1000 else math.inf
            if math.isinf(a) and not isinstance(v, int):
                return  # NaN and infinity get their own message from the schema
            if a > MAX_MAGNITUDE:
                out.append((loc, f"{_show(v)}: too large; chipalloc solves numbers up to {_MAX_TEXT} accurately"))
            elif 0 < a < MIN_MAGNITUDE:
                out.append((loc, f"{_show(v)}: too small; a number that is not 0 must be at least {_MIN_TEXT}"))

    walk(data, (), 0)
    return out


def derived_magnitude_problems(sc: Scenario) -> list[tuple[str, str]]:
    """Prices and budgets that leave the safe range once converted to the reporting currency."""
    out: list[tuple[str, str]] = []
    cur = sc.currency
    for sid in sorted(sc.sites):
        for cid in sorted(sc.chips):
            v = sc.price_reporting(sid, cid)
            if not MIN_MAGNITUDE <= v <= MAX_MAGNITUDE:
                path = f"sites.{sid}.prices.{cid}" if cid in sc.sites[sid].prices else f"chips.{cid}.unit_price"
                out.append((path, f"{cur} {v:.3g} per unit at {sid} once converted with fx; "
                                  f"chipalloc solves prices from {_MIN_TEXT} to {_MAX_TEXT} accurately"))
        m = sc.money(sc.sites[sid].budget)
        if m is not None and m > MAX_MAGNITUDE:
            out.append((f"sites.{sid}.budget.amount", f"{cur} {m:.3g} once converted with fx; "
                                                      f"chipalloc solves budgets up to {_MAX_TEXT} accurately"))
    m = sc.money(sc.budget)
    if m is not None and m > MAX_MAGNITUDE:
        out.append(("budget.amount", f"{cur} {m:.3g} once converted with fx; chipalloc solves budgets up to {_MAX_TEXT} accurately"))
    seen: set[tuple[str, str]] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


@dataclass(frozen=True)
class Origin:
    """Where a value that replaced the file's own came from.

    ``text`` names it in a hint (``--set chips.a.unit_price=5``, ``variant cut``);
    ``within`` is the location in the file of the table that holds the change
    (``("variants", "cut")``, ``("uncertainty", "outcomes", "bad", "changes")``),
    empty for ``--set``: a message about such a value is located at the change
    itself, ``variants.cut.sites.cn.budget.amount``, at its line.
    """

    text: str
    line: int | str | None = None  # the line (or, in a workbook, the cell) of the change
    within: tuple = ()


# tables whose keys are whole dotted paths: variants.<name>.<path>, uncertainty.outcomes.<name>.changes.<path>
def _dotted_table(parts: list) -> int:
    """How many leading parts of a split path name a table keyed by dotted paths (0 if none)."""
    if len(parts) > 2 and parts[0] == "variants":
        return 2
    if len(parts) > 4 and parts[:2] == ["uncertainty", "outcomes"] and parts[3] == "changes":
        return 4
    return 0


def loc_of(path: str, data: Any = None) -> tuple:
    """The location tuple of a dotted path, keeping a variant's or an outcome's dotted keys whole.

    ``variants.cut.sites.cn.budget.amount`` is ``("variants", "cut", "sites.cn.budget.amount")``;
    with ``data`` the longest key that exists in that table wins, so a path
    into a change's value (``...changes.export_controls.licenses.h20.chip``)
    finds the change ``export_controls.licenses.h20`` and then ``chip``.
    """
    parts = path.split(".")
    n = _dotted_table(parts)
    if not n:
        return tuple(int(x) if x.isdigit() else x for x in parts)
    head, rest = tuple(parts[:n]), parts[n:]
    table: Any = data
    for k in head:
        table = table.get(k) if isinstance(table, dict) else None
    for k in range(len(rest), 0, -1):
        key = ".".join(rest[:k])
        if isinstance(table, dict) and key in table:
            return head + (key,) + tuple(int(x) if x.isdigit() else x for x in rest[k:])
    return head + (".".join(rest),)


def _attribute(
    problems: list[Problem], overrides: dict[str, Origin] | None, src: Source | None = None, context: str = "",
) -> list[Problem]:
    """Point a problem at the override that supplied its value, not at the file's line it replaced.

    A value from a table in the file (a variant, an outcome's changes) is
    located at that change; a value from ``--set`` is named in the hint.
    ``context`` ("with variant cut applied") is added to problems that no
    override explains.
    """
    if not overrides:
        overrides = {}
    out = []
    for p in problems:
        paths = [p.path]
        if p.path.endswith(".min_units") and "is above max_units" in p.message:
            paths.append(p.path[: -len("min_units")] + "max_units")
        hits: list[str] = []
        for q in paths:
            # the override applied last wins, as it does for the value itself
            found = [o for o in overrides if q and (q == o or q.startswith(o + ".") or o.startswith(q + "."))]
            if found and found[-1] not in hits:
                hits.append(found[-1])
        if not hits:
            out.append(Problem(p.message, path=p.path, line=p.where, hint="; ".join(x for x in (p.hint, context) if x))
                       if context else p)
            continue
        hits.sort(key=list(overrides).index)
        origins = [overrides[h] for h in hits]
        if len(hits) == 1 and origins[0].within:
            o, within = hits[0], origins[0].within
            rest = p.path[len(o) + 1:] if p.path.startswith(o + ".") else ""
            loc = within + (o,) + tuple(int(x) if x.isdigit() else x for x in rest.split(".") if x)
            line = (src.where(loc) if src else None) or origins[0].line
            path = ".".join(map(str, within + (o,))) + (f".{rest}" if rest else "")
            out.append(Problem(p.message, path=path, line=line, hint=p.hint))
            continue
        lines = {org.line for org in origins}
        line = lines.pop() if len(lines) == 1 else None
        hint = f"{p.hint}; " if p.hint else ""
        what = (f"the value came from {origins[0].text}" if len(origins) == 1
                else "the values came from " + " and ".join(org.text for org in origins))
        out.append(Problem(p.message, path=p.path, line=line, hint=hint + what))
    return out


def validate_data(
    data: dict, src: Source | None = None, file: str | None = None,
    overrides: dict[str, Origin] | None = None, context: str = "",
) -> Scenario:
    """Validate plain data into a Scenario, or raise InputError naming each path.

    ``overrides`` maps a dotted path to the :class:`Origin` of its value, e.g.
    ``{"sites.cn.budget.amount": Origin("--set sites.cn.budget.amount=-1")}``,
    so a message about that value names the override rather than the file's
    line. ``context`` is said with every other problem ("in outcome h20_denied").
    """
    where = file or (src.path if src else None)

    def line(path: str) -> int | str | None:  # a line, or a workbook's cell
        return src.where(loc_of(path, data)) if src else None

    bools = bool_number_problems(data) + magnitude_problems(data)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        probs = problems_from_validation(e, src, data)
        # true/false in a number field is the real cause of any complaint about that value
        said = {_loc_path(loc): m for loc, m in bools}
        probs = [Problem(said[p.path], path=p.path, line=p.where) if p.path in said else p for p in probs]
        taken = {p.path for p in probs}
        probs += [Problem(m, path=_loc_path(loc), line=src.where(loc) if src else None)
                  for loc, m in bools if _loc_path(loc) not in taken]
        raise InputError(_attribute(probs, overrides, src, context), file=where) from None
    extra = [(_loc_path(loc), m) for loc, m in bools]
    said = {p for p, _ in extra}
    extra += country_problems(sc) + [(p, m) for p, m in derived_magnitude_problems(sc) if p not in said]
    extra += compliance.problems(sc)
    if sc.uncertainty is not None and not _probability_whatif(overrides):
        extra += [(f"uncertainty.outcomes.{k}.probability", "0: must be greater than 0")
                  for k, o in sc.uncertainty.outcomes.items() if o.probability == 0]
        extra = [(p, m + " (leave out an outcome that cannot happen)" if m == "0: must be greater than 0" else m)
                 for p, m in extra]
    if extra:
        raise InputError(_attribute([Problem(m, path=p, line=line(p)) for p, m in extra], overrides, src, context),
                         file=where)
    return sc


def _probability_whatif(overrides: dict | None) -> bool:
    """A what-if that sets an outcome probability may take it (and so the others') to 0; a file may not."""
    return any(p.startswith("uncertainty.outcomes.") and p.endswith(".probability") for p in (overrides or {}))


def scenario_warnings(sc: Scenario, src: Source | None = None, data: Any = None) -> list[ScenarioWarning]:
    """The located warnings of a valid scenario (allowed, probably not meant; never fatal)."""
    return [ScenarioWarning(m, path=p, line=src.where(loc_of(p, data)) if src else None)
            for p, m in warning_problems(sc)]
