"""optimizer.outcomes: the scenario of each outcome, from a Scenario alone (no file), as io.load builds them."""
from __future__ import annotations

import pytest

from conftest import fixture_path
from optimizer import io
from optimizer.errors import InputError
from optimizer.outcomes import ENTITIES, outcome_scenarios


def test_from_the_scenario_alone_the_outcomes_equal_those_io_load_builds():
    loaded = io.load(fixture_path("io_outcomes.yaml"))
    got = outcome_scenarios(loaded.scenario)  # raw data dumped from the validated scenario
    assert list(got) == ["granted", "denied"] and got == loaded.outcomes
    assert got["denied"].chips["ascend910b"].unit_price == 130_000 and got["granted"].uncertainty is None


def test_no_uncertainty_no_outcomes():
    assert outcome_scenarios(io.load(fixture_path("whatif_small.yaml")).scenario) == {}


def test_without_a_file_a_problem_still_names_the_change():
    data = io.read_source(fixture_path("io_outcomes.yaml")).data
    data["uncertainty"]["outcomes"]["denied"]["changes"]["sites.hk"] = {"country": "HK"}
    s = io.validate_data(data)  # the base is valid: the change is only applied when the outcome is built
    with pytest.raises(InputError) as e:
        outcome_scenarios(s, data, file="plan.yaml")
    (p,) = e.value.problems
    assert (p.path, p.line) == ("uncertainty.outcomes.denied.changes.sites.hk", None)
    assert p.message.startswith("an outcome cannot add site hk;")
    assert e.value.render().startswith("plan.yaml: uncertainty.outcomes.denied.changes.sites.hk: ")


def test_the_entities_an_outcome_cannot_add_or_remove():
    assert ENTITIES == ("vendors", "chips", "sites", "leases")
