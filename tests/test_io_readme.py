"""The README's version-2 example and the messages it shows are what chipalloc does (documentation matches behaviour)."""
from __future__ import annotations

from click.testing import CliRunner

from conftest import REPO
from optimizer import io
from optimizer.cli import cli

README = (REPO / "README.md").read_text()
SECTION = README.split("### Version 2: periods, leases, outcomes", 1)[1].split("\n## ", 1)[0]


def _blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    out, lang, body = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:], []
            else:
                out.append((lang, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


EXAMPLE = next(body for lang, body in _blocks(SECTION) if lang == "yaml")
SHOWN = [line for lang, body in _blocks(SECTION) if lang == "" for line in body.splitlines()
         if line.startswith(("error: s.yaml", "warning: s.yaml"))]

# how each message shown was made from the example (old text -> new text)
MUTATIONS = [
    ("available_from: 2025q2", "available_from: 2025q5"),
    ("from: 2025q2, until: 2025q2", "from: 2025q3, until: 2025q2"),
    ("lead_time: 1 ", "lead_time: 4 "),
    ("    site: my\n", "    site: mx\n"),
    ("{probability: 0.6,", "{probability: 0.5,"),
    ("        export_controls.licenses.h20_cn.until", "        export_controls.licences.h20_cn.until"),
    ("        export_controls.licenses.h20_cn.until: 2025q4",
     "        chips.h200: {vendor: nvidia, architecture: gpgpu, int8_tops: 1979, unit_price: 250000}"),
    ("alpha: 0.9", "alpha: 1"),
    ("delivery_sd: 0.1", "delivery_sd: 0.4"),
    ("    price_currency: USD\n    max_units", "    price_currency: RMB\n    max_units"),
    ("objective: in_service ", "integer_units: yes\nobjective: in_service "),
    ("schema_version: 2", "schema_version: 1"),
    ("  headquarters_countries: [CN]\n", ""),
]


def test_the_readme_example_is_a_valid_version_2_scenario(tmp_path):
    p = tmp_path / "quarterly-2025.yaml"
    p.write_text(EXAMPLE)
    loaded = io.check(p)
    s = loaded.scenario
    assert s.schema_version == 2 and s.period_ids == ["2025q1", "2025q2", "2025q3", "2025q4"]
    assert loaded.warnings == [] and list(loaded.outcomes) == ["granted", "blocked"]
    assert loaded.outcomes["blocked"].export_controls.licenses["h20_cn"].until == "2025q4"
    assert s.export_controls.licenses["h20_cn"].until == "2025q2"


def test_every_message_the_readme_shows_is_what_validate_prints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert len(SHOWN) == len(MUTATIONS)
    got = []
    for old, new in MUTATIONS:
        assert EXAMPLE.count(old) == 1, old
        (tmp_path / "s.yaml").write_text(EXAMPLE.replace(old, new))
        r = CliRunner().invoke(cli, ["validate", "s.yaml"], catch_exceptions=False)
        assert r.exit_code == (0 if old.startswith("  headquarters") else 2), r.stderr
        got.append(r.stderr.strip())
    assert got == SHOWN


def test_the_variant_check_the_readme_shows(tmp_path, monkeypatch):
    # README, Overrides and variants: tests/fixtures/whatif_small.yaml with a misspelled variant appended
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text((REPO / "tests/fixtures/whatif_small.yaml").read_text()
                                     + "  typo:\n    sites.cn.budget.amout: 3000\n")
    r = CliRunner().invoke(cli, ["validate", "s.yaml"], catch_exceptions=False)
    assert r.exit_code == 2
    shown = README.split("### Overrides and variants", 1)[1].split("\n### ", 1)[0]
    assert r.stderr.strip() in shown.splitlines()
    assert r.stderr.strip().startswith("error: s.yaml:31: variants.typo.sites.cn.budget.amout: unknown path")
