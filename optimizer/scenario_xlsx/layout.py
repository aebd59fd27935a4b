"""The scenario workbook layout, derived from the schema.

The parts of a workbook are found by walking the pydantic models of
:mod:`optimizer.schema`, so a field added to the schema appears in the layout
without a change here. The rules (each decided once):

- The scenario's own scalars, lists and nested models (``name``, ``periods``,
  ``buyer.headquarters``, ``budget.amount``, ``uncertainty.risk.measure``)
  are rows of **Settings** (``field``, ``value``); ``export_controls`` owns a
  sheet of its own laid out the same way (**Export controls**).
- A mapping of entities (``vendors``, ``chips``, ``sites``, ``leases``) is a
  table: one row per entity, column ``id`` first, then one column per field
  named as in YAML, nested fields dotted (``budget.amount``).
- A mapping directly under the scenario or under ``export_controls`` is a
  table of its own: key and value (**FX**, **Flexibility**, and the blocks
  ``export_controls.tiers``, ``export_controls.tier_rules``,
  ``export_controls.tpp_caps`` on the Export controls sheet); a list of
  records there is a table without ids (``export_controls.controlled_if``).
- A mapping inside a row (a value per period, ``price_by_period``,
  ``vendor_max_share``, ``budget.per_period``) spreads into columns (or
  Settings rows) named ``field.key``: ``capacity_units.2025q3``.
- Decisions by name: ``sites.<id>.prices`` is the **Prices** table (site,
  chip, price); licences are the **Licences** sheet (column ``id`` empty for
  a list, filled for a mapping ``id -> licence``); ``variants`` and
  ``uncertainty.outcomes`` are long tables of dotted path and value
  (**Variants**, **Outcomes**).

Each part is a *block*: an optional title row, a header row, data rows. In
the one-sheet-per-part form a sheet's first block has no title (its header is
row 1) and further blocks on the sheet are titled; in the *stacked* form
(one sheet, ``Inputs``) every block is titled.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..schema import Scenario, unwrap_annotation

STACKED_SHEET = "Inputs"
README_SHEET = "Read me"
LISTS_SHEET = "Lists"
IGNORED_SHEETS = (README_SHEET, LISTS_SHEET)  # written for people and drop-downs, never read

# ---- decisions by name (everything else follows from the schema) ----
# part -> sheet title, where the default (the field name capitalised, or the dotted path) will not do
TITLES: dict[tuple, str] = {
    ("fx",): "FX",
    ("sites", "prices"): "Prices",
    ("export_controls", "licenses"): "Licences",
    ("uncertainty", "outcomes"): "Outcomes",
}
# models whose scalars are field/value rows on a sheet of their own
OWNERS: dict[tuple, str] = {(): "Settings", ("export_controls",): "Export controls"}
# a mapping inside each entity that is a long table instead of keyed columns
LONG_FORM: dict[tuple, tuple[str, str, str]] = {("sites", "prices"): ("site", "chip", "price")}
# key and value column names of key/value tables
PAIR_COLUMNS: dict[tuple, tuple[str, str]] = {
    ("fx",): ("currency", "rate"),
    ("flexibility",): ("architecture", "multiplier"),
    ("export_controls", "tiers"): ("country", "tier"),
    ("export_controls", "tier_rules"): ("tier", "rule"),
    ("export_controls", "tpp_caps"): ("country", "tpp_cap"),
}
# the id column of a table of changes (dotted path -> value)
CHANGE_IDS: dict[tuple, str] = {("variants",): "variant", ("uncertainty", "outcomes"): "outcome"}
# mappings keyed by period (named in the Read me; the columns follow the order of periods)
PERIOD_KEYED = frozenset({"capacity_units", "power_mw", "per_period", "price_by_period"})
# a field with this name names an entity of this part (drop-downs in the template)
REFERENCES: dict[str, tuple] = {"vendor": ("vendors",), "chip": ("chips",), "site": ("sites",), "architecture": ("flexibility",)}

FIELD, VALUE, ID, PATH = "field", "value", "id", "path"


@dataclass(frozen=True)
class Leaf:
    """A value a cell can hold, at ``rel`` below its row (or owner): a scalar, a list, or a mapping's values."""

    rel: tuple[str, ...]
    ann: Any = None  # the scalar (or list) annotation, unwrapped; None when only keyed values exist
    meta: tuple = ()
    key_ann: Any = None  # keyed: the mapping's key and value annotations
    value_ann: Any = None
    value_meta: tuple = ()
    info: FieldInfo | None = None

    @property
    def name(self) -> str:
        return ".".join(self.rel)

    @property
    def scalar(self) -> bool:
        return self.ann is not None

    @property
    def keyed(self) -> bool:
        return self.value_ann is not None

    @property
    def is_list(self) -> bool:
        return get_origin(self.ann) is list


@dataclass(frozen=True)
class Part:
    """One block of the layout.

    kind: ``fields`` (field, value rows), ``table`` (one row per record),
    ``pairs`` (key, value), ``long`` (entity, key, value: Prices) or
    ``changes`` (id, the record's scalars, path, value: Variants, Outcomes).
    """

    kind: str
    path: tuple  # where its data lives in the scenario: (), ("chips",), ("export_controls", "tiers"), ("sites", "prices")
    title: str  # block title, and the sheet's name for a sheet's first block
    sheet: str  # the sheet it is on in the one-sheet-per-part form
    model: Any = None  # the record model (table, changes) or owner model (fields)
    id_column: str | None = None  # table/changes: the id column; None for a list of records
    optional_id: bool = False  # table: a list (ids empty) or a mapping (ids filled)
    columns: tuple[str, ...] = ()  # pairs / long: fixed column names
    leaves: tuple[Leaf, ...] = ()  # fields / table / changes: the values of a record
    key_ann: Any = None  # pairs / long: key annotation
    value_ann: Any = None
    value_meta: tuple = ()

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def main(self) -> bool:
        """The sheet's first block (untitled in the one-sheet-per-part form)."""
        return self.title == self.sheet


def _unwrap(ann: Any, part: Any = None) -> tuple[Any, tuple]:
    meta: list = []
    out = unwrap_annotation(ann, meta, part)
    return out, tuple(meta)


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _is_record(ann: Any) -> bool:
    """A value that needs a row of its own: a model, a mapping or list, or Any."""
    return _is_model(ann) or get_origin(ann) in (dict, list) or ann is Any


def model_fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """(name as written in a scenario file, field) in schema order."""
    return [(f.alias or name, f) for name, f in model.model_fields.items()]


def walk(model: type[BaseModel], prefix: tuple = (), skip: frozenset = frozenset()) -> tuple[list[Leaf], list[tuple[tuple, Any, Any]]]:
    """The leaves of ``model`` (nested models flattened) and the fields that need parts of their own.

    ``skip`` holds relative paths to leave out. Sub-parts are (relative path,
    field annotation, its shape): ``("changes", None)``, ``("dict", value)``,
    ``("list", element)``.
    """
    leaves: list[Leaf] = []
    subs: list[tuple[tuple, Any, Any]] = []
    for name, f in model_fields(model):
        rel = prefix + (name,)
        if rel in skip:
            continue
        one, meta = _unwrap(f.annotation)
        meta = tuple(f.metadata) + meta  # pydantic keeps a field's own constraints (Country's pattern) here
        keyed, _ = _unwrap(f.annotation, "key")
        if _is_model(one):
            more, more_subs = walk(one, rel, skip)
            leaves += more
            subs += more_subs
            continue
        if get_origin(one) is list:
            elem, _ = _unwrap(get_args(one)[0])
            if _is_record(elem):
                subs.append((rel, f.annotation, ("list", elem)))
            else:
                leaves.append(Leaf(rel, one, meta, info=f))
            continue
        if get_origin(one) is dict:
            k_ann, _ = _unwrap(get_args(one)[0])
            v_ann, v_meta = _unwrap(get_args(one)[1])
            if get_origin(v_ann) is dict and _unwrap(get_args(v_ann)[1])[0] is Any:
                subs.append((rel, f.annotation, ("changes", None)))  # name -> {dotted path: value}: variants
            elif _is_record(v_ann):
                subs.append((rel, f.annotation, ("dict", v_ann)))
            else:
                leaves.append(Leaf(rel, None, (), k_ann, v_ann, v_meta, info=f))
            continue
        if get_origin(keyed) is dict:  # a number, or a mapping {period: number}
            k_ann, _ = _unwrap(get_args(keyed)[0])
            v_ann, v_meta = _unwrap(get_args(keyed)[1])
            leaves.append(Leaf(rel, one, meta, k_ann, v_ann, v_meta, info=f))
            continue
        leaves.append(Leaf(rel, one, meta, info=f))
    return leaves, subs


def _title(path: tuple, own_sheet: bool) -> str:
    if path in TITLES:
        return TITLES[path]
    if own_sheet:
        return path[-1].replace("_", " ").capitalize()
    return ".".join(path)


def _changes_field(model: type[BaseModel]) -> str | None:
    """The name of a model's field that maps dotted paths to any value (an outcome's ``changes``)."""
    for name, f in model_fields(model):
        one, _ = _unwrap(f.annotation)
        if get_origin(one) is dict and _unwrap(get_args(one)[1])[0] is Any:
            return name
    return None


@functools.cache
def parts(root: type[BaseModel] = Scenario) -> tuple[Part, ...]:
    """Every part of the layout of ``root`` (the scenario): sheets in schema order, each sheet's main block first."""
    out: list[Part] = []
    _owner((), root, out)
    titles = [p.title for p in out]
    dupes = sorted({t for t in titles if titles.count(t) > 1})
    if dupes:  # pragma: no cover - a schema change that needs a decision in TITLES
        raise RuntimeError(f"two parts of the scenario layout are titled {dupes}; name them in layout.TITLES")
    return tuple(out)


def _owner(path: tuple, model: type[BaseModel], out: list[Part]) -> None:
    """A model whose leaves are field/value rows on its own sheet, followed by the parts found below it."""
    sheet = OWNERS[path]
    rows: list[Leaf] = []
    found: list[Part] = []
    _collect(path, model, (), rows, found)
    out.append(Part("fields", path, sheet, sheet, model=model, leaves=tuple(rows)))
    out.extend(found)


def _collect(owner: tuple, model: type[BaseModel], prefix: tuple, rows: list[Leaf], found: list[Part]) -> None:
    leaves, subs = walk(model, prefix, skip=frozenset(p[len(owner):] for p in OWNERS if len(p) > len(owner)
                                                      and p[: len(owner)] == owner))
    sub_at = {rel: (ann, shape) for rel, ann, shape in subs}
    # keep schema order: walk the fields again and emit rows, parts and nested owners as met
    for lf_or_rel in _in_order(model, prefix, leaves, subs, owner):
        if isinstance(lf_or_rel, Leaf):
            lf = lf_or_rel
            path = owner + lf.rel
            if lf.keyed and not lf.scalar and len(lf.rel) == 1:  # a mapping of scalars right under its owner
                own = owner == ()
                title = _title(path, own)
                k, v = PAIR_COLUMNS.get(path, ("key", "value"))
                found.append(Part("pairs", path, title, title if own else OWNERS[owner], columns=(k, v),
                                  key_ann=lf.key_ann, value_ann=lf.value_ann, value_meta=lf.value_meta))
            else:
                rows.append(lf)
        elif owner + lf_or_rel in OWNERS:
            sub_path = owner + lf_or_rel
            f = _field_at(model, lf_or_rel[len(prefix):])
            _owner(sub_path, _unwrap(f.annotation)[0], found)
        else:
            ann, (shape, inner) = sub_at[lf_or_rel]
            found.extend(_record_parts(owner, owner + lf_or_rel, ann, shape, inner))


def _field_at(model: type[BaseModel], rel: tuple) -> FieldInfo:
    f = None
    for r in rel:
        f = dict(model_fields(model))[r]
        model = _unwrap(f.annotation)[0]
    return f


def _in_order(model, prefix, leaves, subs, owner) -> list:
    """Leaves, sub-part paths and nested owners of ``model`` in schema field order."""
    rank: dict[tuple, int] = {}

    def number(m: type[BaseModel], pre: tuple) -> None:
        for name, f in model_fields(m):
            rank[pre + (name,)] = len(rank)
            one = _unwrap(f.annotation)[0]
            if _is_model(one):
                number(one, pre + (name,))

    number(model, prefix)
    owners = [p[len(owner):] for p in OWNERS if len(p) == len(owner) + 1 and p[: len(owner)] == owner]
    items: list = list(leaves) + [rel for rel, _, _ in subs] + owners
    return sorted(items, key=lambda x: rank[x.rel if isinstance(x, Leaf) else x])


def _record_parts(owner: tuple, path: tuple, ann: Any, shape: str, inner: Any) -> list[Part]:
    """The table (and its long-form tables) or the table of changes for a mapping or list of records."""
    own = owner == () or path in TITLES
    title = _title(path, own)
    sheet = title if own else OWNERS[owner]
    if shape == "changes":
        return [Part("changes", path, title, sheet, id_column=CHANGE_IDS.get(path, ID), columns=(PATH, VALUE))]
    if not _is_model(inner):  # pragma: no cover - a mapping of mappings: needs a decision
        raise RuntimeError(f"{'.'.join(path)}: a mapping of mappings needs a layout decision")
    changes = _changes_field(inner)
    if changes:
        leaves, _ = walk(inner, (), frozenset({(changes,)}))
        return [Part("changes", path, title, sheet, model=inner, id_column=CHANGE_IDS.get(path, ID),
                     columns=(PATH, VALUE), leaves=tuple(leaves))]
    long = {lf[len(path):]: cols for lf, cols in LONG_FORM.items() if lf[: len(path)] == path}
    leaves, subs = walk(inner, (), frozenset(long))
    if subs:  # pragma: no cover - a schema change that needs a decision
        raise RuntimeError(f"{'.'.join(path)}: records with tables inside {[s[0] for s in subs]} need a layout decision")
    listed = get_origin(_unwrap(ann, 0)[0]) is list
    keyed = get_origin(_unwrap(ann, "key")[0]) is dict
    out = [Part("table", path, title, sheet, model=inner, id_column=ID if keyed else None,
                optional_id=listed and keyed, leaves=tuple(leaves))]
    for rel, cols in long.items():
        d = _unwrap(_field_at(inner, rel).annotation)[0]
        v_ann, v_meta = _unwrap(get_args(d)[1])
        t = _title(path + rel, True)
        out.append(Part("long", path + rel, t, t, columns=cols, key_ann=_unwrap(get_args(d)[0])[0],
                        value_ann=v_ann, value_meta=v_meta))
    return out


def owned(part: Part) -> list[tuple[str, Part]]:
    """(label, part) of the tables below a field/value part that it owns (not a nested owner's, not Prices).

    An empty one that differs from its default (licences as an empty mapping,
    where the default is an empty list) is written as a row of its owner:
    field ``licenses``, value ``{}``.
    """
    if part.kind != "fields":
        return []

    def owner_of(path: tuple) -> tuple:
        return max((o for o in OWNERS if path[: len(o)] == o), key=len)

    return [(".".join(p.path[len(part.path):]), p) for p in parts()
            if p.kind not in ("fields", "long") and owner_of(p.path) == part.path]


def field_default(path: tuple, root: type[BaseModel] = Scenario) -> Any:
    """The default of the field at ``path`` (no entity keys in it), or None."""
    from pydantic_core import PydanticUndefined

    model: Any = root
    f = None
    for name in path:
        if not _is_model(model):
            return None
        f = dict(model_fields(model)).get(name)
        if f is None:
            return None
        model = _unwrap(f.annotation)[0]
    if f is None:
        return None
    if f.default_factory is not None:
        return f.default_factory()
    return None if f.default is PydanticUndefined else f.default


def by_title() -> dict[str, Part]:
    return {p.title: p for p in parts()}


def sheet_names() -> list[str]:
    """Sheet names of the one-sheet-per-part form, in order."""
    out: list[str] = []
    for p in parts():
        if p.sheet not in out:
            out.append(p.sheet)
    return out


def part_for_path(path: tuple) -> Part | None:
    for p in parts():
        if p.path == path:
            return p
    return None


@dataclass
class Columns:
    """The columns of a record table (or rows of a fields part) for some data."""

    names: list[str] = field(default_factory=list)
    targets: list[tuple[Leaf, str | None]] = field(default_factory=list)  # (leaf, key) per column


def leaf_columns(leaves: tuple[Leaf, ...], records: list[dict], order: list[str] | None = None) -> Columns:
    """Every scalar leaf, then a column ``field.key`` per key the records use, keys in ``order`` first."""
    cols = Columns()
    rank = {k: i for i, k in enumerate(order or [])}
    for lf in leaves:
        if lf.scalar:
            cols.names.append(lf.name)
            cols.targets.append((lf, None))
        if lf.keyed:
            seen: list[str] = []
            for rec in records:
                v = get_in(rec, lf.rel)
                if isinstance(v, dict):
                    for k in v:
                        if str(k) not in seen:
                            seen.append(str(k))
            seen.sort(key=lambda k: (rank.get(k, len(rank)), 0))
            for k in seen:
                cols.names.append(f"{lf.name}.{k}")
                cols.targets.append((lf, k))
    return cols


def get_in(obj: Any, rel: tuple) -> Any:
    for r in rel:
        if not isinstance(obj, dict) or r not in obj:
            return None
        obj = obj[r]
    return obj


def resolve(leaves: tuple[Leaf, ...], name: str) -> tuple[Leaf, str | None] | None:
    """The leaf (and key) a column header or field label names, or None."""
    rel = tuple(name.split("."))
    for lf in leaves:
        if lf.scalar and lf.rel == rel:
            return lf, None
        if lf.keyed and len(rel) == len(lf.rel) + 1 and rel[:-1] == lf.rel and rel[-1]:
            return lf, rel[-1]
    return None


def known_names(leaves: tuple[Leaf, ...]) -> list[str]:
    out = []
    for lf in leaves:
        if lf.scalar:
            out.append(lf.name)
        if lf.keyed:
            out.append(f"{lf.name}.<key>")
    return out


def header(part: Part) -> list[str] | None:
    """Fixed header of a part (None for record tables, whose columns follow the data)."""
    if part.kind == "fields":
        return [FIELD, VALUE]
    if part.kind in ("pairs", "long"):
        return list(part.columns)
    return None
