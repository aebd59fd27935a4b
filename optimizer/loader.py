"""Read scenario files (YAML, JSON or an xlsx workbook) into plain data, safely.

Safety first: files are size-checked before parsing, must be UTF-8 text, are
parsed with a safe loader that refuses Python tags, refuses duplicated keys
(naming both lines), and refuses alias bombs by bounding the size of the
document once aliases are expanded. Numbers are read the way planners type
them (``40e9``, ``4.0e10``, ``40_000_000_000``). Line numbers are kept per
field path so that later messages can point at the line. An xlsx workbook
(recognised by its name or by being a zip archive) is read by
:mod:`optimizer.scenario_xlsx.read`, which locates each field path by sheet
and cell instead.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem

MAX_FILE_BYTES = 1_000_000  # a real scenario is a few KB
MAX_XLSX_BYTES = 10_000_000  # a scenario workbook is tens of KB, a plan workbook with its Inputs sheet a few hundred
XLSX_SUFFIXES = (".xlsx", ".xlsm")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected Office file
MAX_EXPANDED_NODES = 200_000  # bound on the document after alias expansion

class ScenarioLoader(yaml.SafeLoader):
    """SafeLoader that reads 40e9 as a number and records line numbers per path."""


# PyYAML follows YAML 1.1, where 40e9 (no dot) and 3.0e9 (no sign) are strings.
ScenarioLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?([0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+|\.[0-9_]+[eE][-+]?[0-9]+)$"),
    list("-+0123456789."),
)


# YAML 1.1 reads yes/no/on/off as booleans, so Norway's code NO would become
# False and "max_share: no" would silently be 0. Only true/false are booleans here;
# the boolean fields refuse yes/no with "write true" (schema.Bool is strict).
_BOOL_TAG = "tag:yaml.org,2002:bool"
ScenarioLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _BOOL_TAG] for k, v in ScenarioLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: ScenarioLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
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


ScenarioLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


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
    """A scenario as read from disk, before validation.

    ``lines`` locates each field path of a YAML or JSON file by line;
    ``cells`` locates each field path of an xlsx workbook by sheet and cell
    (``Chips!D7``). :meth:`where` gives whichever the file has.
    """

    path: str
    data: dict
    lines: dict[tuple, int] = field(default_factory=dict)
    sha256: str = ""
    cells: dict[tuple, str] = field(default_factory=dict)

    def line_of(self, loc: tuple) -> int | None:
        return _nearest(self.lines, loc)

    def cell_of(self, loc: tuple) -> str | None:
        return _nearest(self.cells, loc)

    def where(self, loc: tuple) -> int | str | None:
        """Where the value at ``loc`` (or the nearest enclosing one) is written: a line number or a cell."""
        if self.cells:
            return self.cell_of(loc)
        return self.line_of(loc)


def _nearest(table: dict, loc: tuple):
    loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
    while loc:
        for key in (loc, tuple(str(x) for x in loc)):
            if key in table:
                return table[key]
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
        workbook = is_workbook(p)
        limit = MAX_XLSX_BYTES if workbook else MAX_FILE_BYTES
        if size > limit:
            what = "a scenario workbook" if workbook else "a scenario"
            raise InputError(
                f"file is {size:,} bytes; {what} is at most {limit:,} bytes (is this the right file?)", file=name
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except PermissionError:
        raise InputError("permission denied reading the file", file=name) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror or e}", file=name) from None
    if len(raw) > limit:
        raise InputError(f"file is larger than {limit:,} bytes; refused", file=name)
    if raw.startswith(OLE_MAGIC):
        raise InputError("an Excel 97-2003 (.xls) or password-protected workbook; save it as an Excel Workbook "
                         "(.xlsx) without a password", file=name)
    if workbook:
        from .scenario_xlsx.read import read_workbook

        data, cells = read_workbook(raw, name)
        return Source(name, data, {}, hashlib.sha256(raw).hexdigest(), cells)
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
        raise InputError(f"top level is {kind_of(data)}, not a mapping; a scenario starts with schema_version: 1", file=name)
    return Source(name, data, lines, hashlib.sha256(raw).hexdigest())


def is_workbook(path: str | Path) -> bool:
    """An .xlsx workbook: by its name, or by its first bytes (a zip archive)."""
    p = Path(path)
    if p.suffix.lower() in XLSX_SUFFIXES:
        return True
    try:
        with p.open("rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def kind_of(v: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "nothing"}.get(
        type(v), type(v).__name__
    )


def _parse(text: str, name: str, json_file: bool) -> tuple[Any, dict]:
    if json_file:
        return _parse_json(text, name)
    try:
        loader = ScenarioLoader(text)
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
            yaml.load(text, Loader=ScenarioLoader)  # noqa: S506 - ScenarioLoader is a SafeLoader; only to find the lines
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
        lines = _line_map(yaml.compose(text, Loader=ScenarioLoader))
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

