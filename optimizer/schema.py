"""Scenario schema, versions 1 and 2: pydantic models, no I/O.

Every model is strict about unknown keys (``extra="forbid"``), frozen, and
rejects NaN and infinity. Cross-references (a chip's vendor, an architecture,
a licence's chip, a site price for an unknown chip, a currency missing from
``fx``, a period that is not in ``periods``) are checked once the whole
scenario is parsed, with the dotted path of the offending field in the error
so the CLI can point at it.

Version 1 is one period and no leases. Version 2 adds, all optional:
``periods`` (ordered ids of equal-length periods) and everything dated
(lead times, per-period capacity, power, budgets and prices, availability
windows, dated licences), ``leases`` from third-party operators, and licences
as a mapping ``id -> licence``. Fields that do not need periods (``buyer`` and
the headquarters rule, ``objective``, ``uncertainty``, ``min_order_units``,
``sites.<id>.chips``, ``vendor_max_share``, ``delivery_sd``) are read in both
versions.

A value that may be given per period is either a number or a mapping
``{period: number}`` (:data:`PeriodFloat`).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSIONS = (1, 2)
SCHEMA_VERSION = 2  # the newest this chipalloc reads
SINGLE_PERIOD = "all"  # the one implicit period of a scenario without ``periods``

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=64)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
PosFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Rate = Annotated[float, Field(gt=0.0, le=1.0)]
Text = Annotated[str, StringConstraints(max_length=2000)]
# only true and false are booleans (YAML's yes/no/on/off and the numbers 1/0 are refused, not guessed)
Bool = Annotated[bool, Field(strict=True)]

# tags of the union branches below; they contain characters no id can, so the
# validator can drop them from error locations
TAG_NUMBER, TAG_BY_PERIOD = "<number>", "<by period>"
TAG_LIST, TAG_MAPPING = "<list>", "<mapping>"
UNION_TAGS = frozenset({TAG_NUMBER, TAG_BY_PERIOD, TAG_LIST, TAG_MAPPING})


def _number_or_mapping(v: Any) -> str:
    return TAG_BY_PERIOD if isinstance(v, dict) else TAG_NUMBER


def _list_or_mapping(v: Any) -> str:
    return TAG_MAPPING if isinstance(v, dict) else TAG_LIST


def per_period(number: Any) -> Any:
    """A number, or a mapping ``{period id: number}`` with the same constraints."""
    return Annotated[
        Union[Annotated[number, Tag(TAG_NUMBER)], Annotated[dict[Id, number], Tag(TAG_BY_PERIOD)]],
        Discriminator(_number_or_mapping),
    ]


PeriodNonNeg = per_period(NonNegFloat)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=False)


class Money(StrictModel):
    amount: PosFloat
    currency: Currency | None = None  # None: the scenario's reporting currency
    per_period: dict[Id, NonNegFloat] | None = None  # cash cap per period, in ``currency``


class Vendor(StrictModel):
    name: Text | None = None
    origin: Country
    capacity_units: PeriodNonNeg | None = None  # number: deliveries over the horizon; mapping: per period
    delivery_rate: Rate = 1.0
    delivery_sd: NonNegFloat | None = None  # standard deviation of the delivery rate (simulate)
    max_share: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    lead_time: Annotated[int, Field(ge=0, le=1000)] = 0  # whole periods from order to delivery


class Chip(StrictModel):
    vendor: Id
    model: Text | None = None
    architecture: Id
    int8_tops: PosFloat
    unit_price: PosFloat
    price_currency: Currency | None = None
    price_by_period: dict[Id, PosFloat] = Field(default_factory=dict)  # by order period, in price_currency
    tpp: PosFloat | None = None
    die_area_mm2: PosFloat | None = None
    power_w: PosFloat | None = None
    min_units: NonNegFloat = 0.0
    max_units: NonNegFloat | None = None
    min_order_units: PosFloat | None = None  # if bought at a site at all, at least this many there
    lot_size: Annotated[int, Field(ge=1, le=10_000_000)] = 1
    available_from: Id | None = None  # first order period
    available_until: Id | None = None  # last order period

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
    power_mw: per_period(NonNegFloat) | None = None  # number, or in-service MW per period
    prices: dict[Id, PosFloat] = Field(default_factory=dict)
    chips: list[Id] | None = None  # the chips this site may buy (default: every chip)
    vendor_max_share: dict[Id, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(default_factory=dict)


class ControlClause(StrictModel):
    tpp_min: PosFloat
    density_min: PosFloat | None = None


Decision = Literal["allow", "cap", "deny"]


class Licence(StrictModel):
    chip: Id
    country: Country
    status: Decision
    note: Text | None = None
    from_: Id | None = Field(default=None, alias="from")  # first delivery period it decides
    until: Id | None = None  # last delivery period it decides


Licences = Annotated[
    Union[Annotated[list[Licence], Tag(TAG_LIST)], Annotated[dict[Id, Licence], Tag(TAG_MAPPING)]],
    Discriminator(_list_or_mapping),
]


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
    licenses: Licences = Field(default_factory=list)
    headquarters_countries: list[Country] = Field(default_factory=list)


class Buyer(StrictModel):
    name: Text | None = None
    headquarters: Country


class Lease(StrictModel):
    site: Id
    chip: Id
    operator: Text
    price_per_period: PosFloat  # per leased unit and period in service
    price_currency: Currency | None = None
    max_units: NonNegFloat | None = None  # leased units in service in any period
    available_from: Id | None = None  # first start period
    available_until: Id | None = None  # last start period
    counts_toward_tpp_cap: Bool = True
    delivery_rate: Rate = 1.0


class Risk(StrictModel):
    measure: Literal["expected", "cvar", "worst"] = "expected"
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.9
    weight: Share = 1.0


class Outcome(StrictModel):
    probability: Annotated[float, Field(ge=0.0, le=1.0)]  # > 0 in a file; a what-if may set 0 (see validate)
    description: Text | None = None
    changes: dict[str, Any] = Field(default_factory=dict)  # dotted path -> value, as variants


class Uncertainty(StrictModel):
    revealed: Id | None = None  # first period whose orders may depend on the outcome
    refund_on_denial: Share = 0.0
    risk: Risk = Field(default_factory=Risk)
    outcomes: dict[Id, Outcome] = Field(min_length=1)


class Scenario(StrictModel):
    schema_version: int
    name: Text
    description: Text | None = None
    currency: Currency = "CNY"
    fx: dict[Currency, PosFloat] = Field(default_factory=dict)
    integer_units: Bool = True
    periods: list[Id] | None = None
    objective: Literal["in_service", "delivered"] = "in_service"
    buyer: Buyer | None = None
    flexibility: dict[Id, Annotated[float, Field(gt=0.0, le=10.0)]]
    vendors: dict[Id, Vendor] = Field(min_length=1)
    chips: dict[Id, Chip] = Field(min_length=1)
    sites: dict[Id, Site] = Field(min_length=1)
    leases: dict[Id, Lease] = Field(default_factory=dict)
    budget: Money | None = None
    export_controls: ExportControls | None = None
    uncertainty: Uncertainty | None = None
    variants: dict[Id, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        if v not in SCHEMA_VERSIONS or isinstance(v, bool):
            raise PydanticCustomError(
                "schema_version",
                "unsupported schema_version {got!r}; this chipalloc reads schema_version: 1 or 2",
                {"got": v},
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

    # ---- periods ----
    @property
    def has_periods(self) -> bool:
        return self.periods is not None

    @property
    def period_ids(self) -> list[str]:
        """The planning periods in order (one implicit period without ``periods``)."""
        return list(self.periods) if self.periods else [SINGLE_PERIOD]

    @property
    def n_periods(self) -> int:
        return len(self.period_ids)

    def period_index(self, pid: str | None, default: int) -> int:
        return default if pid is None else self.period_ids.index(pid)

    def order_window(self, chip: str) -> tuple[int, int]:
        """First and last order period (indices, inclusive) of ``chip``."""
        c = self.chips[chip]
        return self.period_index(c.available_from, 0), self.period_index(c.available_until, self.n_periods - 1)

    def lease_window(self, lease: str) -> tuple[int, int]:
        o = self.leases[lease]
        return self.period_index(o.available_from, 0), self.period_index(o.available_until, self.n_periods - 1)

    def lead_time(self, chip: str) -> int:
        return self.vendors[self.chips[chip].vendor].lead_time

    def licences(self) -> list[tuple[str, Licence]]:
        """Every licence with its id (the mapping key, or the list position as text), in file order."""
        lic = self.export_controls.licenses if self.export_controls is not None else []
        if isinstance(lic, dict):
            return list(lic.items())
        return [(str(i), x) for i, x in enumerate(lic)]

    # ---- derived values used by the model and the reports ----
    def rate(self, currency: str | None) -> float:
        """Reporting-currency units per one unit of ``currency``."""
        if currency is None or currency == self.currency:
            return 1.0
        return self.fx[currency]

    def money(self, m: Money | None) -> float | None:
        return None if m is None else m.amount * self.rate(m.currency)

    def price(self, site: str, chip: str, period: int = 0) -> float:
        """Unit price of ``chip`` ordered at ``site`` in period index ``period``, in the chip's price currency.

        A site's own price wins; then the chip's price for that order period; then its unit_price.
        """
        st = self.sites[site]
        if chip in st.prices:
            return st.prices[chip]
        c = self.chips[chip]
        return c.price_by_period.get(self.period_ids[period], c.unit_price)

    def price_reporting(self, site: str, chip: str, period: int = 0) -> float:
        """Unit price of ``chip`` at ``site`` (ordered in ``period``) in the reporting currency."""
        return self.price(site, chip, period) * self.rate(self.chips[chip].price_currency)

    def lease_price_reporting(self, lease: str) -> float:
        o = self.leases[lease]
        return o.price_per_period * self.rate(o.price_currency)

    def effective_tops_per_unit(self, chip: str) -> float:
        c = self.chips[chip]
        return c.int8_tops * self.flexibility[c.architecture] * self.vendors[c.vendor].delivery_rate

    def lease_tops_per_unit(self, lease: str) -> float:
        o = self.leases[lease]
        c = self.chips[o.chip]
        return c.int8_tops * self.flexibility[c.architecture] * o.delivery_rate

    def is_domestic(self, site: str, chip: str) -> bool:
        return self.vendors[self.chips[chip].vendor].origin == self.sites[site].country

    def site_may_buy(self, site: str, chip: str) -> bool:
        allowed = self.sites[site].chips
        return allowed is None or chip in allowed


def _near(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known: " + (", ".join(sorted(known)) if known else "none")


def _listed(ids: list[str]) -> str:
    """Period ids for a message: all of them, or the first two and the last of a long list."""
    if len(ids) <= 8:
        return ", ".join(ids)
    return f"{ids[0]}, {ids[1]}, ..., {ids[-1]} ({len(ids)} periods)"


def _unknown_period(p: str, s: Scenario) -> str:
    import difflib

    if not s.periods:
        return f"unknown period {p!r}; this scenario has no periods (add periods: [...] first)"
    same = [q for q in s.periods if q.replace("-", "").replace("_", "") == p.replace("-", "").replace("_", "")]
    close = same or difflib.get_close_matches(p, s.periods, n=1, cutoff=0.85)
    if close:
        return f"unknown period {p!r}; did you mean {close[0]!r}?"
    return f"unknown period {p!r}; periods are {_listed(s.periods)}"


# the ISO 4217 code for currency names planners often type instead
CURRENCY_ALIASES = {"RMB": "CNY", "NTD": "TWD", "YEN": "JPY"}


def _period_mappings(s: Scenario) -> list[tuple[str, dict, str]]:
    """Every (path, mapping keyed by period, what it is) in the scenario."""
    out: list[tuple[str, dict, str]] = []
    for vid, v in s.vendors.items():
        if isinstance(v.capacity_units, dict):
            out.append((f"vendors.{vid}.capacity_units", v.capacity_units, "number"))
    for cid, c in s.chips.items():
        if c.price_by_period:
            out.append((f"chips.{cid}.price_by_period", c.price_by_period, "prices by period"))
    for sid, st in s.sites.items():
        if isinstance(st.power_mw, dict):
            out.append((f"sites.{sid}.power_mw", st.power_mw, "number"))
        if st.budget is not None and st.budget.per_period is not None:
            out.append((f"sites.{sid}.budget.per_period", st.budget.per_period, "a cap per period"))
    if s.budget is not None and s.budget.per_period is not None:
        out.append(("budget.per_period", s.budget.per_period, "a cap per period"))
    return out


def _period_refs(s: Scenario) -> list[tuple[str, str]]:
    """Every (path, period id) a field names as a single period."""
    out: list[tuple[str, str]] = []
    for cid, c in s.chips.items():
        for f in ("available_from", "available_until"):
            if getattr(c, f) is not None:
                out.append((f"chips.{cid}.{f}", getattr(c, f)))
    for oid, o in s.leases.items():
        for f in ("available_from", "available_until"):
            if getattr(o, f) is not None:
                out.append((f"leases.{oid}.{f}", getattr(o, f)))
    for lid, lic in s.licences():
        if lic.from_ is not None:
            out.append((f"export_controls.licenses.{lid}.from", lic.from_))
        if lic.until is not None:
            out.append((f"export_controls.licenses.{lid}.until", lic.until))
    if s.uncertainty is not None and s.uncertainty.revealed is not None:
        out.append(("uncertainty.revealed", s.uncertainty.revealed))
    return out


def _version1_problems(s: Scenario) -> list[tuple[str, str]]:
    """Version-2 features used in a version-1 file.

    A file that lists ``periods`` was clearly meant as version 2: one message
    at ``schema_version`` says so. Otherwise each dated value is named, with
    the version-1 way of writing it.
    """
    v2 = "needs schema_version: 2 and periods: [...]"
    found: list[tuple[str, str, str]] = []  # (path, feature, message)
    for path, _, kind in _period_mappings(s):
        if kind == "number":
            msg = f"a value per period {v2}; in version 1 write one number"
        elif kind == "prices by period":
            msg = "prices by period need schema_version: 2 and periods: [...]; in version 1 leave them out"
        else:
            msg = f"{kind} {v2}; in version 1 leave it out"
        found.append((path, "values per period", msg))
    for path, _ in _period_refs(s):
        if path == "uncertainty.revealed":
            found.append((path, "uncertainty.revealed", f"revealed names a period: it {v2}; in version 1 leave it out"))
        elif path.startswith("export_controls.licenses."):
            found.append((path, "dated licences", f"a dated licence {v2}; in version 1 a licence holds for the whole plan"))
        else:
            found.append((path, "order windows", f"an order window {v2}; in version 1 leave it out"))
    for vid, v in s.vendors.items():
        if v.lead_time:
            found.append((f"vendors.{vid}.lead_time", "lead times", f"a lead time {v2}; in version 1 leave it out"))
    if s.leases:
        found.append(("leases", "leases", "leases need schema_version: 2"))
    if s.export_controls is not None and isinstance(s.export_controls.licenses, dict):
        found.append(("export_controls.licenses", "licences by id",
                      "licences by id need schema_version: 2; in version 1 write them as a list (- {chip: ..., country: ..., status: ...})"))
    if s.periods is not None:
        features = ["periods"]
        for _, f, _ in found:
            if f not in features:
                features.append(f)
        named = ", ".join(features[:-1]) + " and " + features[-1] if len(features) > 1 else features[0]
        return [("schema_version", f"version 1 has no periods, but this file uses {named}; write schema_version: 2")]
    return [(path, msg) for path, _, msg in found]


def _period_problems(s: Scenario) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    ids = s.period_ids
    if s.periods is not None:
        if not s.periods:
            return [("periods", "needs at least one period, e.g. periods: [2025q1, 2025q2, 2025q3, 2025q4]")]
        seen: set[str] = set()
        for i, p in enumerate(s.periods):
            if p in seen:
                out.append((f"periods.{i}", f"period {p!r} is listed twice; each period once, in order"))
            seen.add(p)
    for path, mapping, _ in _period_mappings(s):
        for p in mapping:
            if not s.periods or p not in s.periods:
                out.append((f"{path}.{p}", _unknown_period(p, s)))
    for path, p in _period_refs(s):
        if not s.periods or p not in s.periods:
            out.append((path, _unknown_period(p, s)))
    if out or not s.periods:
        return out

    def window(path: str, first_name: str, first: str | None, last_name: str, last: str | None) -> None:
        if first is not None and last is not None and ids.index(last) < ids.index(first):
            out.append((path, f"{last_name} {last} is before {first_name} {first}; make {last_name} {first} or later"))

    for cid, c in s.chips.items():
        window(f"chips.{cid}.available_until", "available_from", c.available_from, "available_until", c.available_until)
        lo, hi = s.order_window(cid)
        lead = s.lead_time(cid)
        if lo + lead > len(ids) - 1 and lo <= hi and c.vendor in s.vendors:
            out.append(
                (f"vendors.{c.vendor}.lead_time",
                 f"a lead time of {lead} period{'s' if lead != 1 else ''} leaves {cid} no order period "
                 f"(first order {ids[lo]}, last period {ids[-1]}); shorten the lead time or let {cid} be ordered earlier")
            )
    for oid, o in s.leases.items():
        window(f"leases.{oid}.available_until", "available_from", o.available_from, "available_until", o.available_until)
    for lid, lic in s.licences():
        window(f"export_controls.licenses.{lid}.until", "from", lic.from_, "until", lic.until)
    return out


def _floor_sig(x: float, digits: int = 4) -> str:
    """``x`` rounded down to ``digits`` significant digits (a limit the user can safely type)."""
    import math

    if x <= 0:
        return "0"
    scale = 10 ** (digits - 1 - math.floor(math.log10(x)))
    return f"{math.floor(float(f'{x * scale:.12g}')) / scale:.{digits}g}"  # 0.4 * 1e4 is 3999.9999999999995


def reference_problems(s: Scenario) -> list[tuple[str, str]]:
    """Every dangling cross-reference in ``s`` as (dotted path, message)."""
    out: list[tuple[str, str]] = []
    vendors, archs, chips, sites = list(s.vendors), list(s.flexibility), list(s.chips), list(s.sites)

    def currency_ok(cur: str | None, path: str) -> None:
        if cur in CURRENCY_ALIASES:
            out.append((path, f"{cur} is not an ISO 4217 currency code; write {CURRENCY_ALIASES[cur]}"))
        elif cur is not None and cur != s.currency and cur not in s.fx:
            out.append((path, f"currency {cur} has no rate in fx; add fx.{cur} (units of {s.currency} per 1 {cur})"))

    currency_ok(s.currency, "currency")
    for cur in s.fx:
        if cur in CURRENCY_ALIASES:
            out.append((f"fx.{cur}", f"{cur} is not an ISO 4217 currency code; write {CURRENCY_ALIASES[cur]}"))
    for cid, c in s.chips.items():
        if c.vendor not in s.vendors:
            out.append((f"chips.{cid}.vendor", f"unknown vendor {c.vendor!r}; {_near(c.vendor, vendors)}"))
        if c.architecture not in s.flexibility:
            out.append(
                (f"chips.{cid}.architecture", f"unknown architecture {c.architecture!r}; {_near(c.architecture, archs)} (add it to flexibility)")
            )
        currency_ok(c.price_currency, f"chips.{cid}.price_currency")
        if c.min_order_units is not None and c.max_units is not None and c.min_order_units > c.max_units:
            out.append((f"chips.{cid}.min_order_units",
                        f"{c.min_order_units:g} is above max_units ({c.max_units:g}); lower min_order_units or raise max_units"))
    for sid, site in s.sites.items():
        for cid in site.prices:
            if cid not in s.chips:
                out.append((f"sites.{sid}.prices.{cid}", f"price for unknown chip {cid!r}; {_near(cid, chips)}"))
        for i, cid in enumerate(site.chips or []):
            if cid not in s.chips:
                out.append((f"sites.{sid}.chips.{i}", f"unknown chip {cid!r}; {_near(cid, chips)}"))
        for vid in site.vendor_max_share:
            if vid not in s.vendors:
                out.append((f"sites.{sid}.vendor_max_share.{vid}", f"unknown vendor {vid!r}; {_near(vid, vendors)}"))
        if site.budget is not None:
            currency_ok(site.budget.currency, f"sites.{sid}.budget.currency")
        if site.power_mw is not None:
            for cid, c in s.chips.items():
                if c.power_w is None:
                    out.append(
                        (f"chips.{cid}.power_w", f"missing: site {sid} sets power_mw, so every chip needs power_w (watts per unit)")
                    )
    for oid, o in s.leases.items():
        if o.site not in s.sites:
            out.append((f"leases.{oid}.site", f"unknown site {o.site!r}; {_near(o.site, sites)}"))
        if o.chip not in s.chips:
            out.append((f"leases.{oid}.chip", f"unknown chip {o.chip!r}; {_near(o.chip, chips)}"))
        currency_ok(o.price_currency, f"leases.{oid}.price_currency")
    if s.budget is not None:
        currency_ok(s.budget.currency, "budget.currency")
    ec = s.export_controls
    if ec is not None:
        for lid, lic in s.licences():
            if lic.chip not in s.chips:
                out.append((f"export_controls.licenses.{lid}.chip", f"unknown chip {lic.chip!r}; {_near(lic.chip, chips)}"))
        tiers_used = {ec.default_tier, *ec.tiers.values()}
        for t in sorted(tiers_used):
            if t not in ec.tier_rules:
                out.append(("export_controls.tier_rules", f"tier {t} is used but has no rule; add tier_rules.{t}: allow|cap|deny"))
    for vid, v in s.vendors.items():
        if v.delivery_sd is not None and v.delivery_sd > 0:
            m = v.delivery_rate
            if m >= 1:
                out.append((f"vendors.{vid}.delivery_sd",
                            f"{v.delivery_sd:g} is too large for a delivery rate of 1, which cannot vary; "
                            "set delivery_sd: 0 or a delivery_rate below 1"))
            elif v.delivery_sd ** 2 >= m * (1 - m):
                limit = (m * (1 - m)) ** 0.5
                out.append((f"vendors.{vid}.delivery_sd",
                            f"{v.delivery_sd:g} is too large for a delivery rate of {m:g}: a Beta distribution with that "
                            f"mean needs a standard deviation below {_floor_sig(limit)}"))
    if s.uncertainty is not None:
        outcomes = s.uncertainty.outcomes
        total = sum(o.probability for o in outcomes.values())
        zero = any(o.probability == 0 for o in outcomes.values())  # said first (a file may not have it)
        if abs(total - 1.0) > 1e-9 and not zero:
            each = ""
            if len(outcomes) <= 6:
                each = " (" + " + ".join(f"{n} {o.probability:.10g}" for n, o in outcomes.items()) + ")"
            out.append(("uncertainty.outcomes",
                        f"outcome probabilities sum to {total:.10g}{each}, not 1; make them sum to 1 (within 1e-9)"))
        for name, o in outcomes.items():
            for p in o.changes:
                root = str(p).split(".", 1)[0]
                if root in OUTCOME_FIXED:
                    out.append((f"uncertainty.outcomes.{name}.changes.{p}",
                                f"an outcome cannot change {root}: {OUTCOME_FIXED[root]}"))
    if s.schema_version == 1:
        out += _version1_problems(s)
    else:
        out += _period_problems(s)
    # dedupe while keeping order
    seen: set[tuple[str, str]] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


# top-level fields an outcome's changes may not touch, and why
OUTCOME_FIXED = {
    "schema_version": "every outcome is read as the same version",
    "currency": "every outcome reports money in the base scenario's currency (change fx instead)",
    "periods": "every outcome has the base scenario's periods",
    "uncertainty": "outcomes cannot change the uncertainty they belong to",
    "variants": "variants are chosen on the command line, not by an outcome",
}


def warning_problems(s: Scenario) -> list[tuple[str, str]]:
    """Things that are allowed but probably not meant, as (dotted path, message): said, never fatal."""
    out: list[tuple[str, str]] = []
    ec = s.export_controls
    hq = s.buyer.headquarters if s.buyer is not None else None
    listed = ec.headquarters_countries if ec is not None else []
    if ec is not None and hq is not None and not listed:
        out.append(("buyer.headquarters",
                    f"headquarters {hq} has no effect: export_controls.headquarters_countries is empty; "
                    f"add headquarters_countries: [{hq}] if the headquarters rule should apply"))
    if listed and hq is None:
        out.append(("export_controls.headquarters_countries",
                    f"has no effect without buyer.headquarters; add buyer: {{headquarters: {listed[0]}}} "
                    "if the headquarters rule should apply"))
    return out


def unwrap_annotation(ann: Any, meta: list, part: Any = None) -> Any:
    """Strip Annotated[...] (collecting its metadata into ``meta``) and Optional[...].

    A union of two shapes (a number or a mapping by period; a list or a mapping
    of licences) is resolved by the next path ``part``: a period or id selects
    the mapping, a list index the list; with no part the scalar branch wins.
    """
    import types
    import typing
    from typing import get_args, get_origin

    while True:
        origin = get_origin(ann)
        if origin is typing.Annotated:
            args = get_args(ann)
            ann = args[0]
            meta.extend(a for a in args[1:] if not isinstance(a, (Tag, Discriminator)))
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            if len(args) == 1:
                ann = args[0]
                continue
            branches = {_shape(a): a for a in args}
            if part is None:
                pick = branches.get("scalar") or branches.get("list") or args[0]
            elif isinstance(part, int) or (isinstance(part, str) and part.isdigit() and "list" in branches):
                pick = branches.get("list") or branches.get("dict") or args[0]
            else:
                pick = branches.get("dict") or args[0]
            ann = pick
            continue
        return ann


def _shape(ann: Any) -> str:
    import typing
    from typing import get_args, get_origin

    while get_origin(ann) is typing.Annotated:
        ann = get_args(ann)[0]
    o = get_origin(ann)
    return "dict" if o is dict else "list" if o is list else "scalar"


def annotation_at(loc: tuple) -> tuple[Any, list] | None:
    """The type annotation (unwrapped) and its constraint metadata of the field at ``loc``."""
    from typing import get_args, get_origin

    ann: Any = Scenario
    meta: list = []
    for part in loc:
        meta = []
        ann = unwrap_annotation(ann, meta, part)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            f = _field(ann, part)
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


def _field(model: type[BaseModel], part: Any):
    """The field of ``model`` named ``part`` in the file (its alias, e.g. ``from``)."""
    if not isinstance(part, str):
        return None
    for name, f in model.model_fields.items():
        if (f.alias or name) == part:
            return f
    return None


def field_names(model: type[BaseModel]) -> list[str]:
    """Field names as written in a scenario file (aliases such as ``from`` included)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that lives at ``loc`` (for 'did you mean')."""
    found = annotation_at(tuple(loc))
    ann = found[0] if found else None
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def value_at(scenario: BaseModel, path: str) -> Any:
    """The validated scenario's value at a dotted path (defaults included), or None."""
    cur: Any = scenario
    for part in path.split("."):
        if isinstance(cur, BaseModel):
            f = next((n for n, fi in type(cur).model_fields.items() if (fi.alias or n) == part), None)
            if f is None:
                return None
            cur = getattr(cur, f)
        elif isinstance(cur, dict):
            key: Any = part
            if key not in cur and part.isdigit() and int(part) in cur:
                key = int(part)
            if key not in cur:
                return None
            cur = cur[key]
        elif isinstance(cur, (list, tuple)):
            if not part.isdigit() or int(part) >= len(cur):
                return None
            cur = cur[int(part)]
        else:
            return None
    return cur
