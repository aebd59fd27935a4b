"""What `chipalloc validate` checks (io.check), warnings, and overrides that replace a whole list or mapping.

From issue 10's trial: a variant with a misspelled path used to pass `validate`
and fail only at `solve --variant`; a variant that set `export_controls.licenses`
silently replaced four licence denials.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import SCENARIOS, fixture_path
from optimizer import io
from optimizer.cli import cli
from optimizer.errors import InputError, ScenarioWarning

VARIANTS = fixture_path("io_variants.yaml")
WARNINGS = fixture_path("io_warnings.yaml")
SMALL = fixture_path("whatif_small.yaml")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def line_of(path, fragment: str) -> int:
    (n,) = [i + 1 for i, t in enumerate(path.read_text().splitlines()) if fragment in t]
    return n


VARIANT_PROBLEMS = [
    f"{VARIANTS}:{line_of(VARIANTS, 'amout')}: variants.typo.sites.cn.budget.amout: unknown path "
    "(nearest valid paths: sites.cn.budget.amount, sites.cn.budget, sites.cn.budget.currency)",
    f"{VARIANTS}:{line_of(VARIANTS, 'unit_price: -8')}: variants.negative.chips.b.unit_price: -8: must be greater than 0",
    f"{VARIANTS}:{line_of(VARIANTS, '  a: {vendor')}: chips.a.power_w: missing: site cn sets power_mw, so every chip "
    f"needs power_w (watts per unit) (with variant powered at line {line_of(VARIANTS, '  powered:')})",
    f"{VARIANTS}:{line_of(VARIANTS, '  b: {vendor')}: chips.b.power_w: missing: site cn sets power_mw, so every chip "
    f"needs power_w (watts per unit) (with variant powered at line {line_of(VARIANTS, '  powered:')})",
]


# --------------------------------------------------------------------------- every variant is checked


def test_check_applies_each_variant_alone_and_names_it():
    io.load(VARIANTS)  # the base alone is fine
    with pytest.raises(InputError) as e:
        io.check(VARIANTS)
    assert str(e.value).splitlines() == VARIANT_PROBLEMS


def test_validate_fails_on_a_bad_variant_that_solve_without_it_never_applies():
    r = run("validate", VARIANTS)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines() == ["error: " + VARIANT_PROBLEMS[0], *VARIANT_PROBLEMS[1:]]
    assert run("solve", VARIANTS, "--no-report").exit_code == 0


def test_solve_with_the_bad_variant_gives_the_same_message():
    r = run("solve", VARIANTS, "--variant", "typo", "--no-report")
    assert r.exit_code == 2
    assert r.stderr.strip() == "error: " + VARIANT_PROBLEMS[0]
    r = run("solve", VARIANTS, "--variant", "negative", "--no-report")
    assert r.stderr.strip() == "error: " + VARIANT_PROBLEMS[1]


def test_variants_are_applied_alone_not_together(tmp_path):
    # each variant is fine alone; together they would put min_units above max_units
    p = tmp_path / "v.yaml"
    p.write_text(SMALL.read_text() + "  low_max:\n    chips.a.max_units: 5\n  high_min:\n    chips.a.min_units: 10\n")
    assert io.check(p).scenario.name == "what-if small"
    with pytest.raises(InputError, match="min_units \\(10\\) is above max_units \\(5\\)"):
        io.load(p, variants=["low_max", "high_min"])


def test_a_variant_that_breaks_an_outcome_is_caught_by_validate(tmp_path):
    # the variant writes the licences as a list, so the outcomes can no longer name h20_cn by id
    p = tmp_path / "o.yaml"
    p.write_text(fixture_path("io_outcomes.yaml").read_text()
                 + "  as_list:\n    export_controls.licenses: [{chip: h20, country: CN, status: deny}]\n")
    io.load(p, variants=["dear_910b"])
    with pytest.raises(InputError) as e:
        io.check(p)
    first = str(e.value).splitlines()[0]
    assert first == (
        f"{p}:{line_of(p, 'licenses.h20_cn: {chip')}: uncertainty.outcomes.granted.changes.export_controls.licenses.h20_cn: "
        "unknown path (nearest valid paths: export_controls.licenses.0, export_controls.licenses, "
        "export_controls.licenses.0.note; the licences are a list here: name one by its position "
        f"(export_controls.licenses.0) or give them ids; with variant as_list at line {line_of(p, '  as_list:')})"
    )


def test_validate_passes_the_shipped_scenarios_with_every_variant():
    files = sorted(SCENARIOS.glob("*.yaml"))
    r = run("validate", *files)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [f"{f}: ok" for f in files] and r.stderr == ""


# --------------------------------------------------------------------------- replacing a whole list is said


def test_applied_says_what_a_variant_replaces_whole():
    loaded = io.load(VARIANTS, variants=["deny_b", "rich"])
    assert loaded.applied == [
        {"variant": "deny_b", "changes": {"export_controls.licenses": [{"chip": "b", "country": "CN", "status": "deny"}]},
         "replaces": {"export_controls.licenses": "list of 4 licences"}},
        {"variant": "rich", "changes": {"sites.cn.budget.amount": 3000}},  # a single value: nothing to say
    ]
    assert len(loaded.scenario.export_controls.licenses) == 1


@pytest.mark.parametrize(
    "assignment, replaces",
    [
        ("export_controls.licenses=[]", "list of 4 licences"),
        ("sites.cn.budget={amount: 5}", "mapping of 1 field (amount)"),
        ("sites.cn={country: CN, budget: {amount: 5}}", "mapping of 3 fields (country, budget, domestic_min_share)"),
        ("vendors={dom: {origin: CN}, us: {origin: US}}", "mapping of 2 vendors"),
        ("export_controls.licenses.0={chip: b, country: US, status: allow}", "mapping of 3 fields (chip, country, status)"),
        ("sites.cn.budget.amount=5", None),
        ("sites.cn.prices={a: 9}", None),  # nothing was there
    ],
)
def test_applied_says_what_a_set_replaces_whole(assignment, replaces):
    (entry,) = io.load(VARIANTS, sets=[assignment]).applied
    assert entry.get("replaces") == replaces


def test_the_terminal_and_json_say_it():
    r = run("solve", VARIANTS, "--variant", "deny_b", "--set", "sites.cn.budget={amount: 1000}", "--no-report")
    assert r.exit_code == 0, r.stderr
    assert ("applied: variant deny_b (replaces the whole export_controls.licenses: list of 4 licences); "
            "--set sites.cn.budget={'amount': 1000} (replaces the whole mapping of 1 field (amount))") in r.stderr
    assert "effective TOPS               5,000" in r.stderr  # b denied at cn: only a, 100 units x 50
    r = run("solve", VARIANTS, "--variant", "deny_b", "--json", "--no-report")
    doc = json.loads(r.stdout)
    assert doc["applied"][0]["replaces"] == {"export_controls.licenses": "list of 4 licences"}
    assert doc["totals"]["effective_tops"] == pytest.approx(5000)


# --------------------------------------------------------------------------- warnings


WARNING = (f"{WARNINGS}:{line_of(WARNINGS, 'headquarters: CN')}: buyer.headquarters: headquarters CN has no effect: "
           "export_controls.headquarters_countries is empty; add headquarters_countries: [CN] if the headquarters rule "
           "should apply")


def test_loaded_carries_located_warnings():
    loaded = io.load(WARNINGS)
    (w,) = loaded.warnings
    assert isinstance(w, ScenarioWarning) and not isinstance(w, Exception)
    assert w.render(str(WARNINGS)) == WARNING
    assert w.to_dict(str(WARNINGS)) == {"file": str(WARNINGS), "line": 7, "path": "buyer.headquarters",
                                        "message": WARNING.split("buyer.headquarters: ", 1)[1], "hint": None}


def test_the_reverse_warning(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text(WARNINGS.read_text().replace("buyer: {name: Buyer, headquarters: CN}\n", "")
                 .replace("origins: [US]", "origins: [US]\n  headquarters_countries: [CN, MO]"))
    (w,) = io.load(p).warnings
    assert w.render(str(p)) == (
        f"{p}:{line_of(p, '  headquarters_countries: [CN, MO]')}: export_controls.headquarters_countries: has no effect without "
        "buyer.headquarters; add buyer: {headquarters: CN} if the headquarters rule should apply")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(p.read_text() + "buyer: {headquarters: CN}\n")
    assert io.load(fixed).warnings == []


@pytest.mark.parametrize(
    "args",
    [
        ["validate", WARNINGS],
        ["solve", WARNINGS, "--no-report"],
        ["sweep", WARNINGS, "--vary", "sites.cn.budget.amount=1000,2000", "--no-report"],
        ["tornado", WARNINGS, "--param", "chips.a.unit_price", "--no-report"],
        ["compare", WARNINGS, f"{WARNINGS}@rich", "--no-report"],
    ],
    ids=["validate", "solve", "sweep", "tornado", "compare"],
)
def test_every_command_prints_the_warning_once_and_still_succeeds(args):
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.splitlines()[0] == "warning: " + WARNING
    assert r.stderr.count("warning: ") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["solve", WARNINGS, "--json", "--no-report"],
        ["sweep", WARNINGS, "--vary", "sites.cn.budget.amount=1000,2000", "--json", "--no-report"],
        ["tornado", WARNINGS, "--param", "chips.a.unit_price", "--json", "--no-report"],
        ["compare", WARNINGS, f"{WARNINGS}@rich", "--json", "--no-report"],
    ],
    ids=["solve", "sweep", "tornado", "compare"],
)
def test_json_lists_the_warnings_and_stderr_has_nothing_else(args):
    r = run(*args)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["warnings"] == [{"file": str(WARNINGS), "line": 7, "path": "buyer.headquarters",
                                "message": WARNING.split("buyer.headquarters: ", 1)[1], "hint": None}]
    assert r.stderr == "warning: " + WARNING + "\n"  # --json: no summary on stderr, only warnings and errors


def test_json_without_warnings_has_an_empty_list_and_an_empty_stderr():
    r = run("solve", SMALL, "--json", "--no-report")
    assert r.exit_code == 0
    assert json.loads(r.stdout)["warnings"] == [] and r.stderr == ""
    assert json.loads(r.stdout)["totals"]["effective_tops"] == pytest.approx(5500)  # 5.5 x CNY 1000, by hand


def test_json_help_says_what_stderr_gets():
    for cmd in ("solve", "sweep", "tornado", "compare"):
        out = " ".join(run(cmd, "--help").stdout.split())
        assert "stderr gets only warnings and errors" in out, cmd
