"""Constraint families: each owns its rows, their rule text, the number a fix changes, and what a shadow price means.

A family builds its rows for one layer (the scenario, or one outcome of it)
from the layer's column arrays, vectorised: every matrix entry is placed by
grouping columns on a coordinate (site, vendor, chip, period, country), never
by scanning all columns once per row. Adding a rule is one class here; the
solver, the diagnosis, the reports and the sensitivity report read rows only
through :data:`FAMILIES`.

Rows, as written (x in units; p = unit price in the reporting currency at the
order period; L = leased units; T periods; stranded shared orders only in
budget rows, at ``1 - refund_on_denial`` of their price):

- ``budget[s]``            sum p x + lease payments over the horizon      <= budget of s
- ``budget[s,t]``          orders placed in t + lease payments in t       <= budget.per_period[t]
- ``budget[global]``, ``budget[global,t]``: the same over every site
- ``domestic_share[s]``    sum (dom - floor) w x                          >= 0   (w = p, 1 or INT8 TOPS)
- ``vendor_share[v]``      sum over every site (is_v - max_share) p x     <= 0
- ``vendor_share[s,v]``    the same over site s's orders                  <= 0
- ``capacity[v]`` / ``capacity[v,t]``: units of v delivered (in t)        <= capacity
- ``chip_min[c]`` / ``chip_max[c]``: units of c ordered                   >= / <= bound
- ``min_order[s,c,t]``     x[s,c,t] - m z[s,c,t]                          >= 0   (z = 1 if the order is placed)
- ``order_link[s,c,t]``    x[s,c,t] - M z[s,c,t]                          <= 0   (M: the most that order could be)
- ``power[s]`` / ``power[s,t]``: watts of units delivered by t            <= MW x 1e6
- ``tpp_cap[k]``           TPP of capped purchases and leases in country k <= cap
- ``lease_max[o,t]``       units of lease o in service in t               <= max_units
- ``cvar[k]`` / ``worst[k]``: the risk measure's rows (see :mod:`optimizer.model.build`)

Leases count in budget, TPP-cap and lease rows only (not in the domestic or
vendor shares, chip bounds or power). Power and leases in service only grow
over the horizon, so with one limit for the whole horizon only the last
period's row is written (``power[s,<last>]``, ``lease_max[o,<last>]``); a
version-1 scenario has one period and its rows keep their version-1 names.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..numbers import num, pct, sig
from ..schema import Scenario
from .layers import Layer
from .tables import BUY, LEASE, NONE, PICK, Coords, RowBlock

RAISE, LOWER = "raise", "lower"
_BASIS = {"spend": "spend", "units": "units", "tops": "INT8 TOPS"}


@dataclass(frozen=True)
class RowRef:
    """One row as a family sees it when it explains the row."""

    name: str
    family: str
    sense: str
    rhs: float
    subject: str
    key: tuple
    outcome: str | None = None


@dataclass(frozen=True)
class Parameter:
    """The one scenario number behind a row: its path, which way relaxes the row, whole numbers only?"""

    path: str
    direction: str  # raise | lower
    whole: bool
    unit: str = ""  # shown after numbers in a fix ("units", "MW", "TPP"; money and shares are formatted apart)


def _label(prefix: str, parts: list[str], suffix: str) -> str:
    return f"{prefix}[{','.join(parts)}]{suffix}"


def _period(co: Coords, t: int | None) -> list[str]:
    return [co.periods[t]] if t is not None and co.dated else []


class Family:
    kind = ""

    def build(self, L: Layer, co: Coords) -> RowBlock | list[RowBlock]:  # pragma: no cover - abstract
        raise NotImplementedError

    def unit(self, s: Scenario, row: RowRef) -> str:
        return ""

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        return f"{row.name} {row.sense} {num(row.rhs)}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter | None:
        return None

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return ""

    def weight(self, L: Layer, units: np.ndarray, row: RowRef) -> float:
        """The basis total a share row's shadow price scales with (0 for other rows)."""
        return 0.0

    def binding(self, var, A_row, units: np.ndarray, slack: float, tol: float) -> bool | None:
        """This family's own binding rule for a row, or None for the general one (see plan._is_binding)."""
        return None


# ----------------------------------------------------------------------------- budget
class Budget(Family):
    kind = "budget"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        T = s.n_periods
        b = RowBlock(self.kind)
        money_cols = (L.kind == BUY) | (L.kind == LEASE)
        factor = np.where(L.stranded, 1.0 - L.refund, 1.0)
        unit_cost = L.price * factor  # per unit, per period in service for a lease
        horizon = np.where(L.kind == LEASE, unit_cost * (T - L.period), unit_cost)
        scopes: list[tuple[str, object, np.ndarray]] = []
        for si, sid in enumerate(co.sites):
            scopes.append((sid, s.sites[sid].budget, money_cols & (L.site == si)))
        scopes.append(("global", s.budget, money_cols))
        for who, money, mask in scopes:
            if money is None:
                continue
            rate = s.rate(money.currency)
            r = b.add_row(_label("budget", [who], L.suffix), "<=", money.amount * rate, who, (who, None))
            b.add_entries(r, L.cols[mask], horizon[mask])
            for pid, cap in (money.per_period or {}).items():
                t = co.periods.index(pid)
                r = b.add_row(_label("budget", [who, pid], L.suffix), "<=", cap * rate, who, (who, t))
                paid = mask & (((L.kind == BUY) & (L.period == t)) | ((L.kind == LEASE) & (L.period <= t)))
                b.add_entries(r, L.cols[paid], unit_cost[paid])
        return b

    def _money(self, s: Scenario, row: RowRef):
        who = row.key[0]
        return s.budget if who == "global" else s.sites[who].budget

    def unit(self, s: Scenario, row: RowRef) -> str:
        return s.currency

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        m = self._money(s, row)
        cur = (m.currency or s.currency) if m is not None else s.currency
        t = row.key[1]
        amount = (m.amount if t is None else (m.per_period or {})[s.period_ids[t]]) if m is not None else row.rhs
        conv = f" ({s.currency} {num(row.rhs)})" if cur != s.currency else ""
        where = "total spend" if row.key[0] == "global" else "spend"
        when = f" in {s.period_ids[t]}" if t is not None else ""
        return f"{row.name} <= {cur} {num(amount)}{conv} of {where}{when}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        who, t = row.key
        base = "budget" if who == "global" else f"sites.{who}.budget"
        path = f"{base}.amount" if t is None else f"{base}.per_period.{s.period_ids[t]}"
        return Parameter(path, RAISE, False)

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        who = "the global" if row.key[0] == "global" else row.key[0]
        when = f" in {s.period_ids[row.key[1]]}" if row.key[1] is not None else ""
        return f"each extra {s.currency} 1M of {who} budget{when} adds {sig(shadow * 1e6)} effective TOPS"


# ----------------------------------------------------------------------------- shares
class DomesticShare(Family):
    kind = "domestic_share"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for si, sid in enumerate(co.sites):
            st = s.sites[sid]
            if not st.domestic_min_share:
                continue
            r = b.add_row(_label("domestic_share", [sid], L.suffix), ">=", 0.0, sid, (sid,))
            mask = buy & (L.site == si)
            w = self._w(st.domestic_basis, L)[mask]
            b.add_entries(r, L.cols[mask], (L.domestic[mask].astype(float) - st.domestic_min_share) * w)
        return b

    @staticmethod
    def _w(basis: str, L: Layer) -> np.ndarray:
        if basis == "spend":
            return L.price
        if basis == "units":
            return np.ones(len(L.cols))
        return L.int8

    def unit(self, s: Scenario, row: RowRef) -> str:
        basis = s.sites[row.key[0]].domestic_basis
        return {"spend": s.currency, "units": "units", "tops": "INT8 TOPS"}[basis]

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        st = s.sites[row.key[0]]
        return f"{row.name} >= {pct(st.domestic_min_share or 0.0)} of {_BASIS[st.domestic_basis]}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        return Parameter(f"sites.{row.key[0]}.domestic_min_share", LOWER, False)

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return f"raising the {row.key[0]} domestic floor by 1 point changes effective TOPS by {sig(shadow * weight * 0.01)}"

    def weight(self, L: Layer, units: np.ndarray, row: RowRef) -> float:
        mask = (L.kind == BUY) & ~L.stranded & (L.site == _site_code(L, row.key[0]))
        w = self._w(L.scenario.sites[row.key[0]].domestic_basis, L)
        return float(np.sum(np.abs(w[mask]) * units[L.cols[mask]]))


def _site_code(L: Layer, site: str) -> int:
    return sorted(L.scenario.sites).index(site)


class VendorShare(Family):
    kind = "vendor_share"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for vi, vid in enumerate(co.vendors):
            cap = s.vendors[vid].max_share
            if cap is not None and cap < 1.0:
                r = b.add_row(_label("vendor_share", [vid], L.suffix), "<=", 0.0, vid, (vid, None))
                b.add_entries(r, L.cols[buy], ((L.vendor[buy] == vi).astype(float) - cap) * L.price[buy])
        for si, sid in enumerate(co.sites):
            for vid, cap in sorted(s.sites[sid].vendor_max_share.items()):
                if cap >= 1.0:
                    continue
                vi = co.vendors.index(vid)
                mask = buy & (L.site == si)
                r = b.add_row(_label("vendor_share", [sid, vid], L.suffix), "<=", 0.0, vid, (vid, sid))
                b.add_entries(r, L.cols[mask], ((L.vendor[mask] == vi).astype(float) - cap) * L.price[mask])
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return s.currency

    def _cap(self, s: Scenario, row: RowRef) -> float:
        vid, sid = row.key
        return s.vendors[vid].max_share if sid is None else s.sites[sid].vendor_max_share[vid]

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        where = "total spend" if row.key[1] is None else f"spend at {row.key[1]}"
        return f"{row.name} <= {pct(self._cap(s, row) or 1.0)} of {where}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        vid, sid = row.key
        path = f"vendors.{vid}.max_share" if sid is None else f"sites.{sid}.vendor_max_share.{vid}"
        return Parameter(path, RAISE, False)

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        where = "total spend" if row.key[1] is None else f"spend at {row.key[1]}"
        return f"raising {row.key[0]}'s cap by 1 point of {where} adds {sig(shadow * weight * 0.01)} effective TOPS"

    def weight(self, L: Layer, units: np.ndarray, row: RowRef) -> float:
        mask = (L.kind == BUY) & ~L.stranded
        if row.key[1] is not None:
            mask &= L.site == _site_code(L, row.key[1])
        return float(np.sum(L.price[mask] * units[L.cols[mask]]))


# ----------------------------------------------------------------------------- supply
class Capacity(Family):
    kind = "capacity"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for vi, vid in enumerate(co.vendors):
            cap = s.vendors[vid].capacity_units
            if cap is None:
                continue
            mine = buy & (L.vendor == vi)
            if isinstance(cap, dict):
                for pid, units in cap.items():
                    t = co.periods.index(pid)
                    r = b.add_row(_label("capacity", [vid, pid], L.suffix), "<=", units, vid, (vid, t))
                    m = mine & (L.delivery == t)
                    b.add_entries(r, L.cols[m], 1.0)
            else:
                r = b.add_row(_label("capacity", [vid], L.suffix), "<=", cap, vid, (vid, None))
                b.add_entries(r, L.cols[mine], 1.0)
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "units"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        when = f" delivered in {s.period_ids[row.key[1]]}" if row.key[1] is not None else ""
        return f"{row.name} <= {num(row.rhs)} units{when}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        vid, t = row.key
        path = f"vendors.{vid}.capacity_units" + (f".{s.period_ids[t]}" if t is not None else "")
        return Parameter(path, RAISE, True, "units")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        when = f" in {s.period_ids[row.key[1]]}" if row.key[1] is not None else ""
        return f"each extra unit of {row.key[0]} capacity{when} adds {sig(shadow)} effective TOPS"


class ChipMin(Family):
    kind = "chip_min"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for ci, cid in enumerate(co.chips):
            if s.chips[cid].min_units > 0:
                r = b.add_row(_label("chip_min", [cid], L.suffix), ">=", s.chips[cid].min_units, cid, (cid,))
                m = buy & (L.chip == ci)
                b.add_entries(r, L.cols[m], 1.0)
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "units"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        n = s.chips[row.key[0]].min_units
        return f"{row.name} >= {num(n)} unit{'' if n == 1 else 's'}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        return Parameter(f"chips.{row.key[0]}.min_units", LOWER, True, "units")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return f"each extra unit of {row.key[0]} that must be bought changes effective TOPS by {sig(shadow)}"


class ChipMax(Family):
    kind = "chip_max"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for ci, cid in enumerate(co.chips):
            if s.chips[cid].max_units is not None:
                r = b.add_row(_label("chip_max", [cid], L.suffix), "<=", s.chips[cid].max_units, cid, (cid,))
                m = buy & (L.chip == ci)
                b.add_entries(r, L.cols[m], 1.0)
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "units"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        return f"{row.name} <= {num(s.chips[row.key[0]].max_units or 0.0)} units"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        return Parameter(f"chips.{row.key[0]}.max_units", RAISE, True, "units")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return f"each extra unit of {row.key[0]} allowed adds {sig(shadow)} effective TOPS"


class MinOrder(Family):
    """``min_order_units``: an order placed at all (a site, a chip, an order period) is at least that many units.

    ``z`` (0/1, column ``ordered[...]``) says whether the order is placed; ``min_order`` forces at least m units
    when z = 1 and ``order_link`` forces z = 1 whenever anything is ordered (M: the most units that order could
    ever be, from the chip's maximum, its vendor's capacity, the budgets and the site's power). Rows belong to
    the layer that owns the order (a shared order's rows are written once, with the base's m).
    """

    kind = "min_order"

    def build(self, L: Layer, co: Coords) -> list[RowBlock]:
        b = RowBlock(self.kind)
        link = RowBlock("order_link")
        picks = np.flatnonzero(L.kind == PICK)
        if not picks.size:
            return [b, link]
        var = L.var
        owner_first = L.first
        for j in picks:
            col = int(L.cols[j])
            o = int(var.outcome[col])
            if not ((o == NONE and owner_first) or (o != NONE and o == L.code)):
                continue
            buy = int(var.ref[col])
            loc = int(np.flatnonzero(L.cols == buy)[0])
            sid, cid = co.sites[var.site[buy]], co.chips[var.chip[buy]]
            g = L.scenario if o != NONE else L.base
            m = float(g.chips[cid].min_order_units or 0.0)
            parts = [sid, cid] + ([co.periods[var.period[buy]]] if co.dated else [])
            sfx = L.suffix if o != NONE else ""
            r = b.add_row(_label("min_order", parts, sfx), ">=", 0.0, cid, (sid, cid, int(var.period[buy])))
            b.add_entries(r, np.array([buy]), 1.0)
            b.add_entries(r, np.array([col]), -m)
            big = most_units(L, loc)
            if math.isfinite(big):
                r2 = link.add_row(_label("order_link", parts, sfx), "<=", 0.0, cid, (sid, cid, int(var.period[buy])))
                link.add_entries(r2, np.array([buy]), 1.0)
                link.add_entries(r2, np.array([col]), -max(big, m))
        return [b, link]

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "units"

    def binding(self, var, A_row, units: np.ndarray, slack: float, tol: float) -> bool | None:
        """A minimum order binds only when the order is placed at exactly its minimum; the link never does
        (an order not placed leaves both rows at 0 = 0, which limits nothing)."""
        buy = [int(j) for j in A_row.indices if var.kind[j] == BUY]
        placed = any(units[j] > 0 for j in buy)
        return bool(placed and slack <= tol) if A_row is not None else False

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        sid, cid, t = row.key
        when = f" in {s.period_ids[t]}" if s.has_periods else ""
        if row.family == "order_link":
            return f"{row.name}: an order of {cid} at {sid}{when} counts as placed when any is ordered"
        return f"{row.name}: an order of {cid} at {sid}{when} is at least {num(s.chips[cid].min_order_units or 0)} units"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter | None:
        if row.family == "order_link":
            return None
        return Parameter(f"chips.{row.key[1]}.min_order_units", LOWER, False, "units")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        if row.family == "order_link":
            return ""
        return f"each unit less in the {row.key[1]} minimum order at {row.key[0]} changes effective TOPS by {sig(-shadow)}"


def most_units(L: Layer, loc: int) -> float:
    """An upper bound on the units of one purchase column (local index ``loc`` in layer ``L``) in any plan."""
    s = L.scenario
    cid = sorted(s.chips)[int(L.chip[loc])]
    sid = sorted(s.sites)[int(L.site[loc])]
    c = s.chips[cid]
    bounds = [math.inf]
    if c.max_units is not None:
        bounds.append(c.max_units)
    cap = s.vendors[c.vendor].capacity_units
    if cap is not None and not isinstance(cap, dict):
        bounds.append(cap)
    elif isinstance(cap, dict) and s.period_ids[int(L.delivery[loc])] in cap:
        bounds.append(cap[s.period_ids[int(L.delivery[loc])]])
    price = float(L.price[loc])
    if price > 0:
        for money in (s.sites[sid].budget, s.budget):
            if money is not None:
                bounds.append(s.money(money) / price)
                pp = (money.per_period or {}).get(s.period_ids[int(L.period[loc])]) if s.has_periods else None
                if pp is not None:
                    bounds.append(pp * s.rate(money.currency) / price)
    pw = s.sites[sid].power_mw
    if pw is not None and c.power_w:
        if isinstance(pw, dict):
            later = [mw for p, mw in pw.items() if s.period_ids.index(p) >= int(L.delivery[loc])]
            if later:
                bounds.append(min(later) * 1e6 / c.power_w)
        else:
            bounds.append(pw * 1e6 / c.power_w)
    return float(math.ceil(min(bounds))) if math.isfinite(min(bounds)) else math.inf


# ----------------------------------------------------------------------------- sites and exports
class Power(Family):
    kind = "power"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        T = s.n_periods
        b = RowBlock(self.kind)
        buy = (L.kind == BUY) & ~L.stranded
        for si, sid in enumerate(co.sites):
            pw = s.sites[sid].power_mw
            if pw is None:
                continue
            mine = buy & (L.site == si)
            limits = [(co.periods.index(p), mw) for p, mw in pw.items()] if isinstance(pw, dict) else [(T - 1, pw)]
            for t, mw in limits:
                parts = [sid] + (_period(co, t) if isinstance(pw, dict) or co.dated else [])
                r = b.add_row(_label("power", parts, L.suffix), "<=", mw * 1e6, sid, (sid, t if isinstance(pw, dict) else None))
                m = mine & (L.delivery <= t)
                b.add_entries(r, L.cols[m], L.power_w[m])
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "W"

    def _mw(self, s: Scenario, row: RowRef) -> float:
        pw = s.sites[row.key[0]].power_mw
        return pw[s.period_ids[row.key[1]]] if isinstance(pw, dict) else pw

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        when = f" in service in {s.period_ids[row.key[1]]}" if row.key[1] is not None else ""
        return f"{row.name} <= {num(self._mw(s, row) or 0.0)} MW{when}"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        sid, t = row.key
        path = f"sites.{sid}.power_mw" + (f".{s.period_ids[t]}" if t is not None else "")
        return Parameter(path, RAISE, False, "MW")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        when = f" in {s.period_ids[row.key[1]]}" if row.key[1] is not None else ""
        return f"each extra MW at {row.key[0]}{when} adds {sig(shadow * 1e6)} effective TOPS"


class TppCap(Family):
    kind = "tpp_cap"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        b = RowBlock(self.kind)
        if s.export_controls is None:
            return b
        country_of_site = np.array([s.sites[x].country for x in co.sites], dtype=object)
        counted = L.capped & ~L.stranded & ((L.kind == BUY) | (L.kind == LEASE))
        where = np.where(L.site >= 0, country_of_site[np.maximum(L.site, 0)], None) if len(L.site) else np.array([])
        for country in sorted(s.export_controls.tpp_caps):
            m = counted & (where == country)
            if m.any():
                r = b.add_row(_label("tpp_cap", [country], L.suffix), "<=", s.export_controls.tpp_caps[country], country,
                              (country,))
                b.add_entries(r, L.cols[m], L.tpp[m])
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "TPP"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        return f"{row.name} <= {num(row.rhs)} TPP"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        return Parameter(f"export_controls.tpp_caps.{row.key[0]}", RAISE, False, "TPP")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return f"each extra million TPP of the {row.key[0]} cap adds {sig(shadow * 1e6)} effective TOPS"


class LeaseMax(Family):
    kind = "lease_max"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        s = L.scenario
        T = s.n_periods
        b = RowBlock(self.kind)
        live = (L.kind == LEASE) & ~L.stranded
        for li, lid in enumerate(co.leases):
            cap = s.leases[lid].max_units
            if cap is None:
                continue
            m = live & (L.lease == li)
            r = b.add_row(_label("lease_max", [lid] + _period(co, T - 1), L.suffix), "<=", cap, lid, (lid,))
            b.add_entries(r, L.cols[m], 1.0)
        return b

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "units"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        return f"{row.name} <= {num(row.rhs)} leased units in service"

    def parameter(self, s: Scenario, row: RowRef) -> Parameter:
        return Parameter(f"leases.{row.key[0]}.max_units", RAISE, True, "units")

    def meaning(self, s: Scenario, row: RowRef, shadow: float, weight: float) -> str:
        return f"each extra unit of lease {row.key[0]} allowed adds {sig(shadow)} effective TOPS"


class Risk(Family):
    """Rows of the risk measure (built by the model builder, which owns the helper columns)."""

    kind = "risk"

    def build(self, L: Layer, co: Coords) -> RowBlock:
        return RowBlock(self.kind)

    def unit(self, s: Scenario, row: RowRef) -> str:
        return "TOPS"

    def rule_text(self, s: Scenario, row: RowRef) -> str:
        if row.name.startswith("worst"):
            return f"{row.name}: the worst case is at most outcome {row.subject}'s effective TOPS"
        return f"{row.name}: outcome {row.subject}'s shortfall below the CVaR threshold"


FAMILIES: tuple[Family, ...] = (
    Budget(), DomesticShare(), Capacity(), VendorShare(), ChipMin(), ChipMax(), MinOrder(), Power(), TppCap(),
    LeaseMax(), Risk(),
)
_BY_KIND = {f.kind: f for f in FAMILIES}
_BY_KIND["order_link"] = _BY_KIND["min_order"]


def family(kind: str) -> Family:
    return _BY_KIND[kind]
