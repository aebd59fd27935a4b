"""`chipalloc validate` and `chipalloc solve`."""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

import click

from .. import io
from ..analysis.executor import Executor, make_executor
from ..errors import ChipallocError, InfeasibleError, InputError
from ..plan import make_plan
from ..report import json_out, terminal
from .common import (INTERRUPTED, check_cluster_options, cluster_options, debug_option, guarded, note, report_options,
                     report_target, say_warnings, scenario_options, warnings_json)


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@debug_option
@guarded
def validate_cmd(files: tuple[str, ...], debug: bool) -> None:
    """Check scenario files, every outcome, and every variant applied alone; print `FILE: ok` for each good one.

    Warnings (allowed, probably not meant) go to stderr and do not fail a file.
    Exit 0 when all files are good, else 2.
    """
    bad = 0
    for f in files:
        try:
            loaded = io.check(f)
        except InputError as e:
            bad += 1
            click.echo(f"error: {e.render()}", err=True)
        else:
            say_warnings(loaded)
            click.echo(f"{f}: ok")
    if bad:
        sys.exit(2)


@click.command("solve")
@click.argument("file", type=click.Path())
@scenario_options
@cluster_options
@report_options
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document to stdout; the summary is not printed (stderr gets only warnings and errors).")
@click.option("--no-breakeven", is_flag=True,
              help="Skip the break-even price search (the plan, its sensitivity report and workbook are unchanged).")
@debug_option
@guarded
def solve_cmd(file, sets, variants, solver, workers, scheduler, output, force, no_report, as_json, no_breakeven,
              debug) -> None:
    """Solve a scenario: verified plan, summary (stderr) or JSON (stdout), and a workbook.

    The plan is printed and its workbook written first; break-even prices follow, row by row (with a
    progress line on a terminal), and are added to the workbook when they are done. --workers/--scheduler
    run the break-even search on a Dask cluster (same rows). Ctrl-C during the break-even search keeps the
    plan and its workbook (exit 130).
    """
    from ..analysis.sensitivity import sensitivity
    from ..report.workbook import write_plan_workbook

    check_cluster_options(workers, scheduler)
    loaded = io.load(file, variants=variants, sets=sets)
    say_warnings(loaded)
    target = report_target(output, no_report, force, file)
    # the cluster is reached (or a local one started, in the background) before anything is solved or written:
    # an unreachable scheduler is exit 2 with nothing written
    with _search_executor(workers, scheduler, no_breakeven) as ex:
        plan = make_plan(loaded, solver=solver, raise_on_status=False)
        if not plan.result.ok:
            _not_optimal(plan, target, as_json)
            return
        sens = sensitivity(plan)
        risk = None
        if plan.outcomes:
            from ..analysis.risk import risk_figures

            risk = risk_figures(plan, solver=solver)
        sheets = [lambda book: _sensitivity_sheet(book, sens)]
        path = None
        if target is not None:
            path = str(write_plan_workbook(plan, target.path, force=target.force, unique=target.unique,
                                           extra_sheets=sheets, risk=risk))
        if not as_json:
            note(terminal.summary(plan, report=path))
            if risk is not None:
                from ..report.risk_text import risk_lines

                note("\n" + "\n".join(risk_lines(risk, plan.scenario.currency)))
        breakeven = []
        if not no_breakeven:
            breakeven = _break_even(plan, ex, quiet=as_json, path=path, announce=workers is not None or scheduler is not None)
            if path is not None and breakeven:  # the same workbook, now with its Break-even sheet
                write_plan_workbook(plan, path, force=True,
                                    extra_sheets=sheets + [lambda book: _breakeven_sheet(book, breakeven)], risk=risk)
    if as_json:
        doc = json_out.plan_dict(plan, report=path)
        doc["warnings"] = warnings_json(loaded)
        doc["sensitivity"] = sens.to_dict()
        if risk is not None:
            doc["objective"]["measure"] = risk.measure
            doc["uncertainty"] = risk.to_dict()
        doc["break_even"] = None if no_breakeven else [b.to_dict() for b in breakeven]
        click.echo(json_out.dumps(doc))
    elif breakeven and path is not None:
        note(f"workbook updated with the Break-even sheet: {path}")


@contextlib.contextmanager
def _search_executor(workers: int | None, scheduler: str | None, no_breakeven: bool) -> Iterator[Executor | None]:
    """The break-even search's executor for --workers/--scheduler (None: in this process), closed at the end."""
    if no_breakeven or (workers is None and scheduler is None):
        yield None
        return
    with make_executor(workers, scheduler) as ex:
        yield ex


class _RowPrinter:
    """Break-even rows on stderr as they are found, in row order; on a terminal, a line under them counts the
    rows finished so far (on any worker)."""

    def __init__(self, n: int, quiet: bool):
        self.n, self.quiet = n, quiet
        self.live = not quiet and sys.stderr.isatty()
        self.done = 0
        self.shown = 0

    def start(self) -> None:
        if not self.quiet:
            note(terminal.BREAK_EVEN_HEAD)
            self._status()

    def row(self, b) -> None:
        self.shown += 1
        if not self.quiet:
            self._clear()
            note(terminal.break_even_line(b))  # the count under it is drawn again by progress(), which follows

    def progress(self, done: int, total: int) -> None:
        self.done = done
        self._clear()
        self._status()

    def close(self) -> None:
        self._clear()

    def _status(self) -> None:
        if self.live and self.done < self.n:
            sys.stderr.write(f"  searching: {self.done} of {self.n} rows done")
            sys.stderr.flush()

    def _clear(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _break_even(plan, ex, quiet: bool, path: str | None, announce: bool):
    """Break-even rows of an optimal plan, printed as they are found; Ctrl-C keeps the plan (exit 130)."""
    from ..analysis.breakeven import break_even, purchasable

    n = len(purchasable(plan))
    if n == 0:
        return []
    if announce and ex is not None:
        note(f"searching {n:,} break-even row{'s' if n != 1 else ''} on {ex.description}")
    out = _RowPrinter(n, quiet)
    out.start()
    try:
        return break_even(plan, executor=ex, on_row=out.row, on_done=out.progress)
    except KeyboardInterrupt:
        out.close()
        note("break-even search interrupted; the plan above stands" + (f" and {path} has it" if path else "")
             + (f" ({out.shown} of {n} break-even rows shown above)" if not quiet else ""))
        sys.exit(INTERRUPTED)
    finally:
        out.close()


def _sensitivity_sheet(book, sens):
    from ..report.whatif_sheets import add_sensitivity_sheet

    return add_sensitivity_sheet(book, sens)


def _breakeven_sheet(book, rows):
    from ..report.whatif_sheets import add_breakeven_sheet

    return add_breakeven_sheet(book, rows)


def _not_optimal(plan, target, as_json) -> None:
    from ..errors import UnboundedError

    status = plan.result.status.value
    diagnosis = None
    report = None
    if status == "infeasible":
        from ..analysis.diagnose import diagnose

        diagnosis = diagnose(plan.scenario, solver=plan.result.solver, lm=plan.lm)
        text = diagnosis.render() if diagnosis is not None else (
            f"infeasible: scenario {plan.scenario.name!r} has no plan that meets every rule"
        )
        if target is not None and diagnosis is not None:
            from ..report.diagnosis_sheet import write_diagnosis_workbook

            report = target.write(write_diagnosis_workbook, plan, diagnosis)
            text += f"\n\nworkbook: {report}"
        err: ChipallocError = InfeasibleError(text, diagnosis)
    elif status == "unbounded":
        err = UnboundedError(
            f"unbounded: scenario {plan.scenario.name!r} has no limit on purchases; give each site a budget or set a global budget"
        )
    else:
        err = ChipallocError(f"the solver failed: {plan.result.message or status}")
    if as_json:
        doc = json_out.plan_dict(plan, report=report)
        doc["warnings"] = warnings_json(plan.loaded) if plan.loaded is not None else []
        if diagnosis is not None:
            doc["diagnosis"] = diagnosis.to_dict()
        click.echo(json_out.dumps(doc))
    raise err
