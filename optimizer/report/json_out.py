"""JSON documents for scripts (stable keys; see the README)."""
from __future__ import annotations

import json
import math
from typing import Any

from ..plan import Plan

SOLUTION_SCHEMA = "chipalloc.solution/1"  # a version-1 scenario
SOLUTION_SCHEMA_2 = "chipalloc.solution/2"  # a version-2 scenario: periods, leases
V1_TOTALS = ("spend", "units", "int8_tops", "delivered_tops", "effective_tops")


def _num(x: Any) -> Any:
    """Measures stay JSON floats (113213.0, not 113213) so their type never changes with the value;
    NaN/inf become null and -0.0 becomes 0.0."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        if x == 0:
            return 0.0
        return float(x)  # a plain float, also for float subclasses
    return x


def clean(obj: Any) -> Any:
    """Make a structure JSON-safe: NaN/inf become null, numpy scalars become Python."""
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            obj = obj.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return _num(obj)


def plan_dict(plan: Plan, report: str | None = None) -> dict:
    s = plan.scenario
    v2 = s.schema_version >= 2
    totals = plan.totals if v2 else {k: plan.totals[k] for k in V1_TOTALS if k in plan.totals}
    doc: dict[str, Any] = {
        "schema": SOLUTION_SCHEMA_2 if v2 else SOLUTION_SCHEMA,
        "scenario": s.name,
        "status": plan.status,
        "solver": plan.result.solver,
        "currency": s.currency,
        "integer_units": s.integer_units,
        "objective": {"effective_tops": plan.totals.get("effective_tops") if plan.result.ok else None},
        "totals": totals if plan.result.ok else None,
        "sites": {
            r.site: {"spend": r.spend, "budget": r.budget, "domestic_share": r.domestic_share, "power_mw": r.power_mw}
            for r in plan.sites
        },
        "allocation": [
            {
                "site": a.site, "chip": a.chip, "vendor": a.vendor, "units": a.units, "unit_price": a.unit_price,
                "spend": a.spend, "int8_tops": a.units * a.int8_tops, "effective_tops": a.effective_tops, "domestic": a.domestic,
                "period": a.period, "delivery_period": a.delivery_period,
                **({"outcome": a.outcome} if plan.outcomes else {}),
            }
            for a in plan.allocation
        ],
        "constraints": [
            {
                "name": c.name, "kind": c.kind, "lhs": c.lhs, "sense": c.sense, "rhs": c.rhs, "slack": c.slack,
                "binding": c.binding, "shadow_price": c.shadow_price,
            }
            for c in plan.constraints
        ],
        "shadow_prices": {
            "basis": plan.result.dual_basis,
            "convention": "change in effective TOPS per unit increase of the constraint's right-hand side",
        },
        "optimality": plan.optimality or None,
        "compliance": [
            {
                "chip": d.chip, "site": d.site, "country": d.country, "tier": d.tier, "tpp": d.tpp, "density": d.density,
                "controlled": d.controlled, "decision": d.decision, "reason": d.reason,
            }
            for d in plan.compliance
        ],
        "applied": plan.loaded.applied if plan.loaded else [],
        **(_v2_parts(plan) if v2 else {}),
        "report": report,
    }
    return clean(doc)


def _v2_parts(plan: Plan) -> dict:
    """The version-2 additions: leases and one row per period."""
    stochastic = bool(plan.outcomes)
    return {
        "leases": [
            {"lease": r.lease, "site": r.site, "chip": r.chip, "start_period": r.start_period, "units": r.units,
             "price_per_period": r.price_per_period, "spend": r.spend,
             **({"outcome": r.outcome} if stochastic else {})}
            for r in plan.leases
        ],
        "periods": [
            {"period": p.period, "spend": p.spend, "deliveries": p.units_delivered,
             "effective_tops_in_service": p.effective_tops_in_service, "power_mw": dict(p.power_mw)}
            for p in plan.periods
        ],
    }


def dumps(doc: dict) -> str:
    return json.dumps(clean(doc), indent=2, ensure_ascii=False, allow_nan=False)
