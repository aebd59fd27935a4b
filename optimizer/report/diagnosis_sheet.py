"""The `Diagnosis` sheet: why a scenario is infeasible and what to change.

:func:`add_diagnosis_sheet` puts the sheet FIRST in any workbook (the solve
workbook passes it through ``first_sheets``; a sweep can add one per point).
:func:`write_diagnosis_workbook` writes the small workbook ``solve`` leaves for
an infeasible scenario: Diagnosis, Inputs, About. Every string from the
scenario goes through :func:`~optimizer.report.xlsx.put`, so it never
becomes a formula.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment

from ..analysis.diagnose import Diagnosis
from .files import write_atomic
from .xlsx import FMT_GENERAL, TITLE_FONT, fit_columns, header, print_setup, put

SHEET = "Diagnosis"


def add_diagnosis_sheet(wb: Workbook, diagnosis: Diagnosis, title: str = SHEET) -> Any:
    """Add the Diagnosis sheet as the first sheet of ``wb`` and return it."""
    ws = wb.create_sheet(title, 0)
    wb.active = 0
    row = 1
    put(ws, row, 1, f"Infeasible: {diagnosis.scenario}").font = TITLE_FONT
    row += 1
    put(ws, row, 1, "No plan meets every rule of this scenario. The rules below cannot all hold together; "
        "dropping any one of them makes the rest possible.")
    row += 2
    put(ws, row, 1, "Conflict", bold=True)
    c = put(ws, row, 2, diagnosis.sentence)
    c.alignment = Alignment(wrap_text=True, vertical="top")
    row += 1
    for note in diagnosis.notes:
        put(ws, row, 1, "Note", bold=True)
        put(ws, row, 2, note)
        row += 1
    row += 1
    header(ws, row, ["Constraint", "Rule"], freeze=False)
    for name in diagnosis.conflict:
        row += 1
        put(ws, row, 1, name)
        put(ws, row, 2, diagnosis.rules[name])
    row += 2
    put(ws, row, 1, "Smallest change of one number that makes the plan feasible (each checked by re-solving)", bold=True)
    row += 1
    cols = ["Constraint", "Scenario path", "Change", "Current", "Needed", "Paste after the command"]
    header(ws, row, cols, freeze=False)
    if not diagnosis.fixes:
        row += 1
        put(ws, row, 1, "no single number fixes it; change several")
    for f in diagnosis.fixes:
        row += 1
        put(ws, row, 1, f.constraint)
        put(ws, row, 2, f.path)
        put(ws, row, 3, f.direction)
        put(ws, row, 4, f.current, FMT_GENERAL if abs(f.current) < 1000 else "#,##0.####")
        put(ws, row, 5, f.needed, FMT_GENERAL if abs(f.needed) < 1000 else "#,##0.####")
        put(ws, row, 6, f.set)
    if diagnosis.no_single_fix:
        row += 2
        put(ws, row, 1, "Not enough alone", bold=True)
        put(ws, row, 2, ", ".join(diagnosis.no_single_fix) + ": another conflict remains when only this number changes")
    fit_columns(ws, max_width=80, from_row=4)  # the title and subtitle (rows 1-2) run on to the right
    ws.column_dimensions["B"].width = 80
    print_setup(ws)
    return ws


def write_diagnosis_workbook(plan: Any, diagnosis: Diagnosis, path: str | Path, force: bool = False) -> Path:
    """Diagnosis, Inputs and About for an infeasible scenario, written atomically."""
    from .workbook import add_about_sheet, add_inputs_sheet

    loaded = getattr(plan, "loaded", None)
    applied = loaded.applied if loaded is not None else ()

    def write(tmp: str) -> None:
        wb = Workbook()
        wb.remove(wb.active)
        add_diagnosis_sheet(wb, diagnosis)
        add_inputs_sheet(wb, plan.scenario, applied)
        add_about_sheet(
            wb,
            scenario_path=loaded.path if loaded is not None else None,
            scenario_sha256=loaded.source.sha256 if loaded is not None else None,
            solver=plan.result.solver,
            solver_version=plan.result.solver_version,
            applied=applied,
            extra={"Status": "infeasible", "Conflict": ", ".join(diagnosis.conflict)},
        )
        wb.active = 0
        wb.save(tmp)

    return write_atomic(path, write, force)
