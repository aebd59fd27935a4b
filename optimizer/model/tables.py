"""The labelled tables of a model: its coordinates, columns (variables) and rows.

Every column and row carries integer codes into named coordinates (site,
chip, vendor, period, lease, outcome), so code that groups by a dimension
works on numpy arrays, and :meth:`VarTable.frame` / :meth:`RowTable.frame`
give pandas DataFrames with the labels for people.

Column kinds:

- ``BUY``: units of a chip ordered for a site in an order period
  (``units[site,chip]`` without periods, ``units[site,chip,period]`` with them);
- ``LEASE``: units newly leased from an operator from a start period
  (``lease[id]`` / ``lease[id,period]``);
- ``PICK``: 0/1, "this order is placed" (``ordered[site,chip]`` / ``ordered[site,chip,period]``), one per
  purchase column of a chip with ``min_order_units`` (``ref`` is that purchase column);
- ``AUX``: the risk measure's helper columns (CVaR's threshold and excesses,
  the worst case's floor).

In a model with outcomes, a column that belongs to one outcome has that
outcome's code and ``@outcome`` at the end of its name; shared columns (orders
placed before the outcome is revealed) have outcome code -1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BUY, LEASE, PICK, AUX = 0, 1, 2, 3
KIND_NAMES = ("buy", "lease", "pick", "aux")
NONE = -1  # "no such coordinate" in a code array


@dataclass(frozen=True)
class Coords:
    """The named dimensions of a model, in model order."""

    sites: tuple[str, ...]
    chips: tuple[str, ...]
    vendors: tuple[str, ...]
    periods: tuple[str, ...]  # the scenario's periods (one implicit period without them)
    leases: tuple[str, ...]
    outcomes: tuple[str, ...]  # empty for a model without outcomes
    dated: bool  # the scenario has ``periods`` (names and reports then show periods)

    def label(self, dim: str, code: int) -> str | None:
        if code == NONE:
            return None
        return getattr(self, dim)[code]


@dataclass
class VarTable:
    """One entry per column, as parallel arrays."""

    name: list[str]
    kind: np.ndarray  # BUY | LEASE | PICK | AUX
    site: np.ndarray  # codes into Coords.sites, NONE where not applicable
    chip: np.ndarray
    period: np.ndarray  # order period (BUY) or start period (LEASE)
    lease: np.ndarray
    outcome: np.ndarray  # NONE: shared (or a model without outcomes)
    scale: np.ndarray  # units per solver unit (the lot size for whole lots)
    integer: np.ndarray  # bool
    lower: np.ndarray  # in units
    upper: np.ndarray  # in units (inf where unbounded)
    ref: np.ndarray = None  # PICK: the purchase column it switches on; NONE elsewhere

    def __post_init__(self) -> None:
        if self.ref is None:
            self.ref = np.full(len(self.name), NONE, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.name)

    @staticmethod
    def concat(parts: list["VarTable"]) -> "VarTable":
        if not parts:
            return VarTable.empty()
        return VarTable(
            name=[n for p in parts for n in p.name],
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in _ARRAYS},
        )

    @staticmethod
    def empty() -> "VarTable":
        z = np.zeros(0, dtype=np.int32)
        return VarTable([], z.astype(np.int8), z, z, z, z, z, np.zeros(0), np.zeros(0, bool), np.zeros(0), np.zeros(0))

    def frame(self, coords: Coords):
        """The columns as a pandas DataFrame with labels (kind, site, chip, period, lease, outcome)."""
        import pandas as pd

        def lab(dim: str, codes: np.ndarray) -> list:
            names = getattr(coords, dim)
            return [names[c] if c != NONE else None for c in codes]

        return pd.DataFrame({
            "name": self.name,
            "kind": [KIND_NAMES[k] for k in self.kind],
            "site": lab("sites", self.site),
            "chip": lab("chips", self.chip),
            "period": lab("periods", self.period) if coords.dated else [None] * len(self),
            "lease": lab("leases", self.lease),
            "outcome": lab("outcomes", self.outcome),
            "scale": self.scale,
            "integer": self.integer,
        })


_ARRAYS = ("kind", "site", "chip", "period", "lease", "outcome", "scale", "integer", "lower", "upper", "ref")


@dataclass
class RowTable:
    """One entry per row: ``sum_j A[i, j] x_j  (sense)  rhs``, x in units."""

    name: list[str]
    family: list[str]  # the constraint family that owns the row (budget, capacity, ...)
    sense: list[str]  # "<=" | ">="
    rhs: np.ndarray
    subject: list[str]  # the site, vendor, chip, country, lease or outcome the row is about
    key: list[tuple]  # the family's own key, e.g. ("cn", None) for budget[cn], ("cn", 1) for budget[cn,2025q2]
    outcome: np.ndarray  # NONE for a model without outcomes

    def __len__(self) -> int:
        return len(self.name)

    def index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.name)}

    def frame(self, coords: Coords):
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame({
            "name": self.name, "family": self.family, "sense": self.sense, "rhs": self.rhs,
            "subject": self.subject,
            "outcome": [coords.outcomes[o] if o != NONE else None for o in self.outcome],
        })


@dataclass
class RowBlock:
    """Rows one family adds for one layer: names, senses, right-hand sides and the matrix entries (COO)."""

    family: str
    name: list[str] = field(default_factory=list)
    sense: list[str] = field(default_factory=list)
    rhs: list[float] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    key: list[tuple] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)  # local row index per entry
    cols: list[np.ndarray] = field(default_factory=list)  # global column index per entry
    vals: list[np.ndarray] = field(default_factory=list)

    def add_row(self, name: str, sense: str, rhs: float, subject: str, key: tuple) -> int:
        self.name.append(name)
        self.sense.append(sense)
        self.rhs.append(float(rhs))
        self.subject.append(subject)
        self.key.append(key)
        return len(self.name) - 1

    def add_entries(self, rows: np.ndarray | int, cols: np.ndarray, vals: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        if not cols.size:
            return
        rows = np.broadcast_to(np.asarray(rows, dtype=np.int64), cols.shape)
        self.rows.append(rows.copy())
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).copy())

    def __len__(self) -> int:
        return len(self.name)
