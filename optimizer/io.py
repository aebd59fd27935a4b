"""Load scenario files (YAML or JSON) and apply overrides.

Safety first: files are size-checked before parsing, must be UTF-8 text,
are parsed with a safe loader that refuses Python tags, refuses duplicated
keys (naming both lines), and refuses alias bombs by bounding the size of the
document once aliases are expanded. Numbers are read the way planners type
them (``40e9``, ``4.0e10``, ``40_000_000_000``).
"""
from __future__ import annotations

import copy
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from . import compliance
from .errors import InputError, Problem
from .schema import SCHEMA_VERSION, Scenario

MAX_FILE_BYTES = 1_000_000  # a real scenario is a few KB
MAX_EXPANDED_NODES = 200_000  # bound on the document after alias expansion

_FLOAT_RE = re.compile(
    r"""^[-+]?(
        [0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?
      | \.[0-9_]+([eE][-+]?[0-9]+)?
      | [0-9][0-9_]*[eE][-+]?[0-9]+
    )$""",
    re.X,
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads 40e9 as a number and records line numbers per path."""


# PyYAML follows YAML 1.1, where 40e9 (no dot) and 3.0e9 (no sign) are strings.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?([0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+|\.[0-9_]+[eE][-+]?[0-9]+)$"),
    list("-+0123456789."),
)


# YAML 1.1 reads yes/no/on/off as booleans, so Norway's code NO would become
# False and "max_share: no" would silently be 0. Only true/false are booleans here;
# pydantic still accepts yes/no for the few boolean fields.
_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _BOOL_TAG] for k, v in _Loader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(key, seen[key], line)
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first: int, second: int):
        self.key, self.first, self.second = key, first, second


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    if depth > 200:
        return MAX_EXPANDED_NODES + 1
    got = memo.get(id(node))
    if got is not None:
        return got
    memo[id(node)] = MAX_EXPANDED_NODES + 1  # guards recursive aliases
    if isinstance(node, yaml.MappingNode):
        n = 1 + sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(v, memo, depth + 1) for v in node.value)
    else:
        n = 1
    n = min(n, MAX_EXPANDED_NODES + 1)
    memo[id(node)] = n
    return n


def _line_map(node: yaml.Node, prefix: tuple = (), out: dict | None = None, depth: int = 0) -> dict[tuple, int]:
    """Map each path (tuple of keys / indices) to its 1-based line in the file."""
    out = {} if out is None else out
    if depth > 50:
        return out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            path = prefix + (key,)
            out.setdefault(path, k.start_mark.line + 1)
            _line_map(v, path, out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            path = prefix + (i,)
            out.setdefault(path, v.start_mark.line + 1)
            _line_map(v, path, out, depth + 1)
    return out


@dataclass
class Source:
    """A scenario as read from disk, before validation."""

    path: str
    data: dict
    lines: dict[tuple, int] = field(default_factory=dict)
    sha256: str = ""

    def line_of(self, loc: tuple) -> int | None:
        loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
        while loc:
            for key in (loc, tuple(str(x) for x in loc)):
                if key in self.lines:
                    return self.lines[key]
            loc = loc[:-1]
        return None


def read_source(path: str | Path) -> Source:
    """Read and parse a scenario file into plain data. Raises InputError."""
    import hashlib

    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise InputError("is a folder, not a scenario file", file=name)
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"file is {size:,} bytes; a scenario is at most {MAX_FILE_BYTES:,} bytes (is this the right file?)", file=name
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except PermissionError:
        raise InputError("permission denied reading the file", file=name) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES:,} bytes; refused", file=name)
    if b"\x00" in raw:
        raise InputError("binary file (contains NUL bytes); expected a YAML or JSON scenario", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            [Problem(f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); save the file as UTF-8", line=line)],
            file=name,
        ) from None
    if not text.strip():
        raise InputError("empty file; a scenario starts with schema_version: 1", file=name)
    data, lines = _parse(text, name, json_file=p.suffix.lower() == ".json")
    if data is None:
        raise InputError("no content (only comments or blank lines); a scenario starts with schema_version: 1", file=name)
    if not isinstance(data, dict):
        raise InputError(f"top level is {_kind(data)}, not a mapping; a scenario starts with schema_version: 1", file=name)
    return Source(name, data, lines, hashlib.sha256(raw).hexdigest())


def _kind(v: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "nothing"}.get(
        type(v), type(v).__name__
    )


def _parse(text: str, name: str, json_file: bool) -> tuple[Any, dict]:
    if json_file:
        return _parse_json(text, name)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                raise InputError(
                    "YAML aliases expand to far more data than a scenario holds (alias bomb?); refused", file=name
                )
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except _DuplicateKey as e:
        raise InputError(
            [Problem(f"duplicate key {e.key!r} (first on line {e.first}, again on line {e.second}); keep one",
                     path=_near(text, e.second), line=e.second)],
            file=name,
        ) from None
    except yaml.constructor.ConstructorError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        msg = e.problem or "cannot construct this value"
        if "could not determine a constructor for the tag" in msg:
            tag = msg.split("tag", 1)[1].strip().strip("'").replace("tag:yaml.org,2002:", "!!")
            msg = f"YAML tag {tag} is not allowed in a scenario (only plain values, lists and mappings); nothing was run"
        raise InputError([Problem(msg, path=_near(text, line), line=line)], file=name) from None
    except yaml.MarkedYAMLError as e:
        raise InputError([_syntax_problem(e, text, "YAML")], file=name) from None
    except yaml.YAMLError as e:
        raise InputError(f"YAML error: {e}", file=name) from None
    except RecursionError:
        raise InputError("YAML nesting is too deep for a scenario; refused", file=name) from None
    return data, _line_map(node)


_KEY_LINE = re.compile(r"""^(?P<indent>\s*)(?P<key>"[^"]*"|'[^']*'|[^\s#'"\[\]{},:-][^#:]*?)\s*:(?:\s+(?P<value>\S.*)?|$)""")


def _near(text: str, line: int | None, include_line: bool = True) -> str:
    """Best-effort dotted path of the mapping around ``line`` (1-based), for syntax errors.

    Reads block-style indentation only; returns "" when it cannot tell. The
    key on ``line`` itself is included when ``include_line``; a key before it
    whose value sits on its own line (a leaf) is not.
    """
    if not line:
        return ""
    lines = text.splitlines()
    stack: list[tuple[int, str, bool]] = []
    upto = min(line if include_line else line - 1, len(lines))
    for i in range(upto):
        m = _KEY_LINE.match(lines[i].replace("\t", " "))
        if not m:
            continue
        indent = len(m.group("indent"))
        key = m.group("key").strip().strip("'\"")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        leaf = bool(m.group("value")) and not m.group("value").startswith(("#", "&"))
        stack.append((indent, key, leaf and not (include_line and i == upto - 1)))
    if stack and stack[-1][2]:
        stack.pop()
    path = ".".join(k for _, k, _ in stack)
    return f"near {path}" if path else ""


def _syntax_problem(e: yaml.MarkedYAMLError, text: str, what: str) -> Problem:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else None
    msg = f"{what} syntax error: {e.problem or e.context or 'cannot parse'}"
    if "'\\t'" in msg:
        msg += "; indent with spaces, not tabs"
    ctx_line = e.context_mark.line + 1 if e.context_mark else None
    if e.context and e.problem and ctx_line and ctx_line != line:
        msg += f" ({e.context} that starts on line {ctx_line})"
        return Problem(msg, path=_near(text, ctx_line, include_line=True), line=line)
    return Problem(msg, path=_near(text, line, include_line=False), line=line)


def _parse_json(text: str, name: str) -> tuple[Any, dict]:
    """Strict JSON; line numbers for later messages come from composing it as YAML."""
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_json_constant)
    except _DuplicateKey as e:
        first = second = None
        try:
            yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader; only to find the lines
        except _DuplicateKey as e2:
            first, second = e2.first, e2.second
        except Exception:  # noqa: BLE001 - lines are a courtesy
            pass
        where = f" (first on line {first}, again on line {second})" if first else ""
        raise InputError(
            [Problem(f"duplicate key {e.key!r}{where}; keep one", path=_near(text, second), line=second)], file=name
        ) from None
    except json.JSONDecodeError as e:
        raise InputError(
            [Problem(f"JSON syntax error: {e.msg} (column {e.colno})", path=_near(text, e.lineno, include_line=False), line=e.lineno)],
            file=name,
        ) from None
    except _BadConstant as e:
        m = re.search(rf"(?<![\w\"]){re.escape(e.name)}(?![\w\"])", text)
        line = text.count("\n", 0, m.start()) + 1 if m else None
        raise InputError(
            [Problem(f"{e.name} is not a valid number in a scenario; write a finite number", path=_near(text, line), line=line)],
            file=name,
        ) from None
    lines: dict = {}
    try:
        lines = _line_map(yaml.compose(text, Loader=_Loader))
    except Exception:  # noqa: BLE001 - valid JSON that PyYAML cannot read: messages just lack lines
        lines = {}
    return data, lines


class _BadConstant(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _json_pairs(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k, 0, 0)
        out[k] = v
    return out


def _json_constant(name: str) -> Any:
    raise _BadConstant(name)


# --------------------------------------------------------------------------- validation


def _loc_path(loc: tuple) -> str:
    return ".".join(str(x) for x in loc)


def _clean_loc(loc: tuple) -> tuple:
    # pydantic adds pseudo-locations for unions, e.g. 'float', '[key]', 'function-after[...]'
    out = []
    for x in loc:
        if isinstance(x, str) and (x.startswith("function-") or x in {"float", "int", "str", "bool", "constrained-str", "[key]"}):
            continue
        out.append(x)
    return tuple(out)


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that lives at ``loc`` (for 'did you mean')."""
    from typing import get_args, get_origin

    ann: Any = Scenario
    for part in loc:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            f = ann.model_fields.get(part) if isinstance(part, str) else None
            if f is None:
                return None
            ann = f.annotation
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1]
        elif get_origin(ann) is list:
            ann = get_args(ann)[0]
        else:
            return None
        while True:  # unwrap Optional / Annotated
            args = [a for a in get_args(ann) if a is not type(None)]
            if get_origin(ann) is not None and get_origin(ann) not in (dict, list) and args:
                ann = args[0]
            else:
                break
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


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
    return _kind(v)


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


def _problem_for(err: dict, loc: tuple, src: Source | None) -> Problem:
    typ = err["type"]
    ctx = err.get("ctx") or {}
    inp = err.get("input")
    hint = ""
    if typ == "missing":
        msg = "required field is missing"
    elif typ == "schema_version":
        msg = f"unsupported schema_version {_show(ctx.get('got'))}; this chipalloc reads schema_version: {SCHEMA_VERSION}"
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
    elif typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        msg = f"{_show(inp)}: " + _SHOULD.sub("must be ", err["msg"])
        le = ctx.get("le")
        if typ == "less_than_equal" and le == 1 and isinstance(inp, (int, float)) and 2 <= inp <= 100:
            hint = f"shares are fractions of 1: write {inp / 100:g} for {inp:g}%"
    elif typ in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping (key: value lines), got {_kind(inp)}"
    elif typ == "list_type":
        msg = f"expected a list, got {_kind(inp)}"
    elif typ in ("float_type", "float_parsing", "int_type", "int_parsing", "int_parsing_size"):
        want = "a whole number" if typ.startswith("int") else "a number"
        msg = f"{_show(inp)}: expected {want}"
        hint = _number_hint(inp)
    elif typ == "int_from_float":
        msg = f"{_show(inp)}: must be a whole number"
    elif typ == "string_type":
        msg = f"expected text, got {_kind(inp)}"
        if isinstance(inp, (int, float)) and not isinstance(inp, bool):
            hint = "put it in quotes"
    elif typ == "too_short":
        msg = "needs at least one entry"
    elif typ == "bool_type" or typ == "bool_parsing":
        msg = f"{_show(inp)}: expected true or false"
    else:
        msg = _SHOULD.sub("must be ", err["msg"])
        if isinstance(inp, (str, int, float, bool)):
            msg = f"{_show(inp)}: {msg[0].lower() + msg[1:]}"
    return Problem(msg, path=_loc_path(loc), line=src.line_of(loc) if src else None, hint=hint)


def problems_from_validation(e: ValidationError, src: Source | None = None) -> list[Problem]:
    out: list[Problem] = []
    suggested: set[tuple] = set()  # fields a misspelled key probably meant: not also reported missing
    errors = e.errors(include_url=False)
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = _clean_loc(tuple(err["loc"]))
            parent = _model_at(loc[:-1])
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
                loc2 = tuple(int(x) if x.isdigit() else x for x in path.split("."))
                out.append(Problem(msg, path=path, line=src.line_of(loc2) if src else None))
            continue
        if typ == "extra_forbidden":
            parent = _model_at(loc[:-1])
            key = str(loc[-1])
            hint = ""
            if parent is not None:
                close = difflib.get_close_matches(key, _field_names(parent), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(_field_names(parent))
            out.append(Problem(f"unknown field {key!r}", path=_loc_path(loc), line=src.line_of(loc) if src else None, hint=hint))
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
        found += [(f"export_controls.licenses.{i}.country", lic.country) for i, lic in enumerate(ec.licenses)]
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
                f = ann.model_fields.get(k) if isinstance(k, str) else None
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


def _attribute(problems: list[Problem], overrides: dict[str, tuple[str, int | None]] | None) -> list[Problem]:
    """Point a problem at the --set or variant that supplied its value, not at the file's line."""
    if not overrides:
        return problems
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
            out.append(p)
            continue
        hits.sort(key=list(overrides).index)
        origins = [overrides[h][0] for h in hits]
        lines = {overrides[h][1] for h in hits}
        line = lines.pop() if len(lines) == 1 else None
        hint = f"{p.hint}; " if p.hint else ""
        what = f"the value came from {origins[0]}" if len(origins) == 1 else "the values came from " + " and ".join(origins)
        out.append(Problem(p.message, path=p.path, line=line, hint=hint + what))
    return out


def validate_data(
    data: dict, src: Source | None = None, file: str | None = None,
    overrides: dict[str, tuple[str, int | None]] | None = None,
) -> Scenario:
    """Validate plain data into a Scenario, or raise InputError naming each path.

    ``overrides`` maps a dotted path to (where its value came from, line or
    None), e.g. ``{"sites.cn.budget.amount": ("--set sites.cn.budget.amount=-1", None)}``,
    so a message about that value names the override rather than the file's line.
    """
    where = file or (src.path if src else None)

    def line(path: str) -> int | None:
        return src.line_of(tuple(int(x) if x.isdigit() else x for x in path.split("."))) if src else None

    bools = bool_number_problems(data) + magnitude_problems(data)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        probs = problems_from_validation(e, src)
        # true/false in a number field is the real cause of any complaint about that value
        said = {_loc_path(loc): m for loc, m in bools}
        probs = [Problem(said[p.path], path=p.path, line=p.line) if p.path in said else p for p in probs]
        taken = {p.path for p in probs}
        probs += [Problem(m, path=_loc_path(loc), line=src.line_of(loc) if src else None)
                  for loc, m in bools if _loc_path(loc) not in taken]
        raise InputError(_attribute(probs, overrides), file=where) from None
    extra = [(_loc_path(loc), m) for loc, m in bools]
    said = {p for p, _ in extra}
    extra += country_problems(sc) + [(p, m) for p, m in derived_magnitude_problems(sc) if p not in said]
    extra += compliance.problems(sc)
    if extra:
        raise InputError(_attribute([Problem(m, path=p, line=line(p)) for p, m in extra], overrides), file=where)
    return sc


@dataclass
class Loaded:
    """A validated scenario with where it came from and what was applied to it."""

    scenario: Scenario
    source: Source
    applied: list[dict] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path


def load(path: str | Path, variants: list[str] | tuple = (), sets: list[str] | tuple = ()) -> Loaded:
    """Read, apply variants then ``--set`` overrides, validate. Raises InputError.

    A message about a value that a variant or ``--set`` supplied names that
    override (and, for a variant, its line in the file) instead of the line of
    the value it replaced.
    """
    src = read_source(path)
    if "schema_version" not in src.data:
        raise InputError(
            [Problem(f"required field is missing; add schema_version: {SCHEMA_VERSION} at the top", path="schema_version")],
            file=src.path,
        )
    data = src.data
    applied: list[dict] = []
    overrides: dict[str, tuple[str, int | None]] = {}
    for name in variants:
        table = data.get("variants") or {}
        if not isinstance(table, dict) or name not in table:
            known = ", ".join(sorted(map(str, table))) if isinstance(table, dict) and table else "none defined"
            raise InputError([Problem(f"unknown variant {name!r}; known variants: {known}", path="variants")], file=src.path)
        body = table[name]
        if not isinstance(body, dict):
            raise InputError(
                [Problem("a variant is a mapping of dotted path to value", path=f"variants.{name}",
                         line=src.line_of(("variants", name)))], file=src.path,
            )
        for p, v in body.items():
            data = set_path(data, str(p), v, file=src.path, origin=f"variants.{name}")
            overrides[str(p)] = (f"variant {name}", src.line_of(("variants", name, str(p))))
        applied.append({"variant": name, "changes": {str(k): v for k, v in body.items()}})
    for item in sets:
        p, v = parse_assignment(item)
        data = set_path(data, p, v, file=src.path, origin="--set")
        overrides[p] = (f"--set {item.strip()}", None)
        applied.append({"set": p, "value": v})
    sc = validate_data(data, src, file=src.path, overrides=overrides)
    return Loaded(sc, src, applied)


def parse_assignment(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise InputError(f"--set {item!r}: expected PATH=VALUE, e.g. --set chips.h20.unit_price=95000")
    path, raw = item.split("=", 1)
    path = path.strip()
    if not path:
        raise InputError(f"--set {item!r}: the path before '=' is empty")
    return path, parse_value(raw)


def parse_value(raw: str) -> Any:
    """Parse a command-line value the way the scenario file would read it."""
    raw = raw.strip()
    if raw == "":
        return ""
    try:
        v = yaml.load(raw, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError:
        return raw
    if isinstance(v, (dict, list)) and not raw.startswith(("{", "[")):
        return raw
    return v


def known_paths(data: dict) -> list[str]:
    """Dotted paths a --set may name: present leaves plus schema fields of present entities."""
    out: list[str] = []

    def walk(obj: Any, prefix: str, model: type[BaseModel] | None) -> None:
        if isinstance(obj, dict):
            keys = set(map(str, obj))
            if model is not None:
                keys |= set(model.model_fields)
            for k in sorted(keys):
                if k == "variants" and not prefix:
                    continue
                p = f"{prefix}.{k}" if prefix else k
                child = obj.get(k) if k in obj else None
                sub = _model_at(tuple(p.split("."))) if model is not None or prefix else _model_at((k,))
                out.append(p)
                walk(child, p, sub)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                p = f"{prefix}.{i}"
                out.append(p)
                walk(v, p, _model_at(tuple(int(x) if x.isdigit() else x for x in p.split("."))))

    walk(data, "", Scenario)
    return out


def set_path(data: dict, path: str, value: Any, file: str | None = None, origin: str = "--set") -> dict:
    """Return a deep copy of ``data`` with ``path`` set to ``value``.

    The path must exist in the file or be a field the schema knows for an
    existing entity; otherwise InputError lists the nearest valid paths.
    """
    parts = path.split(".")
    new = copy.deepcopy(data)
    cur: Any = new
    walked: list[Any] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: Any = part
        if isinstance(cur, list):
            if not part.isdigit() or int(part) >= len(cur):
                _unknown_path(data, path, file, origin)
            key = int(part)
        elif isinstance(cur, dict):
            if part not in cur:
                model = _model_at(tuple(walked))
                # a new key is allowed as the last part inside a mapping field (sites.cn.prices.h20, fx.EUR);
                # the whole scenario is validated afterwards, so a wrong key is still named there
                new_key = model is None and last and _is_mapping_field(tuple(walked))
                if not new_key and (model is None or part not in model.model_fields):
                    _unknown_path(data, path, file, origin)
                if not last:
                    cur[part] = {}
        else:
            _unknown_path(data, path, file, origin)
        walked.append(key)
        if last:
            cur[key] = value
        else:
            if cur[key] is None:
                cur[key] = {}
            cur = cur[key]
    return new


def _is_mapping_field(loc: tuple) -> bool:
    """True when ``loc`` names a model field typed as a mapping (e.g. sites.<id>.prices, fx, flexibility)."""
    from typing import get_origin

    if not loc or not isinstance(loc[-1], str):
        return False
    parent = _model_at(loc[:-1]) if len(loc) > 1 else Scenario
    f = parent.model_fields.get(loc[-1]) if parent is not None else None
    return f is not None and get_origin(f.annotation) is dict


def _unknown_path(data: dict, path: str, file: str | None, origin: str) -> None:
    known = known_paths(data)
    close = difflib.get_close_matches(path, known, n=3, cutoff=0.5)
    hint = "nearest valid paths: " + ", ".join(close) if close else "e.g. chips.<id>.unit_price, sites.<id>.budget.amount"
    raise InputError([Problem(f"unknown path {path!r}", path=origin, hint=hint)], file=file)
