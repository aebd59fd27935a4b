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
        raise InputError(f"not UTF-8 text (bad byte at offset {e.start}); save the file as UTF-8", file=name) from None
    if not text.strip():
        raise InputError("empty file; a scenario starts with schema_version: 1", file=name)
    data, lines = _parse(text, name, json_file=p.suffix.lower() == ".json")
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise InputError(f"top level is {_kind(data)}, not a mapping; a scenario starts with schema_version: 1", file=name)
    return Source(name, data, lines, hashlib.sha256(raw).hexdigest())


def _kind(v: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "empty"}.get(
        type(v), type(v).__name__
    )


def _parse(text: str, name: str, json_file: bool) -> tuple[Any, dict]:
    if json_file:
        try:
            data = json.loads(text, object_pairs_hook=_json_pairs, parse_constant=_json_constant)
        except _DuplicateKey as e:
            raise InputError(f"key {e.key!r} appears twice in the same object; keep one", file=name) from None
        except json.JSONDecodeError as e:
            raise InputError([Problem(f"JSON syntax error: {e.msg} (column {e.colno})", line=e.lineno)], file=name) from None
        except ValueError as e:
            raise InputError(str(e), file=name) from None
        return data, {}
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
            [Problem(f"duplicate key {e.key!r} (first on line {e.first}, again on line {e.second}); keep one", line=e.second)],
            file=name,
        ) from None
    except yaml.constructor.ConstructorError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        msg = e.problem or "cannot construct this value"
        if "could not determine a constructor for the tag" in msg:
            tag = msg.split("tag", 1)[1].strip().strip("'")
            msg = f"YAML tag {tag} is not allowed in a scenario (only plain values, lists and mappings); nothing was run"
        raise InputError([Problem(msg, line=line)], file=name) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        what = e.problem or e.context or "syntax error"
        raise InputError([Problem(f"YAML syntax error: {what}", line=line)], file=name) from None
    except yaml.YAMLError as e:
        raise InputError(f"YAML error: {e}", file=name) from None
    except RecursionError:
        raise InputError("YAML nesting is too deep for a scenario; refused", file=name) from None
    return data, _line_map(node)


def _json_pairs(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k, 0, 0)
        out[k] = v
    return out


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number in a scenario")


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


def problems_from_validation(e: ValidationError, src: Source | None = None) -> list[Problem]:
    out: list[Problem] = []
    for err in e.errors(include_url=False):
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
        if typ == "missing":
            msg = "required field is missing"
        elif typ == "min_above_max":
            msg = err["msg"]
            loc = loc + ("min_units",)
        elif typ == "string_pattern_mismatch":
            pat = ctx.get("pattern", "")
            if "A-Z]{2}" in pat:
                msg = f"{err['input']!r} is not a two-letter ISO country code such as CN, US, MY"
            elif "A-Z]{3}" in pat:
                msg = f"{err['input']!r} is not a three-letter currency code such as CNY, USD"
            else:
                msg = f"{err['input']!r} is not a valid id (use lowercase letters, digits, '_' and '-')"
        elif typ == "finite_number":
            msg = "must be a finite number (NaN and infinity are not allowed)"
        elif typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            msg = f"{err['input']!r}: {err['msg'].lower()}"
        else:
            msg = err["msg"]
            inp = err.get("input")
            if isinstance(inp, (str, int, float, bool)) and typ not in ("schema_version",):
                msg = f"{inp!r}: {msg[0].lower() + msg[1:]}"
        out.append(Problem(msg, path=_loc_path(loc), line=src.line_of(loc) if src else None))
    return out


def validate_data(data: dict, src: Source | None = None, file: str | None = None) -> Scenario:
    """Validate plain data into a Scenario, or raise InputError naming each path."""
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        raise InputError(problems_from_validation(e, src), file=file or (src.path if src else None)) from None
    extra = compliance.problems(sc)
    if extra:
        raise InputError([Problem(m, path=p) for p, m in extra], file=file or (src.path if src else None))
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
    """Read, apply variants then ``--set`` overrides, validate. Raises InputError."""
    src = read_source(path)
    if "schema_version" not in src.data:
        raise InputError(
            [Problem(f"required field is missing; add schema_version: {SCHEMA_VERSION} at the top", path="schema_version")],
            file=src.path,
        )
    data = src.data
    applied: list[dict] = []
    for name in variants:
        table = data.get("variants") or {}
        if not isinstance(table, dict) or name not in table:
            known = ", ".join(sorted(table)) if isinstance(table, dict) and table else "none defined"
            raise InputError([Problem(f"unknown variant {name!r}; known variants: {known}", path="variants")], file=src.path)
        body = table[name]
        if not isinstance(body, dict):
            raise InputError([Problem("a variant is a mapping of dotted path to value", path=f"variants.{name}")], file=src.path)
        for p, v in body.items():
            data = set_path(data, str(p), v, file=src.path, origin=f"variants.{name}")
        applied.append({"variant": name, "changes": {str(k): v for k, v in body.items()}})
    for item in sets:
        p, v = parse_assignment(item)
        data = set_path(data, p, v, file=src.path, origin="--set")
        applied.append({"set": p, "value": v})
    sc = validate_data(data, src if not applied else src, file=src.path)
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
                if model is None or part not in model.model_fields:
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


def _unknown_path(data: dict, path: str, file: str | None, origin: str) -> None:
    known = known_paths(data)
    close = difflib.get_close_matches(path, known, n=3, cutoff=0.5)
    hint = "nearest valid paths: " + ", ".join(close) if close else "e.g. chips.<id>.unit_price, sites.<id>.budget.amount"
    raise InputError([Problem(f"unknown path {path!r}", path=origin, hint=hint)], file=file)
