"""Problems render their place (a line of a YAML/JSON file, or a sheet and cell of a workbook), and every chipalloc
error survives pickling (a Dask worker sends it back) with its message and its fields."""
from __future__ import annotations

import pickle

import cloudpickle
import pytest

from optimizer.analysis.diagnose import Diagnosis, Fix
from optimizer.errors import (
    ChipallocError, InfeasibleError, InputError, OutputError, Problem, SolveError, UnboundedError, VerificationError,
)
from optimizer.loader import Source


def test_a_problem_renders_its_line_or_its_cell():
    assert Problem("bad", path="chips.a.unit_price", line=7).render("s.yaml") == "s.yaml:7: chips.a.unit_price: bad"
    assert Problem("bad", path="chips.a.unit_price", cell="Chips!F3").render("s.xlsx") == \
        "s.xlsx: Chips!F3: chips.a.unit_price: bad"
    assert Problem("bad", cell="'Export controls'!B2", hint="fix").render() == "'Export controls'!B2: bad (fix)"
    assert InputError([Problem("bad", path="p", cell="FX!B2")], file="f.xlsx").render() == "f.xlsx: FX!B2: p: bad"


def test_problem_at_takes_whatever_the_source_gives():
    assert Problem.at(7, "m", path="p") == Problem("m", path="p", line=7)
    assert Problem.at("Chips!F3", "m", path="p") == Problem("m", path="p", cell="Chips!F3")
    assert Problem.at(None, "m").where is None
    assert Problem.at("Chips!F3", "m").where == "Chips!F3" and Problem.at(3, "m").where == 3


def test_a_source_locates_by_line_or_by_cell_walking_up_to_the_nearest_known_path():
    y = Source("s.yaml", {}, lines={("chips", "a"): 4, ("chips", "a", "unit_price"): 6})
    assert y.where(("chips", "a", "unit_price")) == 6 and y.where(("chips", "a", "tpp")) == 4
    assert y.where(("vendors",)) is None and y.cell_of(("chips", "a")) is None
    x = Source("s.xlsx", {}, cells={("chips", "a"): "Chips!A2", ("export_controls", "licenses", 0): "Licences!A2"})
    assert x.where(("chips", "a", "unit_price")) == "Chips!A2"
    assert x.where(("export_controls", "licenses", 0, "chip")) == "Licences!A2"
    assert x.line_of(("chips", "a")) is None


# --------------------------------------------------------------------------- pickling (errors from Dask workers)

DIAGNOSIS = Diagnosis(
    scenario="s", conflict=["budget[cn]", "chip_min[b]"],
    rules={"budget[cn]": "budget[cn] <= CNY 1,000", "chip_min[b]": "chip_min[b] >= 100 units"},
    fixes=[Fix("chip_min[b]", "chips.b.min_units", 100, 50, "lower", "lower chips.b.min_units from 100 to 50 units")],
)

ERRORS = [
    ChipallocError("the solver failed: time limit"),
    InputError("--workers 0: must be a whole number of processes, at least 1"),
    InputError([Problem("must be greater than 0", path="chips.h20.unit_price", line=12, hint="prices are per unit"),
                Problem("unknown vendor 'nvidai'", path="chips.h20.vendor")], file="s.yaml"),
    OutputError("plan.xlsx: already exists; pass --force to replace it, or choose another -o"),
    SolveError("the highs solver failed on the base scenario"),
    VerificationError(["budget[cn]: 40,000,000,001 > 40,000,000,000", "units[cn,h20]: -1 < 0"]),
    InfeasibleError("infeasible: scenario 's' has no plan that meets every rule", DIAGNOSIS),
    UnboundedError("unbounded: the base scenario 's' has no limit on purchases"),
]


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps], ids=["pickle", "cloudpickle"])
@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_round_trip_keeps_type_message_and_fields(error, dumps):
    back = pickle.loads(dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error) and back.render() == error.render()
    assert back.exit_code == error.exit_code
    assert back.__dict__ == error.__dict__


def test_verification_error_keeps_its_list_of_violations():
    # Exception's own pickling would call VerificationError(message) and read the message as the violations
    back = pickle.loads(pickle.dumps(VerificationError(["a", "b"])))
    assert back.violations == ["a", "b"]
    assert back.render().endswith(":\n  a\n  b")


def test_input_error_keeps_its_file_and_located_problems():
    e = InputError([Problem("bad", path="x.y", line=3, hint="fix it")], file="f.yaml")
    back = pickle.loads(pickle.dumps(e))
    assert back.file == "f.yaml" and back.problems == e.problems
    assert back.render() == "f.yaml:3: x.y: bad (fix it)"


def test_infeasible_error_keeps_its_diagnosis():
    back = pickle.loads(pickle.dumps(ERRORS[6]))
    assert back.diagnosis.to_dict() == DIAGNOSIS.to_dict()
