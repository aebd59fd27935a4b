"""Problems render their place: a line of a YAML/JSON file, or a sheet and cell of a workbook."""
from __future__ import annotations

from optimizer.errors import InputError, Problem
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
