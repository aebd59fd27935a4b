"""What was applied to a run, and the About sheet (provenance) every workbook ends with."""
from __future__ import annotations

import datetime as _dt
import json
import platform
from typing import Any, Sequence

from .xlsx import WRAP_TOP, Book, Sheet, command_line, library_versions, now_text


def value_text(v: Any) -> Any:
    """An override or variant value as a cell value: numbers stay numbers, anything else is text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)) or v is None:
        return v
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str, sort_keys=False)


def _replaces(a: dict, path: str) -> str:
    """What a change replaced wholesale (a list or mapping), when the loader recorded it."""
    r = a.get("replaces")
    if isinstance(r, dict):
        r = r.get(path)
    return "" if r is None else str(r)


def applied_rows(applied: Sequence[dict]) -> list[tuple[str, str, str, Any, str]]:
    """(kind, variant, path, value, replaces) for each applied variant change and --set override, in order."""
    out: list[tuple[str, str, str, Any, str]] = []
    for a in applied:
        if "variant" in a:
            changes = a.get("changes") or {}
            if not changes:
                out.append(("variant", str(a["variant"]), "", None, ""))
            for path, v in changes.items():
                out.append(("variant", str(a["variant"]), str(path), value_text(v), _replaces(a, str(path))))
        elif "set" in a:
            out.append(("--set", "", str(a["set"]), value_text(a.get("value")), _replaces(a, str(a["set"]))))
        else:  # unknown shape: keep it visible rather than drop it
            out.append(("change", "", "", value_text(a), ""))
    return out


def applied_summary(applied: Sequence[dict]) -> str:
    """One line: ``variant h20_licence_denied; --set sites.cn.budget.amount=32e9`` or ``none``."""
    parts = []
    for a in applied:
        if "variant" in a:
            parts.append(f"variant {a['variant']}")
        elif "set" in a:
            parts.append(f"--set {a['set']}={value_text(a.get('value'))}")
        else:
            parts.append(str(a))
    return "; ".join(parts) if parts else "none"


def add_about_sheet(
    book: Book,
    *,
    scenario_path: str | None,
    scenario_sha256: str | None,
    solver: str | None,
    solver_version: str | None,
    applied: Sequence[dict] = (),
    extra: dict[str, Any] | None = None,
    solved_at: _dt.datetime | str | None = None,
) -> Sheet:
    """Provenance: tool and solver versions, scenario file and SHA-256, time, command line, plus ``extra``."""
    from .. import __version__

    when = solved_at if isinstance(solved_at, str) else now_text(solved_at)
    versions = library_versions()
    items: list[tuple[str, Any]] = [
        ("Tool", f"chipalloc {__version__}"),
        ("Solver", solver or "-"),
        ("Solver version", solver_version or "-"),
        ("Scenario file", str(scenario_path) if scenario_path else "-"),
        ("Scenario SHA-256", scenario_sha256 or "-"),
        ("Applied variants and overrides", applied_summary(applied)),
        ("Solved at", when),
        ("Command line", command_line()),
        ("Python", versions["Python"]),
        ("XlsxWriter", versions["XlsxWriter"]),
        ("Platform", platform.platform(terse=True)),
    ]
    for k, v in (extra or {}).items():
        items.append((str(k), value_text(v) if isinstance(v, (list, tuple, dict, set)) else v))
    sh = book.add_sheet("About")
    sh.header(1, ["Item", "Value"], freeze=True, autofilter_rows=len(items))
    for i, (k, v) in enumerate(items, start=2):
        sh.put(i, 1, k, style={"valign": "top"})
        sh.put(i, 2, v, style={**WRAP_TOP, "align": "left"})
    sh.fit_columns(max_width=90)
    return sh
