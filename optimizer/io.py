"""Load a scenario: read the file, apply variants and ``--set``, validate, build the outcomes.

The entry point for everything that takes a scenario. The work is split by
what it owns: :mod:`optimizer.loader` (safe reading and parsing),
:mod:`optimizer.overrides` (dotted-path changes), :mod:`optimizer.validate`
(schema and cross-checks with located messages) and :mod:`optimizer.outcomes`
(the scenario of each outcome). Their public names are re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, Problem, ScenarioWarning, place
from .loader import MAX_EXPANDED_NODES, MAX_FILE_BYTES, Source, read_source  # noqa: F401 - re-exported
from .outcomes import build as build_outcomes  # noqa: F401 - re-exported
from .overrides import (  # noqa: F401 - re-exported
    complement_of, known_paths, parse_assignment, parse_value, replaced, set_path,
)
from .schema import SCHEMA_VERSION, Scenario
from .validate import (  # noqa: F401 - re-exported
    MAX_MAGNITUDE, MIN_MAGNITUDE, Origin, problems_from_validation, scenario_warnings, validate_data,
)

__all__ = [
    "Loaded", "load", "check", "build_outcomes", "Source", "read_source", "MAX_FILE_BYTES", "MAX_EXPANDED_NODES",
    "set_path", "parse_assignment", "parse_value", "known_paths", "replaced",
    "validate_data", "problems_from_validation", "MAX_MAGNITUDE", "MIN_MAGNITUDE", "Origin",
]


@dataclass
class Loaded:
    """A validated scenario with where it came from, what was applied to it, and what to say about it.

    ``outcomes`` holds one validated scenario per ``uncertainty.outcomes``
    entry, in file order: the base data (after variants and ``--set``) with
    that outcome's ``changes`` applied, without the ``uncertainty`` block.
    ``data`` is that base data.
    """

    scenario: Scenario
    source: Source
    applied: list[dict] = field(default_factory=list)
    warnings: list[ScenarioWarning] = field(default_factory=list)
    outcomes: dict[str, Scenario] = field(default_factory=dict)
    data: dict = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return self.source.path


def load(path: str | Path, variants: list[str] | tuple = (), sets: list[str] | tuple = ()) -> Loaded:
    """Read, apply variants then ``--set`` overrides, validate, build the outcomes. Raises InputError.

    A message about a value that a variant, an outcome or ``--set`` supplied
    names that change (for a variant, ``variants.<name>.<path>`` at its line;
    for ``--set``, in the hint) instead of the line of the value it replaced.
    """
    return _load(read_source(path), variants, sets)


def check(path: str | Path) -> Loaded:
    """What ``chipalloc validate`` checks: the file, every outcome, and every variant applied alone.

    Returns the base scenario loaded (with its warnings); raises one
    InputError with the problems of the base, or else of all variants.
    """
    src = read_source(path)
    base = _load(src, (), ())
    problems: list[Problem] = []
    table = base.data.get("variants") or {}
    for name in table:
        try:
            _load(src, [str(name)], ())
        except InputError as e:
            line = src.where(("variants", name))
            said = f"with variant {name}" + (f" at {place(line)}" if line else "")
            for p in e.problems:
                if not p.path.startswith(f"variants.{name}"):  # a problem elsewhere that the variant causes
                    p = Problem(p.message, path=p.path, line=p.where, hint="; ".join(x for x in (p.hint, said) if x))
                problems.append(p)
    if problems:
        raise InputError(problems, file=src.path)
    return base


def _load(src: Source, variants, sets) -> Loaded:
    if "schema_version" not in src.data:
        raise InputError(
            [Problem(f"required field is missing; add schema_version: {SCHEMA_VERSION} at the top", path="schema_version")],
            file=src.path,
        )
    data, applied, overrides = _apply(src, variants, sets)
    sc = validate_data(data, src, file=src.path, overrides=overrides)
    outcomes, said = build_outcomes(data, sc, src, overrides)
    return Loaded(sc, src, applied, scenario_warnings(sc, src, data) + said, outcomes, data)


def _apply(src: Source, variants, sets) -> tuple[dict, list[dict], dict[str, Origin]]:
    """Apply the named variants, then ``--set``: (data, applied records, origin of each overridden path)."""
    data = src.data
    applied: list[dict] = []
    overrides: dict[str, Origin] = {}
    probabilities: dict[str, Any] = {}  # outcome probabilities set explicitly, to check they still hold

    def note(p: str, origin: Origin) -> None:
        overrides.pop(p, None)  # the change applied last is the one a message names
        overrides[p] = origin

    for name in variants:
        table = data.get("variants") or {}
        if not isinstance(table, dict) or name not in table:
            known = ", ".join(sorted(map(str, table))) if isinstance(table, dict) and table else "none defined"
            raise InputError([Problem(f"unknown variant {name!r}; known variants: {known}", path="variants")], file=src.path)
        body = table[name]
        within = ("variants", name)
        if not isinstance(body, dict):
            raise InputError(
                [Problem("a variant is a mapping of dotted path to value", path=f"variants.{name}",
                         line=src.where(within))], file=src.path,
            )
        entry: dict = {"variant": name, "changes": {str(k): v for k, v in body.items()}}
        for p, v in body.items():
            p = str(p)
            line = src.where(within + (p,))
            was = replaced(data, p)
            data = set_path(data, p, v, file=src.path, origin=f"variants.{name}", line=line, within=within)
            note(p, Origin(f"variant {name}", line, within))
            _record(entry, data, p, v, was, probabilities, overrides[p])
        applied.append(entry)
    for item in sets:
        p, v = parse_assignment(item)
        was = replaced(data, p)
        data = set_path(data, p, v, file=src.path, origin="--set")
        note(p, Origin(f"--set {item.strip()}"))
        entry = {"set": p, "value": v}
        _record(entry, data, p, v, was, probabilities, overrides[p])
        applied.append(entry)
    _check_probabilities(data, probabilities, src)
    return data, applied, overrides


def _record(entry: dict, data: dict, p: str, v: Any, was: str | None, probabilities: dict, origin: Origin) -> None:
    """Say in an applied record what a change replaced whole, and what it set besides its own path."""
    if was is not None:
        if "variant" in entry:
            entry.setdefault("replaces", {})[p] = was
        else:
            entry["replaces"] = was
    others = complement_of(data, p, v)
    if others:
        probabilities[p] = (v, origin)
        for other in others:
            got = data["uncertainty"]["outcomes"][other.split(".")[2]].get("probability")
            entry.setdefault("also_set", {})[other] = got


def _check_probabilities(data: dict, probabilities: dict[str, tuple[Any, Origin]], src: Source) -> None:
    """Two outcome probabilities set explicitly must both survive (each sets the other to the rest)."""
    if len(probabilities) < 2:
        return
    unc = data.get("uncertainty")
    outcomes = unc.get("outcomes") if isinstance(unc, dict) else None
    if not isinstance(outcomes, dict):
        return  # replaced by a later override: validation speaks for it
    for p, (v, origin) in probabilities.items():
        o = outcomes.get(p.split(".")[2])
        now = o.get("probability") if isinstance(o, dict) else v
        if now != v:
            values = ", ".join(f"{q}={w!r}" for q, (w, _) in probabilities.items())
            where = ".".join(map(str, origin.within + (p,))) if origin.within else p
            hint = "" if origin.within else f"the value came from {origin.text}"
            raise InputError(
                [Problem(f"the probabilities set for the outcomes ({values}) do not sum to 1; set one of them "
                         "(the others are rescaled to the rest) or values that sum to 1", path=where,
                         line=origin.line, hint=hint)], file=src.path,
            )
