"""`chipalloc sweep`, `chipalloc tornado` and `chipalloc compare`.

Exit codes as in solve: 0 done (a sweep or compare whose points include
infeasible ones still exits 0 and reports each status with its diagnosis),
2 bad input (checked before anything is solved; also a bad --workers or
--scheduler), 3 when a tornado's base scenario is infeasible (its diagnosis
goes to stderr, as solve's), 4 when it is unbounded, 130 when interrupted
(Ctrl-C): a sweep then writes the points that finished, marked partial.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import click

from .. import io
from ..analysis import compare as compare_mod
from ..analysis import sweep as sweep_mod
from ..analysis import tornado as tornado_mod
from ..analysis.executor import Progress
from ..errors import InfeasibleError, UnboundedError
from ..report import json_out, whatif_out
from .common import (INTERRUPTED, check_cluster_options, cluster_options, debug_option, executor, guarded, note,
                     report_options, report_target, say_warnings, scenario_options, warnings_json)

PROGRESS_MIN = 6  # show a progress bar from this many solves on (and only on a terminal)


@contextlib.contextmanager
def progress(n: int, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when stderr is a terminal and there are more than a handful of solves.

    Yields ``on_done(n_finished, n_total)`` for an executor (finished points, across workers), or None.
    """
    if n >= PROGRESS_MIN and sys.stderr.isatty():
        with click.progressbar(length=n, label=label, file=sys.stderr) as bar:
            yield Progress(bar.update)
    else:
        yield None


json_option = click.option(
    "--json", "as_json", is_flag=True,
    help="Print one JSON document to stdout; the table is not printed (stderr gets only warnings and errors).",
)


@click.command("sweep")
@click.argument("file", type=click.Path())
@click.option(
    "--vary", "varies", multiple=True, metavar="PATH=SPEC", required=True,
    help="Value to vary: START:STOP:COUNT (inclusive), a,b,c, or -20%:+20%:9 around the scenario's value. "
         "Give it twice for a grid.",
)
@click.option(
    "--each-point", is_flag=True,
    help="Solve every point, also where the sweep could be filled exactly from its breakpoints "
         "(one varied right-hand side of a continuous scenario).",
)
@scenario_options
@cluster_options
@report_options
@json_option
@debug_option
@guarded
def sweep_cmd(file, varies, each_point, sets, variants, solver, workers, scheduler, output, force, no_report, as_json,
              debug) -> None:
    """Solve a scenario at every value of one input (or a grid of two); one verified solve per point.

    \b
    Examples:
      chipalloc sweep scenarios/bytedance-2025.yaml --vary sites.cn.budget.amount=30e9:50e9:5
      chipalloc sweep scenarios/bytedance-2025.yaml --vary chips.h20.unit_price=-20%:+20%:9
      chipalloc sweep scenarios/bytedance-2025.yaml --vary sites.cn.domestic_min_share=0.5,0.6,0.7 \\
          --vary sites.cn.budget.amount=30e9:50e9:3
      chipalloc sweep scenarios/bytedance-2025.yaml --vary sites.cn.budget.amount=20e9:60e9:400 --workers 2

    A 1-D sweep of a continuous scenario's budget, capacity or power limit is solved only where the
    plan's basis changes and every point is filled exactly from those solves (the breakpoints are
    reported); --each-point solves every point instead.

    Ctrl-C stops the sweep and writes the points already finished, marked as partial (exit 130).
    """
    check_cluster_options(workers, scheduler)
    loaded = io.load(file, variants=variants, sets=sets)
    say_warnings(loaded)
    vs, points = sweep_mod.prepare(loaded, list(varies))  # every point validated before any solve
    target = report_target(output, no_report, force, file, "-sweep")
    with executor(workers, scheduler, len(points), "points") as ex, progress(len(points), "sweep") as tick:
        res = sweep_mod.run(loaded, vs, points, solver=solver, executor=ex, on_done=tick,
                            method="points" if each_point else "auto")
    if res.partial and not res.points:
        note(f"interrupted before any of the {res.n_total:,} points finished; nothing was written")
        sys.exit(INTERRUPTED)
    path = None
    if target is not None:
        from ..report.sweep_workbook import write_sweep_workbook

        path = target.write(write_sweep_workbook, res)
    if as_json:
        click.echo(json_out.dumps({**whatif_out.sweep_doc(res, report=path), "warnings": warnings_json(loaded)}))
    else:
        note(whatif_out.sweep_text(res, report=path))
    if res.partial:
        if as_json:
            note(whatif_out.partial_line(res))
        sys.exit(INTERRUPTED)


@click.command("tornado")
@click.argument("file", type=click.Path())
@click.option("--pct", type=float, default=20.0, show_default=True, help="Move each input this many percent down and up.")
@click.option(
    "--param", "params", multiple=True, metavar="PATH",
    help="Input to swing (repeatable). Default: every number that can move the answer: prices, TOPS, unit caps, "
         "power, delivery rates, capacities, share limits, flexibility, budgets, domestic floors, fx rates in use, "
         "TPP caps, lease terms, each per period where given per period.",
)
@scenario_options
@cluster_options
@report_options
@json_option
@debug_option
@guarded
def tornado_cmd(file, pct, params, sets, variants, solver, workers, scheduler, output, force, no_report, as_json,
                debug) -> None:
    """One-at-a-time swings: effective TOPS with each input moved down and up, largest swing first.

    Values are clipped into the valid range (shares and delivery rates at most 1) and the table says so.
    Exit 3 when the base scenario is infeasible, 4 when it is unbounded; Ctrl-C writes nothing (exit 130).
    """
    check_cluster_options(workers, scheduler)
    loaded = io.load(file, variants=variants, sets=sets)
    say_warnings(loaded)
    target = report_target(output, no_report, force, file, "-tornado")
    n = 2 * len(params or tornado_mod.default_params(loaded.scenario))
    try:
        with executor(workers, scheduler, n, "ends") as ex, progress(n, "tornado") as tick:
            res = tornado_mod.tornado(loaded, pct=pct, params=list(params), solver=solver, executor=ex, on_done=tick)
    except (InfeasibleError, UnboundedError) as e:
        if as_json:
            status = "infeasible" if isinstance(e, InfeasibleError) else "unbounded"
            diag = getattr(e, "diagnosis", None)
            doc = whatif_out.tornado_failed_doc(loaded, solver, pct, status, diag)
            click.echo(json_out.dumps({**doc, "warnings": warnings_json(loaded)}))
        raise
    path = None
    if target is not None:
        from ..report.tornado_workbook import write_tornado_workbook

        path = target.write(write_tornado_workbook, res)
    if as_json:
        click.echo(json_out.dumps({**whatif_out.tornado_doc(res, report=path), "warnings": warnings_json(loaded)}))
    else:
        note(whatif_out.tornado_text(res, report=path))


@click.command("compare")
@click.argument("targets", nargs=-1, required=True, metavar="FILE[@VARIANT[+VARIANT]]...")
@scenario_options
@cluster_options
@report_options
@json_option
@debug_option
@guarded
def compare_cmd(targets, sets, variants, solver, workers, scheduler, output, force, no_report, as_json, debug) -> None:
    """Solve several scenarios (or variants of one) and lay them side by side, with differences from the first.

    \b
    FILE@VARIANT applies that named variant (FILE@a+b applies two), after any
    --variant and before any --set, which apply to every target.
    Example:
      chipalloc compare scenarios/bytedance-2025.yaml scenarios/bytedance-2025.yaml@h20_licence_denied

    Ctrl-C writes nothing (exit 130).
    """
    check_cluster_options(workers, scheduler)
    tg = compare_mod.load_targets(list(targets), variants=variants, sets=sets)  # all validated before any solve
    say_warnings(*(t.loaded for t in tg))
    first_file = tg[0].file
    target = report_target(output, no_report, force, first_file, "-compare")
    with executor(workers, scheduler, len(tg), "scenarios") as ex, progress(len(tg), "compare") as tick:
        res = compare_mod.compare(tg, solver=solver, executor=ex, on_done=tick)
    path = None
    if target is not None:
        from ..report.compare_workbook import write_compare_workbook

        path = target.write(write_compare_workbook, res)
    if as_json:
        doc = whatif_out.compare_doc(res, report=path)
        click.echo(json_out.dumps({**doc, "warnings": warnings_json(*(t.loaded for t in tg))}))
    else:
        note(whatif_out.compare_text(res, report=path))
