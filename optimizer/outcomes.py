"""The scenario of each outcome of ``uncertainty``: the base with that outcome's changes (pure, no I/O).

Changes use the dotted paths of ``variants`` and ``--set``; each outcome's
scenario is validated again as a whole, and without the ``uncertainty`` block
(an outcome is one world; K outcomes each carrying all K would also make the
work quadratic). An outcome may change values and licences, but not add or
remove vendors, chips, sites or leases, nor change the periods (refused in
:func:`optimizer.schema.reference_problems`). Every problem is located at the
change that caused it (``uncertainty.outcomes.<name>.changes.<path>``, at its
line when the file's :class:`~optimizer.loader.Source` is given).
"""
from __future__ import annotations

from collections import OrderedDict

from .errors import InputError, Problem, ScenarioWarning, place
from .loader import Source
from .overrides import replaced, set_path
from .schema import Scenario, model_at
from .validate import Origin, validate_data


_RECENT: OrderedDict[int, tuple[Scenario, dict[str, Scenario]]] = OrderedDict()
RECENT_MAX = 64  # scenarios whose outcomes are kept (a what-if validates a point, then solves it)


def outcome_scenarios(s: Scenario, data: dict | None = None, file: str | None = None) -> dict[str, Scenario]:
    """Validated scenario per outcome, in file order. ``data``: the base's raw data (else dumped from ``s``).

    The outcomes of the last ``RECENT_MAX`` scenarios are kept (by identity: the scenario object
    itself is held), so a what-if point validated with its outcomes and then solved builds them once.
    """
    if s.uncertainty is None:
        return {}
    hit = _RECENT.get(id(s))
    if hit is not None and hit[0] is s:
        _RECENT.move_to_end(id(s))
        return dict(hit[1])
    raw = data if data is not None else s.model_dump(mode="python", by_alias=True)
    out = build(raw, s, file=file)[0]
    _RECENT[id(s)] = (s, out)
    while len(_RECENT) > RECENT_MAX:
        _RECENT.popitem(last=False)
    return dict(out)


# entities an outcome may change but not add or remove: (collection, noun, the value that switches one off)
_ENTITIES = (
    ("vendors", "vendor", "capacity_units: 0"),
    ("chips", "chip", "max_units: 0"),
    ("sites", "site", "chips: []"),
    ("leases", "lease", "max_units: 0"),
)
ENTITIES = tuple(coll for coll, _, _ in _ENTITIES)


def build(
    data: dict, sc: Scenario, src: Source | None = None, overrides: dict[str, Origin] | None = None,
    file: str | None = None,
) -> tuple[dict[str, Scenario], list[ScenarioWarning]]:
    """One validated scenario per outcome (file order) and the warnings their changes deserve.

    Each outcome is ``data`` (the base, after variants and ``--set``) with its
    ``changes`` applied by dotted path, as a variant's, and without the
    ``uncertainty`` block (an outcome is one world). Raises InputError with
    every outcome's problems: an unknown path (with the nearest valid ones),
    a value the schema refuses, or a change that adds or removes a vendor,
    chip, site or lease (outcomes change values, not which entities exist).
    """
    if sc.uncertainty is None:
        return {}, []
    file = src.path if src else file
    out: dict[str, Scenario] = {}
    said: list[ScenarioWarning] = []
    problems: list[Problem] = []
    # an outcome is one world, without the uncertainty block (K outcomes would each carry all K: quadratic)
    world = {k: v for k, v in data.items() if k != "uncertainty"}
    for name, o in sc.uncertainty.outcomes.items():
        within = ("uncertainty", "outcomes", name, "changes")
        od = world
        ov = dict(overrides or {})
        try:
            for p, v in o.changes.items():
                line = src.where(within + (p,)) if src else None
                was = replaced(od, p)
                od = set_path(od, p, v, file=file, origin=f"outcome {name}", line=line, within=within)
                ov.pop(p, None)
                ov[p] = Origin(f"outcome {name}", line, within)
                if was is not None and model_at(tuple(p.split("."))) is None:  # a list or a collection, not one entity
                    said.append(ScenarioWarning(
                        f"replaces the whole {was} in this outcome, not just the entries it gives",
                        path=".".join(within + (p,)), line=line))
            entities = _entity_problems(sc, od, name, o.changes, src)
            if entities:  # the root problem: what the new entity lacks is beside the point
                problems += entities
                continue
            at = src.where(("uncertainty", "outcomes", name)) if src else None
            osc = validate_data(od, src, file=file, overrides=ov,
                                context=f"in outcome {name}" + (f" at {place(at)}" if at else ""))
        except InputError as e:
            problems += e.problems
            continue
        out[name] = osc
    if problems:
        raise InputError(problems, file=file)
    return out, said


def _entity_problems(base: Scenario, od: dict, name: str, changes: dict, src: Source | None) -> list[Problem]:
    """Vendors, chips, sites or leases an outcome's data ``od`` adds to or removes from the base."""
    within = ("uncertainty", "outcomes", name, "changes")
    out: list[Problem] = []
    for coll, noun, off in _ENTITIES:
        got = od.get(coll, {})
        if not isinstance(got, dict):
            continue  # not a mapping at all: validation says so
        before, after = list(getattr(base, coll)), [str(k) for k in got]
        added = [i for i in after if i not in before]
        removed = [i for i in before if i not in after]
        for ids, verb in ((added, "add"), (removed, "remove")):
            if not ids:
                continue
            culprit = next((p for p in changes if p == coll), None) or next(
                (p for p in changes if any(p == f"{coll}.{i}" or p.startswith(f"{coll}.{i}.") for i in ids)), None)
            key = within + ((culprit,) if culprit else ())
            what = f"{noun}{'s' if len(ids) > 1 else ''} {', '.join(ids)}"
            fix = (f"add {'them' if len(ids) > 1 else 'it'} to the base scenario (e.g. with {off}) and change "
                   f"{'their' if len(ids) > 1 else 'its'} values here" if verb == "add" else
                   f"keep {'them' if len(ids) > 1 else 'it'} and set {off} here instead")
            out.append(Problem(
                f"an outcome cannot {verb} {what}; outcomes change values, not which {coll} exist: {fix}",
                path=".".join(key), line=src.where(key) if src else None))
    return out
