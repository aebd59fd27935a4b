"""Compare scenarios side by side: headline figures, units, spend by vendor, binding constraints.

Each target is ``FILE`` or ``FILE@VARIANT`` (``FILE@a+b`` applies two
variants in that order, after any global ``--variant`` and before ``--set``).
Differences are always against the first target. A target with no feasible
plan is a column with its status, not an error, and carries its diagnosis
(the conflict and the one-number fixes, as ``chipalloc solve`` prints them).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .. import io
from ..errors import InputError
from .diagnose import Diagnosis
from ..schema import Scenario
from .executor import Executor, OnDone, SerialExecutor
from .sweep import Diagnoser, Outcome, all_pairs, outcome, point_plan


def parse_target(arg: str) -> tuple[str, list[str]]:
    """``FILE[@VARIANT[+VARIANT...]]`` -> (file, variants). A file whose own name contains '@' wins."""
    if "@" not in arg or Path(arg).is_file():
        return arg, []
    file, tail = arg.rsplit("@", 1)
    if not file:
        raise InputError(f"{arg!r}: no file before '@'; write FILE@VARIANT, e.g. scenarios/bytedance-2025.yaml@budget_cut_20")
    names = [n.strip() for n in tail.split("+")]
    if any(not n for n in names):
        raise InputError(f"{arg!r}: empty variant name after '@'; write FILE@VARIANT or FILE@A+B")
    return file, names  # unknown names are reported by io.load with the list of known variants


@dataclass
class Target:
    label: str
    file: str
    variants: list[str]  # the ones named after '@'
    loaded: io.Loaded


@dataclass
class Column:
    target: Target
    outcome: Outcome
    diagnosis: Diagnosis | None = None  # set when the target is infeasible


@dataclass
class CompareRow:
    section: str  # headline | units | vendor_spend | binding
    key: str  # stable key, e.g. effective_tops, cn/h20, huawei, budget[cn]
    name: str  # what a reader sees
    unit: str
    values: list[Any]  # one per column; None where a column has no plan
    diffs: list[Any]  # against the first column; first entry None


@dataclass
class CompareResult:
    columns: list[Column]
    solver: str
    currency: str

    def rows(self) -> list[CompareRow]:
        return _rows(self)


def load_targets(
    args: list[str] | tuple[str, ...], variants: list[str] | tuple[str, ...] = (), sets: list[str] | tuple[str, ...] = ()
) -> list[Target]:
    """Load every target (all validated before any solve). Raises InputError."""
    if not args:
        raise InputError("give at least one scenario FILE or FILE@VARIANT to compare")
    parsed = [parse_target(a) for a in args]
    one_file = len({str(Path(f).resolve()) for f, _ in parsed}) == 1
    out: list[Target] = []
    seen: dict[str, int] = {}
    for file, vs in parsed:
        loaded = io.load(file, variants=list(variants) + vs, sets=sets)
        # labels: "stem" or "stem@variant"; when every target is the same file, just "@variant" for variants
        tag = "@" + "+".join(vs) if vs else ""
        label = tag if (one_file and tag) else Path(file).stem + tag
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        out.append(Target(label, file, vs, loaded))
    return out


@dataclass
class TargetWork:
    """What every chunk of a compare shares (sent once to each worker)."""

    solver: str
    diagnoser: Diagnoser


def solve_targets(work: TargetWork, chunk: list[Scenario]):
    """Executor task: each target's (validated) scenario solved by the worker's Resolver; an infeasible one diagnosed."""
    for sc in chunk:
        plan = point_plan(sc, work.solver)
        o = outcome(plan)
        yield o, (work.diagnoser(sc, plan) if o.status == "infeasible" else None)


def compare(
    targets: list[Target], solver: str = "highs", executor: Executor | None = None,
    on_done: OnDone | None = None, diagnoser: Diagnoser | None = None,
) -> CompareResult:
    """Solve every target (by ``executor``, in this process by default). Interrupted: KeyboardInterrupt."""
    currencies = {t.loaded.scenario.currency for t in targets}
    if len(currencies) > 1:
        raise InputError(
            "the scenarios report money in different currencies (" + ", ".join(sorted(currencies))
            + "); compare scenarios with the same currency"
        )
    work = TargetWork(solver, diagnoser or Diagnoser(solver))
    # one target per chunk: targets are unrelated scenarios, often few, each worth a worker of its own
    got = (executor or SerialExecutor()).run(solve_targets, work, [t.loaded.scenario for t in targets],
                                             chunk_size=1, on_done=on_done)
    if not got.complete:
        raise KeyboardInterrupt
    cols = [Column(t, o, d) for t, (o, d) in zip(targets, got.values)]
    return CompareResult(cols, solver, currencies.pop())


def _diff(a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool):
        return None if a is None or b is None else (a != b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return b - a
    return None


def _union(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    for lst in lists:
        for k in lst:
            if k not in out:
                out.append(k)
    return out


def _rows(res: CompareResult) -> list[CompareRow]:
    cols = res.columns
    cur = res.currency
    rows: list[CompareRow] = []

    def add(section: str, key: str, name: str, unit: str, get: Callable[[Outcome], Any]) -> None:
        values = [get(c.outcome) if c.outcome.ok or key == "status" else None for c in cols]
        diffs = [None] + [
            _diff(values[0], v) if key != "status" else (None if v == values[0] else "changed") for v in values[1:]
        ]
        rows.append(CompareRow(section, key, name, unit, values, diffs))

    add("headline", "status", "Status", "", lambda o: o.status)
    if any(c.diagnosis is not None for c in cols):
        # text rows (no differences): the conflict's row names, the sentence, and the ready --set fixes
        for key, name, get in (
            ("conflict", "Conflict", lambda d: ", ".join(d.conflict)),
            ("diagnosis", "Diagnosis", lambda d: d.sentence),
            ("fixes", "Fixes (one number each)", lambda d: "; ".join(f.set for f in d.fixes) or "no single-number fix"),
        ):
            values = [get(c.diagnosis) if c.diagnosis is not None else None for c in cols]
            rows.append(CompareRow("headline", key, name, "", values, [None] * len(cols)))
    add("headline", "effective_tops", "Effective TOPS", "TOPS", lambda o: o.effective_tops)
    add("headline", "delivered_tops", "Delivered TOPS", "TOPS", lambda o: o.delivered_tops)
    add("headline", "int8_tops", "Ordered INT8 TOPS", "TOPS", lambda o: o.int8_tops)
    add("headline", "spend", "Total spend", cur, lambda o: o.spend)
    add("headline", "units", "Total units", "units", lambda o: o.total_units)
    sites = sorted({s for c in cols for s in c.target.loaded.scenario.sites})
    for site in sites:
        add("headline", f"spend[{site}]", f"Spend at {site}", cur, lambda o, s=site: o.site_spend.get(s, 0.0))
    for site in sites:
        add("headline", f"domestic_share[{site}]", f"Domestic share at {site}", "share",
            lambda o, s=site: o.domestic_share.get(s))
    pairs = _union([all_pairs(c.target.loaded.scenario) for c in cols])
    used = [k for k in pairs if any(c.outcome.units.get(k, 0.0) > 0 for c in cols)]
    for k in used:
        add("units", k, f"Units {k}", "units", lambda o, k=k: o.units.get(k, 0.0))
    vendors = sorted({v for c in cols for v in c.target.loaded.scenario.vendors})
    for v in vendors:
        add("vendor_spend", v, f"Spend with {v}", cur, lambda o, v=v: o.vendor_spend.get(v, 0.0))
    names = _union([c.outcome.binding for c in cols])
    for n in names:
        add("binding", n, f"Binding: {n}", "", lambda o, n=n: n in o.binding)
    return rows
