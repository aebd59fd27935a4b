"""Every malformed input exits 2 with one clear message, no traceback, and writes nothing.

The corpus lives in tests/bad_inputs/: one malformed scenario per file and, in
expected.yaml, the exact message each must produce, the field path it must
name and the line (where the parser knows one).
"""
from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from optimizer import io, loader
from optimizer.cli import cli
from optimizer.errors import InputError

from conftest import FIXTURES, SCENARIOS

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECTED: dict = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)


def run(args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*"))


def test_corpus_has_a_message_for_every_file_and_at_least_30_files():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "expected.yaml"}
    assert on_disk == set(EXPECTED)
    assert len(EXPECTED) >= 30
    for name, e in EXPECTED.items():
        assert e["message"].startswith("error: {file}"), name


@pytest.mark.parametrize("name", NAMES)
def test_solve_refuses_bad_input(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default workbook would go to ./reports/
    path = str(CORPUS / name)
    e = EXPECTED[name]
    r = run(["solve", path])
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.strip() == e["message"].replace("{file}", path)
    assert path in r.stderr
    if e["path"]:
        assert e["path"] in r.stderr
    if e["line"]:
        assert f"{path}:{e['line']}:" in r.stderr
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("name", NAMES)
def test_validate_and_json_give_the_same_message(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = str(CORPUS / name)
    want = EXPECTED[name]["message"].replace("{file}", path)
    v = run(["validate", path])
    assert v.exit_code == 2 and v.stderr.strip() == want and v.stdout == ""
    j = run(["solve", path, "--json", "-o", str(tmp_path / "out.xlsx")])
    assert j.exit_code == 2 and j.stderr.strip() == want
    assert j.stdout == ""  # a script reading stdout gets nothing rather than half a document
    assert files_under(tmp_path) == []


def test_python_object_tag_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = CORPUS / "python-object-apply.yaml"
    assert "PWNED-apply" in path.read_text()  # the payload would create this file if it ran
    r = run(["solve", str(path)])
    assert r.exit_code == 2
    assert not (tmp_path / "PWNED-apply").exists()
    assert files_under(tmp_path) == []


def test_alias_bomb_is_refused_within_bounded_memory():
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as e:
            io.read_source(CORPUS / "alias-bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "alias bomb" in str(e.value)
    assert peak < 20 * 2**20  # expanded, the document would hold 10**9 strings


def test_a_deeper_alias_bomb_is_refused_the_same_way(tmp_path):
    # 30 levels of 10 aliases: 10**30 nodes once expanded; the file is under 2 KB
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 30)]
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(lines) + "\nschema_version: 1\n")
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="alias bomb"):
            io.read_source(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_a_file_far_too_large_is_refused_by_size_before_parsing(tmp_path, monkeypatch):
    big = tmp_path / "huge.yaml"
    line = b"# padding padding padding padding padding padding padding padding\n"
    with big.open("wb") as f:
        f.write(b"schema_version: 1\n")
        while f.tell() <= io.MAX_FILE_BYTES:
            f.write(line)
    size = big.stat().st_size

    def no_parse(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("the parser ran on an oversized file")

    monkeypatch.setattr(loader, "_parse", no_parse)
    monkeypatch.setattr(loader.yaml, "compose", no_parse)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    r = run(["solve", str(big)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"error: {big}: file is {size:,} bytes; a scenario is at most {io.MAX_FILE_BYTES:,} bytes (is this the right file?)"
    )
    assert files_under(out) == []


@pytest.mark.parametrize(
    "target, message",
    [
        ("missing.yaml", "error: {file}: no such file"),
        ("", "error: {file}: is a folder, not a scenario file"),
    ],
)
def test_unreadable_paths(target, message, tmp_path):
    p = tmp_path / target if target else tmp_path
    r = run(["solve", str(p), "--no-report"])
    assert r.exit_code == 2
    assert r.stderr.strip() == message.replace("{file}", str(p))


# ------------------------------------------------------------------ values from --set and variants


BYTEDANCE = str(SCENARIOS / "bytedance-2025.yaml")
VARIANTS = str(FIXTURES / "badinput_variants.yaml")


@pytest.mark.parametrize(
    "file, args, message",
    [
        (BYTEDANCE, ["--set", "chips.h20.unit_price=-5"],
         "error: {file}: chips.h20.unit_price: -5: must be greater than 0 (the value came from --set chips.h20.unit_price=-5)"),
        (BYTEDANCE, ["--set", "sites.cn.budget.amount=abc"],
         "error: {file}: sites.cn.budget.amount: 'abc': expected a number (the value came from --set sites.cn.budget.amount=abc)"),
        (BYTEDANCE, ["--set", "chips.h20.vendor=nvidai"],
         "error: {file}: chips.h20.vendor: unknown vendor 'nvidai'; did you mean 'nvidia'? "
         "(the value came from --set chips.h20.vendor=nvidai)"),
        (BYTEDANCE, ["--set", "sites.cn.budget={amount: -1}"],
         "error: {file}: sites.cn.budget.amount: -1: must be greater than 0 (the value came from --set sites.cn.budget={amount: -1})"),
        (BYTEDANCE, ["--set", "chips.ascend910c.min_units=80000"],
         "error: {file}: chips.ascend910c.min_units: min_units (80000) is above max_units (70000); lower min_units or raise "
         "max_units (the value came from --set chips.ascend910c.min_units=80000)"),
        (BYTEDANCE, ["--set", "chips.ascend910c.max_units=5", "--set", "chips.ascend910c.min_units=10"],
         "error: {file}: chips.ascend910c.min_units: min_units (10) is above max_units (5); lower min_units or raise "
         "max_units (the values came from --set chips.ascend910c.max_units=5 and --set chips.ascend910c.min_units=10)"),
        (BYTEDANCE, ["--set", "sites.cn.domestic_min_share=60"],
         "error: {file}: sites.cn.domestic_min_share: 60: must be less than or equal to 1 (shares are fractions of 1: "
         "write 0.6 for 60%; the value came from --set sites.cn.domestic_min_share=60)"),
        (BYTEDANCE, ["--set", "chips.h20.unit_prize=3"],
         "error: {file}: --set: unknown path 'chips.h20.unit_prize' (nearest valid paths: chips.h20.unit_price, "
         "chips.h100.unit_price, chips.mlu370.unit_price)"),
        (BYTEDANCE, ["--set", "chips.h20.unit_price"],
         "error: --set 'chips.h20.unit_price': expected PATH=VALUE, e.g. --set chips.h20.unit_price=95000"),
        (BYTEDANCE, ["--variant", "nope"],
         "error: {file}: variants: unknown variant 'nope'; known variants: budget_cut_20, domestic_70, h20_licence_denied"),
        (VARIANTS, ["--variant", "bad_budget"],
         "error: {file}:17: variants.bad_budget.sites.cn.budget.amount: -1: must be greater than 0"),
        (VARIANTS, ["--variant", "bad_vendor"],
         "error: {file}:19: variants.bad_vendor.chips.b.vendor: unknown vendor 'nvidai'; known: dom, us"),
        (VARIANTS, ["--variant", "bad_min"],
         "error: {file}:21: variants.bad_min.chips.a.min_units: min_units (80) is above max_units (50); "
         "lower min_units or raise max_units"),
        (VARIANTS, ["--variant", "bad_budget", "--set", "sites.cn.budget.amount=0"],
         "error: {file}: sites.cn.budget.amount: 0: must be greater than 0 (the value came from --set sites.cn.budget.amount=0)"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 and "error" not in v else None,
)
def test_message_names_the_override_not_the_line_it_replaced(file, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run(["solve", file, *args])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.stderr
    assert r.stderr.strip() == message.replace("{file}", file)
    assert files_under(tmp_path) == []


def test_a_good_variant_still_loads():
    got = io.load(VARIANTS, variants=["ok_budget"])
    assert got.scenario.sites["cn"].budget.amount == 2000


# ------------------------------------------------------------------ YAML 1.1 surprises


def _minimal(extra: str) -> str:
    return (
        "schema_version: 1\nname: t\nflexibility: {gpgpu: 1.0}\n"
        "chips:\n  a: {vendor: v, architecture: gpgpu, int8_tops: 1, unit_price: 1}\n"
        "sites:\n  s: {country: CN, budget: {amount: 10}}\n" + extra
    )


def test_norway_is_a_country_not_false(tmp_path):
    p = tmp_path / "no.yaml"
    p.write_text(_minimal("vendors:\n  v: {origin: NO}\ninteger_units: false\n"))
    s = io.load(p).scenario
    assert s.vendors["v"].origin == "NO"
    assert s.integer_units is False


@pytest.mark.parametrize(
    "typed, fix",
    [("yes", "write true, not yes"), ("no", "write false, not no"), ("On", "write true, not On"),
     ("off", "write false, not off"), ("1", "write true or false"), ("'true'", "write true or false")],
)
def test_only_true_and_false_are_booleans(typed, fix, tmp_path):
    # the README's rule: YAML 1.1's yes/no/on/off (and 1/0) are refused in a boolean field, not guessed
    p = tmp_path / "b.yaml"
    p.write_text(_minimal(f"vendors:\n  v: {{origin: CN}}\ninteger_units: {typed}\n"))
    with pytest.raises(InputError) as e:
        io.load(p)
    shown = {"1": "1", "'true'": "'true'"}.get(typed, repr(typed))
    assert e.value.render() == f"{p}:10: integer_units: {shown}: expected true or false ({fix})"


def test_a_boolean_from_set_must_be_true_or_false():
    with pytest.raises(InputError) as e:
        io.load(BYTEDANCE, sets=["integer_units=yes"])
    assert str(e.value) == (f"{BYTEDANCE}: integer_units: 'yes': expected true or false "
                            "(write true, not yes; the value came from --set integer_units=yes)")
    assert io.load(BYTEDANCE, sets=["integer_units=false"]).scenario.integer_units is False


@pytest.mark.parametrize(
    "extra, path",
    [
        ("vendors:\n  v: {origin: CN, capacity_units: true}\n", "vendors.v.capacity_units"),
        ("vendors:\n  v: {origin: CN}\nfx: {USD: false}\n", "fx.USD"),
    ],
)
def test_true_or_false_is_never_read_as_a_number(extra, path, tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text(_minimal(extra))
    with pytest.raises(InputError) as e:
        io.load(p)
    assert f"{path}: " in str(e.value) and "expected a number" in str(e.value)


def test_planner_number_spellings_still_load(tmp_path):
    p = tmp_path / "n.yaml"
    p.write_text(_minimal("vendors:\n  v: {origin: CN, capacity_units: 40_000}\nbudget: {amount: 4.0e10}\n")
                 .replace("amount: 10}", "amount: 40e9}"))
    s = io.load(p).scenario
    assert s.sites["s"].budget.amount == 40e9
    assert s.budget.amount == 4.0e10
    assert s.vendors["v"].capacity_units == 40000
