"""Build the allocation LP/MILP from a scenario (pure: no solver, no I/O).

The model is ``max c.x  s.t.  A x (sense) rhs,  lower <= x <= upper``, x in
units, some columns whole (lots, leases, 0/1 picks), with ``A`` a
``scipy.sparse`` CSR matrix assembled in one go from the families' entries.

Objective (effective TOPS, see :mod:`optimizer.model.layers` for a layer):

- ``TOPS_k = sum_j tops_kj x_j`` in layer k, where a purchase delivered in
  period d is worth ``e x (T - d) / T`` with objective ``in_service`` (the
  average over periods of the effective TOPS in service) or ``e`` with
  ``delivered`` (e = INT8 TOPS x flexibility x delivery rate); a lease started
  in t is worth ``e x (T - t) / T`` (in service) or ``e``. With one period both
  are today's objective.
- Without outcomes there is one layer and ``c = TOPS``.
- With outcomes (``uncertainty``), the risk measure:
  ``expected``: ``sum_k p_k TOPS_k``;
  ``cvar``: ``(1 - w) E + w (eta - 1/(1 - alpha) sum_k p_k u_k)`` with rows
  ``cvar[k]: TOPS_k - eta + u_k >= 0``, ``u_k >= 0`` (Rockafellar-Uryasev);
  ``worst``: ``z`` with rows ``worst[k]: TOPS_k - z >= 0``.

``spend`` is the (expected) spend per unit, which the tie-break minimises
among plans of maximum objective: orders at their order-period price, leases
at their payments over the horizon, stranded orders at ``1 - refund``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from .. import compliance
from ..schema import Scenario
from .families import FAMILIES, RowRef, family
from .layers import Layer, _Decider, coords_of, layer_data, lease_columns, lease_keys, pick_columns, purchase_columns, purchase_keys
from .tables import AUX, BUY, LEASE, NONE, Coords, RowBlock, RowTable, VarTable


@dataclass
class Model:
    scenario: Scenario  # the base scenario (the file, with variants and --set applied)
    coords: Coords
    var: VarTable
    rows: RowTable
    A: sp.csr_matrix  # rows x columns, per unit
    c: np.ndarray  # objective per unit
    spend: np.ndarray  # (expected) spend per unit: the tie-break objective
    layers: list[Layer]
    tops: sp.csr_matrix  # layers x columns: objective TOPS per unit in each layer
    layer_spend: sp.csr_matrix  # layers x columns: spend per unit in each layer
    measure: str  # single | expected | cvar | worst
    _decisions: list[compliance.Decision] | None = None
    exact_objective: list[Fraction] | None = None  # c per unit as exact rationals of the decimal inputs, when known
    c2: np.ndarray | None = None  # cvar / worst: the expected TOPS per unit, maximised among plans of the best measure

    @property
    def decisions(self) -> list[compliance.Decision]:
        """The export decision per (site, chip, delivery period) and lease, for the reports (computed once, on use)."""
        if self._decisions is None:
            self._decisions = compliance.decisions(self.scenario)
        return self._decisions

    @property
    def integer(self) -> bool:
        return bool(self.var.integer.any())

    @property
    def n(self) -> int:
        return len(self.var)

    @property
    def m(self) -> int:
        return len(self.rows)

    @property
    def b(self) -> np.ndarray:
        return self.rows.rhs

    @property
    def scale(self) -> np.ndarray:
        return self.var.scale

    def ref(self, i: int) -> RowRef:
        r = self.rows
        o = int(r.outcome[i])
        return RowRef(r.name[i], r.family[i], r.sense[i], float(r.rhs[i]), r.subject[i], r.key[i],
                      self.coords.outcomes[o] if o != NONE else None)

    def layer_of_row(self, i: int) -> Layer:
        o = int(self.rows.outcome[i])
        return self.layers[0] if o == NONE else next(L for L in self.layers if L.code == o)

    def scenario_of_row(self, i: int) -> Scenario:
        return self.layer_of_row(i).scenario

    def rule_text(self, i: int) -> str:
        return family(self.rows.family[i]).rule_text(self.scenario_of_row(i), self.ref(i))

    def structure_key(self) -> tuple:
        """What must match for an incremental re-solve to reuse a solver model."""
        return (tuple(self.var.name), tuple(self.rows.name), tuple(self.rows.sense), self.var.integer.tobytes(),
                self.var.scale.tobytes(), self.var.lower.tobytes(), self.measure, self.c2 is not None)

    def column_index(self) -> dict[str, int]:
        return {n: j for j, n in enumerate(self.var.name)}


def build(s: Scenario, outcomes: dict[str, Scenario] | None = None) -> Model:
    """The model of ``s``; with ``outcomes`` (validated outcome scenarios, in order), the extensive form."""
    stochastic = s.uncertainty is not None and bool(outcomes)
    names = list(outcomes) if stochastic else []
    co = coords_of(s, names)
    T = s.n_periods
    base_decider = _Decider(s)
    if not stochastic:
        parts = [purchase_columns(s, co, purchase_keys(s, co, range(T), base_decider), NONE, ""),
                 lease_columns(s, co, lease_keys(s, co, range(T), base_decider), NONE, "")]
        layer_specs = [(NONE, None, 1.0, s, base_decider)]
        refund = 0.0
    else:
        unc = s.uncertainty
        r = s.period_index(unc.revealed, T)
        refund = unc.refund_on_denial
        parts = [purchase_columns(s, co, purchase_keys(s, co, range(r), base_decider), NONE, ""),
                 lease_columns(s, co, lease_keys(s, co, range(r), base_decider), NONE, "")]
        layer_specs = []
        for k, name in enumerate(names):
            sk = outcomes[name]
            dk = _Decider(sk)
            suffix = f"@{name}"
            parts.append(purchase_columns(sk, co, purchase_keys(sk, co, range(r, T), dk), k, suffix))
            parts.append(lease_columns(sk, co, lease_keys(sk, co, range(r, T), dk), k, suffix))
            layer_specs.append((k, name, unc.outcomes[name].probability, sk, dk))
    var = VarTable.concat(parts)
    # 0/1 "ordered" columns for min_order_units: one per purchase column of such a chip (its governing
    # scenario: the base for a shared column, the outcome for its own)
    gov = {code: sk for code, _, _, sk, _ in layer_specs}
    buy_cols = [j for j in np.flatnonzero(var.kind == BUY)
                if (gov.get(int(var.outcome[j]), s) if int(var.outcome[j]) != NONE else s)
                .chips[co.chips[var.chip[j]]].min_order_units is not None]
    if buy_cols:
        var = VarTable.concat([var, pick_columns(var, np.array(buy_cols, dtype=np.int64), co)])

    layers: list[Layer] = []
    for i, (code, name, p, sk, dk) in enumerate(layer_specs):
        cols = np.flatnonzero((var.kind != AUX) & ((var.outcome == NONE) | (var.outcome == code)))
        layers.append(layer_data(sk, co, var, cols, code, name, p, refund, dk, base=s, first=i == 0))

    blocks: list[tuple[RowBlock, int]] = []
    for L in layers:
        for fam in FAMILIES:
            got = fam.build(L, co)
            for blk in (got if isinstance(got, list) else [got]):
                if len(blk):
                    blocks.append((blk, L.code))

    n_base = len(var)
    K = len(layers)
    tops = sp.csr_matrix((np.concatenate([L.tops for L in layers]),
                          (np.repeat(np.arange(K), [len(L.cols) for L in layers]),
                           np.concatenate([L.cols for L in layers]))), shape=(K, n_base))
    layer_spend = sp.csr_matrix((np.concatenate([_spend(L) for L in layers]),
                                 (np.repeat(np.arange(K), [len(L.cols) for L in layers]),
                                  np.concatenate([L.cols for L in layers]))), shape=(K, n_base))
    probs = np.array([L.probability for L in layers])
    measure = "single" if not stochastic else s.uncertainty.risk.measure

    aux_block = None
    if measure == "single":
        c = np.asarray(tops.sum(axis=0)).ravel()
    elif measure == "expected":
        c = probs @ tops
    else:
        c, var, aux_block = _risk_columns(s, co, var, tops, probs, measure, names)
    spend = np.zeros(len(var))
    spend[:n_base] = probs @ layer_spend
    if len(var) > n_base:  # the risk measure's helper columns earn no TOPS and cost nothing
        tops = sp.csr_matrix((tops.data, tops.indices, tops.indptr), shape=(K, len(var)))
        layer_spend = sp.csr_matrix((layer_spend.data, layer_spend.indices, layer_spend.indptr), shape=(K, len(var)))

    rows, A = _assemble(blocks, aux_block, len(var))
    model = Model(s, co, var, rows, A, np.asarray(c, dtype=float).ravel(), spend, layers, tops, layer_spend, measure)
    model.exact_objective = _exact_objective(model)
    if measure in ("cvar", "worst"):
        # a pure tail measure leaves the better outcomes free: among the plans with the best measure, the one
        # with the most expected TOPS (and then the least expected spend) is the plan
        c2 = np.zeros(len(var))
        c2[:n_base] = np.asarray(probs @ tops).ravel()[:n_base]
        model.c2 = c2
    return model


def _spend(L: Layer) -> np.ndarray:
    T = L.scenario.n_periods
    factor = np.where(L.stranded, 1.0 - L.refund, 1.0)
    out = np.where(L.kind == BUY, L.price * factor, 0.0)
    return np.where(L.kind == LEASE, L.price * factor * (T - L.period), out)


def _risk_columns(s: Scenario, co: Coords, var: VarTable, tops: sp.csr_matrix, probs: np.ndarray, measure: str,
                  names: list[str]):
    """Append the risk measure's helper columns and rows; return (objective, columns, rows block)."""
    risk = s.uncertainty.risk
    n_base = len(var)
    K = len(names)
    blk = RowBlock("risk")
    if measure == "cvar":
        extra_names = ["cvar_threshold"] + [f"cvar_shortfall[{k}]" for k in names]
        n_aux = 1 + K
        lower = np.concatenate([[-np.inf], np.zeros(K)])
    else:
        extra_names = ["worst_tops"]
        n_aux = 1
        lower = np.array([-np.inf])
    none = np.full(n_aux, NONE, dtype=np.int32)
    outcome = none.copy()
    if measure == "cvar":
        outcome[1:] = np.arange(K)
    aux = VarTable(extra_names, np.full(n_aux, AUX, dtype=np.int8), none, none, none, none, outcome,
                   np.ones(n_aux), np.zeros(n_aux, dtype=bool), lower, np.full(n_aux, np.inf))
    var = VarTable.concat([var, aux])
    c = np.zeros(len(var))
    tops_csr = tops.tocsr()
    for k, name in enumerate(names):
        row_tops = tops_csr.getrow(k)
        if measure == "cvar":
            r = blk.add_row(f"cvar[{name}]", ">=", 0.0, name, (name,))
            blk.add_entries(r, row_tops.indices, row_tops.data)
            blk.add_entries(r, np.array([n_base]), -1.0)
            blk.add_entries(r, np.array([n_base + 1 + k]), 1.0)
        else:
            r = blk.add_row(f"worst[{name}]", ">=", 0.0, name, (name,))
            blk.add_entries(r, row_tops.indices, row_tops.data)
            blk.add_entries(r, np.array([n_base]), -1.0)
    if measure == "cvar":
        w, a = risk.weight, risk.alpha
        c[:n_base] = (1.0 - w) * (probs @ tops)
        c[n_base] = w
        c[n_base + 1:] = -w / (1.0 - a) * probs
    else:
        c[n_base] = 1.0
    return c, var, blk


def _assemble(blocks: list[tuple[RowBlock, int]], aux: RowBlock | None, n: int) -> tuple[RowTable, sp.csr_matrix]:
    names: list[str] = []
    fams: list[str] = []
    senses: list[str] = []
    rhs: list[float] = []
    subjects: list[str] = []
    keys: list[tuple] = []
    outcomes: list[int] = []
    ri, ci, vi = [], [], []
    # families in FAMILIES order, layers within a family (so budget[cn], budget[cn]@k1, ... sit together)
    order = {f.kind: i for i, f in enumerate(FAMILIES)}
    order["order_link"] = order["min_order"] + 0.5
    items = sorted(((order[b.family], code if code != NONE else -1, idx, b, code) for idx, (b, code) in enumerate(blocks)),
                   key=lambda t: (t[0], t[1], t[2]))
    all_blocks = [(b, code) for *_, b, code in items] + ([(aux, NONE)] if aux is not None and len(aux) else [])
    for b, code in all_blocks:
        offset = len(names)
        names += b.name
        fams += [b.family] * len(b)
        senses += b.sense
        rhs += b.rhs
        subjects += b.subject
        keys += b.key
        outcomes += [code] * len(b)
        for r, c, v in zip(b.rows, b.cols, b.vals):
            ri.append(r + offset)
            ci.append(c)
            vi.append(v)
    m = len(names)
    if ri:
        A = sp.csr_matrix((np.concatenate(vi), (np.concatenate(ri), np.concatenate(ci))), shape=(m, n))
    else:
        A = sp.csr_matrix((m, n))
    A.sum_duplicates()
    A.eliminate_zeros()
    rows = RowTable(names, fams, senses, np.array(rhs, dtype=float), subjects, keys, np.array(outcomes, dtype=np.int32))
    return rows, A


def _dec(x: float) -> Fraction:
    """The exact value of a number as the planner typed it (its shortest decimal)."""
    return Fraction(Decimal(repr(float(x))))


def _exact_objective(model: Model) -> list[Fraction] | None:
    """The objective per unit as exact rationals of the decimal inputs, for the exact tie-break.

    Known when every column that earns TOPS is whole (lots, leases) and the objective is a sum of
    layer TOPS (no CVaR threshold or worst-case floor columns, which are continuous).
    """
    var = model.var
    earns = model.c != 0
    if not earns.any() or not var.integer[earns].all() or model.measure in ("cvar", "worst"):
        return None
    out = [Fraction(0)] * len(var)
    memo: dict[tuple, Fraction] = {}
    for L in model.layers:
        s = L.scenario
        T = s.n_periods
        p = _dec(L.probability) if model.measure == "expected" else Fraction(1)
        chips = model.coords.chips
        for j, col in enumerate(L.cols):
            if L.tops[j] == 0:
                continue
            kind = int(L.kind[j])
            if kind == BUY:
                cid = chips[L.chip[j]]
                c = s.chips[cid]
                key = (id(s), "b", cid, int(L.delivery[j]))
                e = memo.get(key)
                if e is None:
                    e = _dec(c.int8_tops) * _dec(s.flexibility[c.architecture]) * _dec(s.vendors[c.vendor].delivery_rate)
                    e *= Fraction(T - int(L.delivery[j]), T) if s.objective == "in_service" else 1
                    memo[key] = e
            elif kind == LEASE:
                lid = model.coords.leases[L.lease[j]]
                o = s.leases[lid]
                c = s.chips[o.chip]
                key = (id(s), "l", lid, int(L.period[j]))
                e = memo.get(key)
                if e is None:
                    e = _dec(c.int8_tops) * _dec(s.flexibility[c.architecture]) * _dec(o.delivery_rate)
                    e *= Fraction(T - int(L.period[j]), T) if s.objective == "in_service" else 1
                    memo[key] = e
            else:
                continue
            out[int(col)] += p * e
    return out
