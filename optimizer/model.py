"""Build the allocation LP/MILP from a scenario (pure: no solver, no I/O).

The model is a plain matrix description (:class:`LinearModel`) with stable
names, so solver backends, the sensitivity analysis and the incremental
re-solver all read the same thing. Variables count *units* of a chip at a
site; when ``integer_units`` is on, each column also has a ``scale`` (the
chip's lot size) and solvers work in whole lots (units = scale x lots).

Rows, in their written form ``sum(a_j x_j) <sense> rhs`` with x in units:

- ``budget[<site>]``:       sum price_rep(site, j) x_j            <= budget
- ``budget[global]``:       sum over all sites of the same         <= global budget
- ``domestic_share[<site>]``: sum (dom_j - floor) w_j x_j          >= 0
  (w = price for basis spend, 1 for units, INT8 TOPS for tops)
- ``capacity[<vendor>]``:   sum units of the vendor's chips        <= capacity_units
- ``vendor_share[<vendor>]``: sum (is_v_j - max_share) price_j x_j  <= 0
- ``chip_min[<chip>]`` / ``chip_max[<chip>]``: units over all sites >= / <= bound
- ``power[<site>]``:        sum power_w_j x_j                      <= power_mw x 1e6
- ``tpp_cap[<country>]``:   sum over capped (site, chip) tpp_j x_j <= cap
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import compliance
from .schema import Scenario

KINDS = ("budget", "domestic_share", "capacity", "vendor_share", "chip_min", "chip_max", "power", "tpp_cap")


@dataclass(frozen=True)
class Var:
    name: str  # units[<site>,<chip>]
    site: str
    chip: str
    scale: int  # units per solver unit (lot size when integer, else 1)


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    sense: str  # "<=" or ">="
    rhs: float
    subject: str  # the site, vendor, chip or country the row is about


@dataclass
class LinearModel:
    """max c.x  s.t.  A x (sense) b,  x >= 0, x in units (integer lots if integer)."""

    scenario: Scenario
    vars: list[Var]
    rows: list[Row]
    c: np.ndarray  # effective TOPS per unit
    spend: np.ndarray  # reporting-currency spend per unit (tie-break objective)
    A: np.ndarray  # rows x vars, per unit
    integer: bool
    decisions: list[compliance.Decision] = field(default_factory=list)

    @property
    def b(self) -> np.ndarray:
        return np.array([r.rhs for r in self.rows], dtype=float)

    @property
    def scale(self) -> np.ndarray:
        return np.array([v.scale for v in self.vars], dtype=float)

    def row_index(self, name: str) -> int:
        for i, r in enumerate(self.rows):
            if r.name == name:
                return i
        raise KeyError(name)

    def var_index(self, site: str, chip: str) -> int | None:
        for i, v in enumerate(self.vars):
            if v.site == site and v.chip == chip:
                return i
        return None

    def structure_key(self) -> tuple:
        """What must match for an incremental re-solve to reuse a solver model."""
        return (tuple(v.name for v in self.vars), tuple((r.name, r.sense) for r in self.rows), self.integer,
                tuple(v.scale for v in self.vars))


def build(s: Scenario) -> LinearModel:
    decs = compliance.decisions(s)
    decision = {(d.site, d.chip): d for d in decs}
    sites = sorted(s.sites)
    chips = sorted(s.chips)
    vars_: list[Var] = []
    for site in sites:
        for chip in chips:
            if decision[(site, chip)].decision == "deny":
                continue
            scale = s.chips[chip].lot_size if s.integer_units else 1
            vars_.append(Var(f"units[{site},{chip}]", site, chip, scale))
    n = len(vars_)
    c = np.array([s.effective_tops_per_unit(v.chip) for v in vars_], dtype=float)
    price = np.array([s.price_reporting(v.site, v.chip) for v in vars_], dtype=float)
    rows: list[Row] = []
    coefs: list[np.ndarray] = []

    def add(name: str, kind: str, sense: str, rhs: float, a: np.ndarray, subject: str) -> None:
        rows.append(Row(name, kind, sense, float(rhs), subject))
        coefs.append(a)

    at_site = {site: np.array([v.site == site for v in vars_], dtype=float) for site in sites}
    for site in sites:
        st = s.sites[site]
        if st.budget is not None:
            add(f"budget[{site}]", "budget", "<=", s.money(st.budget), price * at_site[site], site)
    if s.budget is not None:
        add("budget[global]", "budget", "<=", s.money(s.budget), price.copy(), "global")
    for site in sites:
        st = s.sites[site]
        if st.domestic_min_share:
            dom = np.array([s.is_domestic(v.site, v.chip) for v in vars_], dtype=float)
            if st.domestic_basis == "spend":
                w = price
            elif st.domestic_basis == "units":
                w = np.ones(n)
            else:
                w = np.array([s.chips[v.chip].int8_tops for v in vars_], dtype=float)
            add(f"domestic_share[{site}]", "domestic_share", ">=", 0.0, (dom - st.domestic_min_share) * w * at_site[site], site)
    for vid in sorted(s.vendors):
        vd = s.vendors[vid]
        mine = np.array([s.chips[v.chip].vendor == vid for v in vars_], dtype=float)
        if vd.capacity_units is not None:
            add(f"capacity[{vid}]", "capacity", "<=", vd.capacity_units, mine, vid)
    for vid in sorted(s.vendors):
        vd = s.vendors[vid]
        if vd.max_share is not None and vd.max_share < 1.0:
            mine = np.array([s.chips[v.chip].vendor == vid for v in vars_], dtype=float)
            add(f"vendor_share[{vid}]", "vendor_share", "<=", 0.0, (mine - vd.max_share) * price, vid)
    for chip in chips:
        ch = s.chips[chip]
        mine = np.array([v.chip == chip for v in vars_], dtype=float)
        if ch.min_units > 0:
            add(f"chip_min[{chip}]", "chip_min", ">=", ch.min_units, mine, chip)
    for chip in chips:
        ch = s.chips[chip]
        mine = np.array([v.chip == chip for v in vars_], dtype=float)
        if ch.max_units is not None:
            add(f"chip_max[{chip}]", "chip_max", "<=", ch.max_units, mine, chip)
    for site in sites:
        st = s.sites[site]
        if st.power_mw is not None:
            pw = np.array([s.chips[v.chip].power_w or 0.0 for v in vars_], dtype=float)
            add(f"power[{site}]", "power", "<=", st.power_mw * 1e6, pw * at_site[site], site)
    if s.export_controls is not None:
        for country in sorted(s.export_controls.tpp_caps):
            capped = np.array(
                [decision[(v.site, v.chip)].decision == "cap" and s.sites[v.site].country == country for v in vars_], dtype=float
            )
            if capped.any():
                tpp = np.array([s.chips[v.chip].tpp_value for v in vars_], dtype=float)
                add(f"tpp_cap[{country}]", "tpp_cap", "<=", s.export_controls.tpp_caps[country], capped * tpp, country)
    A = np.vstack(coefs) if coefs else np.zeros((0, n))
    return LinearModel(s, vars_, rows, c, price, A, bool(s.integer_units), decs)
