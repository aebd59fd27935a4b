"""Scenario schema, version 1: pydantic models, no I/O.

Every model is strict about unknown keys (``extra="forbid"``), frozen, and
rejects NaN and infinity. Cross-references (a chip's vendor, an architecture,
a licence's chip, a site price for an unknown chip, a currency missing from
``fx``) are checked once the whole scenario is parsed, with the dotted path of
the offending field in the error so the CLI can point at it.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=64)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Text = Annotated[str, StringConstraints(max_length=2000)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=False)


class Money(StrictModel):
    amount: PosFloat
    currency: Currency | None = None  # None: the scenario's reporting currency


class Vendor(StrictModel):
    name: Text | None = None
    origin: Country
    capacity_units: NonNegFloat | None = None
    delivery_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    max_share: Annotated[float, Field(gt=0.0, le=1.0)] | None = None


class Chip(StrictModel):
    vendor: Id
    model: Text | None = None
    architecture: Id
    int8_tops: PosFloat
    unit_price: PosFloat
    price_currency: Currency | None = None
    tpp: PosFloat | None = None
    die_area_mm2: PosFloat | None = None
    power_w: PosFloat | None = None
    min_units: NonNegFloat = 0.0
    max_units: NonNegFloat | None = None
    lot_size: Annotated[int, Field(ge=1, le=10_000_000)] = 1

    @model_validator(mode="after")
    def _min_le_max(self) -> "Chip":
        if self.max_units is not None and self.min_units > self.max_units:
            raise PydanticCustomError(
                "min_above_max",
                "min_units ({min_units:g}) is above max_units ({max_units:g}); lower min_units or raise max_units",
                {"min_units": self.min_units, "max_units": self.max_units, "field": "min_units"},
            )
        return self

    @property
    def display(self) -> str:
        return self.model or ""

    @property
    def tpp_value(self) -> float:
        """TPP: given, or 8 x dense INT8 TOPS (the 3A090 definition for 8-bit)."""
        return self.tpp if self.tpp is not None else 8.0 * self.int8_tops

    @property
    def density(self) -> float | None:
        if self.die_area_mm2 is None:
            return None
        return self.tpp_value / self.die_area_mm2


class Site(StrictModel):
    name: Text | None = None
    country: Country
    budget: Money | None = None
    domestic_min_share: Share | None = None
    domestic_basis: Literal["spend", "units", "tops"] = "spend"
    power_mw: PosFloat | None = None
    prices: dict[Id, PosFloat] = Field(default_factory=dict)


class ControlClause(StrictModel):
    tpp_min: PosFloat
    density_min: PosFloat | None = None


Decision = Literal["allow", "cap", "deny"]


class Licence(StrictModel):
    chip: Id
    country: Country
    status: Decision
    note: Text | None = None


class ExportControls(StrictModel):
    regime: Text = "export controls"
    origins: list[Country] = Field(default_factory=lambda: ["US"])
    controlled_if: list[ControlClause] = Field(default_factory=list)
    default_tier: Annotated[int, Field(ge=1, le=9)] = 1
    tiers: dict[Country, Annotated[int, Field(ge=1, le=9)]] = Field(default_factory=dict)
    tier_rules: dict[Annotated[int, Field(ge=1, le=9)], Decision] = Field(
        default_factory=lambda: {1: "allow", 2: "cap", 3: "deny"}
    )
    tpp_caps: dict[Country, NonNegFloat] = Field(default_factory=dict)
    licenses: list[Licence] = Field(default_factory=list)


class Scenario(StrictModel):
    schema_version: int
    name: Text
    description: Text | None = None
    currency: Currency = "CNY"
    fx: dict[Currency, PosFloat] = Field(default_factory=dict)
    integer_units: bool = True
    flexibility: dict[Id, Annotated[float, Field(gt=0.0, le=10.0)]]
    vendors: dict[Id, Vendor] = Field(min_length=1)
    chips: dict[Id, Chip] = Field(min_length=1)
    sites: dict[Id, Site] = Field(min_length=1)
    budget: Money | None = None
    export_controls: ExportControls | None = None
    variants: dict[Id, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if v != SCHEMA_VERSION or isinstance(v, bool):
            raise PydanticCustomError(
                "schema_version",
                "unsupported schema_version {got!r}; this chipalloc reads schema_version: {supported}",
                {"got": v, "supported": SCHEMA_VERSION},
            )
        return v

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        problems = reference_problems(self)
        if problems:
            raise PydanticCustomError(
                "reference",
                "{summary}",
                {"summary": "; ".join(f"{p}: {m}" for p, m in problems), "problems": problems},
            )
        return self

    # ---- derived values used by the model, the verifier and the reports ----
    def rate(self, currency: str | None) -> float:
        """Reporting-currency units per one unit of ``currency``."""
        if currency is None or currency == self.currency:
            return 1.0
        return self.fx[currency]

    def money(self, m: Money | None) -> float | None:
        return None if m is None else m.amount * self.rate(m.currency)

    def price(self, site: str, chip: str) -> float:
        """Unit price of ``chip`` at ``site`` in the chip's own price currency."""
        return self.sites[site].prices.get(chip, self.chips[chip].unit_price)

    def price_reporting(self, site: str, chip: str) -> float:
        """Unit price of ``chip`` at ``site`` in the reporting currency."""
        return self.price(site, chip) * self.rate(self.chips[chip].price_currency)

    def effective_tops_per_unit(self, chip: str) -> float:
        c = self.chips[chip]
        return c.int8_tops * self.flexibility[c.architecture] * self.vendors[c.vendor].delivery_rate

    def is_domestic(self, site: str, chip: str) -> bool:
        return self.vendors[self.chips[chip].vendor].origin == self.sites[site].country


def _near(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known: " + (", ".join(sorted(known)) if known else "none")


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Every dangling cross-reference in ``s`` as (dotted path, message)."""
    out: list[tuple[str, str]] = []
    vendors, archs, chips = list(s.vendors), list(s.flexibility), list(s.chips)

    def currency_ok(cur: str | None, path: str) -> None:
        if cur is not None and cur != s.currency and cur not in s.fx:
            out.append((path, f"currency {cur} has no rate in fx; add fx.{cur} (units of {s.currency} per 1 {cur})"))

    for cid, c in s.chips.items():
        if c.vendor not in s.vendors:
            out.append((f"chips.{cid}.vendor", f"unknown vendor {c.vendor!r}; {_near(c.vendor, vendors)}"))
        if c.architecture not in s.flexibility:
            out.append(
                (f"chips.{cid}.architecture", f"unknown architecture {c.architecture!r}; {_near(c.architecture, archs)} (add it to flexibility)")
            )
        currency_ok(c.price_currency, f"chips.{cid}.price_currency")
    for sid, site in s.sites.items():
        for cid in site.prices:
            if cid not in s.chips:
                out.append((f"sites.{sid}.prices.{cid}", f"price for unknown chip {cid!r}; {_near(cid, chips)}"))
        if site.budget is not None:
            currency_ok(site.budget.currency, f"sites.{sid}.budget.currency")
        if site.power_mw is not None:
            for cid, c in s.chips.items():
                if c.power_w is None:
                    out.append(
                        (f"chips.{cid}.power_w", f"missing: site {sid} sets power_mw, so every chip needs power_w (watts per unit)")
                    )
    if s.budget is not None:
        currency_ok(s.budget.currency, "budget.currency")
    ec = s.export_controls
    if ec is not None:
        for i, lic in enumerate(ec.licenses):
            if lic.chip not in s.chips:
                out.append((f"export_controls.licenses.{i}.chip", f"unknown chip {lic.chip!r}; {_near(lic.chip, chips)}"))
        tiers_used = {ec.default_tier, *ec.tiers.values()}
        for t in sorted(tiers_used):
            if t not in ec.tier_rules:
                out.append(("export_controls.tier_rules", f"tier {t} is used but has no rule; add tier_rules.{t}: allow|cap|deny"))
    # dedupe while keeping order
    seen: set[tuple[str, str]] = set()
    return [p for p in out if not (p in seen or seen.add(p))]

def unwrap_annotation(ann: Any, meta: list) -> Any:
    """Strip Annotated[...] (collecting its metadata into ``meta``) and Optional[...]."""
    import types
    import typing
    from typing import get_args, get_origin

    while True:
        origin = get_origin(ann)
        if origin is typing.Annotated:
            args = get_args(ann)
            ann = args[0]
            meta.extend(args[1:])
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            if len(args) == 1:
                ann = args[0]
                continue
        return ann


def annotation_at(loc: tuple) -> tuple[Any, list] | None:
    """The type annotation (unwrapped) and its constraint metadata of the field at ``loc``."""
    from typing import get_args, get_origin

    ann: Any = Scenario
    meta: list = []
    for part in loc:
        meta = []
        ann = unwrap_annotation(ann, meta)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            f = ann.model_fields.get(part) if isinstance(part, str) else None
            if f is None:
                return None
            ann, meta = f.annotation, list(f.metadata)
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1]
        elif get_origin(ann) is list:
            ann = get_args(ann)[0]
        else:
            return None
    return unwrap_annotation(ann, meta), meta


def model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that lives at ``loc`` (for 'did you mean')."""
    found = annotation_at(tuple(loc))
    ann = found[0] if found else None
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
