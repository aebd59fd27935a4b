"""`chipalloc export` writes the model as LP/MPS; `--solver pulp:NAME` drives any solver PuLP knows."""
from __future__ import annotations

import pulp
import pytest
from click.testing import CliRunner

from conftest import fixture_path, load_fixture
from optimizer.cli import cli
from optimizer.plan import make_plan
from optimizer.solve.pulp_backend import make_solver


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("fixture", ["core_lots.yaml", "periods_lease.yaml", "periods_budget_power.yaml", "core_all_rules.yaml"])
def test_exported_mps_solved_elsewhere_gives_the_plans_objective(tmp_path, fixture):
    out = tmp_path / "m.mps"
    r = run("export", fixture_path(fixture), "--format", "mps", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(out)
    _, prob = pulp.LpProblem.fromMPS(str(out), sense=pulp.LpMaximize)
    prob.solve(make_solver("cbc", mip=True))  # CBC, not the HiGHS backend that made the plan
    assert pulp.LpStatus[prob.status] == "Optimal"
    assert pulp.value(prob.objective) == pytest.approx(make_plan(load_fixture(fixture)).totals["effective_tops"], rel=1e-9)


def test_lp_file_names_rows_and_columns_as_the_model_does(tmp_path):
    out = tmp_path / "m.lp"
    assert run("export", fixture_path("core_lots.yaml"), "-o", out).exit_code == 0
    text = out.read_text()
    assert "budget(cn): 160 lots8(cn,b) + 10 units(cn,a) <= 1000" in text
    assert "Maximize" in text and "General" in text  # whole lots are integer


def test_export_refuses_a_wrong_suffix_and_an_existing_file(tmp_path):
    r = run("export", fixture_path("core_lots.yaml"), "-o", tmp_path / "m.txt")
    assert r.exit_code == 2 and "must end in .lp" in r.stderr
    out = tmp_path / "m.lp"
    out.write_text("keep me")
    r = run("export", fixture_path("core_lots.yaml"), "-o", out)
    assert r.exit_code == 2 and "already exists" in r.stderr and out.read_text() == "keep me"


@pytest.mark.parametrize("fixture", ["core_lots.yaml", "periods_lease.yaml"])
def test_pulp_highs_gives_the_same_plan_as_the_highs_backend(fixture):
    a = make_plan(load_fixture(fixture), solver="highs")
    b = make_plan(load_fixture(fixture), solver="pulp:HiGHS")
    assert b.result.solver == "pulp:HiGHS"
    assert b.totals["effective_tops"] == pytest.approx(a.totals["effective_tops"], rel=1e-9)
    assert b.totals["spend"] == pytest.approx(a.totals["spend"], rel=1e-9)
    # PuLP's duals are read for CBC only; other PuLP solvers get HiGHS's on the same rows
    for x, y in zip(a.constraints, b.constraints):
        assert y.shadow_price == pytest.approx(x.shadow_price, rel=1e-7, abs=1e-9)


def test_unknown_and_unavailable_pulp_solvers_are_usage_errors():
    r = run("solve", fixture_path("core_lots.yaml"), "--solver", "pulp:NOPE", "--no-report")
    assert r.exit_code == 2 and "PuLP has no solver 'NOPE'" in r.stderr
    r = run("solve", fixture_path("core_lots.yaml"), "--solver", "gurobi", "--no-report")
    assert r.exit_code == 2 and "choose highs, cbc or pulp:NAME" in r.stderr
