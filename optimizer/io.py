"""Load a scenario: read the file, apply variants and ``--set``, validate.

The entry point for everything that takes a scenario. The work is split by
what it owns: :mod:`optimizer.loader` (safe reading and parsing),
:mod:`optimizer.overrides` (dotted-path changes) and :mod:`optimizer.validate`
(schema and cross-checks with located messages). Their public names are
re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, Problem
from .loader import MAX_EXPANDED_NODES, MAX_FILE_BYTES, Source, read_source  # noqa: F401 - re-exported
from .overrides import known_paths, parse_assignment, parse_value, set_path  # noqa: F401 - re-exported
from .schema import SCHEMA_VERSION, Scenario
from .validate import MAX_MAGNITUDE, MIN_MAGNITUDE, problems_from_validation, validate_data  # noqa: F401 - re-exported

__all__ = [
    "Loaded", "load", "Source", "read_source", "MAX_FILE_BYTES", "MAX_EXPANDED_NODES",
    "set_path", "parse_assignment", "parse_value", "known_paths",
    "validate_data", "problems_from_validation", "MAX_MAGNITUDE", "MIN_MAGNITUDE",
]

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
