"""Readable plain-text summaries for the terminal (stderr).

A plan without periods, leases or outcomes (every version-1 scenario) prints
exactly as it always has. A plan with periods adds the order and delivery
period to the allocation, a leases table, a table by period (cash paid against
the per-period caps, deliveries, effective TOPS in service, power in use
against each envelope), says what the objective is, and merges the export
decisions of consecutive periods (:mod:`optimizer.report.period_tables`).
"""
from __future__ import annotations

from ..plan import OPTIMALITY_REL_TOL, Plan
from .period_tables import compliance_runs, extended, objective_text, periods_shown, site_periods


def money(x: float | None, cur: str) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1e9:
        return f"{cur} {x / 1e9:,.3f}B"
    if abs(x) >= 1e6:
        return f"{cur} {x / 1e6:,.2f}M"
    return f"{cur} {x:,.0f}"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def mw(x: float) -> str:
    """Megawatts: one decimal from 1 MW up, two significant digits below (a 0.0005 MW fixture is not 0.0)."""
    if x == 0 or abs(x) >= 1:
        return f"{x:,.1f}"
    return f"{x:.2g}"


def power_text(used: float | None, envelope: float | None) -> str:
    return "-" if used is None or envelope is None else f"{mw(used)} / {mw(envelope)} MW"


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def summary(plan: Plan, report: str | None = None) -> str:
    s = plan.scenario
    cur = s.currency
    t = plan.totals
    out = [
        f"chipalloc: {s.name}",
        f"status: {plan.status}  (solver {plan.result.solver}, {'whole lots (MILP)' if s.integer_units else 'continuous LP'}; plan verified)",
    ]
    opt = plan.optimality or {}
    if opt.get("certificate") == "lp-duality":
        out.append(f"optimality: proven by LP duality (gap {opt['gap']:.1e}; the check allows {OPTIMALITY_REL_TOL:g})")
    elif opt.get("certificate") == "relaxation-bound":
        out.append(f"optimality: whole lots reach {100 * (1 - opt['gap']):.5f}% of the continuous bound ({opt['bound']:,.0f} effective TOPS)")
    if opt.get("tie_break"):
        out.append(f"note: {opt['tie_break']}")
    if plan.loaded and plan.loaded.applied:
        out.append("applied: " + "; ".join(_applied(a) for a in plan.loaded.applied))
    wide = extended(plan)
    out.append("")
    if wide:
        out += _key_figures(plan)
    else:
        out += [
            f"effective TOPS  {t['effective_tops']:>18,.0f}   (INT8 x flexibility x delivery rate)",
            f"delivered TOPS  {t['delivered_tops']:>18,.0f}   (INT8 x delivery rate)",
            f"ordered TOPS    {t['int8_tops']:>18,.0f}   (INT8, dense)",
            f"total spend     {money(t['spend'], cur):>18}   for {t['units']:,.0f} units",
        ]
    out.append("")
    rows = []
    for r in plan.sites:
        used = r.spend / r.budget if r.budget else None
        floor = f" (floor {pct(r.domestic_min_share)} of {r.domestic_basis})" if r.domestic_min_share is not None else ""
        power = f"{r.power_used_mw:,.1f} / {r.power_mw:,.0f} MW" if r.power_mw is not None and r.power_used_mw is not None else "-"
        if wide:  # in use at the end against the last period's envelope; small envelopes keep their digits
            power = power_text(r.power_used_mw, r.power_mw)
        rows.append([r.site, r.country, money(r.spend, cur), money(r.budget, cur), pct(used), pct(r.domestic_share) + floor, power])
    out += _table(["site", "country", "spend", "budget", "used", "domestic share", "power"], rows, {2, 3, 4})
    out.append("")
    if wide:
        out += _allocation_dated(plan)
        out += _leases(plan)
        out += _by_period(plan)
    else:
        rows = [
            [a.site, a.chip, a.model, a.vendor, "yes" if a.domestic else "no", f"{a.units:,.0f}", f"{a.unit_price:,.0f}",
             money(a.spend, cur), f"{a.effective_tops:,.0f}"]
            for a in plan.allocation
        ]
        out += _table(["site", "chip", "model", "vendor", "domestic", "units", f"unit price {cur}", "spend", "effective TOPS"],
                      rows, {5, 6, 7, 8})
        out.append("")
    bind = [c for c in plan.constraints if c.binding]
    out.append("binding constraints" + (" (shadow prices from the continuous relaxation)" if plan.result.dual_basis == "relaxation" else "") + ":")
    if not bind:
        out.append("  none")
    for c in bind:
        out.append(f"  {c.name:<28} {c.meaning}")
    if plan.dated or plan.scenario.leases:
        denied = [d for d in compliance_runs(plan) if d.decision != "allow"]
        if denied:
            out.append("")
            out.append("export controls:")
            for d in denied:
                what = f"{d.chip} at {d.site} ({d.country}), leased" if d.lease else (
                    f"{d.chip} at {d.site} ({d.country})" + (f", {d.periods}" if d.periods else ""))
                out.append(f"  {what}: {d.decision} - {d.reason}")
    else:
        denied = [d for d in plan.compliance if d.decision != "allow"]
        if denied:
            out.append("")
            out.append("export controls:")
            for d in denied:
                out.append(f"  {d.chip} at {d.site} ({d.country}): {d.decision} - {d.reason}")
    if report:
        out.append("")
        out.append(f"workbook: {report}")
    return "\n".join(out)


def _key_figures(plan: Plan) -> list[str]:
    s = plan.scenario
    cur = s.currency
    t = plan.totals
    out = [f"objective       {t['effective_tops']:>18,.0f}   {objective_text(plan)}"]
    if plan.outcomes:  # the other totals add up every outcome's rows: the spend is the expected one
        return out + [f"total spend     {money(t['spend'], cur):>18}   expected over the outcomes "
                      "(each outcome's own orders are in the table below)"]
    delivered = t.get("effective_tops_delivered")
    if delivered is not None and plan.dated and s.objective == "in_service":
        out.append(f"effective TOPS  {delivered:>18,.0f}   delivered by the end of {s.period_ids[-1]}"
                   + (", purchases and leases" if s.leases else "") + " (INT8 x flexibility x delivery rate)")
    out += [
        f"delivered TOPS  {t['delivered_tops']:>18,.0f}   (INT8 x delivery rate{', purchases' if s.leases else ''})",
        f"ordered TOPS    {t['int8_tops']:>18,.0f}   (INT8, dense{', purchases' if s.leases else ''})",
    ]
    if s.leases:
        leased = t.get("leased_units", sum(r.units for r in plan.leases))
        lease_spend = t.get("lease_spend", sum(r.spend for r in plan.leases))
        out.append(f"total spend     {money(t['spend'], cur):>18}   for {t['units']:,.0f} units bought and {leased:,.0f} leased")
        out.append(f"lease spend     {money(lease_spend, cur):>18}   payments over the periods each lease is in service")
    else:
        out.append(f"total spend     {money(t['spend'], cur):>18}   for {t['units']:,.0f} units")
    return out


def _allocation_dated(plan: Plan) -> list[str]:
    cur = plan.scenario.currency
    outcomes = any(a.outcome for a in plan.allocation)
    dated = plan.dated
    headers = ["site", "chip"] + (["ordered", "delivered"] if dated else []) + (["outcome"] if outcomes else []) + [
        "model", "vendor", "domestic", "units", f"unit price {cur}", "spend", "effective TOPS"]
    rows = []
    for a in plan.allocation:
        rows.append([a.site, a.chip] + ([a.period or "", a.delivery_period or "after the end"] if dated else [])
                    + ([a.outcome or "all"] if outcomes else [])
                    + [a.model, a.vendor, "yes" if a.domestic else "no", f"{a.units:,.0f}", f"{a.unit_price:,.0f}",
                       money(a.spend, cur), f"{a.effective_tops:,.0f}"])
    n = len(headers)
    out = _table(headers, rows, {n - 4, n - 3, n - 2, n - 1}) if rows else ["no purchases"]
    return out + [""]


def _leases(plan: Plan) -> list[str]:
    s = plan.scenario
    if not s.leases:
        return []
    cur = s.currency
    if not plan.leases:
        return [f"leases: none taken ({len(s.leases)} offered: {', '.join(sorted(s.leases))})", ""]
    outcomes = any(r.outcome for r in plan.leases)
    headers = ["lease", "site", "chip", "operator", "start"] + (["outcome"] if outcomes else []) + [
        "units", f"price per period {cur}", "periods", "spend", "effective TOPS"]
    rows = []
    for r in plan.leases:
        rows.append([r.lease, r.site, r.chip, r.operator, r.start_period or "-"] + ([r.outcome or "all"] if outcomes else [])
                    + [f"{r.units:,.0f}", f"{r.price_per_period:,.0f}", f"{r.periods_in_service}", money(r.spend, cur),
                       f"{r.effective_tops:,.0f}"])
    n = len(headers)
    return ["leases (paid per unit and period in service, from the start period to the end):"] + _table(
        headers, rows, set(range(n - 5, n))) + [""]


def _by_period(plan: Plan) -> list[str]:
    if not plan.dated:
        return []
    if not periods_shown(plan):
        return ["by period: not shown for a plan with outcomes (each outcome has its own figures; see --json)", ""]
    s = plan.scenario
    cur = s.currency
    sites = sorted(s.sites)
    per_site: dict[str, list] = {}
    for x in site_periods(plan):
        per_site.setdefault(x.period, []).append(x)
    show_all = len(sites) > 1 or any(p.budget is not None for p in plan.periods)
    rows = []
    for p in plan.periods:
        first = p.period
        if show_all:
            rows.append([first, "all", money(p.spend, cur), money(p.budget, cur),
                         pct(p.spend / p.budget) if p.budget else "-", f"{p.units_delivered:,.0f}",
                         f"{p.effective_tops_in_service:,.0f}", ""])
            first = ""
        for x in per_site.get(p.period, []):
            power = power_text(x.power_mw, x.power_envelope_mw)
            rows.append([first, x.site, money(x.spend, cur), money(x.cap, cur), pct(x.used), f"{x.units_delivered:,.0f}",
                         f"{x.effective_tops_in_service:,.0f}", power])
            first = ""
    out = ["by period (cash paid: orders placed and lease payments, against the per-period caps; "
           "in service: purchases delivered and leases started by the period):"]
    out += _table(["period", "site", "spend", "cap", "used", "units delivered", "effective TOPS in service", "power in use"],
                  rows, {2, 3, 4, 5, 6, 7})
    return out + [""]


def _applied(a: dict) -> str:
    """``variant NAME`` or ``--set PATH=VALUE``, with what it replaced whole and what else it set."""
    if "variant" in a:
        text = f"variant {a['variant']}"
        said = [f"replaces the whole {p}: {what}" for p, what in (a.get("replaces") or {}).items()]
    else:
        text = f"--set {a['set']}={a['value']}"
        said = [f"replaces the whole {a['replaces']}"] if a.get("replaces") else []
    said += [f"so {p}={v:g}" for p, v in (a.get("also_set") or {}).items()]
    return text + (f" ({'; '.join(said)})" if said else "")


BREAK_EVEN_HEAD = "Break-even prices (only that site's price moves; within 0.1%):"


def break_even_line(row) -> str:
    """One break-even row as the summary lists it (``solve`` prints them one by one as they are found)."""
    return f"  {row.sentence}"


def break_even_text(rows) -> str:
    """The break-even lines that follow the summary."""
    return "\n".join([BREAK_EVEN_HEAD] + [break_even_line(b) for b in rows])
