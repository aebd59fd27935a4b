"""Shared CLI plumbing: one error formatter, common options, output helpers."""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import click

from ..analysis.executor import Executor, make_executor
from ..errors import ChipallocError, InputError
from ..report.files import check_target, check_workbook_name, default_report_path

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def debug_enabled() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.obj and ctx.obj.get("debug"):
            return True
        if ctx.params.get("debug"):
            return True
        ctx = ctx.parent
    return os.environ.get("CHIPALLOC_DEBUG", "") not in ("", "0")


def guarded(fn: Callable) -> Callable:
    """Run a command body; map chipalloc errors to their exit codes, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChipallocError as e:
            if debug_enabled():
                traceback.print_exc()
            click.echo(f"error: {e.render()}" if e.exit_code != 3 else e.render(), err=True)
            sys.exit(e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            sys.exit(130)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            if debug_enabled():
                traceback.print_exc()
            click.echo(
                f"internal error: {type(e).__name__}: {e}\nThis is a bug in chipalloc; rerun with --debug and report the traceback.",
                err=True,
            )
            sys.exit(1)

    return wrapper


def debug_option(fn: Callable) -> Callable:
    return click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")(fn)


class SolverName(click.ParamType):
    """highs, cbc, or pulp:NAME (any solver PuLP drives on this machine, e.g. pulp:GUROBI_CMD)."""

    name = "solver"

    def convert(self, value, param, ctx):
        v = str(value).strip()
        if v in ("highs", "cbc"):
            return v
        if v.startswith("pulp:") and len(v) > 5:
            import pulp

            inner = v[5:]
            if inner not in pulp.listSolvers():
                self.fail(f"PuLP has no solver {inner!r}; PuLP knows: {', '.join(pulp.listSolvers())}", param, ctx)
            if inner not in pulp.listSolvers(onlyAvailable=True):
                self.fail(f"{inner} is not available on this machine (available: "
                          f"{', '.join(pulp.listSolvers(onlyAvailable=True))})", param, ctx)
            return v
        self.fail(f"{v!r}: choose highs, cbc or pulp:NAME (a solver PuLP drives, e.g. pulp:GUROBI_CMD)", param, ctx)

    def get_metavar(self, param, ctx=None):  # noqa: D401 - click API
        return "highs|cbc|pulp:NAME"


def scenario_options(fn: Callable) -> Callable:
    """--set, --variant and --solver: taken by every command that reads a scenario."""
    fn = click.option(
        "--solver", type=SolverName(), default="highs", show_default=True,
        help="Solver: HiGHS in-process (default), CBC, or pulp:NAME for any solver PuLP drives on this machine "
             "(e.g. a licensed pulp:GUROBI_CMD or pulp:CPLEX_CMD).",
    )(fn)
    fn = click.option(
        "--set", "sets", multiple=True, metavar="PATH=VALUE",
        help="Override one scenario value by dotted path, e.g. chips.h20.unit_price=95000 (repeatable).",
    )(fn)
    fn = click.option(
        "--variant", "variants", multiple=True, metavar="NAME",
        help="Apply a named variant from the scenario's variants: table (repeatable, before --set).",
    )(fn)
    return fn


def report_options(fn: Callable) -> Callable:
    """-o, --force, --no-report: taken by every command that writes a workbook."""
    fn = click.option("--no-report", is_flag=True, help="Do not write a workbook.")(fn)
    fn = click.option("--force", is_flag=True, help="Replace an existing file at -o (it keeps its permissions).")(fn)
    fn = click.option(
        "-o", "--output", type=click.Path(dir_okay=False), default=None, metavar="OUT.xlsx",
        help="Workbook path, ending in .xlsx (default reports/<scenario>-<YYYYmmdd-HHMMSS>.xlsx, "
             "with -2, -3, ... added if that name is taken).",
    )(fn)
    return fn


@dataclass
class ReportTarget:
    """Where a workbook goes: an -o path (replaced only with --force) or a default name (never replaced)."""

    path: Path
    force: bool
    unique: bool  # a default name: a taken name gets -2, -3, ...

    def write(self, writer: Callable[..., Path], *args) -> str:
        """``writer(*args, path, force=..., unique=...)``; returns the path actually written."""
        return str(writer(*args, self.path, force=self.force, unique=self.unique))


def report_target(output: str | None, no_report: bool, force: bool, scenario_file: str,
                  suffix: str = "") -> ReportTarget | None:
    """Check the workbook target before any solve (exit 2 early): -o must end in .xlsx and not exist without --force."""
    if no_report:
        return None
    if output is not None:
        return ReportTarget(check_target(check_workbook_name(output), force), force, unique=False)
    return ReportTarget(check_target(default_report_path(scenario_file, suffix=suffix), force, unique=True), False, True)


INTERRUPTED = 130  # exit code after Ctrl-C (128 + SIGINT), as shells report it


def cluster_options(fn: Callable) -> Callable:
    """--workers and --scheduler: taken by every command that runs many solves.

    In the command: ``check_cluster_options(workers, scheduler)`` first (exit 2 before anything is
    loaded), then ``with executor(workers, scheduler, n, "points") as ex:`` around the solves, passing
    ``ex`` to the analysis (see :mod:`optimizer.analysis.executor`).
    """
    fn = click.option(
        "--scheduler", metavar="ADDRESS", default=None,
        help="Solve on an existing dask.distributed scheduler, e.g. tcp://10.0.0.5:8786 (its workers need the same "
             "chipalloc).",
    )(fn)
    fn = click.option(
        "--workers", type=int, metavar="N", default=None,
        help="Solve on a local Dask cluster of N processes (default: in this process). Same answers either way.",
    )(fn)
    return fn


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    """The --workers/--scheduler errors that need no cluster, before anything is loaded (exit 2)."""
    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler do not go together: --workers starts a local cluster, "
                         "--scheduler uses an existing one; give one of them")
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be a whole number of processes, at least 1 "
                         "(leave it out to solve in this process)")


@contextlib.contextmanager
def executor(workers: int | None, scheduler: str | None, n: int, what: str) -> Iterator[Executor]:
    """The executor for the options (closed at the end); says on stderr where the ``n`` solves run when that
    is not this process. A bad address, an unreachable scheduler or one without workers: InputError (exit 2)."""
    with make_executor(workers, scheduler) as ex:
        if workers is not None or scheduler is not None:
            note(f"solving {n:,} {what} on {ex.description}")
        yield ex


def echo_json(text: str) -> None:
    click.echo(text)


def _unique_warnings(loadeds) -> list[tuple[str, object]]:
    seen: set = set()
    out = []
    for loaded in loadeds:
        for w in loaded.warnings:
            key = (loaded.path, w.where, w.path, w.message)
            if key not in seen:
                seen.add(key)
                out.append((loaded.path, w))
    return out


def say_warnings(*loadeds) -> None:
    """Print each scenario warning once on stderr: ``warning: FILE:LINE: path: message``."""
    for file, w in _unique_warnings(loadeds):
        click.echo(f"warning: {w.render(file)}", err=True)


def warnings_json(*loadeds) -> list[dict]:
    """The same warnings for a JSON document's ``"warnings"`` list."""
    return [w.to_dict(file) for file, w in _unique_warnings(loadeds)]


def note(text: str) -> None:
    click.echo(text, err=True)
