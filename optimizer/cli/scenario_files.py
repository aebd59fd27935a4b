"""`chipalloc convert` and `chipalloc template`: scenario files in YAML, JSON and Excel."""
from __future__ import annotations

import click

from ..errors import OutputError
from .common import debug_option, guarded, note


@click.command("convert")
@click.argument("source", metavar="IN", type=click.Path())
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT if it exists (without it an existing file is never touched).")
@debug_option
@guarded
def convert_cmd(source: str, target: str, force: bool, debug: bool) -> None:
    """Convert a scenario between YAML, JSON and an xlsx workbook (either way); the format follows OUT's name.

    IN is checked first, and OUT is read back before it is written: it holds the same scenario and solves to the
    same plan. Comments in a YAML file are not kept. An xlsx IN may be a scenario workbook or a plan workbook
    (its Inputs sheet).

    \b
    Examples:
      chipalloc convert scenarios/bytedance-2025.yaml bytedance.xlsx
      chipalloc convert bytedance.xlsx bytedance.yaml
    """
    from ..convert import convert

    _no_clobber(target, force)
    done = convert(source, target, force=force)
    sc = done.scenario
    note(f"{done.source} -> {done.target} ({done.format}): {len(sc.vendors)} vendors, {len(sc.chips)} chips, "
         f"{len(sc.sites)} sites")


@click.command("template")
@click.argument("target", metavar="OUT.xlsx", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace OUT.xlsx if it exists.")
@debug_option
@guarded
def template_cmd(target: str, force: bool, debug: bool) -> None:
    """Write a starting scenario workbook: a Read me, one sheet per part with an example row, and drop-downs.

    Fill it in (Excel or LibreOffice), then `chipalloc validate OUT.xlsx` and `chipalloc solve OUT.xlsx`.
    """
    from pathlib import Path

    from ..scenario_xlsx.template import write_template

    if Path(target).suffix.lower() != ".xlsx":
        raise OutputError(f"{target}: a template is an Excel workbook; give a name ending in .xlsx")
    _no_clobber(target, force)
    path = write_template(target, force=force)
    note(f"wrote {path}: fill in the sheets (Read me first), then chipalloc validate {path}")


def _no_clobber(target: str, force: bool) -> None:
    from pathlib import Path

    p = Path(target)
    if p.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name")
    if p.exists() and not force:
        raise OutputError(f"{target}: already exists; pass --force to replace it")
