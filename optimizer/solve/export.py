"""Write the model as an LP or MPS file (through PuLP), for audit or for another solver.

Rows are written as the model states them (no solver scaling), with their stable names; columns
count units, or lots of ``lot_size`` units where whole lots are bought (named ``lots(...)``), and
whole columns are integer. The objective maximises effective TOPS (or the risk measure).
Names use ``(`` ``)`` where the model uses ``[`` ``]``, since LP files reserve brackets.
"""
from __future__ import annotations

import re

import numpy as np

from ..model import Model
from .numerics import scaled
from .pulp_backend import to_pulp

FORMATS = ("lp", "mps")
_BAD = re.compile(r"[^A-Za-z0-9_(),.@#$%&!?;:'{}|~]")


def lp_name(name: str) -> str:
    return _BAD.sub("_", name.replace("[", "(").replace("]", ")"))


def write_model(model: Model, path: str, fmt: str) -> None:
    prob = scaled(model, row_scaling=False)
    cols = []
    for j, n in enumerate(model.var.name):
        lot = int(model.var.scale[j])
        cols.append(lp_name(n if lot == 1 else n.replace("units[", f"lots{lot}[", 1)))
    rows = [lp_name(n) for n in model.rows.name]
    lp, _, _ = to_pulp(prob, integer=True, names=cols, rows=rows, keep=np.ones(model.m, dtype=bool))
    lp.name = lp_name(model.scenario.name)[:60] or "chipalloc"
    if fmt == "lp":
        lp.writeLP(path)
    elif fmt == "mps":
        lp.writeMPS(path)
    else:  # pragma: no cover - the CLI offers only FORMATS
        raise ValueError(fmt)
