"""Shared helpers for the chipalloc test suite.

- ``solver``: a fixture parametrised over both backends (every solver-facing
  test runs on HiGHS and on CBC).
- ``fixture_path(name)``, ``load_fixture(name, variants=...)``: the hand-solvable
  scenarios under tests/fixtures/.
- ``base_data()``: a small valid scenario as plain data, to mutate in schema tests.
- ``units_of(plan)``: {(site, chip): units} for units > 0.
- ``dask_cluster``: one ``LocalCluster`` of two worker processes for the whole
  session (its ``scheduler_address`` stands for a scheduler started by hand).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

SOLVERS = ["highs", "cbc"]
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
SCENARIOS = REPO / "scenarios"

_BASE = {
    "schema_version": 1,
    "name": "base",
    "currency": "CNY",
    "fx": {"USD": 7.0},
    "integer_units": False,
    "flexibility": {"gpgpu": 1.0, "asic": 0.5},
    "vendors": {"dom": {"origin": "CN"}, "us": {"origin": "US"}},
    "chips": {
        "a": {"vendor": "dom", "architecture": "gpgpu", "int8_tops": 100, "unit_price": 10},
        "b": {"vendor": "us", "architecture": "gpgpu", "int8_tops": 300, "unit_price": 40},
    },
    "sites": {"cn": {"country": "CN", "budget": {"amount": 1000}}},
}


def base_data() -> dict:
    """A valid two-chip, one-site scenario (a: 10 TOPS per CNY, b: 7.5) as a fresh dict."""
    return copy.deepcopy(_BASE)


def fixture_path(name: str) -> Path:
    p = FIXTURES / name
    assert p.exists(), p
    return p


def load_fixture(name: str, variants: tuple = (), sets: tuple = ()):
    from optimizer import io

    return io.load(fixture_path(name), variants=list(variants), sets=list(sets))


def scenario_of(data: dict):
    from optimizer.io import validate_data

    return validate_data(data)


def units_of(plan) -> dict:
    return {(a.site, a.chip): a.units for a in plan.allocation}


def workbook_values(path) -> dict:
    """Every cell value of every sheet of a workbook, by (sheet, cell); About's time and command line left out
    (what serial and cluster runs must have in common)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            if ws.title == "About" and row[0].value in ("Solved at", "Command line"):
                continue
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.coordinate)] = c.value
    return out


def stop_after(monkeypatch, cli_module, k: int) -> None:
    """``cli_module``'s progress callback raises KeyboardInterrupt (as Ctrl-C would) once k items have finished."""
    import contextlib

    @contextlib.contextmanager
    def progress(n, label):
        def tick(done, total):
            if done >= k:
                raise KeyboardInterrupt

        yield tick

    monkeypatch.setattr(cli_module, "progress", progress)


def constraint(plan, name: str):
    for c in plan.constraints:
        if c.name == name:
            return c
    raise KeyError(f"{name} not in {[c.name for c in plan.constraints]}")


@pytest.fixture(params=SOLVERS)
def solver(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def dask_cluster():
    """A LocalCluster of two processes, one thread each, on 127.0.0.1 (started once, closed at the end)."""
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", worker_dashboard_address=None, silence_logs=logging.CRITICAL)
    try:
        yield cluster
    finally:
        cluster.close()
