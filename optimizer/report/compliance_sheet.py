"""The Compliance sheet: every export decision, with its reason in words.

A plan without periods or leases gets one row per chip and site (the
version-1 layout). A plan with periods gets one row per (site, chip) and run
of consecutive delivery periods with the same decision for the same reason
(``2025q2-2025q3``), then one row per lease
(:func:`optimizer.report.period_tables.compliance_runs`).
"""
from __future__ import annotations

from ..plan import Plan
from .period_tables import compliance_runs
from .xlsx import CAP_BG, DENY_BG, FMT_INT, FMT_RATIO, WRAP_TOP, Sheet

COMPLIANCE_COLUMNS = (
    "Site", "Country", "Chip", "Model", "Origin", "TPP", "Density (TPP/mm²)", "Controlled", "Tier", "Decision", "Reason",
)
DATED_COLUMNS = (
    "Site", "Country", "Chip", "Model", "Lease", "Delivery periods", "Origin", "TPP", "Density (TPP/mm²)", "Controlled",
    "Tier", "Decision", "Decided by", "Reason",
)
RULE_TEXT = {"none": "no export controls", "licence": "licence", "not-controlled": "not controlled",
             "headquarters": "buyer headquarters", "tier": "destination tier"}


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def compliance_sheet(sh: Sheet, plan: Plan) -> None:
    if plan.dated or plan.scenario.leases:
        _compliance_dated(sh, plan)
    else:
        _compliance_v1(sh, plan)


def _compliance_v1(sh: Sheet, plan: Plan) -> None:
    s = plan.scenario
    rows = []
    for d in plan.compliance:
        chip = s.chips.get(d.chip)
        origin = s.vendors[chip.vendor].origin if chip is not None else ""
        rows.append([d.site, d.country, d.chip, (chip.model if chip is not None else None) or d.chip, origin, d.tpp,
                     d.density if d.density is not None else "unknown", _yes(d.controlled),
                     d.tier if d.tier is not None else "-", d.decision, d.reason])
    fmts = [None, None, None, None, None, FMT_INT, FMT_RATIO, None, None, None, None]
    _decision_table(sh, COMPLIANCE_COLUMNS, rows, fmts)
    ec = s.export_controls
    sh.note(len(rows) + 3, 1,
            f"Rules: {ec.regime}. TPP = total processing performance; density = TPP per mm² of die. "
            "A denied chip is not bought at that site; a capped chip counts against the country's TPP cap."
            if ec is not None else "No export controls in this scenario: every chip is allowed everywhere.")
    sh.fit_columns(max_width=90, from_row=1)


def _decision_table(sh: Sheet, columns, rows: list[list], fmts: list) -> None:
    """Header and rows of export decisions: deny and cap shaded in the Decision column, the last (the reason)
    wrapped."""
    sh.header(1, list(columns), freeze=True, autofilter_rows=len(rows))
    dec_col = columns.index("Decision") + 1
    for i, r in enumerate(rows, start=2):
        for j, (v, f) in enumerate(zip(r, fmts), start=1):
            style = None
            if j == dec_col and v in ("deny", "cap"):
                style = {"bg_color": DENY_BG if v == "deny" else CAP_BG}
            elif j == len(columns):
                style = WRAP_TOP
            sh.put(i, j, v, f, style=style)


def _compliance_dated(sh: Sheet, plan: Plan) -> None:
    s = plan.scenario
    rows = []
    for d in compliance_runs(plan):
        chip = s.chips.get(d.chip)
        origin = s.vendors[chip.vendor].origin if chip is not None else ""
        periods = d.periods if d.lease is None else "from its start"
        if d.lease is None and not plan.dated:
            periods = "all"
        rows.append([d.site, d.country, d.chip, (chip.model if chip is not None else None) or d.chip, d.lease or "",
                     periods, origin, d.tpp, d.density if d.density is not None else "unknown", _yes(d.controlled),
                     d.tier if d.tier is not None else "-", d.decision, RULE_TEXT.get(d.rule, d.rule), d.reason])
    fmts = [None, None, None, None, None, None, None, FMT_INT, FMT_RATIO, None, None, None, None, None]
    _decision_table(sh, DATED_COLUMNS, rows, fmts)
    ec = s.export_controls
    note = len(rows) + 3
    sh.note(note, 1,
            f"Rules: {ec.regime}. TPP = total processing performance; density = TPP per mm² of die. "
            "A denied chip is not bought at that site; a capped chip counts against the country's TPP cap."
            if ec is not None else "No export controls in this scenario: every chip is allowed everywhere.")
    if plan.dated:
        sh.note(note + 1, 1, "A purchase is decided by its delivery period: a licence whose window covers it first, "
                             "then the buyer-headquarters rule, then the destination tier. Consecutive periods with the "
                             "same decision for the same reason are one row.")
    if s.leases:
        sh.note(note + 2, 1, "A lease rents compute in the site's country: it gets the destination rules only "
                             "(licences and the headquarters rule do not apply).")
    sh.fit_columns(max_width=90, from_row=1)
