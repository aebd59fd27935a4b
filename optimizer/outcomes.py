"""The scenario of each outcome of ``uncertainty``: the base with that outcome's changes (pure, no I/O).

Changes use the dotted paths of ``variants`` and ``--set``; each outcome's scenario is validated
again as a whole. An outcome may change values and licences, but not add or remove periods, sites,
chips, vendors or leases.
"""
from __future__ import annotations

from .errors import InputError, Problem
from .schema import Scenario

ENTITIES = ("sites", "chips", "vendors", "leases")


def entity_changes(base: Scenario, other: Scenario) -> list[str]:
    """What ``other`` adds or removes compared with ``base`` (periods and entity ids), as messages."""
    out = []
    if list(base.period_ids) != list(other.period_ids):
        out.append("periods: an outcome cannot change the periods")
    for part in ENTITIES:
        a, b = set(getattr(base, part)), set(getattr(other, part))
        for x in sorted(b - a):
            out.append(f"{part}.{x}: an outcome cannot add a {part[:-1]}")
        for x in sorted(a - b):
            out.append(f"{part}.{x}: an outcome cannot remove a {part[:-1]}")
    return out


def outcome_scenarios(s: Scenario, data: dict | None = None, file: str | None = None) -> dict[str, Scenario]:
    """Validated scenario per outcome, in file order. ``data``: the base's raw data (else dumped from ``s``)."""
    from .overrides import set_path
    from .validate import validate_data

    if s.uncertainty is None:
        return {}
    raw = data if data is not None else s.model_dump(mode="python", by_alias=True)
    out: dict[str, Scenario] = {}
    for name, o in s.uncertainty.outcomes.items():
        d = raw
        origin = f"uncertainty.outcomes.{name}.changes"
        for path, value in o.changes.items():
            d = set_path(d, str(path), value, file=file, origin=origin)
        d = dict(d)
        d.pop("uncertainty", None)  # an outcome is one world: no outcomes of its own
        try:
            sc = validate_data(d, file=file)
        except InputError as e:
            raise InputError([Problem(f"in outcome {name}: {p.message}", path=p.path or origin, hint=p.hint)
                              for p in e.problems], file=file) from None
        bad = entity_changes(s, sc)
        if bad:
            raise InputError([Problem(m, path=origin) for m in bad], file=file)
        out[name] = sc
    return out
