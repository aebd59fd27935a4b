"""JSON documents and terminal tables for sweep, tornado and compare.

Schemas (stable keys; money in the scenario's reporting currency):

``chipalloc.sweep/1``::

    {"schema", "scenario", "file", "solver", "currency", "applied": [...],
     "partial": false|true, "points_done": N, "points_total": N,
     "method": "breakpoints"|"points", "method_note", "solves": N,
     "breakpoints": null | [{"value", "kind", "effective_tops", "spend",
                             "tops_slope_before", "tops_slope_after"}],
     "vary": [{"path", "spec", "base", "values": [...], "rescales": [PATH]}],
     "points": [{"values": {PATH: V}, "status", "effective_tops", "spend",
                 "units": {"site/chip": N}, "domestic_share": {SITE: S},
                 "binding": [NAME], "diagnosis": null | DIAGNOSIS}],
     "report": PATH|null}

``partial`` is true when the sweep was interrupted (Ctrl-C): ``points`` then
holds the ``points_done`` points that finished, in sweep order, out of
``points_total``.

``method`` "breakpoints": a 1-D sweep of a continuous scenario's right-hand
side or objective coefficient, every point filled exactly from ``solves``
solves at the basis changes (:mod:`optimizer.analysis.parametric`);
``breakpoints`` are the parameter values where the plan's slope changes
(``kind`` "value": the slope of effective TOPS changes there; "plan": only the
mix of units does; ``spend`` is null where the plan jumps, at a breakpoint of an
objective coefficient), and ``method_note`` says what was varied. "points":
every point solved; ``breakpoints`` is null and ``method_note`` says why the
breakpoint method did not apply (empty when it was not asked for).

``DIAGNOSIS`` is :meth:`optimizer.analysis.diagnose.Diagnosis.to_dict`, as in
``chipalloc solve --json``: ``{"conflict": [NAME], "explanation", "rules",
"fixes": [{"constraint", "path", "current", "needed", "set", "direction",
"text"}], "no_single_fix", "integer_only", "notes"}``; it is set for every
infeasible point (and compare scenario, and an infeasible tornado base) and
null otherwise.

``chipalloc.tornado/1``::

    {"schema", "scenario", "file", "solver", "currency", "applied", "pct",
     "base": {"status", "effective_tops", "spend"[, "diagnosis"]},
     "params": [{"path", "label", "base_value", "swing", "note",
                 "low":  {"value", "status", "effective_tops", "spend", "delta"},
                 "high": {"value", "status", "effective_tops", "spend", "delta"}}],
     "report"}

``chipalloc.compare/1``::

    {"schema", "solver", "currency",
     "scenarios": [{"label", "file", "variants", "applied", "scenario", "status",
                    "effective_tops", "delivered_tops", "int8_tops", "spend", "units_total",
                    "units": {"site/chip": N}, "spend_by_site": {SITE: X},
                    "domestic_share": {SITE: S}, "spend_by_vendor": {VENDOR: X},
                    "binding": [NAME], "diagnosis": null | DIAGNOSIS,
                    "diff": null | {"effective_tops", "delivered_tops", "int8_tops", "spend",
                                    "units_total", "units": {...}, "spend_by_vendor": {...},
                                    "binding_added": [...], "binding_removed": [...]}}],
     "report"}

Figures of a point or scenario without an optimal plan are null (its
``units``, ``domestic_share`` and so on are empty); ``diff`` is against the
first scenario and null when either has no optimal plan.
"""
from __future__ import annotations

from typing import Any

from ..analysis.compare import CompareResult
from ..analysis.sweep import Outcome, SweepResult
from ..analysis.tornado import TornadoResult
from .json_out import clean
from .terminal import _applied, money

SWEEP_SCHEMA = "chipalloc.sweep/1"
TORNADO_SCHEMA = "chipalloc.tornado/1"
COMPARE_SCHEMA = "chipalloc.compare/1"


# --------------------------------------------------------------------------- JSON


def sweep_doc(res: SweepResult, report: str | None = None) -> dict:
    s = res.loaded.scenario
    return clean({
        "schema": SWEEP_SCHEMA,
        "scenario": s.name,
        "file": res.loaded.path,
        "solver": res.solver,
        "currency": s.currency,
        "applied": res.loaded.applied,
        "partial": res.partial,
        "points_done": len(res.points),
        "points_total": res.n_total,
        "method": res.method,
        "method_note": res.method_note,
        "solves": res.solves,
        "breakpoints": None if res.breakpoints is None else [b.to_dict() for b in res.breakpoints],
        "vary": [{"path": v.path, "spec": v.spec, "base": v.base, "values": list(v.values), "rescales": list(v.rescales)}
                 for v in res.varies],
        "points": [
            {
                "values": p.values,
                "status": p.outcome.status,
                "effective_tops": p.outcome.effective_tops,
                "spend": p.outcome.spend,
                "units": p.outcome.units,
                "domestic_share": p.outcome.domestic_share,
                "binding": p.outcome.binding,
                "diagnosis": p.diagnosis.to_dict() if p.diagnosis is not None else None,
            }
            for p in res.points
        ],
        "report": report,
    })


def _end(value: float, o: Outcome, base: Outcome) -> dict:
    delta = None
    if o.ok and base.effective_tops is not None and o.effective_tops is not None:
        delta = o.effective_tops - base.effective_tops
    return {"value": value, "status": o.status, "effective_tops": o.effective_tops, "spend": o.spend, "delta": delta}


def tornado_doc(res: TornadoResult, report: str | None = None) -> dict:
    s = res.loaded.scenario
    return clean({
        "schema": TORNADO_SCHEMA,
        "scenario": s.name,
        "file": res.loaded.path,
        "solver": res.solver,
        "currency": s.currency,
        "applied": res.loaded.applied,
        "pct": res.pct,
        "base": {"status": res.base.status, "effective_tops": res.base.effective_tops, "spend": res.base.spend},
        "params": [
            {
                "path": r.path,
                "label": r.label,
                "base_value": r.base_value,
                "low": _end(r.low_value, r.low, res.base),
                "high": _end(r.high_value, r.high, res.base),
                "swing": r.swing,
                "note": r.note or None,
            }
            for r in res.rows
        ],
        "report": report,
    })


def tornado_failed_doc(loaded, solver: str, pct: float, status: str, diagnosis=None) -> dict:
    """The tornado document when the base scenario has no optimal plan (nothing to swing).

    An infeasible base carries ``base.diagnosis`` (null when it could not be computed).
    """
    s = loaded.scenario
    base: dict[str, Any] = {"status": status, "effective_tops": None, "spend": None}
    if status == "infeasible":
        base["diagnosis"] = diagnosis.to_dict() if diagnosis is not None else None
    return clean({
        "schema": TORNADO_SCHEMA, "scenario": s.name, "file": loaded.path, "solver": solver, "currency": s.currency,
        "applied": loaded.applied, "pct": pct, "base": base,
        "params": [], "report": None,
    })


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _diff(first: Outcome, o: Outcome) -> dict | None:
    if not (first.ok and o.ok):
        return None
    keys = sorted(set(first.units) | set(o.units))
    vendors = sorted(set(first.vendor_spend) | set(o.vendor_spend))
    return {
        "effective_tops": _sub(first.effective_tops, o.effective_tops),
        "delivered_tops": _sub(first.delivered_tops, o.delivered_tops),
        "int8_tops": _sub(first.int8_tops, o.int8_tops),
        "spend": _sub(first.spend, o.spend),
        "units_total": _sub(first.total_units, o.total_units),
        "units": {k: o.units.get(k, 0.0) - first.units.get(k, 0.0) for k in keys},
        "spend_by_vendor": {v: o.vendor_spend.get(v, 0.0) - first.vendor_spend.get(v, 0.0) for v in vendors},
        "binding_added": [n for n in o.binding if n not in first.binding],
        "binding_removed": [n for n in first.binding if n not in o.binding],
    }


def compare_doc(res: CompareResult, report: str | None = None) -> dict:
    first = res.columns[0].outcome
    out = []
    for i, c in enumerate(res.columns):
        o, t = c.outcome, c.target
        out.append({
            "label": t.label,
            "file": t.file,
            "variants": t.variants,
            "applied": t.loaded.applied,
            "scenario": t.loaded.scenario.name,
            "status": o.status,
            "effective_tops": o.effective_tops,
            "delivered_tops": o.delivered_tops,
            "int8_tops": o.int8_tops,
            "spend": o.spend,
            "units_total": o.total_units,
            "units": o.units,
            "spend_by_site": o.site_spend,
            "domestic_share": o.domestic_share,
            "spend_by_vendor": o.vendor_spend,
            "binding": o.binding,
            "diagnosis": c.diagnosis.to_dict() if c.diagnosis is not None else None,
            "diff": None if i == 0 else _diff(first, o),
        })
    return clean({"schema": COMPARE_SCHEMA, "solver": res.solver, "currency": res.currency, "scenarios": out,
                  "report": report})


# --------------------------------------------------------------------------- terminal


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def num(x: Any) -> str:
    """A varied value or parameter value, compact."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if x == int(x) and abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.6g}"


def _tops(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _signed(x: float | None) -> str:
    return "-" if x is None else f"{x:+,.0f}"


def applied_line(loaded) -> list[str]:
    """``applied: variant x; --set p=v`` when the scenario was changed on the command line (else nothing)."""
    if not loaded.applied:
        return []
    return ["applied: " + "; ".join(_applied(a) for a in loaded.applied)]


def partial_line(res: SweepResult) -> str:
    return (f"partial sweep: interrupted after {len(res.points):,} of {res.n_total:,} points; "
            "only the finished points are reported")


def sweep_text(res: SweepResult, report: str | None = None) -> str:
    s = res.loaded.scenario
    cur = s.currency
    head = [f"chipalloc sweep: {s.name}"] + applied_line(res.loaded)
    head += [partial_line(res)] if res.partial else []
    head += method_lines(res) + vary_notes(res) + [""]
    headers = [v.path for v in res.varies] + ["status", "effective TOPS", "spend", "binding"]
    rows = [
        [num(p.values[v.path]) for v in res.varies]
        + [p.outcome.status, _tops(p.outcome.effective_tops), money(p.outcome.spend, cur) if p.outcome.ok else "-",
           _binding_cell(p)]
        for p in res.points
    ]
    nv = len(res.varies)
    lines = head + _table(headers, rows, set(range(nv)) | {nv + 1, nv + 2})
    lines += _sweep_fixes(res)
    if report:
        lines += ["", f"workbook: {report}"]
    return "\n".join(lines)


def method_lines(res: SweepResult) -> list[str]:
    """How the points were obtained (terminal, and the workbook's note): solved each, or filled at breakpoints."""
    n = len(res.points)
    if res.method == "breakpoints":
        out = [f"{n} points, every one exact and verified, from {res.solves} {res.solver} solves at the basis changes "
               f"({res.method_note})"]
        bps = res.breakpoints or []
        if bps:
            path = res.varies[0].path
            out.append(f"breakpoints of {path} (the plan's slope changes; * where effective TOPS's does): "
                       + ", ".join(num(float(f"{b.value:.10g}")) + ("*" if b.kind == "value" else "") for b in bps))
        else:
            out.append("no breakpoint in the range: the plan is linear in it")
        return out
    why = f" ({res.method_note}, so no breakpoints)" if res.method_note else ""
    return [f"{n} points, each a verified {res.solver} solve{why}"]


def vary_notes(res: SweepResult) -> list[str]:
    """What a varied number sets besides itself (terminal, and the workbook's notes)."""
    out = []
    for v in res.varies:
        if v.rescales:
            names = ", ".join(r.split(".")[2] for r in v.rescales)
            out.append(f"each point sets {v.path} and rescales the other outcomes' probabilities ({names}) in "
                       "proportion, so that they still sum to 1")
    return out


BINDING_SHOWN = 4  # binding constraints named in a terminal cell; the JSON and the workbook list every one


def binding_summary(names: list[str], limit: int = BINDING_SHOWN) -> str:
    """Binding rows for a terminal cell: a row binding in several outcomes once ("budget[cn] in 4 outcomes"),
    at most ``limit`` entries, then how many more."""
    groups: dict[str, list[str]] = {}
    for n in names:
        base, _, outcome = n.partition("@")
        groups.setdefault(base, []).append(outcome)
    items = []
    for base, outcomes in groups.items():
        named = [o for o in outcomes if o]
        if len(named) > 1:
            items.append(f"{base} in {len(named)} outcomes")
        else:
            items.append(f"{base}@{named[0]}" if named else base)
    if len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit} more"]
    return ", ".join(items) or "none"


def _binding_cell(p) -> str:
    if p.outcome.ok:
        return binding_summary(p.outcome.binding)
    if p.diagnosis is not None:
        return "conflict: " + ", ".join(p.diagnosis.conflict)
    return "-"


def _sweep_fixes(res: SweepResult) -> list[str]:
    """Below the table: the first fix of each infeasible point, ready to paste after that point's --set."""
    bad = [p for p in res.points if p.diagnosis is not None]
    if not bad:
        return []
    out = ["", "infeasible points: the first fix of each (paste after --set for that point's values; "
               "`chipalloc solve` with them prints every fix):"]
    for p in bad:
        at = ", ".join(f"{k}={num(v)}" for k, v in p.values.items())
        d = p.diagnosis
        out.append(f"  {at}: " + (f"{d.fixes[0].set}  ({d.fixes[0].text})" if d.fixes else
                                  "no single number fixes it; change several"))
    return out


def tornado_text(res: TornadoResult, report: str | None = None) -> str:
    s = res.loaded.scenario
    lines = [f"chipalloc tornado: {s.name}"] + applied_line(res.loaded) + [
        f"each input moved -{res.pct:g}% and +{res.pct:g}% alone; base effective TOPS {_tops(res.base.effective_tops)}",
        "",
    ]
    rows = []
    for r in res.rows:
        lo = _signed(r.low.effective_tops - res.base.effective_tops) if r.low.ok else r.low.status
        hi = _signed(r.high.effective_tops - res.base.effective_tops) if r.high.ok else r.high.status
        rows.append([r.path, num(r.base_value), num(r.low_value), num(r.high_value), lo, hi, _tops(r.swing), r.note])
    lines += _table(["parameter", "base", "low", "high", "TOPS at low", "TOPS at high", "swing", "note"], rows,
                    {1, 2, 3, 4, 5, 6})
    if report:
        lines += ["", f"workbook: {report}"]
    return "\n".join(lines)


def _cell(x: Any, unit: str, cur: str) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == cur:
        return money(x, cur)
    return f"{x:,.0f}"


def _dcell(x: Any, unit: str, cur: str) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "changed" if x else ""
    if isinstance(x, str):
        return x
    if unit == "share":
        return f"{100 * x:+.1f} pt"
    if unit == cur:
        return ("+" if x >= 0 else "-") + money(abs(x), cur)
    return f"{x:+,.0f}"


def _outcome_binding_row(base: str, counts: list[int]) -> list[str]:
    """One terminal row for a row binding in some outcomes: in how many, per column, and the change."""
    def n(k: int) -> str:
        return f"{k} outcome{'s' if k != 1 else ''}" if k else "no"

    diffs = ["" if k == counts[0] else f"{k - counts[0]:+d}" for k in counts[1:]]
    return [f"Binding: {base}"] + [n(k) for k in counts] + diffs


def compare_text(res: CompareResult, report: str | None = None) -> str:
    cur = res.currency
    labels = [c.target.label for c in res.columns]
    headers = ["figure"] + labels + [f"diff {lab}" for lab in labels[1:]]
    rows = []
    per_outcome: dict[str, list[int]] = {}  # a row binding per outcome: one line, in how many outcomes
    for r in res.rows():
        if r.key in ("diagnosis", "fixes"):  # long text: said under the table
            continue
        if r.section == "binding" and "@" in r.key:
            base = r.key.partition("@")[0]
            if base not in per_outcome:
                per_outcome[base] = [0] * len(r.values)
                rows.append(base)  # placeholder, filled below in the table's order
            per_outcome[base] = [k + (v is True) for k, v in zip(per_outcome[base], r.values)]
            continue
        rows.append([r.name] + [_cell(v, r.unit, cur) for v in r.values] + [_dcell(d, r.unit, cur) for d in r.diffs[1:]])
    rows = [row if not isinstance(row, str) else _outcome_binding_row(row, per_outcome[row]) for row in rows]
    lines = [f"chipalloc compare: {len(labels)} scenarios (differences against {labels[0]})"]
    for c in res.columns:  # each target's own --variant/--set/@variant
        lines += [f"  {c.target.label}: {a}" for a in (x[len("applied: "):] for x in applied_line(c.target.loaded))]
    lines.append("")
    lines += _table(headers, rows, set(range(1, len(headers))))
    for c in res.columns:
        d = c.diagnosis
        if d is None:
            continue
        lines += ["", f"{c.target.label} is infeasible: {d.sentence}"]
        for f in d.fixes:
            lines.append(f"  {f.constraint}: {f.text}")
            lines.append(f"      {f.set}")
        if not d.fixes:
            lines.append("  no single number in the conflict makes it feasible on its own; change several.")
    if report:
        lines += ["", f"workbook: {report}"]
    return "\n".join(lines)
