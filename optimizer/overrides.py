"""Overrides: ``--set PATH=VALUE`` and named variants, by dotted path.

Each override returns a new copy of the raw scenario data (nothing is changed
in place); the caller validates the result again as a whole. A path must name
a value in the file, a field the schema knows for an existing entity, or a new
key inside a mapping field (``sites.cn.prices.h20``); otherwise the error lists
the nearest valid paths.

Two rules make overrides say what they do:

- a path whose value in the data is a non-empty list or mapping replaces it
  whole; :func:`replaced` describes what is replaced ("list of 4 licences")
  so that the caller can say so;
- setting one outcome's probability to p (0 <= p <= 1) rescales every other
  outcome's probability in proportion so that they sum to ``1 - p`` (with two
  outcomes: the other becomes the rest), so ``--set``/``--vary`` of one
  probability keeps the sum at 1; a what-if may take it to 0 or 1.
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


def set_path(
    data: dict, path: str, value: Any, file: str | None = None, origin: str = "--set",
    line: int | None = None, within: tuple = (),
) -> dict:
    """Return a deep copy of ``data`` with ``path`` set to ``value``.

    The path must exist in the file or be a field the schema knows for an
    existing entity; otherwise InputError lists the nearest valid paths. The
    error names ``origin`` (``--set``); for a change written in the file
    (a variant, an outcome) give ``within``, the location of its table, and
    ``line``: the error is then located at ``<within>.<path>``.
    """
    parts = path.split(".")
    new = copy.deepcopy(data)
    cur: Any = new
    walked: list[Any] = []

    def unknown() -> None:
        _unknown_path(data, path, file, origin, line=line, within=within)

    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key: Any = part
        if _is_changes_table(tuple(walked)) and isinstance(cur, dict):
            # an outcome's changes are keyed by whole dotted paths: the rest of the path is one key
            cur[".".join(parts[i:])] = value
            return new
        if isinstance(cur, list):
            if not part.isdigit() or int(part) >= len(cur):
                unknown()
            key = int(part)
        elif isinstance(cur, dict):
            if part not in cur:
                model = model_at(tuple(walked))
                # a new key is allowed as the last part inside a mapping field (sites.cn.prices.h20, fx.EUR);
                # the whole scenario is validated afterwards, so a wrong key is still named there
                new_key = model is None and last and _is_mapping_field(tuple(walked))
                if not new_key and (model is None or part not in field_names(model)):
                    unknown()
                if not last:
                    cur[part] = {}
        else:
            unknown()
        walked.append(key)
        if last:
            cur[key] = value
        else:
            if cur[key] is None:
                cur[key] = {}
            cur = cur[key]
    _complement_outcome(new, parts, value)
    return new


def _is_changes_table(loc: tuple) -> bool:
    """True at ``uncertainty.outcomes.<name>.changes`` (keys are dotted paths)."""
    return len(loc) == 4 and loc[:2] == ("uncertainty", "outcomes") and loc[3] == "changes"


def complement_of(data: dict, path: str, value: Any) -> list[str] | None:
    """The other outcomes' probability paths that setting ``path`` to ``value`` rescales, or None.

    That is when ``path`` is the probability of one of two or more outcomes and ``value`` is a
    number from 0 to 1 (any other value is left for validation to refuse).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return None
    parts = path.split(".")
    if len(parts) != 4 or parts[:2] != ["uncertainty", "outcomes"] or parts[3] != "probability":
        return None
    unc = data.get("uncertainty") if isinstance(data, dict) else None
    outcomes = unc.get("outcomes") if isinstance(unc, dict) else None
    if not isinstance(outcomes, dict) or len(outcomes) < 2 or parts[2] not in outcomes:
        return None
    others = [k for k in outcomes if k != parts[2]]
    if not all(isinstance(outcomes[k], dict) for k in others):
        return None
    return [f"uncertainty.outcomes.{k}.probability" for k in others]


def _complement_outcome(new: dict, parts: list[str], value: Any) -> None:
    """Setting one outcome's probability to p rescales the others in proportion to sum to 1 - p."""
    others = complement_of(new, ".".join(parts), value)
    if not others:
        return
    outcomes = new["uncertainty"]["outcomes"]
    names = [o.split(".")[2] for o in others]
    old = [outcomes[n].get("probability") for n in names]
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in old):
        return  # validation speaks for a probability that is not a number
    rest = 1.0 - float(value)
    total = float(sum(old))
    for n, x in zip(names, old):
        share = (x / total) if total > 0 else 1.0 / len(names)
        outcomes[n]["probability"] = float(f"{rest * share:.12g}")  # 1 - 0.7 is 0.30000000000000004


_NOUNS = {
    "licenses": ("licence", "licences"), "controlled_if": ("clause", "clauses"), "origins": ("country", "countries"),
    "headquarters_countries": ("country", "countries"), "periods": ("period", "periods"), "chips": ("chip", "chips"),
    "vendors": ("vendor", "vendors"), "sites": ("site", "sites"), "leases": ("lease", "leases"),
    "prices": ("price", "prices"), "fx": ("rate", "rates"), "flexibility": ("factor", "factors"),
    "tiers": ("tier", "tiers"), "tier_rules": ("rule", "rules"), "tpp_caps": ("cap", "caps"),
    "outcomes": ("outcome", "outcomes"), "changes": ("change", "changes"), "vendor_max_share": ("cap", "caps"),
    "capacity_units": ("period", "periods"), "power_mw": ("period", "periods"), "per_period": ("period", "periods"),
    "price_by_period": ("period", "periods"),
}


def replaced(data: dict, path: str) -> str | None:
    """What setting ``path`` replaces whole, e.g. "list of 4 licences", or None (a single value, or nothing).

    A variant or ``--set`` that gives a list or a mapping replaces the one in
    the file entirely (it is not merged): the caller says so.
    """
    cur: Any = data
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    if not isinstance(cur, (list, dict)) or not cur:
        return None
    n = len(cur)
    if isinstance(cur, dict) and model_at(tuple(int(x) if x.isdigit() else x for x in path.split("."))) is not None:
        # one entity or block (a chip, a budget): name the fields that go
        return f"mapping of {n} field{'' if n == 1 else 's'} ({', '.join(map(str, cur))})"
    one, many = _NOUNS.get(path.split(".")[-1], ("entry", "entries"))
    return f"{'list' if isinstance(cur, list) else 'mapping'} of {n} {one if n == 1 else many}"


def _is_mapping_field(loc: tuple) -> bool:
    """True when ``loc`` names a model field typed as a mapping (e.g. sites.<id>.prices, fx, flexibility)."""
    from typing import get_origin

    if not loc or not isinstance(loc[-1], str):
        return False
    parent = model_at(loc[:-1]) if len(loc) > 1 else Scenario
    f = _field(parent, loc[-1]) if parent is not None else None
    # a union such as "number or mapping by period" counts as a mapping when a key follows
    return f is not None and get_origin(unwrap_annotation(f.annotation, [], part="key")) is dict


def _unknown_path(
    data: dict, path: str, file: str | None, origin: str, line: int | None = None, within: tuple = (),
) -> None:
    known = known_paths(data)
    if within:  # a change inside the file cannot reach variants or uncertainty
        known = [k for k in known if not k.startswith(("variants", "uncertainty"))]
    close = difflib.get_close_matches(path, known, n=3, cutoff=0.5)
    hint = "nearest valid paths: " + ", ".join(close) if close else "e.g. chips.<id>.unit_price, sites.<id>.budget.amount"
    parts = path.split(".")
    ec = data.get("export_controls") if isinstance(data, dict) else None
    if (len(parts) > 2 and parts[:2] == ["export_controls", "licenses"] and not parts[2].isdigit()
            and isinstance(ec, dict) and isinstance(ec.get("licenses"), list)):
        hint += "; the licences are a list here: name one by its position (export_controls.licenses.0) or give them ids"
    if within:
        raise InputError([Problem("unknown path", path=".".join(map(str, within + (path,))), line=line, hint=hint)],
                         file=file)
    raise InputError([Problem(f"unknown path {path!r}", path=origin, hint=hint)], file=file)
