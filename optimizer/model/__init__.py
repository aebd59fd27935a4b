"""The allocation model: labelled columns and rows, a sparse matrix, one class per constraint family.

``build(scenario)`` (or ``build(scenario, outcomes)`` for the extensive form of
a scenario with ``uncertainty``) returns a :class:`Model`; the solver
backends, the sensitivity report, the diagnosis and the what-if engine all
read that one description. See :mod:`optimizer.model.build` for the
objective, :mod:`optimizer.model.families` for the rows and
:mod:`optimizer.model.layers` for the columns.
"""
from .build import Model, build
from .families import FAMILIES, Family, Parameter, RowRef, family
from .layers import Layer
from .tables import AUX, BUY, LEASE, NONE, PICK, Coords, RowTable, VarTable

__all__ = [
    "Model", "build", "FAMILIES", "Family", "Parameter", "RowRef", "family", "Layer",
    "AUX", "BUY", "LEASE", "NONE", "PICK", "Coords", "RowTable", "VarTable",
]
