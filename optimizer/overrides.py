"""Overrides: ``--set PATH=VALUE`` and named variants, by dotted path.

Each override returns a new copy of the raw scenario data (nothing is changed
in place); the caller validates the result again as a whole. A path must name
a value in the file, a field the schema knows for an existing entity, or a new
key inside a mapping field (``sites.cn.prices.h20``); otherwise the error lists
the nearest valid paths.
"""
from __future__ import annotations

import copy
import difflib
from typing import Any

import yaml
from pydantic import BaseModel

from .errors import InputError, Problem
from .loader import ScenarioLoader
from .schema import Scenario, _field, field_names, model_at, unwrap_annotation

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
        v = yaml.load(raw, Loader=ScenarioLoader)  # noqa: S506 - ScenarioLoader is a SafeLoader
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
                keys |= set(field_names(model))
            for k in sorted(keys):
                if k == "variants" and not prefix:
                    continue
                p = f"{prefix}.{k}" if prefix else k
                child = obj.get(k) if k in obj else None
                sub = model_at(tuple(p.split("."))) if model is not None or prefix else model_at((k,))
                out.append(p)
                walk(child, p, sub)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                p = f"{prefix}.{i}"
                out.append(p)
                walk(v, p, model_at(tuple(int(x) if x.isdigit() else x for x in p.split("."))))

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
                model = model_at(tuple(walked))
                # a new key is allowed as the last part inside a mapping field (sites.cn.prices.h20, fx.EUR);
                # the whole scenario is validated afterwards, so a wrong key is still named there
                new_key = model is None and last and _is_mapping_field(tuple(walked))
                if not new_key and (model is None or part not in field_names(model)):
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
    parent = model_at(loc[:-1]) if len(loc) > 1 else Scenario
    f = _field(parent, loc[-1]) if parent is not None else None
    # a union such as "number or mapping by period" counts as a mapping when a key follows
    return f is not None and get_origin(unwrap_annotation(f.annotation, [], part="key")) is dict


def _unknown_path(data: dict, path: str, file: str | None, origin: str) -> None:
    known = known_paths(data)
    close = difflib.get_close_matches(path, known, n=3, cutoff=0.5)
    hint = "nearest valid paths: " + ", ".join(close) if close else "e.g. chips.<id>.unit_price, sites.<id>.budget.amount"
    raise InputError([Problem(f"unknown path {path!r}", path=origin, hint=hint)], file=file)
