"""Export-control decisions per chip, site and delivery period (pure; no I/O, no solver).

A chip is *subject* to the rules when its vendor's origin is listed in
``export_controls.origins``. A subject chip is *controlled* when any clause
of ``controlled_if`` holds (``tpp >= tpp_min`` and, if the clause has one,
``density >= density_min``; an unknown die area makes a density clause hold:
fail safe).

A purchase is decided by its *delivery* period, in this order:

1. an explicit licence for (chip, destination country) whose window
   (``from``..``until``, inclusive; open ends when absent) contains the delivery
   period decides (the first such licence in file order);
2. a chip that is not subject, or not controlled, is allowed;
3. the buyer-headquarters rule: a controlled chip bought by a buyer
   headquartered in one of ``export_controls.headquarters_countries`` is denied
   at every site (the October 2023 rules follow the buyer, not the site);
4. otherwise the destination tier's rule (``allow``, ``cap`` = counts toward the
   country's TPP cap, ``deny``).

A lease (compute rented from an operator in the site's country) exports
nothing, so licences and the headquarters rule do not apply to it: it gets
step 2 and 4 only, and is not dated.
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
    period: str | None = None  # delivery period (None: a scenario without periods, or a lease)
    lease: str | None = None  # set for a lease's decision
    rule: str = "tier"  # what decided: none | licence | not-controlled | headquarters | tier


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _controlled(s: Scenario, chip: str) -> tuple[bool, bool, str]:
    """(subject to the rules, controlled, why) for ``chip``."""
    ec = s.export_controls
    c = s.chips[chip]
    tpp, density = c.tpp_value, c.density
    if ec is None or s.vendors[c.vendor].origin not in ec.origins:
        return False, False, ""
    for clause in ec.controlled_if:
        if tpp < clause.tpp_min:
            continue
        if clause.density_min is None:
            return True, True, f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)}"
        if density is None:
            return True, True, (
                f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)} and die area unknown, "
                f"so density >= {clause.density_min:g} is assumed (fail safe)"
            )
        if density >= clause.density_min:
            return True, True, f"TPP {_fmt(tpp)} >= {_fmt(clause.tpp_min)} and density {density:.2f} >= {clause.density_min:g}"
    return True, False, ""


def _window(s: Scenario, first: str | None, last: str | None) -> str:
    if first is None and last is None:
        return ""
    ids = s.period_ids
    a = first or ids[0]
    b = last or ids[-1]
    return f" from {a} to {b}" if a != b else f" in {a}"


def _licence(s: Scenario, chip: str, country: str, period: int):
    """The licence deciding (chip, country) for delivery in period index ``period``, or None."""
    for lid, lic in s.licences():
        if lic.chip != chip or lic.country != country:
            continue
        lo = s.period_index(lic.from_, 0)
        hi = s.period_index(lic.until, s.n_periods - 1)
        if lo <= period <= hi:
            return lid, lic
    return None


_VERB = {"allow": "allows", "cap": "caps", "deny": "denies"}


def decide(s: Scenario, site: str, chip: str, period: int = 0) -> Decision:
    """The decision for ``chip`` bought for ``site`` and delivered in period index ``period``."""
    c = s.chips[chip]
    country = s.sites[site].country
    tpp, density = c.tpp_value, c.density
    ec = s.export_controls
    pid = s.period_ids[period] if s.has_periods else None
    when = f" delivered in {pid}" if pid else ""
    if ec is None:
        return Decision(chip, site, country, None, tpp, density, False, "allow", "no export controls in this scenario",
                        pid, rule="none")
    tier = ec.tiers.get(country, ec.default_tier)
    subject, controlled, why = _controlled(s, chip)
    found = _licence(s, chip, country, period)
    if found is not None:
        lid, lic = found
        note = f" ({lic.note})" if lic.note else ""
        if s.has_periods:
            reason = f"{chip} to {country}{when}: licence '{lid}' {_VERB[lic.status]}{_window(s, lic.from_, lic.until)}{note}"
        else:
            reason = f"licence decision for {country} is {lic.status}" + (f": {lic.note}" if lic.note else "")
        return Decision(chip, site, country, tier, tpp, density, controlled, lic.status, reason, pid, rule="licence")
    origin = s.vendors[c.vendor].origin
    if not subject:
        return Decision(chip, site, country, tier, tpp, density, False, "allow",
                        f"vendor origin {origin} is not governed by {ec.regime}", pid, rule="not-controlled")
    if not controlled:
        return Decision(chip, site, country, tier, tpp, density, False, "allow",
                        f"below every {ec.regime} threshold (TPP {_fmt(tpp)}"
                        + (f", density {density:.2f})" if density is not None else ")"), pid, rule="not-controlled")
    hq = s.buyer.headquarters if s.buyer is not None else None
    if hq is not None and hq in ec.headquarters_countries:
        return Decision(chip, site, country, tier, tpp, density, True, "deny",
                        f"{chip} at {site}: buyer headquartered in {hq}, a controlled chip ({why}): "
                        "denied anywhere without a licence", pid, rule="headquarters")
    rule = ec.tier_rules[tier]
    return Decision(chip, site, country, tier, tpp, density, True, rule,
                    f"controlled ({why}); tier {tier} destination: {rule}", pid, rule="tier")


def lease_decision(s: Scenario, lease: str) -> Decision:
    """A lease follows the destination rules for its chip at its site's country (no licences, no headquarters rule)."""
    o = s.leases[lease]
    c = s.chips[o.chip]
    country = s.sites[o.site].country
    tpp, density = c.tpp_value, c.density
    ec = s.export_controls
    if ec is None:
        return Decision(o.chip, o.site, country, None, tpp, density, False, "allow",
                        "no export controls in this scenario", None, lease, rule="none")
    tier = ec.tiers.get(country, ec.default_tier)
    subject, controlled, why = _controlled(s, o.chip)
    if not (subject and controlled):
        return Decision(o.chip, o.site, country, tier, tpp, density, False, "allow",
                        f"lease {lease}: {o.chip} is not controlled in {country}; leasing exports nothing", None, lease,
                        rule="not-controlled")
    rule = ec.tier_rules[tier]
    tail = {"cap": f"counts toward the {country} TPP cap" if o.counts_toward_tpp_cap else
            f"tier {tier} cap, but this lease does not count toward it (counts_toward_tpp_cap: false)",
            "allow": "allowed", "deny": "denied"}[rule]
    return Decision(o.chip, o.site, country, tier, tpp, density, True, rule,
                    f"lease {lease}: controlled ({why}); tier {tier} destination: {tail}; licences and the "
                    "headquarters rule do not apply to leased compute", None, lease, rule="tier")


def decisions(s: Scenario) -> list[Decision]:
    """One decision per (site, chip, delivery period), sorted by site, chip, period; then one per lease."""
    out = [decide(s, site, chip, t) for site in sorted(s.sites) for chip in sorted(s.chips) for t in range(s.n_periods)]
    out += [lease_decision(s, o) for o in sorted(s.leases)]
    return out


def problems(s: Scenario) -> list[tuple[str, str]]:
    """Decisions that cannot be modelled: a capped chip or lease in a country without a TPP cap."""
    out = []
    caps = s.export_controls.tpp_caps if s.export_controls else {}
    for d in decisions(s):
        if d.decision == "cap" and d.country not in caps:
            if d.lease is not None and not s.leases[d.lease].counts_toward_tpp_cap:
                continue
            what = f"lease {d.lease}" if d.lease else f"{d.chip} (site {d.site})"
            msg = (f"{what} is capped in {d.country} but no cap is given; add tpp_caps.{d.country}: <total TPP>"
                   if d.lease else
                   f"{d.chip} is capped in {d.country} (site {d.site}) but no cap is given; add tpp_caps.{d.country}: <total TPP>")
            item = ("export_controls.tpp_caps", msg)
            if item not in out:
                out.append(item)
    return out
