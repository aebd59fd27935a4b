"""`chipalloc validate` and `chipalloc solve` through click's CliRunner: exit codes, JSON, files, messages."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from conftest import REPO, SOLVERS, fixture_path
from optimizer.cli import cli

TOP_KEYS = {"schema", "scenario", "status", "solver", "currency", "integer_units", "objective", "totals", "sites",
            "allocation", "constraints", "compliance", "report"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def no_traceback(result):
    assert "Traceback" not in result.output and "Traceback" not in (result.stderr or "")


@pytest.fixture
def bad_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(fixture_path("core_two_chips.yaml").read_text().replace("unit_price: 10", "unit_price: -10"))
    return p


# ------------------------------------------------------------------ validate


def test_validate_ok():
    r = run("validate", fixture_path("core_two_chips.yaml"), fixture_path("core_all_rules.yaml"))
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [f"{fixture_path('core_two_chips.yaml')}: ok", f"{fixture_path('core_all_rules.yaml')}: ok"]


def test_validate_bad_file_exit_2(bad_file):
    r = run("validate", fixture_path("core_two_chips.yaml"), bad_file)
    assert r.exit_code == 2
    assert r.stdout.splitlines() == [f"{fixture_path('core_two_chips.yaml')}: ok"]
    assert str(bad_file) in r.stderr and "chips.a.unit_price" in r.stderr
    no_traceback(r)


def test_validate_missing_file(tmp_path):
    r = run("validate", tmp_path / "nope.yaml")
    assert r.exit_code == 2 and "nope.yaml" in r.stderr
    no_traceback(r)


def test_validate_shipped_scenarios():
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    r = run("validate", *files)
    assert r.exit_code == 0, r.stderr
    assert len(r.stdout.splitlines()) == len(files)


# ------------------------------------------------------------------ solve --json


@pytest.mark.parametrize("solver", SOLVERS)
def test_solve_json_is_one_document(solver):
    r = run("solve", fixture_path("core_capacity.yaml"), "--json", "--no-report", "--solver", solver)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout is one JSON document
    assert TOP_KEYS <= set(doc)
    assert doc["schema"] == "chipalloc.solution/1" and doc["status"] == "optimal" and doc["solver"] == solver
    assert doc["integer_units"] is False and doc["currency"] == "CNY" and doc["report"] is None
    # hand: 50 a + 12.5 b, 8750 effective TOPS, CNY 1000
    assert doc["objective"]["effective_tops"] == pytest.approx(8750)
    assert doc["totals"]["spend"] == pytest.approx(1000)
    assert [(a["chip"], a["units"]) for a in doc["allocation"]] == [("a", 50), ("b", 12.5)]
    cons = {c["name"]: c for c in doc["constraints"]}
    assert cons["capacity[dom]"]["shadow_price"] == pytest.approx(25)
    assert cons["budget[cn]"]["shadow_price"] == pytest.approx(7.5)
    assert r.stderr == ""


def test_solve_json_nothing_else_on_stdout_in_a_real_process(tmp_path):
    # fd-level check: HiGHS's C banner would land on file descriptor 1, which CliRunner does not see
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    p = subprocess.run(
        [sys.executable, "-m", "optimizer", "solve", str(fixture_path("core_lots.yaml")), "--json", "--no-report"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["totals"]["effective_tops"] == 14_800  # 48 b x 300 + 4 a x 100
    assert os.listdir(tmp_path) == []


def test_solve_variant_and_set():
    r = run("solve", fixture_path("core_domestic.yaml"), "--variant", "units_basis", "--set",
            "sites.cn.budget.amount=1400", "--json", "--no-report")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    # units basis scales with the budget: 1400 = 2 x 700 -> f = 20, d = 30, 50 units x 100 TOPS
    assert doc["totals"]["effective_tops"] == pytest.approx(5000)


def test_solve_summary_goes_to_stderr():
    r = run("solve", fixture_path("core_domestic.yaml"), "--no-report")
    assert r.exit_code == 0
    assert r.stdout == ""
    err = r.stderr
    assert "status: optimal" in err and "effective TOPS" in err and "delivered TOPS" in err and "ordered TOPS" in err
    assert "budget[cn]" in err and "domestic_share[cn]" in err  # binding constraints
    assert "60.0%" in err  # domestic share 600/1000 against its 60% floor


# ------------------------------------------------------------------ workbook files


def test_solve_writes_workbook_to_o(tmp_path):
    out = tmp_path / "plan.xlsx"
    r = run("solve", fixture_path("core_two_chips.yaml"), "-o", out, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["report"] == str(out)
    assert zipfile.is_zipfile(out)


def test_solve_default_report_path(tmp_path, monkeypatch):
    scen = tmp_path / "my-plan.yaml"
    shutil.copy(fixture_path("core_two_chips.yaml"), scen)
    monkeypatch.chdir(tmp_path)
    r = run("solve", "my-plan.yaml", "--json")
    assert r.exit_code == 0, r.stderr
    files = os.listdir(tmp_path / "reports")
    assert len(files) == 1 and files[0].startswith("my-plan-") and files[0].endswith(".xlsx")
    assert json.loads(r.stdout)["report"] == os.path.join("reports", files[0])


def test_no_report_writes_nothing(tmp_path, monkeypatch):
    scen = tmp_path / "s.yaml"
    shutil.copy(fixture_path("core_two_chips.yaml"), scen)
    monkeypatch.chdir(tmp_path)
    r = run("solve", "s.yaml", "--no-report")
    assert r.exit_code == 0
    assert os.listdir(tmp_path) == ["s.yaml"]


def test_existing_output_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"precious")
    r = run("solve", fixture_path("core_two_chips.yaml"), "-o", out)
    assert r.exit_code == 2
    assert "--force" in r.stderr and str(out) in r.stderr
    assert out.read_bytes() == b"precious"
    no_traceback(r)
    r = run("solve", fixture_path("core_two_chips.yaml"), "-o", out, "--force")
    assert r.exit_code == 0 and zipfile.is_zipfile(out)


# ------------------------------------------------------------------ exit codes


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("variant", [[], ["--variant", "continuous"]], ids=["milp", "lp"])
def test_infeasible_exit_3(solver, variant):
    r = run("solve", fixture_path("core_infeasible.yaml"), *variant, "--no-report", "--solver", solver)
    assert r.exit_code == 3
    assert "infeasible" in r.stderr.lower()
    no_traceback(r)


def test_infeasible_json_still_one_document():
    r = run("solve", fixture_path("core_infeasible.yaml"), "--no-report", "--json")
    assert r.exit_code == 3
    doc = json.loads(r.stdout)
    assert doc["status"] == "infeasible" and doc["allocation"] == []


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("variant", [[], ["--variant", "continuous"]], ids=["milp", "lp"])
def test_unbounded_exit_4(solver, variant):
    r = run("solve", fixture_path("core_unbounded.yaml"), *variant, "--no-report", "--solver", solver)
    assert r.exit_code == 4
    assert "unbounded" in r.stderr and "budget" in r.stderr
    no_traceback(r)


def test_bad_input_exit_2(bad_file):
    r = run("solve", bad_file, "--no-report")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and str(bad_file) in r.stderr and "chips.a.unit_price" in r.stderr
    assert len(r.stderr.splitlines()) <= 5
    no_traceback(r)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--set", "chips.zz.unit_price=5"], "unknown path"),
        (["--variant", "nope"], "nope"),
        (["--solver", "gurobi"], "gurobi"),
        (["--frobnicate"], "frobnicate"),
    ],
)
def test_bad_options_exit_2(args, fragment):
    r = run("solve", fixture_path("core_two_chips.yaml"), "--no-report", *args)
    assert r.exit_code == 2
    assert fragment in r.stderr
    no_traceback(r)


def test_missing_file_exit_2(tmp_path):
    r = run("solve", tmp_path / "missing.yaml", "--no-report")
    assert r.exit_code == 2 and "missing.yaml" in r.stderr
    no_traceback(r)


def test_verification_failure_exit_1(monkeypatch):
    from optimizer import plan as plan_mod

    real = plan_mod.solve

    def broken(lm, solver="highs", **kw):
        res = real(lm, solver, **kw)
        res.units = res.units * 2
        res.objective *= 2
        return res

    monkeypatch.setattr(plan_mod, "solve", broken)
    r = run("solve", fixture_path("core_two_chips.yaml"), "--no-report", "--json")
    assert r.exit_code == 1
    assert r.stdout == ""  # nothing reported for a plan that failed verification
    assert "independent verification" in r.stderr and "budget[cn]" in r.stderr
    no_traceback(r)


def test_unexpected_error_exit_1_and_debug_shows_traceback(monkeypatch):
    from optimizer import plan as plan_mod

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(plan_mod, "solve", boom)
    r = run("solve", fixture_path("core_two_chips.yaml"), "--no-report")
    assert r.exit_code == 1 and "kaboom" in r.stderr
    no_traceback(r)
    r = run("--debug", "solve", fixture_path("core_two_chips.yaml"), "--no-report")
    assert r.exit_code == 1 and "Traceback" in r.stderr


def test_python_m_optimizer_help():
    p = subprocess.run([sys.executable, "-m", "optimizer", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert "Usage:" in p.stdout and "solve" in p.stdout and "validate" in p.stdout


def test_version():
    from optimizer import __version__

    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.stdout
