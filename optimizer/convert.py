"""Convert a scenario between YAML, JSON and an xlsx workbook, in any direction.

The input is validated first (its messages name lines or cells as usual).
The output is then read back and validated before it is put in place
(atomically; an existing file only with ``force``): if it would not give
the same scenario, nothing is written. Comments in YAML are not kept; keys
are written in schema order.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from .errors import ChipallocError, InputError, OutputError
from .loader import ScenarioLoader
from .schema import Scenario

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".xlsx": "xlsx"}


@dataclass
class Converted:
    source: str
    target: Path
    format: str
    scenario: Scenario


class ScenarioDumper(yaml.SafeDumper):
    """Quotes exactly the strings that chipalloc's loader would not read back as strings (40e9, true)."""


ScenarioDumper.yaml_implicit_resolvers = {k: list(v) for k, v in ScenarioLoader.yaml_implicit_resolvers.items()}


def _list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = all(not isinstance(x, (dict, list)) for x in value)  # periods: [2025h1, 2025h2]
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


ScenarioDumper.add_representer(list, _list)


def format_of(path: str | Path) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(f"{path}: cannot tell the format from the name; end it in .yaml, .yml, .json or .xlsx")
    return fmt


def ordered(data: Any, model: Any = Scenario) -> Any:
    """``data`` with the keys of every model in schema order (unknown keys last), for readable YAML."""
    from typing import get_args, get_origin

    from .scenario_xlsx.layout import _is_model, _unwrap, model_fields

    if not isinstance(data, dict) or not _is_model(model):
        return data
    fields = dict(model_fields(model))
    out: dict = {}
    for name in list(fields) + [k for k in data if k not in fields]:
        if name not in data:
            continue
        v = data[name]
        f = fields.get(name)
        if f is not None:
            ann, _ = _unwrap(f.annotation, "key" if isinstance(v, dict) else 0 if isinstance(v, list) else None)
            if _is_model(ann):
                v = ordered(v, ann)
            elif get_origin(ann) is dict and isinstance(v, dict):
                inner, _ = _unwrap(get_args(ann)[1])
                if _is_model(inner):
                    v = {k: ordered(x, inner) for k, x in v.items()}
            elif get_origin(ann) is list and isinstance(v, list):
                inner, _ = _unwrap(get_args(ann)[0])
                if _is_model(inner):
                    v = [ordered(x, inner) for x in v]
        out[name] = v
    return out


def yaml_text(data: dict, source: str | None = None) -> str:
    head = f"# converted by chipalloc from {source} (comments in the original are not kept)\n" if source else ""
    body = yaml.dump(ordered(data), Dumper=ScenarioDumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return head + body


def json_text(data: dict) -> str:
    return json.dumps(ordered(data), indent=2, ensure_ascii=False) + "\n"


def convert(source: str | Path, target: str | Path, force: bool = False) -> Converted:
    """Convert ``source`` (YAML, JSON or xlsx) to ``target`` (format from its name). Raises InputError/OutputError."""
    from . import io

    fmt = format_of(target)
    loaded = io.load(source)  # validated, with located messages
    src = loaded.source
    if Path(target).resolve() == Path(src.path).resolve():
        raise OutputError(f"{target}: is the input file; write the conversion to another file")
    data = src.data
    sc = loaded.scenario

    def check(raw: bytes, name: str) -> None:
        back = _read_back(raw, name, fmt)
        _same(sc, back, target)

    if fmt == "xlsx":
        from .scenario_xlsx.write import write_scenario_workbook
        from .scenario_xlsx.template import add_readme_sheet

        out = write_scenario_workbook(target, ordered(data), force=force, before=add_readme_sheet,
                                      check=lambda tmp: check(Path(tmp).read_bytes(), str(target)))
    else:
        from .report.files import write_atomic

        text = yaml_text(data, src.path) if fmt == "yaml" else json_text(data)
        check(text.encode("utf-8"), str(target))

        def write(tmp: str) -> None:
            Path(tmp).write_text(text, encoding="utf-8")

        out = write_atomic(target, write, force)
    return Converted(src.path, Path(out), fmt, sc)


def _read_back(raw: bytes, name: str, fmt: str) -> Scenario:
    from .loader import _parse
    from .validate import validate_data

    if fmt == "xlsx":
        from .scenario_xlsx.read import read_workbook

        data, _ = read_workbook(raw, name)
    else:
        data, _ = _parse(raw.decode("utf-8"), name, json_file=fmt == "json")
    try:
        return validate_data(data, file=name)
    except InputError as e:
        raise ChipallocError(
            f"{name}: the converted scenario does not read back ({e.render()}); nothing was written. "
            "This is a bug in chipalloc; please report it with the input file") from None


def comparable(v: Any) -> Any:
    """A value with numbers at the precision a workbook keeps (16 significant digits)."""
    if isinstance(v, BaseModel):
        v = v.model_dump()
    if isinstance(v, dict):
        return {str(k): comparable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [comparable(x) for x in v]
    if isinstance(v, float) and math.isfinite(v):
        return float(f"{v:.16g}")
    if isinstance(v, int) and not isinstance(v, bool):
        return float(f"{v:.16g}")
    return v


def _same(a: Scenario, b: Scenario, target: str | Path) -> None:
    if a == b or comparable(a) == comparable(b):
        return
    where = _first_difference(comparable(a), comparable(b))
    raise ChipallocError(
        f"{target}: the conversion would change the scenario at {where}; nothing was written. "
        "This is a bug in chipalloc; please report it with the input file")


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}.{i}")
    return f"{path or 'the top level'} ({a!r} became {b!r})"
