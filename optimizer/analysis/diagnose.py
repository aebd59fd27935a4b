"""Why is a scenario infeasible, and what is the smallest change that fixes it?

Two answers, both in the planner's own terms:

1. **Conflict**: an irreducible infeasible subset (IIS) of the model's named
   rows (``budget[cn]``, ``domestic_share[cn]``, ``capacity[huawei]`` ...),
   found by a deletion filter: drop each row in turn and keep it out if the
   rest is still infeasible. What remains cannot all hold, and dropping any
   one of them makes the rest feasible. The filter runs on the continuous
   relaxation (fast); with ``integer_units`` the result is then filtered
   again with whole lots, so the set is minimal for the real model too (and
   when only whole lots make the plan impossible, the filter runs on the
   integer model from the start). The filter is deterministic and does not
   depend on the solver.

2. **Fixes**: for each row of the conflict, the one scenario number behind it
   (``sites.cn.domestic_min_share``, ``vendors.huawei.capacity_units`` ...)
   and the smallest change of that number alone that makes the *whole*
   scenario feasible. Feasibility is monotone in each of these numbers, so
   the threshold is found by bisection with re-solves (relative precision
   1e-5 on the continuous relaxation, then on the integer model when whole
   lots need more), rounded in the safe direction to a value within 0.1% of
   the threshold, and checked by a full solve and the independent verifier
   before it is reported. A row whose number cannot fix the plan alone (the
   scenario has a second, independent conflict) is listed without a fix.

Everything here reads a validated :class:`~optimizer.schema.Scenario`; the
``--set PATH=VALUE`` strings it produces are paths of the scenario file, so
pasting them after the command that failed gives a feasible plan.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Callable, Sequence

import numpy as np
from pydantic import ValidationError

from .. import model as model_mod
from ..errors import ChipallocError, InfeasibleError, SolveError
from ..numbers import format_value, num as _num, pct as _pct
from ..schema import Scenario, value_at
from ..validate import MIN_MAGNITUDE
from ..solve import backend_for_model

BISECT_REL = 1e-5  # relative precision of the threshold before rounding
ROUND_REL = 1e-3  # a reported value is within 0.1% of the threshold, on the safe side
MAX_DOUBLINGS = 80  # raise-type searches: current x 2**80 is far beyond any real scenario

# kind -> (direction, kind of number); the path is built from the row's subject
_RAISE, _LOWER = "raise", "lower"


@dataclass
class Fix:
    """The smallest change of one scenario number that makes the plan feasible."""

    constraint: str  # row name, e.g. capacity[huawei]
    path: str  # scenario path, e.g. vendors.huawei.capacity_units
    current: float
    needed: float
    direction: str  # raise | lower
    text: str  # e.g. "raise vendors.huawei.capacity_units from 100,000 to 135,200 units"

    @property
    def set(self) -> str:
        return f"--set {self.path}={format_value(self.needed)}"

    def to_dict(self) -> dict:
        return {
            "constraint": self.constraint,
            "path": self.path,
            "current": self.current,
            "needed": self.needed,
            "set": self.set,
            "direction": self.direction,
            "text": self.text,
        }


@dataclass
class Diagnosis:
    """A minimal conflict and the one-number fixes, ready to print or store."""

    scenario: str
    conflict: list[str]  # row names, in model order
    rules: dict[str, str]  # row name -> the rule in words with its numbers
    fixes: list[Fix]
    no_single_fix: list[str] = field(default_factory=list)  # conflict rows that cannot fix the plan alone
    integer_only: bool = False  # the continuous relaxation is feasible; whole lots make it infeasible
    notes: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """The conflict in one sentence with the numbers involved."""
        parts = [self.rules[n] for n in self.conflict]
        if len(parts) == 1:
            s = f"{parts[0]} cannot hold on its own"
        else:
            rest = parts[1:]
            tail = rest[0] if len(rest) == 1 else ", ".join(rest[:-1]) + " and " + rest[-1]
            s = f"{parts[0]} cannot hold together with {tail}"
        if self.integer_only:
            s += " when units are bought in whole lots (with fractional units it would be feasible)"
        return s + "."

    def to_dict(self) -> dict:
        return {
            "conflict": list(self.conflict),
            "explanation": self.sentence,
            "rules": [{"name": n, "rule": self.rules[n]} for n in self.conflict],
            "fixes": [f.to_dict() for f in self.fixes],
            "no_single_fix": list(self.no_single_fix),
            "integer_only": self.integer_only,
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """Plain text for the terminal (stderr)."""
        out = [
            f"infeasible: scenario {self.scenario!r} has no plan that meets every rule.",
            "",
            "conflict (these rules cannot all hold; drop any one and the rest can):",
            f"  {self.sentence}",
        ]
        for note in self.notes:
            out.append(f"  note: {note}")
        out.append("")
        if self.fixes:
            out.append("smallest change of one number that makes the plan feasible (each checked by re-solving):")
            for f in self.fixes:
                out.append(f"  {f.constraint}: {f.text}")
                out.append(f"      {f.set}")
        else:
            out.append("no single number in the conflict makes the plan feasible on its own; change several.")
        if self.no_single_fix:
            out.append(
                "changing one of these alone is not enough (another conflict remains): " + ", ".join(self.no_single_fix)
            )
        return "\n".join(out)


# ----------------------------------------------------------------------------- rules in words


def rule_text(m: model_mod.Model, i: int) -> str:
    """One row of the model as the planner wrote it, with its numbers (the row's family says it)."""
    ref = m.ref(i)
    text = m.rule_text(i)
    if ref.outcome is not None:  # a row of one outcome: say which, without the @outcome in the name
        text = f"outcome {ref.outcome}: " + text.replace(f"@{ref.outcome}", "", 1)
    if ref.family == "chip_min":
        chip = ref.key[0]
        ci = m.coords.chips.index(chip)
        if not np.any((m.var.kind == model_mod.BUY) & (m.var.chip == ci)):
            denied = sorted({d.site for d in m.decisions if d.chip == chip and d.decision == "deny"})
            if denied:
                text += f" ({chip} cannot be bought at any site: export controls deny it at {', '.join(denied)})"
            else:
                text += f" ({chip} cannot be bought at any site)"
    return text


def parameter(m: model_mod.Model, i: int) -> model_mod.Parameter | None:
    """The one scenario number behind row ``i`` (path, raise|lower, whole-number?), or None.

    A row of one outcome is fixed through the base scenario's number, unless that outcome's own changes set
    it (then no single number of the file is behind it: None).
    """
    ref = m.ref(i)
    p = model_mod.family(m.rows.family[i]).parameter(m.scenario_of_row(i), ref)
    if p is not None and ref.outcome is not None and m.scenario.uncertainty is not None:
        changes = m.scenario.uncertainty.outcomes[ref.outcome].changes
        if any(p.path == c or p.path.startswith(c + ".") or c.startswith(p.path + ".") for c in map(str, changes)):
            return None
    return p


def current_value(s: Scenario, path: str) -> float:
    v = value_at(s, path)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def safe_round(x: float, direction: str, whole: bool, rel: float = ROUND_REL) -> float:
    """Round ``x`` away from infeasibility to a short number within ``rel`` of it."""
    if x == 0:
        return 0.0
    step_exp = math.floor(math.log10(abs(x) * rel))
    step = Decimal(1).scaleb(step_exp)
    if whole and step < 1:
        step = Decimal(1)
    mode = ROUND_CEILING if direction == _RAISE else ROUND_FLOOR
    q = (Decimal(repr(float(x))) / step).to_integral_value(rounding=mode) * step
    return float(q)


# ----------------------------------------------------------------------------- feasibility


class _Oracle:
    """Feasibility checks of one scenario (and of one-number changes of it), on one backend per structure."""

    def __init__(self, s: Scenario, solver: str):
        self.s = s
        self.solver = solver
        self.data = s.model_dump(mode="python", by_alias=True)
        self.calls = 0
        self._backends: dict[tuple, object] = {}
        self._held_model: dict[tuple, model_mod.Model] = {}

    def _backend(self, m: model_mod.Model, integer: bool):
        key = (m.structure_key(), integer)
        held = self._backends.get(key)
        if held is None:
            held = backend_for_model(self.solver, m, integer)
            self._backends[key] = held
        elif self._held_model.get(key) is not m:
            from ..solve import scaled

            held.update(scaled(m))
        self._held_model[key] = m  # a reference, not an id: ids of freed models are reused
        return held

    def rows_feasible(self, m: model_mod.Model, rows: Sequence[int], integer: bool) -> bool:
        keep = np.zeros(m.m, dtype=bool)
        keep[list(rows)] = True
        self.calls += 1
        try:
            return bool(self._backend(m, integer and m.integer).feasible(keep))
        except RuntimeError as e:
            raise SolveError(f"the {self.solver} solver failed while diagnosing infeasibility: {e}") from None

    def feasible(self, m: model_mod.Model, integer: bool) -> bool:
        return self.rows_feasible(m, range(m.m), integer)

    def with_value(self, path: str, value: float) -> Scenario | None:
        from ..io import set_path

        try:
            return Scenario.model_validate(set_path(self.data, path, value))
        except (ValidationError, ChipallocError):
            return None

    def value_feasible(self, path: str, value: float, integer: bool) -> bool:
        sc = self.with_value(path, value)
        if sc is None:
            return False
        m = model_mod.build(sc, _outcomes(sc))
        return self.feasible(m, integer and sc.integer_units)


def _outcomes(sc: Scenario) -> dict | None:
    if sc.uncertainty is None:
        return None
    from ..outcomes import outcome_scenarios

    try:
        return outcome_scenarios(sc)
    except ChipallocError:
        return None


def deletion_filter(rows: Sequence[int], infeasible: Callable[[list[int]], bool]) -> list[int]:
    """Drop each row whose removal leaves the rest infeasible; the rest is an IIS.

    ``infeasible(rows)`` must be true for ``rows`` itself.
    """
    keep = list(rows)
    for i in list(rows):
        trial = [r for r in keep if r != i]
        if infeasible(trial):
            keep = trial
    return keep


def find_conflict(lm: model_mod.Model, oracle: _Oracle) -> tuple[list[int], bool]:
    """(IIS as row indices in model order, infeasible only with whole lots?)."""
    everything = list(range(lm.m))
    integer = lm.integer
    if not oracle.rows_feasible(lm, everything, integer=False):
        iis = deletion_filter(everything, lambda r: not oracle.rows_feasible(lm, r, integer=False))
        if integer:  # still infeasible with whole lots; make it minimal for the integer model too
            iis = deletion_filter(iis, lambda r: not oracle.rows_feasible(lm, r, integer=True))
        return iis, False
    if integer and not oracle.rows_feasible(lm, everything, integer=True):
        iis = deletion_filter(everything, lambda r: not oracle.rows_feasible(lm, r, integer=True))
        return iis, True
    return [], False


def _bisect(ok: Callable[[float], bool], bad: float, good: float, whole: bool) -> float:
    """Shrink [bad, good] (bad infeasible, good feasible) to BISECT_REL; return the good end.

    With ``whole`` the search runs over whole numbers, so the answer is the
    first whole number that works (feasibility is monotone in the value).
    """
    if whole:
        up = good > bad
        good = float(math.ceil(good) if up else math.floor(good))
        bad = float(math.floor(bad) if up else math.ceil(bad))
    for _ in range(200):
        gap = abs(good - bad)
        # below MIN_MAGNITUDE a non-zero number is not a valid input, so a search toward 0 ends at 0
        if gap <= BISECT_REL * max(abs(good), abs(bad), 1e-12) or (whole and gap <= 1.0) or gap < MIN_MAGNITUDE:
            break
        mid = (bad + good) / 2.0
        if whole:
            mid = float(math.floor(mid))
            if mid in (bad, good):
                break
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _threshold(oracle: _Oracle, path: str, direction: str, whole: bool, current: float, integer: bool) -> float | None:
    """The feasible value of ``path`` closest to ``current`` (to BISECT_REL), or None if none exists.

    Whole-number parameters get the exact first whole number that works; the
    others get the shortest decimal within the bracket that works, else the
    bracket's feasible end rounded outward to ROUND_REL.
    """

    def ok(v: float) -> bool:
        return oracle.value_feasible(path, v, integer)

    if direction == _LOWER:
        # the rows behind lower-type numbers vanish at 0 (no floor, no minimum)
        if not ok(0.0):
            return None
        bad, good = current, 0.0
    elif _is_share_cap(path):
        if not ok(1.0):  # a cap of 100% is no cap
            return None
        bad, good = current, 1.0
    else:  # raise-type: double until feasible
        bad, good = current, max(current * 2.0, 1.0)
        for _ in range(MAX_DOUBLINGS):
            if ok(good):
                break
            bad, good = good, good * 2.0
        else:
            return None
    if ok(bad):  # pragma: no cover - only called for infeasible scenarios
        return bad
    good = _bisect(ok, bad, good, whole)
    if whole:
        return good
    return _short(ok, good, direction)


def _short(ok: Callable[[float], bool], good: float, direction: str) -> float:
    """The shortest decimal at least as close to the threshold as ``good`` that still works.

    Values closer to the threshold than ``good`` may or may not work, so each
    candidate is re-solved; without one, ``good`` is rounded away from the
    threshold to ROUND_REL (which always works, as feasibility is monotone).
    """
    if good == 0:
        return 0.0
    top = math.floor(math.log10(abs(good)))
    floor_exp = math.floor(math.log10(abs(good) * ROUND_REL))
    toward = ROUND_FLOOR if direction == _RAISE else ROUND_CEILING  # toward the threshold
    tried: set[float] = set()
    for exp in range(top, floor_exp, -1):
        step = Decimal(1).scaleb(exp)
        c = float((Decimal(repr(good)) / step).to_integral_value(rounding=toward) * step)
        if c in tried or c == good:
            continue
        tried.add(c)
        if (direction == _RAISE and c < good) or (direction == _LOWER and c > good):
            if abs(c - good) <= BISECT_REL * 10 * max(abs(good), 1e-12) and ok(c):
                return c
    return safe_round(good, direction, whole=False)


def _is_share_cap(path: str) -> bool:
    return (path.startswith("vendors.") and path.endswith(".max_share")) or ".vendor_max_share." in path


def _fix_text(path: str, direction: str, current: float, needed: float, m: model_mod.Model, i: int,
              unit: str) -> str:
    ref = m.ref(i)
    s = m.scenario_of_row(i)
    if ref.family == "budget":
        money = s.budget if ref.key[0] == "global" else s.sites[ref.key[0]].budget
        cur = (money.currency if money and money.currency else s.currency) + " "
        return f"{direction} {path} from {cur}{_num(current)} to {cur}{_num(needed)}"
    if ref.family in ("domestic_share", "vendor_share"):
        return f"{direction} {path} from {format_value(current)} to {format_value(needed)} ({_pct(current)} -> {_pct(needed)})"
    return f"{direction} {path} from {_num(current)} to {_num(needed)}" + (f" {unit}" if unit else "")


def _verified(s: Scenario, path: str, value: float, solver: str, oracle: _Oracle) -> bool:
    """Solve the changed scenario for real (objective, tie-break, verifier)."""
    from ..errors import VerificationError
    from ..plan import make_plan

    sc = oracle.with_value(path, value)
    if sc is None:
        return False
    try:
        plan = make_plan(sc, solver=solver, raise_on_status=False)
    except (VerificationError, ChipallocError):
        return False
    return plan.result.ok


def fix_for(s: Scenario, m: model_mod.Model, i: int, oracle: _Oracle, solver: str) -> Fix | None:
    """The smallest verified change of the number behind row ``i``, or None."""
    param = parameter(m, i)
    if param is None:
        return None
    path, direction, whole = param.path, param.direction, param.whole
    name = m.rows.name[i]
    current = current_value(s, path)
    t = _threshold(oracle, path, direction, whole, current, integer=False)
    if t is None:
        return None
    needed = _clamp(path, t)
    if s.integer_units and not oracle.value_feasible(path, needed, integer=True):
        t = _threshold(oracle, path, direction, whole, needed, integer=True)
        if t is None:
            return None
        needed = _clamp(path, t)
    # final proof: the full solve with the value pasted in; step further out if rounding was not enough
    for _ in range(5):
        if _verified(s, path, needed, solver, oracle):
            return Fix(name, path, current, needed, direction, _fix_text(path, direction, current, needed, m, i, param.unit))
        nxt = needed * (1 + 10 * ROUND_REL) if direction == _RAISE else needed * (1 - 10 * ROUND_REL)
        nxt = _clamp(path, safe_round(nxt if nxt else (1.0 if direction == _RAISE else 0.0), direction, whole))
        if nxt == needed:
            break
        needed = nxt
    return None


def _clamp(path: str, v: float) -> float:
    if path.endswith(("domestic_min_share", "max_share")) or _is_share_cap(path):
        return min(1.0, max(0.0, v))
    return max(0.0, v)


def diagnose(s: Scenario, solver: str = "highs", lm: model_mod.Model | None = None,
             outcomes: dict | None = None) -> Diagnosis | None:
    """Explain why ``s`` is infeasible; None if it is in fact feasible."""
    if lm is None:
        lm = model_mod.build(s, outcomes if outcomes is not None else _outcomes(s))
    oracle = _Oracle(s, solver)
    iis, integer_only = find_conflict(lm, oracle)
    if not iis:
        return None
    names = [lm.rows.name[i] for i in iis]
    rules = {lm.rows.name[i]: rule_text(lm, i) for i in iis}
    notes: list[str] = []
    if integer_only:
        co = lm.coords
        lots = sorted({(co.chips[lm.var.chip[j]], int(lm.var.scale[j])) for j in range(lm.n)
                       if lm.var.kind[j] == model_mod.BUY and lm.var.scale[j] > 1})
        if lots:
            notes.append("chips are bought in whole lots: " + ", ".join(f"{c} in lots of {n:,}" for c, n in lots))
    fixes: list[Fix] = []
    none: list[str] = []
    for i in iis:
        f = fix_for(s, lm, i, oracle, solver)
        if f is None:
            none.append(lm.rows.name[i])
        else:
            fixes.append(f)
    return Diagnosis(s.name, names, rules, fixes, none, integer_only, notes)


def infeasible_error(s, solver: str, lm, head: str, tail: str) -> InfeasibleError:
    """The exit-3 error of an infeasible scenario that a command cannot go on without: its diagnosis (conflict and
    fixes, as ``solve`` prints them) then ``tail``; ``head`` alone when the diagnosis itself fails."""
    try:
        d = diagnose(s, solver=solver, lm=lm)
    except ChipallocError:
        d = None
    if d is None:
        return InfeasibleError(head)
    return InfeasibleError(d.render() + "\n\n" + tail, d)
