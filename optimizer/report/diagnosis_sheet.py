"""The `Diagnosis` sheet: why a scenario is infeasible and what to change.

:func:`add_diagnosis_sheet` adds the sheet, which must come FIRST in its
workbook (the solve workbook passes it through ``first_sheets``).
:func:`write_diagnosis_workbook` writes the small workbook ``solve`` leaves for
an infeasible scenario: Diagnosis, Inputs, About. Every string from the
scenario goes through :meth:`~optimizer.report.xlsx.Sheet.put`, so it never
becomes a formula.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.diagnose import Diagnosis
from .files import write_atomic
from .xlsx import FMT_GENERAL, WRAP_TOP, Book, Sheet

SHEET = "Diagnosis"


def _number_fmt(x: float) -> str:
    return FMT_GENERAL if abs(x) < 1000 else "#,##0.####"


def add_diagnosis_sheet(book: Book, diagnosis: Diagnosis, title: str = SHEET) -> Sheet:
    """Add the Diagnosis sheet, which must be the first sheet of ``book``, and return it."""
    if book.sheetnames:
        raise ValueError(f"the {title} sheet goes first; add it before {book.sheetnames[0]!r}")
    ws = book.add_sheet(title)
    row = 1
    ws.title(row, f"Infeasible: {diagnosis.scenario}")
    row += 1
    ws.put(row, 1, "No plan meets every rule of this scenario. The rules below cannot all hold together; "
           "dropping any one of them makes the rest possible.", counts=False)
    row += 2
    ws.put(row, 1, "Conflict", bold=True)
    ws.put(row, 2, diagnosis.sentence, style=WRAP_TOP)
    row += 1
    for note in diagnosis.notes:
        ws.put(row, 1, "Note", bold=True)
        ws.put(row, 2, note, style=WRAP_TOP)
        row += 1
    row += 1
    ws.header(row, ["Constraint", "Rule"], freeze=False)
    for name in diagnosis.conflict:
        row += 1
        ws.put(row, 1, name)
        ws.put(row, 2, diagnosis.rules[name], style=WRAP_TOP)
    row += 2
    ws.put(row, 1, "Smallest change of one number that makes the plan feasible (each checked by re-solving)", bold=True,
           counts=False)
    row += 1
    cols = ["Constraint", "Scenario path", "Change", "Current", "Needed", "Paste after the command"]
    ws.header(row, cols, freeze=False)
    if not diagnosis.fixes:
        row += 1
        ws.put(row, 1, "no single number fixes it; change several", counts=False)
    for f in diagnosis.fixes:
        row += 1
        ws.put(row, 1, f.constraint)
        ws.put(row, 2, f.path)
        ws.put(row, 3, f.direction)
        ws.put(row, 4, f.current, _number_fmt(f.current))
        ws.put(row, 5, f.needed, _number_fmt(f.needed))
        ws.put(row, 6, f.set)
    if diagnosis.no_single_fix:
        row += 2
        ws.put(row, 1, "Not enough alone", bold=True)
        ws.put(row, 2, ", ".join(diagnosis.no_single_fix) + ": another conflict remains when only this number changes",
               style=WRAP_TOP)
    ws.fit_columns(max_width=60, from_row=4)  # the title and subtitle (rows 1-2) run on to the right
    ws.widths[2] = 60
    return ws


def write_diagnosis_workbook(plan: Any, diagnosis: Diagnosis, path: str | Path, force: bool = False,
                             unique: bool = False) -> Path:
    """Diagnosis, Inputs and About for an infeasible scenario, written atomically."""
    from .about_sheet import add_about_sheet
    from .inputs_sheet import add_scenario_inputs

    loaded = getattr(plan, "loaded", None)
    applied = loaded.applied if loaded is not None else ()

    def write(tmp: str) -> None:
        book = Book()
        add_diagnosis_sheet(book, diagnosis)
        add_scenario_inputs(book, plan.scenario, getattr(loaded, "data", None) if loaded is not None else None,
                            applied=applied)
        add_about_sheet(
            book,
            scenario_path=loaded.path if loaded is not None else None,
            scenario_sha256=loaded.source.sha256 if loaded is not None else None,
            solver=plan.result.solver,
            solver_version=plan.result.solver_version,
            applied=applied,
            extra={"Status": "infeasible", "Conflict": ", ".join(diagnosis.conflict)},
        )
        book.save(tmp)

    return write_atomic(path, write, force, unique)
