"""`chipalloc export`: the model as an LP or MPS file, for audit or another solver."""
from __future__ import annotations

from pathlib import Path

import click

from .. import io
from ..errors import OutputError
from .common import debug_option, guarded, note


@click.command("export")
@click.argument("file", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["lp", "mps"]), default="lp", show_default=True,
              help="LP (readable) or MPS (fixed columns, for any solver).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file (default reports/<scenario>.<format>).")
@click.option("--force", is_flag=True, help="Replace an existing file at -o.")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE",
              help="Override one scenario value by dotted path (repeatable).")
@click.option("--variant", "variants", multiple=True, metavar="NAME",
              help="Apply a named variant from the scenario's variants: table (repeatable, before --set).")
@debug_option
@guarded
def export_cmd(file, fmt, output, force, sets, variants, debug) -> None:
    """Write the model of a scenario as an LP or MPS file (rows as chipalloc states them, with their names).

    Columns count units, or lots where whole lots are bought (lots8(cn,b) is lots of 8 units of b at cn);
    brackets in names become parentheses. Nothing is solved.
    """
    from ..model import build
    from ..plan import outcome_scenarios
    from ..report.files import write_atomic
    from ..solve.export import write_model

    loaded = io.load(file, variants=variants, sets=sets)
    target = Path(output) if output else Path("reports") / f"{Path(file).stem}.{fmt}"
    if target.suffix.lower() != f".{fmt}":
        raise OutputError(f"{target}: an {fmt.upper()} file must end in .{fmt}; write -o {target.with_suffix('.' + fmt)}")
    m = build(loaded.scenario, outcome_scenarios(loaded, loaded.scenario))
    path = write_atomic(target, lambda tmp: write_model(m, tmp, fmt), force=force)
    note(f"{fmt.upper()} model of {loaded.scenario.name!r}: {m.n:,} columns, {m.m:,} rows -> {path}")
    click.echo(str(path))
