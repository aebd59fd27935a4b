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
