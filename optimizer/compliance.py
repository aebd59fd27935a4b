"""Export-control decisions per chip and site (pure; no I/O, no solver).

A chip is *subject* to the rules when its vendor's origin is listed in
``export_controls.origins``. A subject chip is *controlled* when any clause
of ``controlled_if`` holds (``tpp >= tpp_min`` and, if the clause has one,
``density >= density_min``; an unknown die area makes a density clause hold:
fail safe). A controlled chip gets the rule of the destination's tier. An
explicit licence for (chip, country) overrides everything.
"""
from __future__ import annotations

from dataclasses import dataclass

from .schema import Scenario


@dataclass(frozen=True)
class Decision:
    chip: str
    site: str
    country: str
    tier: int | None
    tpp: float
    density: float | None
    controlled: bool
    decision: str  # allow | cap | deny
    reason: str


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def decide(s: Scenario, site: str, chip: str) -> Decision:
    c = s.chips[chip]
    country = s.sites[site].country
    tpp, density = c.tpp_value, c.density
    ec = s.export_controls
    origin = s.vendors[c.vendor].origin
    if ec is None:
        return Decision(chip, site, country, None, tpp, density, False, "allow", "no export controls in this scenario")
    tier = ec.tiers.get(country, ec.default_tier)
    subject = origin in ec.origins
    controlled = False
    why = ""
    if subject:
        for clause in ec.controlled_if:
            if tpp < clause.tpp_min:
                continue
            if clause.density_min is None:
                controlled, why = True, f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)}"
                break
            if density is None:
                controlled = True
                why = (
                    f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)} and die area unknown, "
                    f"so density >= {clause.density_min:g} is assumed (fail safe)"
                )
                break
            if density >= clause.density_min:
                controlled, why = True, f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)} and density {density:.2f} >= {clause.density_min:g}"
                break
    for lic in ec.licenses:
        if lic.chip == chip and lic.country == country:
            note = f": {lic.note}" if lic.note else ""
            return Decision(chip, site, country, tier, tpp, density, controlled, lic.status, f"licence decision for {country} is {lic.status}{note}")
    if not subject:
        return Decision(chip, site, country, tier, tpp, density, False, "allow", f"vendor origin {origin} is not governed by {ec.regime}")
    if not controlled:
        return Decision(chip, site, country, tier, tpp, density, False, "allow", f"below every {ec.regime} threshold (TPP {_fmt(tpp)}" + (f", density {density:.2f})" if density is not None else ")"))
    rule = ec.tier_rules[tier]
    return Decision(chip, site, country, tier, tpp, density, True, rule, f"controlled ({why}); tier {tier} destination: {rule}")


def decisions(s: Scenario) -> list[Decision]:
    """One decision per (chip, site), sorted by site then chip."""
    return [decide(s, site, chip) for site in sorted(s.sites) for chip in sorted(s.chips)]


def problems(s: Scenario) -> list[tuple[str, str]]:
    """Decisions that cannot be modelled: a capped chip in a country without a TPP cap."""
    out = []
    caps = s.export_controls.tpp_caps if s.export_controls else {}
    for d in decisions(s):
        if d.decision == "cap" and d.country not in caps:
            out.append(
                (
                    "export_controls.tpp_caps",
                    f"{d.chip} is capped in {d.country} (site {d.site}) but no cap is given; add tpp_caps.{d.country}: <total TPP>",
                )
            )
    return out
