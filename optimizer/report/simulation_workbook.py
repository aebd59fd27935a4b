"""The simulation workbook: Simulation (figures, histogram, variance shares), Draws (one row per draw), Inputs, About.

Every figure on the Simulation sheet is a live formula over the Draws table, written with the value chipalloc
computed (so readers that do not calculate see it):

- mean ``AVERAGE``, standard deviation ``STDEV.S`` (the sample one, as the JSON), ``MIN``/``MAX``;
- P5, P50, P95 ``PERCENTILE.INC``: linear interpolation between the closest ranks, which is numpy's default
  ``np.percentile`` method, so the sheet and the JSON agree;
- the probability of falling below the target, each histogram bin's count and each outcome's draws and mean:
  ``SUMPRODUCT`` over exact comparisons (``(tops < target)``, ``(tops >= from) * (tops < to)``,
  ``(outcome = name)``) rather than ``COUNTIF``, whose criteria are text: a number turned into text can lose
  its last digits, and an outcome's name could read as a wildcard or an operator;
- a vendor's share of the variance ``RSQ`` (the squared correlation of effective TOPS with its drawn rate),
  the outcome's ``SUMPRODUCT`` of the draw shares and squared differences of the outcome means over ``VAR.P``.

Analysis returns data (:class:`~optimizer.analysis.simulate.SimulationResult`); the sentences come from
:mod:`optimizer.report.simulation_out`, the same as the terminal's.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.simulate import SimulationResult
from ..io import Loaded
from .about_sheet import add_about_sheet
from .files import write_atomic
from .inputs_sheet import add_inputs_sheet
from .simulation_out import SHARES_CAVEAT, draw_sentence, objective_sentence, partial_line, target_sentence
from .xlsx import (
    FMT_INT, FMT_PCT, FMT_RATE, Book, Sheet, cell_ref, chart, insert_chart, range_ref,
)

SHEETS = ("Simulation", "Draws", "Inputs", "About")
DRAWS = "Draws"
BINS = 20  # about this many histogram bins, on round edges
CHART_W, CHART_H = 17.0, 8.5  # cm


# ----------------------------------------------------------------------------- histogram bins
def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at least ``raw``."""
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw * (1 - 1e-12):
            return m * mag
    return 10.0 * mag  # pragma: no cover - the loop ends at 10


def _short(x: float) -> float:
    """A bin edge as a short decimal (at most 12 significant digits), so it reads and compares exactly."""
    return float(f"{x:.12g}")


def histogram_edges(values: np.ndarray, bins: int = BINS) -> list[float]:
    """Round bin edges covering ``values``: ``[e0, e1, ..., ek]`` with ``e0 <= min`` and ``ek >= max``.

    Every bin is ``[from, to)`` except the last, ``[from, to]``. All values equal: one bin ``[v, v]``.
    """
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return [lo, hi]
    step = _nice_step((hi - lo) / bins)
    start = math.floor(lo / step) * step
    edges = [_short(start)]
    k = 1
    while edges[-1] < hi:
        edges.append(_short(start + k * step))
        k += 1
    return edges


def histogram_counts(values: np.ndarray, edges: list[float]) -> list[int]:
    """Draws in each bin of :func:`histogram_edges` (what the sheet's SUMPRODUCT formulas count)."""
    out = []
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        last = i == len(edges) - 2
        out.append(int(((values >= a) & ((values <= b) if last else (values < b))).sum()))
    return out


def _decimals(*vs: float) -> int:
    """The fewest decimals (up to 6) that write every one of ``vs`` exactly (2.5 -> 1, 172.5 -> 1, 8060 -> 0)."""
    for d in range(7):
        if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in vs):
            return d
    return 6


def _label(x: float, step: float) -> str:
    """A bin edge for the chart's axis, written exactly: 172.5M, 8,060, 0.25."""
    if abs(x) >= 1e6 and step >= 1e4:
        return f"{x / 1e6:,.{_decimals(x / 1e6, step / 1e6)}f}M"
    return f"{x:,.{_decimals(x, step)}f}"


# ----------------------------------------------------------------------------- the sheets
def _vendors(res: SimulationResult) -> list[str]:
    return sorted({v for d in res.draws for v in d.rates})


def _layout(res: SimulationResult) -> dict[str, Any]:
    """The Draws sheet's columns and the ranges the Simulation sheet's formulas read (one place for both)."""
    n = len(res.draws)
    outcomes = any(d.outcome is not None for d in res.draws)
    vendors = _vendors(res)
    cols = ["Draw"] + (["Outcome"] if outcomes else []) + [f"Delivery rate {v}" for v in vendors] + ["Effective TOPS"]
    first, last = 2, n + 1
    return {
        "columns": cols,
        "outcomes": outcomes,
        "vendors": vendors,
        "tops": range_ref(DRAWS, first, len(cols), last),
        "outcome": range_ref(DRAWS, first, 2, last) if outcomes else None,
        "rate": {v: range_ref(DRAWS, first, cols.index(f"Delivery rate {v}") + 1, last) for v in vendors},
        "complete_rates": {v: all(v in d.rates for d in res.draws) for v in vendors},
    }


def _draws_sheet(book: Book, res: SimulationResult, lay: dict[str, Any]) -> Sheet:
    """Draw, Outcome (with outcomes), one rate column per drawn vendor, Effective TOPS."""
    sh = book.add_sheet(DRAWS)
    outcomes, vendors = lay["outcomes"], lay["vendors"]
    fmts = [FMT_INT] + ([None] if outcomes else []) + [FMT_RATE] * len(vendors) + [FMT_INT]
    rows = [[d.index] + ([d.outcome] if outcomes else []) + [d.rates.get(v) for v in vendors] + [d.effective_tops]
            for d in res.draws]
    sh.table(lay["columns"], rows, fmts)
    n = len(rows)
    sh.fit_below_header(1, max_width=24)
    sh.note(n + 3, 1, "One row per draw, in draw order. Draw d uses its own random stream "
                      f"(SeedSequence({res.seed}, spawn_key=(d,))), so a draw is the same whatever the number of "
                      "workers. A blank rate: that vendor's rate was not drawn in the draw's outcome.")
    if res.partial:
        sh.note(n + 4, 1, partial_line(res), warn=True)
    return sh


def _figure_rows(sh: Sheet, row: int, items: list[tuple[str, str | None, Any, str | None]]) -> None:
    """(label, formula or None, value, number format) per row under a Figure/Value header."""
    for label, expr, value, fmt in items:
        sh.put(row, 1, label)
        if expr is not None:
            sh.formula(row, 2, expr, value, fmt)
        else:
            sh.put(row, 2, value, fmt)
        row += 1


def _simulation_sheet(book: Book, res: SimulationResult, loaded: Loaded, rng: dict[str, Any]) -> Sheet:
    s = loaded.scenario
    sh = book.add_sheet("Simulation")
    # one grid for the stacked tables, set before the chart is placed (it spans columns by their widths): a
    # first column for labels and outcome names, even columns for the numbers; one portrait page wide
    names = [o["name"] for o in res.by_outcome()] + [c["source"] for c in res.contributions()]
    sh.widths[1] = min(40, max([30] + [len(x) + 2 for x in names]))
    for col in range(2, 7):
        sh.widths[col] = 13 if col == 2 else 12
    sh.title(1, f"Monte Carlo: {s.name}")
    sh.note(2, 1, f"{len(res.draws):,} draws, seed {res.seed}: {draw_sentence(res, s)}.")
    said = objective_sentence(res, s)
    sh.note(3, 1, said[:1].upper() + said[1:] + ".")
    row = 4
    if res.partial:
        sh.note(row, 1, partial_line(res).upper()[:1] + partial_line(res)[1:], warn=True)
        row += 1
    v = res.values
    n = len(v)
    st = res.stats()
    tops = rng["tops"]
    row = sh.section(row, "Effective TOPS over the draws")
    head = row
    sh.header(head, ["Figure", "Value"], freeze=False)
    draws_ref = cell_ref(head + 1, 2, True)
    mean_ref = cell_ref(head + 3, 2, True)
    items: list[tuple[str, str | None, Any, str | None]] = [
        ("Draws", f"=COUNT({tops})", n, FMT_INT),
        ("Plan's objective" if res.measure else "Plan at the planned rates", None, res.plan_effective_tops, FMT_INT),
        ("Mean", f"=AVERAGE({tops})", st["mean"], FMT_INT),
        ("Standard deviation", f"=_xlfn.STDEV.S({tops})" if n >= 2 else None, st["sd"], FMT_INT),
        ("P5", f"=_xlfn.PERCENTILE.INC({tops},0.05)", st["p5"], FMT_INT),
        ("P50 (median)", f"=_xlfn.PERCENTILE.INC({tops},0.5)", st["p50"], FMT_INT),
        ("P95", f"=_xlfn.PERCENTILE.INC({tops},0.95)", st["p95"], FMT_INT),
        ("Lowest", f"=MIN({tops})", float(v.min()), FMT_INT),
        ("Highest", f"=MAX({tops})", float(v.max()), FMT_INT),
    ]
    if res.target is not None:
        t_row = head + len(items) + 1
        items += [
            ("Target (--target)", None, res.target, FMT_INT),
            ("Probability below the target", f"=SUMPRODUCT(--({tops}<{cell_ref(t_row, 2, True)}))/{draws_ref}",
             res.prob_below_target(), FMT_PCT),
        ]
    _figure_rows(sh, head + 1, items)
    row = head + len(items) + 1
    sh.note(row, 1, "Formulas over the Draws sheet: AVERAGE; STDEV.S (the sample standard deviation); "
                    "PERCENTILE.INC (linear between ranks, numpy's default percentile); MIN and MAX"
                    + ("; the share of draws below the target" if res.target is not None else "") + "."
                    + ("" if n >= 2 else " One draw has no spread."))
    row += 1
    if res.target is not None:
        sh.note(row, 1, target_sentence(res)[:1].upper() + target_sentence(res)[1:] + ".")
        row += 1

    # histogram: round bins, counts as formulas, and the chart
    row += 1
    edges = histogram_edges(v)
    counts = histogram_counts(v, edges)
    step = edges[1] - edges[0] if len(edges) > 2 else max(1.0, abs(edges[0]))
    sh.section(row, "Histogram")
    hist_head = row + 1
    sh.header(hist_head, ["Bin", "From", "To", "Draws", "Share of draws"], freeze=False)
    for i, c in enumerate(counts):
        r = hist_head + 1 + i
        a, b = edges[i], edges[i + 1]
        last = i == len(counts) - 1
        sh.put(r, 1, f"{_label(a, step)} to {_label(b, step)}")
        sh.put(r, 2, a, FMT_INT if step >= 1 else None)
        sh.put(r, 3, b, FMT_INT if step >= 1 else None)
        upper = f"({tops}<={cell_ref(r, 3)})" if last else f"({tops}<{cell_ref(r, 3)})"
        sh.formula(r, 4, f"=SUMPRODUCT(({tops}>={cell_ref(r, 2)})*{upper})", c, FMT_INT)
        sh.formula(r, 5, f"={cell_ref(r, 4)}/{draws_ref}", c / n, FMT_PCT)
    last_bin = hist_head + len(counts)
    sh.note(last_bin + 1, 1, "Each bin counts the draws from its From up to (not including) its To; the last "
                             "includes its To.")
    ch = chart(book, "column")
    ch.set_title({"name": f"Effective TOPS over {n:,} draws", "name_font": {"size": 12}})
    ch.add_series({"name": "draws", "categories": ["Simulation", hist_head, 0, last_bin - 1, 0],
                   "values": ["Simulation", hist_head, 3, last_bin - 1, 3], "gap": 10,
                   "fill": {"color": "#1F4E78"}})
    ch.set_legend({"none": True})
    ch.set_x_axis({"name": "effective TOPS", "num_font": {"rotation": -45, "size": 8}})
    ch.set_y_axis({"name": "draws", "num_format": "#,##0", "major_gridlines": {"visible": True}})
    chart_row = last_bin + 3
    insert_chart(sh, chart_row, 1, ch, CHART_W, CHART_H, keep_on_page=True)
    row = chart_row + int(CHART_H * 96 / 2.54 / 20) + 3

    # by outcome
    by = res.by_outcome()
    out_rows: tuple[int, int] | None = None
    if by and rng["outcome"] is not None:
        probs = {k: o.probability for k, o in s.uncertainty.outcomes.items()}
        sh.section(row, "By outcome")
        oh = row + 1
        sh.header(oh, ["Outcome", "Probability", "Draws", "Share of draws", "Mean effective TOPS"], freeze=False)
        for i, o in enumerate(by):
            r = oh + 1 + i
            sh.put(r, 1, o["name"])
            sh.put(r, 2, probs.get(o["name"]), FMT_PCT)
            sh.formula(r, 3, f"=SUMPRODUCT(--({rng['outcome']}={cell_ref(r, 1)}))", o["draws"], FMT_INT)
            sh.formula(r, 4, f"={cell_ref(r, 3)}/{draws_ref}", o["draws"] / n, FMT_PCT)
            sh.formula(r, 5, f"=SUMPRODUCT(({rng['outcome']}={cell_ref(r, 1)})*{tops})/{cell_ref(r, 3)}", o["mean"],
                       FMT_INT)
        out_rows = (oh + 1, oh + len(by))
        row = oh + len(by) + 2

    # share of the variance
    shares = res.contributions()
    partial_rates = False
    if shares:
        sh.section(row, "Share of the variance, by source")
        vh = row + 1
        sh.header(vh, ["Source", "Kind", "Share"], freeze=False)
        r = vh + 1
        for c in shares:
            sh.put(r, 1, c["source"])
            sh.put(r, 2, c["kind"])
            expr = None
            if c["kind"] == "vendor":
                if rng["complete_rates"].get(c["source"]):
                    expr = f"=RSQ({tops},{rng['rate'][c['source']]})"
                else:
                    partial_rates = True
            elif out_rows is not None:
                a, b = out_rows
                expr = (f"=SUMPRODUCT({range_ref('Simulation', a, 3, b)}/{draws_ref},"
                        f"({range_ref('Simulation', a, 5, b)}-{mean_ref})^2)/_xlfn.VAR.P({tops})")
            if expr is not None:
                sh.formula(r, 3, expr, c["share"], FMT_PCT)
            else:
                sh.put(r, 3, c["share"], FMT_PCT)
            r += 1
        sh.note(r, 1, "A vendor's share: RSQ of effective TOPS and its drawn rate (Draws)"
                      + (" where every draw drew it; otherwise over the draws that did, as a value" if partial_rates
                         else "") + ". The outcome's: the variance between the outcome means (By outcome) over "
                      "VAR.P of all draws.")
        sh.note(r + 1, 1, SHARES_CAVEAT)
        row = r + 3

    # the orders every draw keeps
    if res.shared_orders:
        revealed = s.uncertainty.revealed if (res.measure is not None and s.uncertainty is not None) else None
        sh.section(row, "Orders kept in every draw",
                   f"placed before {revealed}, before the outcome is known" if revealed else "the plan's orders")
        oh = row + 2
        sh.header(oh, ["Kind", "Site", "Chip", "Lease", "Period", "Units"], freeze=False)
        for i, o in enumerate(res.shared_orders):
            r = oh + 1 + i
            for j, key in enumerate(("kind", "site", "chip", "lease", "period"), start=1):
                sh.put(r, j, o.get(key))
            sh.put(r, 6, o["units"], FMT_INT)
        row = oh + len(res.shared_orders) + 2
    return sh


def build_simulation_workbook(res: SimulationResult, loaded: Loaded) -> Book:
    if not res.draws:
        raise ValueError("a simulation workbook needs at least one finished draw")
    book = Book()
    # the Simulation sheet comes first and reads the Draws sheet, laid out in advance
    lay = _layout(res)
    _simulation_sheet(book, res, loaded, lay)
    _draws_sheet(book, res, lay)
    add_inputs_sheet(book, loaded.scenario, loaded.applied)
    add_about_sheet(
        book,
        scenario_path=loaded.path,
        scenario_sha256=loaded.source.sha256 if loaded.source is not None else None,
        solver=res.solver,
        solver_version=res.solver_version,
        applied=loaded.applied,
        extra={
            "Analysis": "simulate (Monte Carlo)",
            "Seed": res.seed,
            "Draws": len(res.draws) if not res.partial else
            f"{len(res.draws)} of {res.draws_requested}: {partial_line(res)}",
            "Target": res.target if res.target is not None else "-",
        },
    )
    return book


def write_simulation_workbook(res: SimulationResult, loaded: Loaded, path: str | Path, force: bool = False,
                              unique: bool = False) -> Path:
    return write_atomic(path, lambda tmp: build_simulation_workbook(res, loaded).save(tmp), force, unique)


__all__ = ["build_simulation_workbook", "write_simulation_workbook", "histogram_edges", "histogram_counts", "SHEETS"]
