"""`chipalloc simulate`: Monte Carlo draws of outcomes and delivery rates against the plan.

Exit codes: 0 done, 2 bad input (checked before anything is solved: --draws, --seed, the scenario, -o,
--workers/--scheduler), 3 when the scenario has no feasible plan (its diagnosis on stderr, as solve's),
4 unbounded, 130 interrupted (Ctrl-C): the draws that finished are written, marked partial.
"""
from __future__ import annotations

import sys

import click

from .. import io
from ..analysis import simulate as sim_mod
from ..errors import InputError
from ..report import json_out
from ..report import simulation_out as out
from .common import (INTERRUPTED, check_cluster_options, cluster_options, debug_option, executor, guarded, note,
                     report_options, report_target, say_warnings, scenario_options, warnings_json)
from .whatif import json_option, progress

EXCEL_ROWS = 1_048_576  # a worksheet's rows: the Draws sheet holds one row per draw under its header


@click.command("simulate")
@click.argument("file", type=click.Path())
@click.option("--draws", type=int, default=1000, show_default=True, metavar="N",
              help="Number of draws (at least 1); each is one re-solve, or one evaluation of the plan.")
@click.option("--seed", type=int, default=0, show_default=True, metavar="S",
              help="Random seed (a whole number, 0 or more): the same seed gives the same draws on any machine and "
                   "with any number of workers.")
@click.option("--target", type=float, default=None, metavar="TOPS",
              help="Also report the probability that effective TOPS falls below this many.")
@scenario_options
@cluster_options
@report_options
@json_option
@debug_option
@guarded
def simulate_cmd(file, draws, seed, target, sets, variants, solver, workers, scheduler, output, force, no_report,
                 as_json, debug) -> None:
    """Monte Carlo: how the plan fares when the outcome and the vendors' delivery rates are drawn.

    Each draw picks an outcome by its probability (scenarios with uncertainty), draws each vendor's delivery
    rate from a Beta distribution (mean delivery_rate, standard deviation delivery_sd; vendors without
    delivery_sd keep their rate), keeps the orders placed before the outcome is known and re-optimises the
    later ones; without periods or outcomes it evaluates the plan under the drawn rates.
    Prints the mean, standard deviation, P5, P50 and P95 of effective TOPS, the probability of falling below
    --target, each source's share of the variance, and the mean of each outcome; writes a workbook.

    \b
    Examples:
      chipalloc simulate scenarios/bytedance-2025-risk.yaml --draws 10000 --target 200e6
      chipalloc simulate scenarios/bytedance-2025-risk.yaml --draws 10000 --workers 2 --json --no-report

    Ctrl-C stops the run and writes the draws already finished, marked as partial (exit 130).
    """
    sim_mod.check_run(draws, seed)
    check_cluster_options(workers, scheduler)
    if not no_report and draws >= EXCEL_ROWS:
        raise InputError(f"--draws {draws:,}: a worksheet holds at most {EXCEL_ROWS - 1:,} draws; draw fewer, or "
                         "add --no-report (with --json for the figures)")
    loaded = io.load(file, variants=variants, sets=sets)
    say_warnings(loaded)
    target_path = report_target(output, no_report, force, file, "-simulation")
    with executor(workers, scheduler, draws, "draws") as ex, progress(draws, "simulate") as tick:
        res = sim_mod.simulate(loaded, draws, seed=seed, target=target, solver=solver, executor=ex, on_done=tick)
    if res.partial and not res.draws:
        note(f"interrupted before any of the {draws:,} draws finished; nothing was written")
        sys.exit(INTERRUPTED)
    path = None
    if target_path is not None:
        from ..report.simulation_workbook import write_simulation_workbook

        path = target_path.write(write_simulation_workbook, res, loaded)
    if as_json:
        doc = out.simulation_doc(res, loaded.path, loaded.applied, report=path)
        click.echo(json_out.dumps({**doc, "warnings": warnings_json(loaded)}))
    else:
        note(out.simulation_text(res, loaded.scenario, loaded.applied, report=path))
    if res.partial:
        if as_json:
            note(out.partial_line(res))
        sys.exit(INTERRUPTED)
