"""The workbook layout is derived from the schema: its parts, columns, and what a new field does to it."""
from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from optimizer import schema
from optimizer.scenario_xlsx import layout as L


def _summary(root=schema.Scenario):
    return [(p.kind, p.title, p.sheet, p.dotted) for p in L.parts(root)]


def test_the_parts_in_order_with_their_sheets():
    assert _summary() == [
        ("fields", "Settings", "Settings", ""),
        ("pairs", "FX", "FX", "fx"),
        ("pairs", "Flexibility", "Flexibility", "flexibility"),
        ("table", "Vendors", "Vendors", "vendors"),
        ("table", "Chips", "Chips", "chips"),
        ("table", "Sites", "Sites", "sites"),
        ("long", "Prices", "Prices", "sites.prices"),
        ("table", "Leases", "Leases", "leases"),
        ("fields", "Export controls", "Export controls", "export_controls"),
        ("table", "export_controls.controlled_if", "Export controls", "export_controls.controlled_if"),
        ("pairs", "export_controls.tiers", "Export controls", "export_controls.tiers"),
        ("pairs", "export_controls.tier_rules", "Export controls", "export_controls.tier_rules"),
        ("pairs", "export_controls.tpp_caps", "Export controls", "export_controls.tpp_caps"),
        ("table", "Licences", "Licences", "export_controls.licenses"),
        ("changes", "Outcomes", "Outcomes", "uncertainty.outcomes"),
        ("changes", "Variants", "Variants", "variants"),
    ]
    assert L.sheet_names() == ["Settings", "FX", "Flexibility", "Vendors", "Chips", "Sites", "Prices", "Leases",
                               "Export controls", "Licences", "Outcomes", "Variants"]


def _names(title: str) -> list[str]:
    part = L.by_title()[title]
    return [lf.name + ("*" if lf.keyed else "") for lf in part.leaves]


def test_settings_rows_flatten_nested_models_and_leave_out_what_has_a_part():
    assert _names("Settings") == [
        "schema_version", "name", "description", "currency", "integer_units", "periods", "objective",
        "buyer.name", "buyer.headquarters", "budget.amount", "budget.currency", "budget.per_period*",
        "uncertainty.revealed", "uncertainty.refund_on_denial", "uncertainty.risk.measure", "uncertainty.risk.alpha",
        "uncertainty.risk.weight",
    ]


def test_entity_columns_are_the_yaml_field_names_with_dotted_nested_fields():
    assert _names("Sites") == ["name", "country", "budget.amount", "budget.currency", "budget.per_period*",
                               "domestic_min_share", "domestic_basis", "power_mw*", "chips", "vendor_max_share*"]
    # licences: the alias 'from' as in YAML; ids optional (a list or a mapping)
    lic = L.by_title()["Licences"]
    assert _names("Licences") == ["chip", "country", "status", "note", "from", "until"]
    assert lic.id_column == "id" and lic.optional_id
    assert L.by_title()["export_controls.controlled_if"].id_column is None
    assert L.by_title()["Outcomes"].id_column == "outcome" and _names("Outcomes") == ["probability", "description"]
    assert L.by_title()["Variants"].id_column == "variant"


def test_a_value_per_period_is_both_one_value_and_keyed():
    cap = next(lf for lf in L.by_title()["Vendors"].leaves if lf.name == "capacity_units")
    assert cap.scalar and cap.keyed and cap.ann is float and cap.value_ann is float
    share = next(lf for lf in L.by_title()["Sites"].leaves if lf.name == "vendor_max_share")
    assert not share.scalar and share.keyed


def test_resolve_names_a_leaf_and_its_key():
    leaves = L.by_title()["Vendors"].leaves
    lf, key = L.resolve(leaves, "capacity_units.2025q3")
    assert lf.name == "capacity_units" and key == "2025q3"
    assert L.resolve(leaves, "capacity_units")[1] is None
    assert L.resolve(leaves, "origin.x") is None  # not a mapping
    assert L.resolve(leaves, "capacity_units.") is None
    assert L.resolve(leaves, "capacity") is None
    sites = L.by_title()["Sites"].leaves
    assert L.resolve(sites, "budget.per_period.h1")[1] == "h1"
    assert L.resolve(sites, "vendor_max_share") is None  # only per key
    assert L.resolve(sites, "prices.h20") is None  # on the Prices sheet


def test_keyed_columns_follow_the_order_of_periods_then_first_seen():
    leaves = L.by_title()["Vendors"].leaves
    recs = [{"capacity_units": {"q3": 1, "x": 2, "q1": 3}}, {"capacity_units": {"q2": 4}}]
    cols = L.leaf_columns(leaves, recs, order=["q1", "q2", "q3"])
    keyed = [n for n in cols.names if n.startswith("capacity_units.")]
    assert keyed == ["capacity_units.q1", "capacity_units.q2", "capacity_units.q3", "capacity_units.x"]
    assert cols.names.index("capacity_units") + 1 == cols.names.index("capacity_units.q1")


# ---- a field added to the schema appears without a change to the layout


class _Chip2(schema.Chip):
    hbm_gb: Annotated[float, Field(gt=0)] | None = None


class _Audit(BaseModel):
    owner: str
    reviewed: bool = False


class _Scenario2(schema.Scenario):
    carbon_price: float | None = None
    audit: _Audit | None = None
    chips: dict[schema.Id, _Chip2] = Field(min_length=1)
    regions: dict[schema.Id, _Audit] = Field(default_factory=dict)
    weights: dict[schema.Id, float] = Field(default_factory=dict)
    mood: Literal["calm", "bold"] = "calm"


def test_new_fields_appear_in_the_layout():
    parts = {p.title: p for p in L.parts(_Scenario2)}
    settings = [lf.name for lf in parts["Settings"].leaves]
    assert {"carbon_price", "audit.owner", "audit.reviewed", "mood"} <= set(settings)
    assert "hbm_gb" in [lf.name for lf in parts["Chips"].leaves]
    assert parts["Regions"].kind == "table" and parts["Regions"].sheet == "Regions"
    assert [lf.name for lf in parts["Regions"].leaves] == ["owner", "reviewed"]
    assert parts["Weights"].kind == "pairs" and parts["Weights"].columns == ("key", "value")


def test_a_shape_that_needs_a_decision_is_refused_at_import_not_guessed():
    class Deep(schema.Scenario):
        nested: dict[schema.Id, dict[schema.Id, float]] = Field(default_factory=dict)

    with pytest.raises(RuntimeError, match="mapping of mappings"):
        L.parts(Deep)


def test_header_of_fixed_parts():
    assert L.header(L.by_title()["Settings"]) == ["field", "value"]
    assert L.header(L.by_title()["FX"]) == ["currency", "rate"]
    assert L.header(L.by_title()["Prices"]) == ["site", "chip", "price"]
    assert L.header(L.by_title()["export_controls.tier_rules"]) == ["tier", "rule"]
    assert L.header(L.by_title()["Chips"]) is None
    assert L.by_title()["export_controls.tier_rules"].key_ann is int


def test_every_field_of_the_schema_has_a_place():
    """Walk every model the scenario holds: each field is a leaf, a part, or inside one."""
    places = set()
    for p in L.parts():
        places.add(p.path)
        for lf in p.leaves:
            places.add(p.path + lf.rel)
    # all field paths with entity keys replaced by '*' and records' fields appended
    missing = []

    from typing import get_args, get_origin

    seen_fields = []

    def visit(model: type[BaseModel], path: tuple) -> None:
        for name, f in L.model_fields(model):
            here = path + (name,)
            one, _ = L._unwrap(f.annotation)
            if L._is_model(one):
                visit(one, here)
                continue
            inner = None
            if get_origin(one) is dict:
                inner = L._unwrap(get_args(one)[1])[0]
            elif get_origin(one) is list:
                inner = L._unwrap(get_args(one)[0])[0]
            if L._is_model(inner):
                visit(inner, here)  # the records' own fields, e.g. chips.vendor
                continue
            seen_fields.append(here)
            if not any(_matches(here, q) for q in places):
                missing.append(".".join(here))

    visit(schema.Scenario, ())
    assert missing == []
    assert ("chips", "unit_price") in seen_fields and ("export_controls", "licenses", "from") in seen_fields
    assert ("uncertainty", "outcomes", "changes") in seen_fields and len(seen_fields) > 80


def _matches(path: tuple, place: tuple) -> bool:
    """A schema path (no entity keys) is at ``place`` or under a part whose records carry it."""
    for p in L.parts():
        n = len(p.path)
        if path[:n] == p.path and (path[n:] in {lf.rel for lf in p.leaves} or len(path) == n):
            return True
        if p.kind == "changes" and path[:n] == p.path and path[n:] == ("changes",):
            return True
        if p.kind == "long" and path == p.path:
            return True
    return path == place


def test_titles_are_unique_and_references_name_parts():
    titles = [p.title for p in L.parts()]
    assert len(titles) == len(set(titles))
    for target in L.REFERENCES.values():
        assert L.part_for_path(target) is not None
    assert L.part_for_path(("nope",)) is None
    assert Any  # (typing import used by the models above)
