"""Terminal text of the what-if commands that is worked out from data alone."""
from __future__ import annotations

from optimizer.report.whatif_out import binding_summary


def test_a_row_binding_in_several_outcomes_is_named_once_with_their_count():
    names = ["budget[cn]@a", "budget[cn]@b", "budget[cn]@c", "power[my]@b", "capacity[huawei]"]
    assert binding_summary(names) == "budget[cn] in 3 outcomes, power[my]@b, capacity[huawei]"


def test_a_long_list_says_how_many_more():
    names = [f"capacity[v{i}]" for i in range(7)]
    assert binding_summary(names, limit=4) == "capacity[v0], capacity[v1], capacity[v2], capacity[v3], 3 more"
    assert binding_summary(names[:4], limit=4) == "capacity[v0], capacity[v1], capacity[v2], capacity[v3]"


def test_nothing_binding():
    assert binding_summary([]) == "none"


def test_compare_names_a_row_binding_per_outcome_once_with_the_count_per_column():
    from optimizer.report.whatif_out import _outcome_binding_row

    assert _outcome_binding_row("budget[cn,q2]", [5, 5, 3, 1]) == [
        "Binding: budget[cn,q2]", "5 outcomes", "5 outcomes", "3 outcomes", "1 outcome", "", "-2", "-4"]
    assert _outcome_binding_row("power[my]", [0, 2]) == ["Binding: power[my]", "no", "2 outcomes", "+2"]


def test_compare_of_risk_scenarios_in_the_terminal(tmp_path):
    from click.testing import CliRunner
    from conftest import FIXTURES

    from optimizer.cli import cli

    risk = str(FIXTURES / "risk_stranding.yaml")
    r = CliRunner().invoke(cli, ["compare", risk, risk + "@likely_licensed", "--no-report"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("Binding: budget[cn]")]
    # the horizon budget binds in both outcomes of both plans: one line, not one per outcome
    assert len(lines) == 1 and lines[0].split()[2:] == ["2", "outcomes", "2", "outcomes"]
