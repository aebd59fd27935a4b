"""Write scenario data in the workbook layout, with XlsxWriter.

:func:`add_scenario_sheets` writes the layout into any XlsxWriter workbook:
one sheet per part, or one *stacked* sheet (the ``Inputs`` sheet of a plan
workbook, which ``chipalloc solve`` reads back). It returns the cell of every
value it wrote, so report formulas can point at the inputs
(``"fx.USD" -> "'Inputs'!$B$12"``). :func:`write_scenario_workbook` writes a
whole scenario workbook atomically (``convert``, ``template``).

Values are typed cells: numbers with number formats (fractions of 1 as
percentages), booleans, and text written with ``write_string`` always, so a
scenario string that starts with ``= + - @`` is text (and quote-prefixed, so
it stays text when edited), never a formula.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from . import layout as L
from ..xlsx_print import page_setup
from .cells import bounds, constraints, is_share, is_text, to_cell

FORMULA_LEADS = ("=", "+", "-", "@")
TABLE_ROWS = 1000  # drop-downs and column rules reach this far down an entity sheet
MAX_WIDTH = 48

FMT_INT = "#,##0"
FMT_NUM = "#,##0.0#####"
FMT_PCT = "0.0##%"


@dataclass
class Cell:
    """One cell to write: the value (number, bool, text or None), its field and the scenario path it holds."""

    value: Any
    ann: Any = str
    meta: tuple = ()
    path: tuple | None = None


@dataclass
class Table:
    """A block to write: header names, rows of cells, and the leaf of each column (for rules and drop-downs)."""

    part: L.Part
    header: list[str]
    rows: list[list[Cell]]
    column_leaves: list[tuple[Any, tuple, str]]  # (annotation, meta, field name) per column


def scenario_data(scenario: BaseModel) -> dict:
    """A validated Scenario as plain data with every value, defaults included (None left out).

    Write this instead of the file's own data when formulas should find a
    cell for every input (a delivery rate the file leaves at its default).
    """
    return scenario.model_dump(by_alias=True, exclude_none=True)


# ---------------------------------------------------------------- rows from data


def _periods(data: dict) -> list[str]:
    p = data.get("periods")
    return [str(x) for x in p] if isinstance(p, list) else []


def _empty_models(obj: Any, leaves: tuple[L.Leaf, ...]) -> dict[tuple, L.Leaf]:
    """Nested models given with no fields (``export_controls: {}``): the first defaulted leaf under each,
    written with its default so the model still reads back as given."""
    marks: dict[tuple, L.Leaf] = {}
    prefixes = {lf.rel[:i] for lf in leaves for i in range(0, len(lf.rel))}
    for q in sorted(prefixes, key=len):
        if L.get_in(obj, q) == {} if q else obj == {}:
            for lf in leaves:
                if lf.rel[: len(q)] == q and lf.scalar and lf.info is not None and _default(lf) is not None:
                    marks[lf.rel] = lf
                    break
    return marks


def _default(lf: L.Leaf) -> Any:
    from pydantic_core import PydanticUndefined

    info = lf.info
    if info is None:
        return None
    if info.default is not PydanticUndefined and info.default is not None:
        return info.default
    if info.default_factory is not None:
        try:
            return info.default_factory()
        except TypeError:
            return None
    return None


def _leaf_value(obj: Any, lf: L.Leaf, key: str | None, marks: dict) -> Any:
    v = L.get_in(obj, lf.rel)
    if key is not None:
        if not isinstance(v, dict):
            return None
        for k, x in v.items():
            if str(k) == key:
                return x
        return None
    if isinstance(v, dict) and lf.keyed:
        return None  # given per key
    if v is None and lf.rel in marks:
        return _default(lf)
    return v


def tables(data: dict) -> list[Table]:
    """Every block of the layout, filled from ``data``."""
    periods = _periods(data)
    return [_table(p, data, periods) for p in L.parts()]


def _table(part: L.Part, data: dict, periods: list[str]) -> Table:
    obj = L.get_in(data, part.path) if part.path else data
    if part.kind == "fields":
        return _fields_table(part, obj if isinstance(obj, dict) else None, periods)
    if part.kind == "pairs":
        k, v = part.columns
        rows = []
        if isinstance(obj, dict):
            for key, val in obj.items():
                rows.append([Cell(_key_cell(key), part.key_ann), Cell(val, part.value_ann, part.value_meta, part.path + (key,))])
        return Table(part, [k, v], rows, [(part.key_ann, (), k), (part.value_ann, part.value_meta, v)])
    if part.kind == "long":
        ename, kname, vname = part.columns
        owner = L.get_in(data, part.path[:-1])
        rows = []
        if isinstance(owner, dict):
            for ent, rec in owner.items():
                inner = rec.get(part.path[-1]) if isinstance(rec, dict) else None
                if isinstance(inner, dict):
                    for key, val in inner.items():
                        rows.append([Cell(str(ent)), Cell(_key_cell(key), part.key_ann),
                                     Cell(val, part.value_ann, part.value_meta, part.path[:-1] + (ent, part.path[-1], key))])
        return Table(part, list(part.columns), rows,
                     [(str, (), ename), (part.key_ann, (), kname), (part.value_ann, part.value_meta, vname)])
    if part.kind == "table":
        return _records_table(part, obj, periods)
    return _changes_table(part, obj)


def _key_cell(key: Any) -> Any:
    return key if isinstance(key, (int, float)) and not isinstance(key, bool) else str(key)


def _fields_table(part: L.Part, obj: dict | None, periods: list[str]) -> Table:
    cols = L.leaf_columns(part.leaves, [obj] if obj else [], periods)
    marks = _empty_models(obj, part.leaves) if obj is not None else {}
    rows = []
    for name, (lf, key) in zip(cols.names, cols.targets):
        ann = lf.value_ann if key is not None else lf.ann
        meta = lf.value_meta if key is not None else lf.meta
        v = _leaf_value(obj, lf, key, marks) if obj is not None else None
        rows.append([Cell(name), Cell(v, ann, meta, part.path + lf.rel + ((key,) if key is not None else ()))])
    for label, sub in L.owned(part):  # an empty table that is not its default: licenses = {}
        v = L.get_in(obj, sub.path[len(part.path):]) if obj is not None else None
        if isinstance(v, (dict, list)) and not v and v != L.field_default(sub.path):
            rows.append([Cell(label), Cell(v, Any, (), sub.path)])
    # one rule per row: the value column's annotation varies by row (see _rules)
    return Table(part, [L.FIELD, L.VALUE], rows, [(str, (), L.FIELD), (None, (), L.VALUE)])


def _records_table(part: L.Part, obj: Any, periods: list[str]) -> Table:
    if isinstance(obj, dict):
        items = list(obj.items())
        keyed = True
    elif isinstance(obj, list):
        items = list(enumerate(obj))
        keyed = False
    else:
        items, keyed = [], bool(part.id_column)
    records = [rec if isinstance(rec, dict) else {} for _, rec in items]
    cols = L.leaf_columns(part.leaves, records, periods)
    header = ([L.ID] if part.id_column else []) + cols.names
    col_leaves: list[tuple[Any, tuple, str]] = [(str, (), L.ID)] if part.id_column else []
    for name, (lf, key) in zip(cols.names, cols.targets):
        col_leaves.append((lf.value_ann if key is not None else lf.ann, lf.value_meta if key is not None else lf.meta,
                           lf.rel[-1] if key is None else name))
    rows = []
    for (key_, _), rec in zip(items, records):
        marks = _empty_models(rec, part.leaves)
        base = part.path + (key_,)
        row = [Cell(str(key_) if keyed else None)] if part.id_column else []
        for lf, k in cols.targets:
            ann = lf.value_ann if k is not None else lf.ann
            meta = lf.value_meta if k is not None else lf.meta
            row.append(Cell(_leaf_value(rec, lf, k, marks), ann, meta, base + lf.rel + ((k,) if k is not None else ())))
        rows.append(row)
    return Table(part, header, rows, col_leaves)


def _changes_table(part: L.Part, obj: Any) -> Table:
    idc = part.id_column or L.ID
    cols = L.leaf_columns(part.leaves, [], [])
    header = [idc] + cols.names + [L.PATH, L.VALUE]
    col_leaves = [(str, (), idc)] + [(lf.ann, lf.meta, lf.rel[-1]) for lf, _ in cols.targets] + \
                 [(str, (), L.PATH), (Any, (), L.VALUE)]
    rows: list[list[Cell]] = []
    if isinstance(obj, dict):
        for name, rec in obj.items():
            rec = rec if isinstance(rec, dict) else {}
            base = part.path + (name,)
            if part.model is not None:
                changes = rec.get("changes") or {}
                target = base + ("changes",)
            else:
                changes, target = rec, base
            scal = [Cell(L.get_in(rec, lf.rel), lf.ann, lf.meta, base + lf.rel) for lf, _ in cols.targets]
            blank = [Cell(None, lf.ann, lf.meta) for lf, _ in cols.targets]
            if not changes:
                rows.append([Cell(str(name))] + scal + [Cell(None), Cell(None)])
            for i, (p, v) in enumerate(changes.items()):
                rows.append([Cell(str(name))] + (scal if i == 0 else blank) +
                            [Cell(str(p)), Cell(v, Any, (), target + (str(p),))])
    return Table(part, header, rows, col_leaves)


# ---------------------------------------------------------------- XlsxWriter


class _Styles:
    """The formats of one workbook (XlsxWriter formats belong to the workbook that made them)."""

    KINDS = {
        "text": {"num_format": "@"},
        "text_quoted": {"num_format": "@", "quote_prefix": True},
        "wrap": {"num_format": "@", "text_wrap": True},
        "int": {"num_format": FMT_INT},
        "num": {"num_format": FMT_NUM},
        "pct": {"num_format": FMT_PCT},
        "bool": {"align": "center"},
        "general": {},
    }

    def __init__(self, wb) -> None:
        self.wb = wb
        self.header = wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True,
                                     "valign": "vcenter", "border": 1, "border_color": "#BFBFBF"})
        self.title = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"})
        self.note = wb.add_format({"italic": True, "font_color": "#595959"})
        self._made: dict[tuple[str, bool], Any] = {}
        for k in self.KINDS:
            setattr(self, k, self.get(k))

    def get(self, kind: str, left: bool = False):
        """A value format; ``left`` aligns it left (the value column of a field/value list)."""
        key = (kind, left)
        if key not in self._made:
            props = {"valign": "top", **self.KINDS[kind]}
            if left:
                props["align"] = "left"
            self._made[key] = self.wb.add_format(props)
        return self._made[key]


def _number_format(st: _Styles, v: float, ann: Any, meta: tuple, left: bool = False):
    if is_share(ann, meta):
        return st.get("pct", left)
    if float(v).is_integer() and abs(v) < 1e15:
        return st.get("int", left)
    if 0 < abs(v) < 1e-4:
        return st.get("general", left)
    return st.get("num", left)


def _display(v: Any) -> str:
    if isinstance(v, bool):
        return "FALSE" if not v else "TRUE"
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _write(ws, st: _Styles, r: int, c: int, cell: Cell, left: bool = False) -> Any:
    """Write one value cell; returns what was stored (None: nothing)."""
    v = to_cell(cell.value, cell.ann)
    if v is None:
        return None
    if isinstance(v, bool):
        ws.write_boolean(r, c, v, st.get("general", True) if left else st.bool)
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v, _number_format(st, v, cell.ann, cell.meta, left))
    else:
        text = str(v)
        kind = "text_quoted" if text.startswith(FORMULA_LEADS) else "wrap" if len(text) > MAX_WIDTH else "text"
        ws.write_string(r, c, text, st.get(kind, left))
    return v


def _abs(sheet: str, r: int, c: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return "'" + sheet.replace("'", "''") + "'!" + xl_rowcol_to_cell(r, c, row_abs=True, col_abs=True)


def _key(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def add_scenario_sheets(wb, data: dict | BaseModel, *, stacked: str | None = None,
                        validations: bool = True, note: str = "") -> dict[str, str]:
    """Write the scenario layout into the XlsxWriter workbook ``wb``.

    One sheet per part, or (``stacked="Inputs"``) every part as a titled block
    on one sheet of that name, which ``chipalloc`` reads back as the scenario.
    Returns, for every value written, its dotted scenario path -> absolute cell
    (``"chips.h20.unit_price" -> "'Inputs'!$F$30"``). ``data`` is plain
    scenario data (as read from a file) or a Scenario (every value written,
    defaults included: see :func:`scenario_data`). ``validations`` adds
    drop-downs and column rules to the one-sheet-per-part form.
    """
    if isinstance(data, BaseModel):
        data = scenario_data(data)
    st = _Styles(wb)
    refs: dict[str, str] = {}
    blocks = tables(data)
    if stacked:
        _stacked_sheet(wb, st, stacked, blocks, refs, note)
        return refs
    for sheet in L.sheet_names():
        ws = wb.add_worksheet(sheet)
        on = [t for t in blocks if t.part.sheet == sheet]
        _part_sheet(wb, ws, st, on, refs, validations)
    if validations:
        _lists_sheet(wb, st)
    return refs


def _widths(ws, widths: dict[int, int], cap: int = MAX_WIDTH) -> None:
    for c, w in widths.items():
        ws.set_column(c, c, max(8, min(cap, w + 2)))


def _heights(ws, widths: dict[int, int], wrapped: list[tuple[int, int, str]], cap: int = MAX_WIDTH) -> None:
    """Rows tall enough for their wrapped text (neither Excel nor LibreOffice grows them on opening)."""
    tallest: dict[int, int] = {}
    for r, c, text in wrapped:
        width = max(8, min(cap, widths.get(c, 8) + 2)) - 1
        lines = sum(max(1, -(-len(part) // width)) for part in text.split("\n"))
        tallest[r] = max(tallest.get(r, 1), lines)
    for r, n in tallest.items():
        if n > 1:
            ws.set_row(r, 15 * n)


def _block(ws, st: _Styles, r: int, t: Table, refs: dict[str, str], widths: dict[int, int], title: bool,
           wrapped: list[tuple[int, int, str]]) -> int:
    """Write one block from row ``r`` (title row first when ``title``); returns the next free row."""
    sheet = ws.get_name()
    if title:
        ws.write_string(r, 0, t.part.title, st.title)
        r += 1
    for c, h in enumerate(t.header):
        ws.write_string(r, c, h, st.header)
        widths[c] = max(widths.get(c, 0), len(h) + 2)
    r += 1
    left = t.part.kind == "fields"
    for row in t.rows:
        for c, cell in enumerate(row):
            v = _write(ws, st, r, c, cell, left=left and c == 1)
            if v is None:
                continue
            text = _display(v)
            widths[c] = max(widths.get(c, 0), min(len(text), MAX_WIDTH))
            if len(text) > MAX_WIDTH or "\n" in text:
                wrapped.append((r, c, text))
            if cell.path is not None:
                refs[_key(cell.path)] = _abs(sheet, r, c)
        r += 1
    return r


def _stacked_sheet(wb, st: _Styles, name: str, blocks: list[Table], refs: dict[str, str], note: str = "") -> None:
    ws = wb.add_worksheet(name)
    ws.write_string(0, 0, "Scenario inputs", st.title)
    ws.write_string(1, 0, "chipalloc reads this sheet back as the scenario: change a value here and run "
                          "chipalloc solve on this workbook (the other sheets are ignored). Each block is a title, "
                          "a header row and rows, as in a scenario workbook (chipalloc template)."
                          + (f" {note}" if note else ""), st.note)
    widths: dict[int, int] = {}
    wrapped: list[tuple[int, int, str]] = []
    r = 3
    for t in blocks:
        r = _block(ws, st, r, t, refs, widths, title=True, wrapped=wrapped) + 1
    widths[0] = max(widths.get(0, 0), 14)
    _widths(ws, widths)
    _heights(ws, widths, wrapped)
    page_setup(ws, landscape=True)
    ws.freeze_panes(3, 0)
    ws.repeat_rows(0)


def _part_sheet(wb, ws, st: _Styles, on: list[Table], refs: dict[str, str], validations: bool) -> None:
    widths: dict[int, int] = {}
    wrapped: list[tuple[int, int, str]] = []
    r = 0
    for i, t in enumerate(on):
        start = r + (1 if i else 0)
        end = _block(ws, st, r, t, refs, widths, title=bool(i), wrapped=wrapped)
        if validations:
            _rules(ws, t, start + 1, end - 1 if i + 1 < len(on) else max(end - 1, start + TABLE_ROWS), st)
        r = end + 1
    main = on[0]
    if main.part.kind == "table" and main.part.id_column:
        ws.freeze_panes(1, 1)
    else:
        ws.freeze_panes(1, 0)
    if len(on) == 1 and main.rows:
        ws.autofilter(0, 0, len(main.rows), len(main.header) - 1)
    cap = 60 if main.part.kind == "fields" else MAX_WIDTH
    _widths(ws, widths, cap=cap)
    _heights(ws, widths, wrapped, cap)
    page_setup(ws, landscape=True)
    ws.repeat_rows(0)


# ---------------------------------------------------------------- rules and drop-downs


def rule(ann: Any, meta: tuple = (), name: str = "") -> str:
    """The rule of a value in words (also the cell's input message)."""
    from typing import Literal, get_args, get_origin

    if get_origin(ann) is list:
        inner, = get_args(ann) or (str,)
        from .layout import _unwrap

        inner, imeta = _unwrap(inner)
        return f"a comma-separated list ({rule(inner, imeta)} each); [] for an empty list"
    if get_origin(ann) is Literal:
        return "one of: " + ", ".join(str(a) for a in get_args(ann))
    if ann is bool:
        return "TRUE or FALSE"
    if ann is Any:
        return "a value as --set reads it: 0.6, true, null, text, {1: allow}"
    if ann in (int, float):
        b = bounds(meta)
        what = "a whole number" if ann is int else "a number"
        if is_share(ann, meta):
            lo = ">= 0" if "ge" in b else "> 0"
            return f"a fraction of 1 ({lo}, {'<= 1' if 'le' in b else '< 1'}); 0.6 or 60% for sixty per cent"
        parts = []
        for k, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if k in b:
                x = b[k]
                parts.append(f"{sym} {x:,.0f}" if float(x).is_integer() else f"{sym} {x:g}")
        return what + (" " + ", ".join(parts) if parts else "")
    if ann is str:
        for c in constraints(meta):
            pat = getattr(c, "pattern", None)
            if pat == r"^[A-Z]{2}$":
                return "a two-letter country code (CN, US, MY)"
            if pat == r"^[A-Z]{3}$":
                return "a three-letter currency code (CNY, USD)"
            if pat and "a-z0-9" in pat:
                return "an id: lowercase letters, digits, _ and -"
        return "text"
    return "a value"


def _country(meta: tuple) -> bool:
    return any(getattr(c, "pattern", None) == r"^[A-Z]{2}$" for c in constraints(meta))


def _source(ann: Any, meta: tuple, name: str) -> tuple[str | list[str] | None, str]:
    """A drop-down for a column: (list or range, error type), or (None, "")."""
    from typing import Literal, get_args, get_origin

    if name in L.REFERENCES:
        p = L.part_for_path(L.REFERENCES[name])
        if p is not None:
            sheet = "'" + p.sheet.replace("'", "''") + "'"
            return f"={sheet}!$A$2:$A${TABLE_ROWS + 1}", "warning"
    if get_origin(ann) is Literal:
        return [str(a) for a in get_args(ann)], "stop"
    if ann is str and _country(meta):
        return f"='{L.LISTS_SHEET}'!$A$2:$A${len(_countries()) + 1}", "stop"
    return None, ""


def _countries() -> list[str]:
    from ..validate import ISO_COUNTRIES

    return sorted(ISO_COUNTRIES)


def _validation(ws, r0: int, c0: int, r1: int, c1: int, ann: Any, meta: tuple, name: str) -> None:
    src, err = _source(ann, meta, name)
    msg = rule(ann, meta, name)[:250]
    opts: dict[str, Any] = {"input_title": name[:32], "input_message": msg, "ignore_blank": True}
    if src is not None:
        opts.update({"validate": "list", "source": src, "error_type": err,
                     "error_title": name[:32], "error_message": ("Expected " + msg)[:250]})
        if err == "warning":
            opts["error_message"] = f"Not in the list yet; add it on its sheet first. Expected {msg}"[:250]
    else:
        opts["validate"] = "any"
    ws.data_validation(r0, c0, r1, c1, opts)


def _rules(ws, t: Table, first: int, last: int, st: _Styles) -> None:
    """Input messages (the rule in words) and drop-downs for each column of a block."""
    if t.part.kind == "fields":
        for i, row in enumerate(t.rows):
            cell = row[1]
            _validation(ws, first + i, 1, first + i, 1, cell.ann, cell.meta, row[0].value)
        return
    for c, (ann, meta, name) in enumerate(t.column_leaves):
        if ann is None:
            continue
        _validation(ws, first, c, last, c, ann, meta, name)
        if is_share(ann, meta):
            ws.set_column(c, c, None, st.pct)
        elif is_text(ann) or ann is str:
            ws.set_column(c, c, None, st.text)


def _lists_sheet(wb, st: _Styles) -> None:
    ws = wb.add_worksheet(L.LISTS_SHEET)
    ws.write_string(0, 0, "country", st.header)
    for i, c in enumerate(_countries(), start=1):
        ws.write_string(i, 0, c)
    ws.hide()


# ---------------------------------------------------------------- a whole workbook


def write_scenario_workbook(path: str | Path, data: dict | BaseModel, force: bool = False,
                            before: Callable | None = None, check: Callable[[str], None] | None = None) -> Path:
    """Write a scenario workbook (one sheet per part) to ``path`` atomically.

    ``before(wb)`` adds sheets first (the Read me); ``check(tmp_path)`` runs
    on the finished file before it is put in place, and may raise to stop it.
    """
    import xlsxwriter

    from ..errors import OutputError
    from ..report.files import write_atomic

    def write(tmp: str) -> None:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False,
                                       "strings_to_urls": False})
        try:
            if before is not None:
                before(wb)
            add_scenario_sheets(wb, data)
            if before is not None:
                wb.worksheets()[0].activate()
        finally:
            try:
                wb.close()
            except Exception as e:  # noqa: BLE001 - XlsxWriter wraps OS errors in its own types
                raise OutputError(f"{path}: cannot write ({e})") from None
        if check is not None:
            check(tmp)

    return write_atomic(path, write, force)
