"""Outcomes (issue 8): io.load builds and validates one scenario per uncertainty.outcomes entry.

Each outcome is the base data (after --variant and --set) with that outcome's
``changes`` applied by dotted path, as a variant's; bad changes are exit 2 with
a message located at the change.
"""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from conftest import fixture_path
from optimizer import io
from optimizer.cli import cli
from optimizer.errors import InputError

OUTCOMES = fixture_path("io_outcomes.yaml")
TEXT = OUTCOMES.read_text()


def write(tmp_path, text: str, name: str = "s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def changed(tmp_path, old: str, new: str):
    assert TEXT.count(old) == 1, old
    return write(tmp_path, TEXT.replace(old, new))


def line_of(path, fragment: str) -> int:
    lines = path.read_text().splitlines()
    (n,) = [i + 1 for i, t in enumerate(lines) if fragment in t]
    return n


def error_of(path, **kw) -> str:
    with pytest.raises(InputError) as e:
        io.load(path, **kw)
    assert e.value.exit_code == 2
    return str(e.value)


# --------------------------------------------------------------------------- building


def test_each_outcome_is_the_base_with_its_changes_in_file_order():
    loaded = io.load(OUTCOMES)
    assert list(loaded.outcomes) == ["granted", "denied"]
    base, granted, denied = loaded.scenario, loaded.outcomes["granted"], loaded.outcomes["denied"]
    assert granted.uncertainty is None and denied.uncertainty is None  # an outcome is one world
    assert granted.variants == base.variants and granted.periods == base.periods
    # the base keeps its own values
    assert base.chips["ascend910b"].unit_price == 120_000
    assert base.export_controls.licenses["h20_cn"].until == "2025q2"
    # granted: the whole licence h20_cn is replaced by id (allow from 2025q3, no end, no note); the other licence stays
    g = granted.export_controls.licenses
    assert (g["h20_cn"].status, g["h20_cn"].from_, g["h20_cn"].until, g["h20_cn"].note) == ("allow", "2025q3", None, None)
    assert g["h100_cn"] == base.export_controls.licenses["h100_cn"]
    assert granted.chips == base.chips
    # denied: two single values change, nothing else
    d = denied.export_controls.licenses["h20_cn"]
    assert (d.status, d.from_, d.until, d.note) == ("deny", "2025q2", "2025q4", "April rule")
    assert denied.chips["ascend910b"].unit_price == 130_000
    assert denied.chips["h20"] == base.chips["h20"] and denied.vendors == base.vendors and denied.sites == base.sites


def test_outcomes_start_from_the_data_after_variants_and_set():
    loaded = io.load(OUTCOMES, variants=["dear_910b"], sets=["chips.h20.unit_price=100000"])
    assert loaded.scenario.chips["ascend910b"].unit_price == 125_000
    granted, denied = loaded.outcomes["granted"], loaded.outcomes["denied"]
    assert granted.chips["ascend910b"].unit_price == 125_000  # from the variant
    assert granted.chips["h20"].unit_price == denied.chips["h20"].unit_price == 100_000  # from --set
    assert denied.chips["ascend910b"].unit_price == 130_000  # the outcome's own change wins
    assert loaded.data["chips"]["h20"]["unit_price"] == 100_000  # the base data, as loaded


def test_no_uncertainty_no_outcomes():
    loaded = io.load(fixture_path("whatif_small.yaml"))
    assert loaded.outcomes == {} and loaded.warnings == []


def test_a_licence_can_be_added_by_id_in_an_outcome(tmp_path):
    p = changed(tmp_path, "        chips.ascend910b.unit_price: 130000\n",
                "        export_controls.licenses.h20_cn_late: {chip: h20, country: CN, status: deny, from: 2025q4}\n")
    denied = io.load(p).outcomes["denied"]
    assert set(denied.export_controls.licenses) == {"h20_cn", "h100_cn", "h20_cn_late"}
    assert denied.export_controls.licenses["h20_cn_late"].from_ == "2025q4"


# --------------------------------------------------------------------------- bad changes


def test_unknown_outcome_path_names_the_change_and_the_nearest_paths(tmp_path):
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000", "chips.ascend910b.unit_prise: 130000")
    assert error_of(p) == (
        f"{p}:{line_of(p, 'unit_prise')}: uncertainty.outcomes.denied.changes.chips.ascend910b.unit_prise: unknown path "
        "(nearest valid paths: chips.ascend910b.unit_price, chips.ascend910b.min_units, chips.ascend910b.max_units)"
    )


def test_a_bad_value_in_an_outcome_is_located_at_the_change(tmp_path):
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000", "chips.ascend910b.unit_price: -1")
    assert error_of(p) == (
        f"{p}:{line_of(p, 'unit_price: -1')}: uncertainty.outcomes.denied.changes.chips.ascend910b.unit_price: "
        "-1: must be greater than 0"
    )


def test_a_bad_field_inside_a_whole_licence_is_located_in_the_change(tmp_path):
    p = changed(tmp_path, "{chip: h20, country: CN, status: allow, from: 2025q3}",
                "{chip: h20, country: CN, status: allowed, from: 2025q3}")
    assert error_of(p) == (
        f"{p}:{line_of(p, 'status: allowed')}: uncertainty.outcomes.granted.changes.export_controls.licenses.h20_cn.status: "
        "'allowed': must be 'allow', 'cap' or 'deny'"
    )


def test_a_problem_the_changes_cause_elsewhere_names_the_outcome(tmp_path):
    # the change sets a power envelope; the chips have no power_w: the problem is at the chips, in that outcome
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000", "sites.cn.power_mw: 50")
    assert error_of(p).splitlines() == [
        f"{p}:{line_of(p, '  h20: {')}: chips.h20.power_w: missing: site cn sets power_mw, so every chip needs power_w "
        f"(watts per unit) (in outcome denied at line {line_of(p, '    denied:')})",
        f"{p}:{line_of(p, '  ascend910b: {')}: chips.ascend910b.power_w: missing: site cn sets power_mw, so every chip "
        f"needs power_w (watts per unit) (in outcome denied at line {line_of(p, '    denied:')})",
    ]


def test_problems_of_every_outcome_are_reported_together(tmp_path):
    p = changed(tmp_path, "from: 2025q3}", "from: 2025q5}")
    p = write(tmp_path, p.read_text().replace("until: 2025q4", "until: 2026q1"))
    lines = error_of(p).splitlines()
    assert lines == [
        f"{p}:{line_of(p, '2025q5')}: uncertainty.outcomes.granted.changes.export_controls.licenses.h20_cn.from: "
        "unknown period '2025q5'; periods are 2025q1, 2025q2, 2025q3, 2025q4",
        f"{p}:{line_of(p, '2026q1')}: uncertainty.outcomes.denied.changes.export_controls.licenses.h20_cn.until: "
        "unknown period '2026q1'; periods are 2025q1, 2025q2, 2025q3, 2025q4",
    ]


@pytest.mark.parametrize(
    "change, path, message",
    [
        ("chips.h200: {vendor: nvidia, architecture: gpgpu, int8_tops: 1979, unit_price: 250000}", "chips.h200",
         "an outcome cannot add chip h200; outcomes change values, not which chips exist: add it to the base scenario "
         "(e.g. with max_units: 0) and change its values here"),
        ("chips: {h20: {vendor: nvidia, architecture: gpgpu, int8_tops: 296, unit_price: 1}}", "chips",
         "an outcome cannot remove chip ascend910b; outcomes change values, not which chips exist: keep it and set "
         "max_units: 0 here instead"),
        ("vendors.smic: {origin: CN}", "vendors.smic",
         "an outcome cannot add vendor smic; outcomes change values, not which vendors exist: add it to the base "
         "scenario (e.g. with capacity_units: 0) and change its values here"),
        ("sites: {cn: {country: CN}, my: {country: MY}, hk: {country: HK}}", "sites",
         "an outcome cannot add sites my, hk; outcomes change values, not which sites exist: add them to the base "
         "scenario (e.g. with chips: []) and change their values here"),
        ("leases.l: {site: cn, chip: h20, operator: o, price_per_period: 1}", "leases.l",
         "an outcome cannot add lease l; outcomes change values, not which leases exist: add it to the base scenario "
         "(e.g. with max_units: 0) and change its values here"),
        ("periods: [2025q1, 2025q2]", "periods",
         "an outcome cannot change periods: every outcome has the base scenario's periods"),
        ("currency: USD", "currency",
         "an outcome cannot change currency: every outcome reports money in the base scenario's currency (change fx instead)"),
        ("uncertainty.revealed: 2025q3", "uncertainty.revealed",
         "an outcome cannot change uncertainty: outcomes cannot change the uncertainty they belong to"),
    ],
    ids=["add-chip", "remove-chip", "add-vendor", "sites-replaced", "add-lease", "periods", "currency", "uncertainty"],
)
def test_an_outcome_changes_values_not_which_entities_exist(change, path, message, tmp_path):
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000", change)
    line = line_of(p, change)
    assert error_of(p) == f"{p}:{line}: uncertainty.outcomes.denied.changes.{path}: {message}"


def test_an_outcome_that_replaces_a_whole_list_is_warned_not_refused(tmp_path):
    p = write(tmp_path, textwrap.dedent("""\
        schema_version: 1
        name: w
        integer_units: false
        flexibility: {gpgpu: 1.0}
        vendors: {us: {origin: US}}
        chips: {a: {vendor: us, architecture: gpgpu, int8_tops: 1, unit_price: 1}}
        sites: {cn: {country: CN, budget: {amount: 10}}}
        export_controls:
          licenses:
            - {chip: a, country: CN, status: deny}
            - {chip: a, country: US, status: deny}
        uncertainty:
          outcomes:
            same: {probability: 0.5}
            one_licence:
              probability: 0.5
              changes:
                export_controls.licenses: [{chip: a, country: MY, status: deny}]
        """))
    loaded = io.load(p)
    assert len(loaded.outcomes["one_licence"].export_controls.licenses) == 1
    (w,) = loaded.warnings
    assert (w.line, w.path) == (18, "uncertainty.outcomes.one_licence.changes.export_controls.licenses")
    assert w.message == "replaces the whole list of 2 licences in this outcome, not just the entries it gives"


def test_outcome_problems_exit_2_on_every_command_that_loads(tmp_path):
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000", "chips.ascend910b.unit_prise: 130000")
    for args in (["validate", p], ["solve", p, "--no-report"], ["solve", p, "--json", "--no-report"]):
        r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert r.exit_code == 2 and r.stdout == "" and "Traceback" not in r.stderr
        assert r.stderr.startswith(f"error: {p}:") and "changes.chips.ascend910b.unit_prise: unknown path" in r.stderr


# --------------------------------------------------------------------------- --set and --vary reach uncertainty


def test_setting_one_of_two_probabilities_sets_the_other_to_the_rest():
    loaded = io.load(OUTCOMES, sets=["uncertainty.outcomes.denied.probability=0.45"])
    probs = {n: o.probability for n, o in loaded.scenario.uncertainty.outcomes.items()}
    assert probs == {"granted": 0.55, "denied": 0.45}
    assert loaded.applied == [{"set": "uncertainty.outcomes.denied.probability", "value": 0.45,
                               "also_set": {"uncertainty.outcomes.granted.probability": 0.55}}]


def test_a_variant_may_set_an_outcome_probability():
    loaded = io.load(OUTCOMES, variants=["likely_granted"])
    probs = {n: o.probability for n, o in loaded.scenario.uncertainty.outcomes.items()}
    assert probs == {"granted": 0.8, "denied": 0.2}
    assert loaded.applied[0]["also_set"] == {"uncertainty.outcomes.denied.probability": 0.2}


def test_two_probabilities_set_must_agree():
    ok = io.load(OUTCOMES, sets=["uncertainty.outcomes.denied.probability=0.4", "uncertainty.outcomes.granted.probability=0.6"])
    assert ok.scenario.uncertainty.outcomes["denied"].probability == 0.4
    assert error_of(OUTCOMES, sets=["uncertainty.outcomes.denied.probability=0.4",
                                    "uncertainty.outcomes.granted.probability=0.5"]) == (
        f"{OUTCOMES}: uncertainty.outcomes.denied.probability: the probabilities set for the outcomes "
        "(uncertainty.outcomes.denied.probability=0.4, uncertainty.outcomes.granted.probability=0.5) do not sum to 1; "
        "set one of them (the others are rescaled to the rest) or values that sum to 1 "
        "(the value came from --set uncertainty.outcomes.denied.probability=0.4)"
    )


def test_with_three_outcomes_the_others_are_rescaled_in_proportion(tmp_path):
    p = changed(tmp_path, "    denied:\n      probability: 0.7\n",
                "    late:\n      probability: 0.2\n    denied:\n      probability: 0.5\n")
    assert io.load(p).scenario.uncertainty.outcomes["late"].probability == 0.2
    # granted 0.3 and denied 0.5 share the remaining 0.9 in their proportion 3:5
    loaded = io.load(p, sets=["uncertainty.outcomes.late.probability=0.1"])
    got = {k: o.probability for k, o in loaded.scenario.uncertainty.outcomes.items()}
    assert got == pytest.approx({"granted": 0.3375, "late": 0.1, "denied": 0.5625})
    assert loaded.applied[0]["also_set"] == {"uncertainty.outcomes.granted.probability": 0.3375,
                                             "uncertainty.outcomes.denied.probability": 0.5625}
    # a what-if may take a probability to 0 or 1 (a file may not)
    edge = io.load(p, sets=["uncertainty.outcomes.late.probability=1"])
    assert {k: o.probability for k, o in edge.scenario.uncertainty.outcomes.items()} == {
        "granted": 0.0, "late": 1.0, "denied": 0.0}


def test_set_reaches_an_outcome_change_and_its_risk_settings():
    loaded = io.load(OUTCOMES, sets=["uncertainty.outcomes.granted.changes.chips.h20.unit_price=90000",
                                     "uncertainty.risk.alpha=0.95"])
    assert loaded.outcomes["granted"].chips["h20"].unit_price == 90_000
    assert loaded.scenario.chips["h20"].unit_price == 110_000
    assert loaded.scenario.uncertainty.risk.alpha == 0.95
    assert error_of(OUTCOMES, sets=["uncertainty.risk.alpha=1"]) == (
        f"{OUTCOMES}: uncertainty.risk.alpha: 1: must be between 0 and 1, both excluded (e.g. 0.9) "
        "(the value came from --set uncertainty.risk.alpha=1)"
    )


def test_a_sweep_can_vary_one_outcome_probability():
    from optimizer.analysis import sweep as sweep_mod

    vs, points = sweep_mod.prepare(io.load(OUTCOMES), ["uncertainty.outcomes.denied.probability=0.1:0.9:5"])
    got = [(p.scenario.uncertainty.outcomes["denied"].probability, p.scenario.uncertainty.outcomes["granted"].probability)
           for p in points]
    assert got == [(0.1, 0.9), (0.3, 0.7), (0.5, 0.5), (0.7, 0.3), (0.9, 0.1)]


def test_adding_an_entity_is_the_message_even_when_the_new_entity_is_also_incomplete(tmp_path):
    # with a power envelope, the new chip also lacks power_w; the root problem is that it is new
    p = changed(tmp_path, "chips.ascend910b.unit_price: 130000",
                "chips.h200: {vendor: nvidia, architecture: gpgpu, int8_tops: 1979, unit_price: 250000}")
    p.write_text(p.read_text().replace("unit_price: 110000}", "unit_price: 110000, power_w: 400}")
                 .replace("unit_price: 120000}", "unit_price: 120000, power_w: 400}")
                 .replace("budget: {amount: 1e9}}", "budget: {amount: 1e9}, power_mw: 100}"))
    io.load(p, sets=["uncertainty.outcomes.denied.changes={}"])  # the base itself is valid
    assert error_of(p) == (
        f"{p}:{line_of(p, 'chips.h200')}: uncertainty.outcomes.denied.changes.chips.h200: an outcome cannot add chip h200; "
        "outcomes change values, not which chips exist: add it to the base scenario (e.g. with max_units: 0) and change "
        "its values here"
    )


def test_a_probability_sweep_runs_end_to_end():
    r = CliRunner().invoke(cli, ["sweep", str(OUTCOMES), "--vary", "uncertainty.outcomes.denied.probability=0.2,0.8",
                                 "--no-report", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    assert [(p["values"], p["status"]) for p in doc["points"]] == [
        ({"uncertainty.outcomes.denied.probability": 0.2}, "optimal"),
        ({"uncertainty.outcomes.denied.probability": 0.8}, "optimal"),
    ]
    # the other outcome's probability moves with it, and the output says so
    assert doc["vary"][0]["rescales"] == ["uncertainty.outcomes.granted.probability"]
    r = CliRunner().invoke(cli, ["sweep", str(OUTCOMES), "--vary", "uncertainty.outcomes.denied.probability=0.2,0.8",
                                 "--no-report"], catch_exceptions=False)
    assert ("each point sets uncertainty.outcomes.denied.probability and rescales the other outcomes' probabilities "
            "(granted) in proportion, so that they still sum to 1") in r.stderr


def test_a_sweep_of_another_number_rescales_nothing():
    from optimizer.analysis import sweep as sweep_mod

    vs, _ = sweep_mod.prepare(io.load(OUTCOMES), ["uncertainty.risk.alpha=0.5,0.9"])
    assert vs[0].rescales == ()
