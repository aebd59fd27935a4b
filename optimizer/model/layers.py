"""Columns of the model and the data each outcome (layer) gives them.

A *layer* is one world the plan must hold in: the scenario itself for a
deterministic model, or one outcome of ``uncertainty`` (the base scenario
with that outcome's changes). A layer sees the shared columns (orders placed
before the outcome is revealed; they exist where the base scenario allows
them) and its own columns (later orders; they exist where the layer's data
allows them), with every number taken from the layer's own data.

A shared order is *stranded* in a layer when its delivery there is denied
(or falls after the horizon), or, for a lease, when leasing is denied there:
it then delivers nothing, counts in that layer's budget rows at
``1 - refund_on_denial`` of its price, and in no other row.

Purchase column ``x[s,c,t]`` (order period t) exists only where the chip can be
ordered in t (``available_from..available_until``), the site may buy it
(``sites.<s>.chips``), delivery ``t + lead_time`` falls inside the horizon, and
the export decision at the delivery period is not ``deny``. Lease column
``y[o,t]`` exists in the lease's start window where leasing is not denied.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import compliance
from ..schema import Scenario
from .tables import BUY, LEASE, NONE, PICK, Coords, VarTable


@dataclass
class Layer:
    """The columns one layer sees and that layer's numbers for them (arrays aligned with ``cols``)."""

    code: int  # outcome code, NONE for a model without outcomes
    name: str | None
    probability: float
    scenario: Scenario
    suffix: str  # "" or "@<outcome>" (appended to row names)
    cols: np.ndarray  # global column indices (BUY, LEASE and PICK columns of this layer)
    kind: np.ndarray
    site: np.ndarray
    chip: np.ndarray
    vendor: np.ndarray
    period: np.ndarray  # order / start period
    delivery: np.ndarray  # delivery period (BUY), start period (LEASE)
    lease: np.ndarray
    price: np.ndarray  # reporting currency per unit: BUY at its order period; LEASE per period in service
    stranded: np.ndarray  # bool
    capped: np.ndarray  # bool: counts toward its country's TPP cap
    domestic: np.ndarray  # bool: vendor origin == site country (BUY)
    effective: np.ndarray  # effective TOPS per unit when in service (0 if stranded)
    tops: np.ndarray  # objective TOPS per unit: effective x time weight
    int8: np.ndarray
    tpp: np.ndarray
    power_w: np.ndarray
    refund: float  # fraction of a stranded order's price that comes back
    var: VarTable = None  # the model's columns (for rows that follow links between columns)
    base: Scenario = None  # the base scenario (governs shared columns)
    first: bool = True  # the first layer (writes the rows of shared orders that belong to no outcome)

    def of(self, kind: int) -> np.ndarray:
        return self.kind == kind

    @property
    def active(self) -> np.ndarray:
        """BUY and LEASE columns that are not stranded (count in every row)."""
        return ((self.kind == BUY) | (self.kind == LEASE)) & ~self.stranded


def coords_of(s: Scenario, outcomes: list[str]) -> Coords:
    return Coords(
        sites=tuple(sorted(s.sites)), chips=tuple(sorted(s.chips)), vendors=tuple(sorted(s.vendors)),
        periods=tuple(s.period_ids), leases=tuple(sorted(s.leases)), outcomes=tuple(outcomes),
        dated=s.has_periods,
    )


class _Decider:
    """Export decisions, computed once per (country, chip, delivery period) of one scenario."""

    def __init__(self, s: Scenario):
        self.s = s
        self.site_of_country: dict[str, str] = {}
        for sid in sorted(s.sites):
            self.site_of_country.setdefault(s.sites[sid].country, sid)
        self._memo: dict[tuple[str, str, int], str] = {}
        self._lease: dict[str, str] = {}

    def buy(self, site: str, chip: str, d: int) -> str:
        country = self.s.sites[site].country
        key = (country, chip, d)
        got = self._memo.get(key)
        if got is None:
            got = compliance.decide(self.s, self.site_of_country[country], chip, d).decision
            self._memo[key] = got
        return got

    def lease(self, lease: str) -> str:
        got = self._lease.get(lease)
        if got is None:
            got = compliance.lease_decision(self.s, lease).decision
            self._lease[lease] = got
        return got


def purchase_keys(s: Scenario, co: Coords, periods: range, decider: _Decider) -> list[tuple[int, int, int]]:
    """(site code, chip code, order period) of every purchase column ``s`` allows in ``periods``."""
    T = s.n_periods
    out = []
    for si, site in enumerate(co.sites):
        for ci, chip in enumerate(co.chips):
            if chip not in s.chips or not s.site_may_buy(site, chip):
                continue
            lo, hi = s.order_window(chip)
            lead = s.lead_time(chip)
            for t in periods:
                if t < lo or t > hi or t + lead > T - 1:
                    continue
                if decider.buy(site, chip, t + lead) == "deny":
                    continue
                out.append((si, ci, t))
    return out


def lease_keys(s: Scenario, co: Coords, periods: range, decider: _Decider) -> list[tuple[int, int]]:
    """(lease code, start period) of every lease column ``s`` allows in ``periods``."""
    out = []
    for li, lid in enumerate(co.leases):
        if lid not in s.leases or decider.lease(lid) == "deny":
            continue
        lo, hi = s.lease_window(lid)
        out += [(li, t) for t in periods if lo <= t <= hi]
    return out


def _name(prefix: str, parts: list[str], suffix: str) -> str:
    return f"{prefix}[{','.join(parts)}]{suffix}"


def purchase_columns(s: Scenario, co: Coords, keys: list[tuple[int, int, int]], outcome: int, suffix: str) -> VarTable:
    n = len(keys)
    k = np.array(keys, dtype=np.int32).reshape(n, 3)
    lots = np.array([s.chips[co.chips[ci]].lot_size for _, ci, _ in keys], dtype=float) if s.integer_units else np.ones(n)
    names = [_name("units", [co.sites[si], co.chips[ci]] + ([co.periods[t]] if co.dated else []), suffix)
             for si, ci, t in keys]
    none = np.full(n, NONE, dtype=np.int32)
    return VarTable(names, np.full(n, BUY, dtype=np.int8), k[:, 0], k[:, 1], k[:, 2], none, np.full(n, outcome, np.int32),
                    lots, np.full(n, bool(s.integer_units)), np.zeros(n), np.full(n, np.inf))


def lease_columns(s: Scenario, co: Coords, keys: list[tuple[int, int]], outcome: int, suffix: str) -> VarTable:
    n = len(keys)
    k = np.array(keys, dtype=np.int32).reshape(n, 2)
    names = [_name("lease", [co.leases[li]] + ([co.periods[t]] if co.dated else []), suffix) for li, t in keys]
    site = np.array([co.sites.index(s.leases[co.leases[li]].site) for li, _ in keys], dtype=np.int32)
    chip = np.array([co.chips.index(s.leases[co.leases[li]].chip) for li, _ in keys], dtype=np.int32)
    return VarTable(names, np.full(n, LEASE, dtype=np.int8), site, chip, k[:, 1], k[:, 0], np.full(n, outcome, np.int32),
                    np.ones(n), np.full(n, bool(s.integer_units)), np.zeros(n), np.full(n, np.inf))


def pick_columns(var: VarTable, buy_cols: np.ndarray, co: Coords) -> VarTable:
    """One 0/1 column per purchase column in ``buy_cols`` (same site, chip, period and outcome)."""
    n = len(buy_cols)
    none = np.full(n, NONE, dtype=np.int32)
    names = [var.name[j].replace("units[", "ordered[", 1) for j in buy_cols]
    return VarTable(names, np.full(n, PICK, dtype=np.int8), var.site[buy_cols], var.chip[buy_cols], var.period[buy_cols],
                    none, var.outcome[buy_cols], np.ones(n), np.ones(n, dtype=bool), np.zeros(n), np.ones(n),
                    np.asarray(buy_cols, dtype=np.int64) + 0)


def layer_data(s: Scenario, co: Coords, var: VarTable, cols: np.ndarray, code: int, name: str | None, probability: float,
               refund: float, decider: _Decider, base: Scenario | None = None, first: bool = True) -> Layer:
    """The numbers layer ``s`` gives to columns ``cols`` (shared and own)."""
    T = s.n_periods
    kind = var.kind[cols]
    site, chip, period, lease = var.site[cols], var.chip[cols], var.period[cols], var.lease[cols]
    n = len(cols)
    chips = co.chips
    vendor_code = {v: i for i, v in enumerate(co.vendors)}
    c_vendor = np.array([vendor_code[s.chips[c].vendor] for c in chips], dtype=np.int32)
    c_int8 = np.array([s.chips[c].int8_tops for c in chips], dtype=float)
    c_tpp = np.array([s.chips[c].tpp_value for c in chips], dtype=float)
    c_power = np.array([s.chips[c].power_w or 0.0 for c in chips], dtype=float)
    c_flex = np.array([s.flexibility[s.chips[c].architecture] for c in chips], dtype=float)
    c_lead = np.array([s.vendors[s.chips[c].vendor].lead_time for c in chips], dtype=np.int32)
    v_rate = np.array([s.vendors[v].delivery_rate for v in co.vendors], dtype=float)
    v_origin = [s.vendors[v].origin for v in co.vendors]
    s_country = [s.sites[x].country for x in co.sites]

    vendor = np.where(chip >= 0, c_vendor[np.maximum(chip, 0)], NONE).astype(np.int32)
    buy = kind == BUY
    is_lease = kind == LEASE
    delivery = np.where(buy, period + c_lead[np.maximum(chip, 0)], np.where(is_lease, period, NONE)).astype(np.int32)

    price = np.zeros(n)
    stranded = np.zeros(n, dtype=bool)
    capped = np.zeros(n, dtype=bool)
    effective = np.zeros(n)
    domestic = np.zeros(n, dtype=bool)
    for j in np.flatnonzero(buy):
        sid, cid, t, d = co.sites[site[j]], chips[chip[j]], int(period[j]), int(delivery[j])
        price[j] = s.price_reporting(sid, cid, t)
        dec = decider.buy(sid, cid, d) if d <= T - 1 else "deny"
        stranded[j] = dec == "deny"
        capped[j] = dec == "cap"
        domestic[j] = v_origin[vendor[j]] == s_country[site[j]]
    ci = np.maximum(chip, 0)
    effective[buy] = (c_int8[ci] * c_flex[ci] * v_rate[np.maximum(vendor, 0)])[buy]
    for j in np.flatnonzero(is_lease):
        lid = co.leases[lease[j]]
        o = s.leases[lid]
        price[j] = s.lease_price_reporting(lid)
        dec = decider.lease(lid)
        stranded[j] = dec == "deny"
        capped[j] = dec == "cap" and o.counts_toward_tpp_cap
        effective[j] = s.lease_tops_per_unit(lid)
    effective[stranded] = 0.0
    if s.objective == "in_service":
        weight = np.where(delivery >= 0, (T - delivery) / T, 0.0)
    else:
        weight = np.where(delivery >= 0, 1.0, 0.0)
    tops = effective * weight
    int8 = np.where(chip >= 0, c_int8[ci], 0.0)
    tpp = np.where(chip >= 0, c_tpp[ci], 0.0)
    power = np.where(chip >= 0, c_power[ci], 0.0)
    suffix = f"@{name}" if name is not None else ""
    return Layer(code, name, probability, s, suffix, cols, kind, site, chip, vendor, period, delivery, lease, price,
                 stranded, capped, domestic, effective, tops, int8, tpp, power, refund, var, base or s, first)
