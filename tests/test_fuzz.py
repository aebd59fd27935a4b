"""Property test: random damage to valid scenarios never crashes chipalloc.

Hypothesis takes a valid scenario (a small one, or the shipped baseline),
applies one to three mutations (delete a key, change a type, put in a string,
a huge, tiny, negative or zero number, NaN, point a reference at another or a
missing id) and runs ``chipalloc solve --json --no-report`` on the result.
Whatever happens, the CLI must end with exit 0 (optimal), 2 (bad input) or 3
(infeasible) -- 4 only when the scenario really has no spending limit --
without a traceback, and every exit-0 plan must pass the independent verifier.
"""
from __future__ import annotations

import copy
import functools
import json
import math

import yaml
from click.testing import CliRunner
from conftest import SCENARIOS, base_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import io
from optimizer.analysis.breakeven import break_even as _ORIGINAL_BREAK_EVEN
from optimizer.cli import cli
from optimizer.verify import violations

BASES = {
    "small": base_data(),
    "bytedance": io.read_source(SCENARIOS / "bytedance-2025.yaml").data,
}
# the small base gets the optional parts the mutations should reach
BASES["small"]["vendors"]["dom"].update({"capacity_units": 60, "max_share": 0.9})
BASES["small"]["chips"]["a"].update({"min_units": 5, "max_units": 80, "lot_size": 2, "power_w": 300})
BASES["small"]["chips"]["b"].update({"power_w": 700, "tpp": 2400})
BASES["small"]["sites"]["cn"].update({"domestic_min_share": 0.5, "power_mw": 0.05})
BASES["small"]["budget"] = {"amount": 150, "currency": "USD"}
BASES["small"]["integer_units"] = True

REPLACEMENTS = [
    "abc", "", "=1+1", "40,000", "60%", None, True, False, [], {}, [1, 2], {"x": 1},
    0, -1, -1e9, 1e-300, 5e-324, 1e-9, 0.5, 1, 7, 1e9, 1e15, 1e18, 1e300, 1.5, 2.5,
    float("nan"), float("inf"), 10**30,
]
REFERENCE_FIELDS = ("vendor", "architecture", "chip", "price_currency", "currency", "country", "origin")


def paths_of(obj, prefix=()):
    """Every path (tuple of keys / indices) in a nested structure, parents before children."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + (k,))
            out += paths_of(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append(prefix + (i,))
            out += paths_of(v, prefix + (i,))
    return out


def ids_in(data):
    parts = [data.get(p) for p in ("vendors", "chips", "sites", "flexibility")]
    return [str(k) for part in parts if isinstance(part, dict) for k in part]


NUMBERS = [0, -1, 1e-9, 1e-3, 0.5, 1, 2, 7, 1e3, 1e6, 1e9, 1e12, 1e15, 1e-300, 1e300, -1e9]
SCALES = [0, -1, 1e-12, 1e-3, 0.5, 2, 10, 1e6, 1e12]


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@st.composite
def mutated(draw):
    """A base scenario with one to three random mutations (numbers hit most often)."""
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in paths_of(data) if p[0] != "variants"]
        if not paths:
            break
        op = draw(st.sampled_from(["number", "number", "number", "reference", "delete", "replace"]))
        if op == "number":
            pick = [p for p in paths if _is_number(_get(data, p))]
        elif op == "reference":
            pick = [p for p in paths if isinstance(p[-1], str) and p[-1] in REFERENCE_FIELDS]
        else:
            pick = paths
        if not pick:
            continue
        path = draw(st.sampled_from(pick))
        parent = _get(data, path[:-1])
        key = path[-1]
        if op == "delete":
            del parent[key]
        elif op == "reference":
            parent[key] = draw(st.sampled_from(ids_in(data) + ["nobody", "CN", "US", "MY", "ZZ", "USD", "EUR"]))
        elif op == "number":
            if draw(st.booleans()):
                parent[key] = parent[key] * draw(st.sampled_from(SCALES))
            else:
                parent[key] = draw(st.sampled_from(NUMBERS))
        else:
            parent[key] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
    return name, data


def _get(data, path):
    for k in path:
        data = data[k]
    return data


def _dump(data) -> str:
    # NaN/inf as YAML .nan/.inf; huge ints as plain digits
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def changes(name, data) -> str:
    """The mutation as a diff against the base, for failure messages."""
    import difflib

    return "\n".join(difflib.unified_diff(_dump(BASES[name]).splitlines(), _dump(data).splitlines(), lineterm="", n=0))


def truly_unbounded(path) -> bool:
    """No budget limits some site, and no global budget either."""
    s = io.load(path).scenario
    return s.budget is None and any(site.budget is None for site in s.sites.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_damaged_scenarios_end_in_a_known_exit_code(case, tmp_path, monkeypatch):
    # solve also runs the break-even search (up to about 36 whole-lot re-solves per row); 12 per row keeps
    # this test fast and changes no exit code
    from optimizer.analysis import breakeven

    monkeypatch.setattr(breakeven, "break_even", functools.partial(_ORIGINAL_BREAK_EVEN, max_probes=12))
    name, data = case
    path = tmp_path / "fuzz.yaml"
    path.write_text(_dump(data), encoding="utf-8")
    r = CliRunner().invoke(cli, ["solve", str(path), "--json", "--no-report"], catch_exceptions=False)
    why = f"{r.stderr}\n{changes(name, data)}"
    assert "Traceback" not in r.stderr, why
    assert "internal error" not in r.stderr, why
    assert r.exit_code in (0, 2, 3, 4), why
    if r.exit_code == 4:
        assert truly_unbounded(path), r.stderr
    if r.exit_code == 2:
        assert r.stdout == "" and r.stderr.startswith("error: ")
        return
    doc = json.loads(r.stdout)  # exactly one JSON document, whatever the outcome
    if r.exit_code == 3:
        assert doc["status"] == "infeasible"
        assert doc["diagnosis"]["conflict"]
        return
    if r.exit_code == 0:
        assert doc["status"] == "optimal"
        s = io.load(path).scenario
        units = {(a["site"], a["chip"]): a["units"] for a in doc["allocation"]}
        assert all(math.isfinite(u) and u >= 0 for u in units.values())
        assert violations(s, units, doc["objective"]["effective_tops"]) == []
