"""Command line: a thin click layer over the library.

This package is the only place that maps errors to exit codes:
0 optimal, 1 unexpected, 2 bad input (usage, file, schema, output path),
3 infeasible, 4 unbounded, 130 interrupted. Nothing in ``optimizer`` imports it.
"""
from __future__ import annotations

import click

from .. import __version__
from .common import CONTEXT
from .solve import solve_cmd, validate_cmd


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="chipalloc")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """chipalloc: split an AI-chip budget across vendors, verified, with a finance-ready workbook.

    Exit codes: 0 optimal, 1 unexpected error, 2 bad input, 3 infeasible, 4 unbounded, 130 interrupted (Ctrl-C).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


cli.add_command(validate_cmd)
cli.add_command(solve_cmd)

from .whatif import compare_cmd, sweep_cmd, tornado_cmd  # noqa: E402

from .export import export_cmd  # noqa: E402

cli.add_command(export_cmd)
cli.add_command(sweep_cmd)
cli.add_command(tornado_cmd)
cli.add_command(compare_cmd)

from .simulate import simulate_cmd  # noqa: E402

cli.add_command(simulate_cmd)

from .scenario_files import convert_cmd, template_cmd  # noqa: E402

cli.add_command(convert_cmd)
cli.add_command(template_cmd)


def main() -> None:  # console-script entry point
    cli(prog_name="chipalloc")
