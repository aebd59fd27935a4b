"""Readable plain-text summaries for the terminal (stderr)."""
from __future__ import annotations

from ..plan import Plan


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
        out.append(f"optimality: proven by LP duality (gap {opt['gap']:.1e}, within the 1e-7 tie-break tolerance)")
    elif opt.get("certificate") == "relaxation-bound":
        out.append(f"optimality: whole lots reach {100 * (1 - opt['gap']):.5f}% of the continuous bound ({opt['bound']:,.0f} effective TOPS)")
    if opt.get("tie_break"):
        out.append(f"note: {opt['tie_break']}")
    if plan.loaded and plan.loaded.applied:
        out.append("applied: " + "; ".join(_applied(a) for a in plan.loaded.applied))
    out += [
        "",
        f"effective TOPS  {t['effective_tops']:>18,.0f}   (INT8 x flexibility x delivery rate)",
        f"delivered TOPS  {t['delivered_tops']:>18,.0f}   (INT8 x delivery rate)",
        f"ordered TOPS    {t['int8_tops']:>18,.0f}   (INT8, dense)",
        f"total spend     {money(t['spend'], cur):>18}   for {t['units']:,.0f} units",
        "",
    ]
    rows = []
    for r in plan.sites:
        used = r.spend / r.budget if r.budget else None
        floor = f" (floor {pct(r.domestic_min_share)} of {r.domestic_basis})" if r.domestic_min_share is not None else ""
        power = f"{r.power_used_mw:,.1f} / {r.power_mw:,.0f} MW" if r.power_mw is not None and r.power_used_mw is not None else "-"
        rows.append([r.site, r.country, money(r.spend, cur), money(r.budget, cur), pct(used), pct(r.domestic_share) + floor, power])
    out += _table(["site", "country", "spend", "budget", "used", "domestic share", "power"], rows, {2, 3, 4})
    out.append("")
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


def break_even_text(rows) -> str:
    """The break-even lines that follow the summary."""
    head = "Break-even prices (only that site's price moves; within 0.1%):"
    return "\n".join([head] + [f"  {b.sentence}" for b in rows])
