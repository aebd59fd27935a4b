"""The xlsx files of the bad-input corpus are made by tests/bad_inputs_xlsx.py: made again, they say the same."""
from __future__ import annotations

import sys

import pytest
import yaml
from click.testing import CliRunner

from optimizer.cli import cli

from conftest import TESTS

sys.path.insert(0, str(TESTS))
import bad_inputs_xlsx  # noqa: E402

EXPECTED = yaml.safe_load((TESTS / "bad_inputs" / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return {p.name: p for p in bad_inputs_xlsx.make(tmp_path_factory.mktemp("bad"))}


def test_the_script_makes_every_xlsx_file_of_the_corpus(made):
    committed = {n for n in EXPECTED if n.startswith("xlsx-")}
    assert set(made) == committed and len(committed) >= 15


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("xlsx-")))
def test_a_freshly_made_file_gives_the_expected_message(name, made):
    path = str(made[name])
    r = CliRunner().invoke(cli, ["validate", path], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.stderr.strip() == EXPECTED[name]["message"].replace("{file}", path)
