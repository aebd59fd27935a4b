"""Read a scenario workbook (.xlsx) into plain scenario data, safely.

Two forms are read (see :mod:`optimizer.scenario_xlsx.layout`): a scenario
workbook (one sheet per part) or any workbook with an ``Inputs`` sheet in
the stacked form (a plan workbook; its other sheets are ignored).

Safety first, before and while parsing: the file size, the zip's declared
uncompressed sizes (zip bombs) and member count are checked before openpyxl
opens it; openpyxl reads in read-only mode, through defusedxml (no XML entity
expansion); a sheet's declared extent is bounded and its rows are walked
without building the empty ones. A formula in an input cell is read as its
stored value, and refused (with the cell) when it has none; merged cells,
dates, and Excel error values are refused with the cell. Every problem names
the sheet and cell; nothing is a traceback.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, Problem
from . import layout as L
from .cells import from_cell, is_list, key_from_cell, number_text, unescape

MAX_UNCOMPRESSED = 50_000_000  # total of the zip members' declared sizes
MAX_MEMBERS = 2_000
MAX_ROWS = 10_000  # rows of one sheet that is read
MAX_COLUMNS = 1_000

_DATES = (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)


def ref(sheet: str, row: int, col: int) -> str:
    """A cell as Excel writes it in a formula: ``Chips!D7``, ``'Export controls'!B3``."""
    from openpyxl.utils import get_column_letter

    name = sheet if sheet.replace("_", "").isalnum() else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{get_column_letter(col)}{row}"


@dataclass
class Grid:
    """The non-empty cells of one sheet: (row, column) -> value, 1-based."""

    sheet: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)

    def rows(self) -> list[int]:
        return sorted({r for r, _ in self.cells})

    def row(self, r: int) -> dict[int, Any]:
        return {c: v for (rr, c), v in self.cells.items() if rr == r}

    def at(self, r: int, c: int) -> str:
        return ref(self.sheet, r, c)


def read_workbook(raw: bytes, name: str) -> tuple[dict, dict[tuple, str]]:
    """Scenario data and the cell of each field path, from the bytes of an .xlsx file. Raises InputError."""
    archive = _open_zip(raw, name)
    wb_values, wb_formulas = _open_workbooks(raw, name)
    try:
        sheets = list(wb_values.sheetnames)
        problems: list[Problem] = []
        if L.STACKED_SHEET in sheets:
            grids = [_grid(wb_values, wb_formulas, archive, L.STACKED_SHEET, name, problems)]
            stacked = True
        else:
            known = L.sheet_names()
            reading = []
            for s in sheets:
                if s in known:
                    reading.append(s)
                elif s not in L.IGNORED_SHEETS:
                    close = difflib.get_close_matches(s, known + [L.STACKED_SHEET], n=1, cutoff=0.6)
                    hint = f"did you mean {close[0]}?" if close else (
                        "the sheets are " + ", ".join(known) + f"; or one sheet named {L.STACKED_SHEET}")
                    problems.append(Problem(f"unknown sheet {s!r}", cell=ref(s, 1, 1), hint=hint))
            if not reading and not problems:
                raise InputError(
                    f"no scenario sheets: expected {', '.join(known[:4])}, ... (chipalloc template writes a "
                    f"starting workbook) or a sheet named {L.STACKED_SHEET}", file=name)
            grids = [_grid(wb_values, wb_formulas, archive, s, name, problems) for s in reading]
            stacked = False
    finally:
        wb_values.close()
        wb_formulas.close()
        archive.close()
    builder = _Builder()
    builder.problems += problems
    for g in grids:
        _blocks(g, stacked, builder)
    builder.finish()
    if builder.problems:
        raise InputError(builder.problems, file=name)
    return builder.data, builder.cells


# ---------------------------------------------------------------- the file


def _open_zip(raw: bytes, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise InputError(
            "not an xlsx workbook (an .xlsx file is a zip archive and this one is not, or is damaged); "
            "save it from Excel or LibreOffice as .xlsx", file=name) from None
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"the workbook holds {len(infos):,} files; an xlsx workbook has far fewer; refused", file=name)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise InputError(
            f"the workbook unpacks to {total:,} bytes; a scenario workbook is at most {MAX_UNCOMPRESSED:,} "
            "(a zip bomb?); refused", file=name)
    if any(i.flag_bits & 0x1 for i in infos):
        raise InputError("the workbook is encrypted; save it without a password", file=name)
    return archive


def _open_workbooks(raw: bytes, name: str):
    """The workbook twice, read-only: stored values (for every cell) and formulas (to find formula cells)."""
    from openpyxl import load_workbook

    out = []
    for data_only in (True, False):
        try:
            out.append(load_workbook(io.BytesIO(raw), read_only=True, data_only=data_only, keep_links=False))
        except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on a broken file; none may escape
            for wb in out:
                wb.close()
            raise InputError(f"cannot read the workbook: {_reason(e)}", file=name) from None
    return out


def _reason(e: BaseException) -> str:
    chain, seen = e, set()
    while chain is not None and id(chain) not in seen:  # openpyxl wraps what defusedxml raised
        seen.add(id(chain))
        if type(chain).__name__ in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):
            return "its XML declares entities or a DTD (an XML bomb?); refused"
        chain = chain.__cause__ or chain.__context__
    kind = type(e).__name__
    if isinstance(e, KeyError):
        return f"a part is missing ({e.args[0] if e.args else e}); save it again from Excel or LibreOffice as .xlsx"
    text = str(e).strip() or kind
    return f"{text[:200]} ({kind}); save it again from Excel or LibreOffice as .xlsx"


def _grid(wb_values, wb_formulas, archive: zipfile.ZipFile, sheet: str, name: str, problems: list[Problem]) -> Grid:
    g = Grid(sheet)
    try:
        ws, wf = wb_values[sheet], wb_formulas[sheet]
        for r in _merged(archive, ws):
            problems.append(Problem(f"merged cells {r}; unmerge them (each value needs a cell of its own)",
                                    cell=ref(sheet, *_first_cell(r))))
        rows, cols = ws.max_row or 0, ws.max_column or 0
        if rows > MAX_ROWS or cols > MAX_COLUMNS:
            from openpyxl.utils import get_column_letter

            problems.append(Problem(
                f"the sheet reaches {get_column_letter(min(cols, 16384)) if cols else 'A'}{rows:,}; a scenario sheet "
                f"has at most {MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns (delete the cells beyond the tables)",
                cell=ref(sheet, 1, 1)))
            return g
        formulas = {(r, c) for r, c, v, t in _cells(wf) if t == "f"}
        for r, c, v, t in _cells(ws):
            if t == "e":
                g.cells[(r, c)] = _Refused(f"the cell holds the Excel error {v}; put a value there")
                continue
            if isinstance(v, _DATES):
                g.cells[(r, c)] = _Date(v)
                continue
            if isinstance(v, str):
                v = unescape(v)
                if not v.strip():
                    continue  # a cell of spaces is an empty cell
            g.cells[(r, c)] = v
        for r, c in sorted(formulas):
            if (r, c) not in g.cells:
                g.cells[(r, c)] = _Refused(
                    "a formula with no stored value; type the value, or open and save the workbook in Excel or "
                    "LibreOffice so the formula's value is stored")
    except _TooBig as e:
        problems.append(Problem(str(e), cell=ref(sheet, 1, 1)))
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - a broken sheet must not become a traceback
        raise InputError(f"cannot read sheet {sheet!r}: {_reason(e)}", file=name) from None
    return g


class _TooBig(Exception):
    pass


class _Refused:
    """A cell that holds no usable value (an Excel error, a formula never calculated): refused where it is read."""

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return "?"


class _Date:
    """A date or time where chipalloc reads none: refused by the field that meets it, with its cell."""

    def __init__(self, v: Any):
        self.v = v

    def __str__(self) -> str:
        v = self.v
        if isinstance(v, _dt.datetime) and v.time() == _dt.time(0):
            return v.date().isoformat()
        return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _cells(ws):
    """(row, column, value, data type) of each non-empty cell, without building empty rows or columns."""
    ws.reset_dimensions()  # read the rows that are there; a wrong <dimension> must not pad or cut
    gap = None
    for r, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1), start=1):
        if row is gap:
            continue
        found = False
        for c, cell in enumerate(row, start=1):
            v = cell.value
            if v is None:
                continue
            found = True
            if c > MAX_COLUMNS:
                raise _TooBig(f"data in column {c:,}; a scenario sheet has at most {MAX_COLUMNS:,} columns")
            if r > MAX_ROWS:
                raise _TooBig(f"data in row {r:,}; a scenario sheet has at most {MAX_ROWS:,} rows")
            yield r, c, v, cell.data_type
        if not found and gap is None and all(cell.value is None for cell in row):
            gap = row  # openpyxl yields one shared tuple for every missing row


def _merged(archive: zipfile.ZipFile, ws) -> list[str]:
    """Merged ranges of a sheet (read-only mode does not report them, so its XML is read here)."""
    from defusedxml.ElementTree import iterparse

    member = getattr(ws, "_worksheet_path", None)  # openpyxl 3.1's read-only sheet keeps the path of its XML
    if not member:
        return []
    out = []
    with archive.open(member.lstrip("/")) as f:
        for _, el in iterparse(f):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell" and el.get("ref"):
                out.append(el.get("ref"))
            if tag in ("c", "row"):
                el.clear()
    return out


def _first_cell(rng: str) -> tuple[int, int]:
    from openpyxl.utils.cell import range_boundaries

    try:
        c, r, _, _ = range_boundaries(rng)
        return r or 1, c or 1
    except Exception:  # noqa: BLE001
        return 1, 1


# ---------------------------------------------------------------- blocks


@dataclass
class _Block:
    part: L.Part
    grid: Grid
    title_row: int | None
    header_row: int | None = None
    headers: dict[int, str] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)


def _title_of(row: dict[int, Any], titles: dict[str, L.Part]) -> str | None:
    if len(row) == 1 and 1 in row and isinstance(row[1], str) and row[1] in titles:
        return row[1]
    return None


def _blocks(g: Grid, stacked: bool, b: "_Builder") -> None:
    """Split a sheet into blocks: a title row (one cell, a part's title), a header row, data rows.

    Blank rows are skipped. In the one-sheet-per-part form the sheet's first
    block starts at its header (no title). Rows under a title that cannot be
    read (unknown, repeated, misplaced) are skipped after one message.
    """
    titles = L.by_title()
    on_sheet = {p.title: p for p in L.parts() if stacked or p.sheet == g.sheet}
    cur: _Block | None = None
    dead = False  # inside a block whose title was refused
    blocks: list[_Block] = []
    if not stacked:
        main = next(p for p in on_sheet.values() if p.main)
        cur = _Block(main, g, None)
        blocks.append(cur)
    seen: dict[str, int] = {}
    for r in g.rows():
        row = g.row(r)
        t = _title_of(row, titles)
        if t is not None:
            refused = None
            if t not in on_sheet:
                refused = f"the {t} table goes on its own sheet {titles[t].sheet!r}, not on {g.sheet!r}"
            elif t in seen:
                refused = f"a second {t} block (the first starts in row {seen[t]}); keep one"
            elif not stacked and on_sheet[t].main:
                refused = f"the {t} table starts in row 1 of its sheet, without a title row"
            if refused:
                b.problem(refused, g.at(r, 1))
                cur, dead = None, True
                continue
            seen[t] = r
            cur, dead = _Block(on_sheet[t], g, r), False
            blocks.append(cur)
            continue
        if _looks_like_title(row, titles, on_sheet):
            close = difflib.get_close_matches(row[1], list(on_sheet), n=1, cutoff=0.7)
            b.problem(f"unknown block title {row[1]!r}", g.at(r, 1), hint=f"did you mean {close[0]}?")
            cur, dead = None, True
            continue
        if dead:
            continue
        if cur is None:
            if stacked and not blocks:
                continue  # free text above the first block
            b.problem("a row outside any block; put a block title (e.g. Chips) above its header row", g.at(r, min(row)))
            dead = True
            continue
        if cur.header_row is None:
            cur.header_row = r
            cur.headers = row
            continue
        cur.rows.append(r)
    if stacked and not _has_settings(blocks):
        # not this layout at all (e.g. the Inputs sheet of a plan workbook from before it was re-solvable):
        # one message instead of one per cell
        settings = L.parts()[0].title
        b.problems[:] = [Problem(
            f"this {g.sheet} sheet does not hold a scenario in chipalloc's layout (no {settings} block: a title row "
            f"{settings}, then a header row field, value); solve the scenario file this workbook was made from",
            cell=g.at(1, 1))]
        return
    for blk in blocks:
        b.block(blk)


def _has_settings(blocks: list[_Block]) -> bool:
    settings = L.parts()[0]
    return any(blk.part is settings and blk.header_row is not None
               and [blk.headers[c] for c in sorted(blk.headers)] == L.header(settings) for blk in blocks)


def _looks_like_title(row: dict[int, Any], titles: dict[str, L.Part], on_sheet: dict[str, L.Part]) -> bool:
    """A lone text cell in column A that is close to a block title but is not one (a misspelt title)."""
    if not (len(row) == 1 and 1 in row and isinstance(row[1], str)) or row[1] in titles:
        return False
    text = row[1]
    if not (" " in text or text[:1].isupper()):
        return False  # ids and field names are lowercase
    return bool(difflib.get_close_matches(text, list(on_sheet), n=1, cutoff=0.7))


# ---------------------------------------------------------------- data


class _Builder:
    """Collects data, cell locations and problems from the blocks of every sheet read."""

    def __init__(self) -> None:
        self.data: dict = {}
        self.cells: dict[tuple, str] = {}
        self.problems: list[Problem] = []
        self.later: list[_Block] = []
        self.empty_tables: dict[tuple, tuple[str, L.Part]] = {}
        self.ids: dict[tuple, list[str]] = {}

    def problem(self, message: str, cell: str, path: str = "", hint: str = "") -> None:
        self.problems.append(Problem(message, path=path, cell=cell, hint=hint))

    def locate(self, path: tuple, cell: str) -> None:
        self.cells.setdefault(tuple(path), cell)

    def put(self, path: tuple, value: Any, cell: str) -> None:
        cur = self.data
        for i, p in enumerate(path[:-1]):
            nxt = cur.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[p] = nxt
            cur = nxt
            self.locate(path[: i + 1], cell)
        cur[path[-1]] = value
        self.cells[tuple(path)] = cell

    def block(self, blk: _Block) -> None:
        if blk.header_row is None:
            return
        self.locate(blk.part.path, blk.grid.at(blk.header_row, min(blk.headers)))  # the table as a whole
        if blk.part.kind == "long":
            self.later.append(blk)  # after the entities it refers to
            return
        getattr(self, "_" + blk.part.kind)(blk)

    def finish(self) -> None:
        for blk in self.later:
            self._long(blk)
        for path, (cell, sub) in self.empty_tables.items():
            if L.get_in(self.data, path):
                self.problem(f"{path[-1]} is given empty here and with rows on the {sub.title} "
                             f"{'sheet' if sub.main else 'block'}; keep one", cell, path=".".join(path))

    # -- headers
    def _columns(self, blk: _Block, fixed: list[str], leaves: tuple[L.Leaf, ...] = ()) -> dict[str, int] | None:
        """Header name -> column, checked: known names, no gaps, no repeats, the fixed ones present."""
        g, part = blk.grid, blk.part
        out: dict[str, int] = {}
        ok = True
        known = fixed + L.known_names(leaves)
        for c in sorted(blk.headers):
            hname = self._name(blk, blk.header_row, c, part.path)
            if hname is _SKIP:
                ok = False
                continue
            if hname in out:
                self.problem(f"column {hname!r} appears twice (first in column {out[hname]})", g.at(blk.header_row, c),
                             path=part.dotted)
                ok = False
                continue
            if hname not in fixed and L.resolve(leaves, hname) is None:
                self.problem(f"unknown column {hname!r}", g.at(blk.header_row, c), path=part.dotted,
                             hint=self._column_hint(part, hname, known))
                ok = False
                continue
            out[hname] = c
        for f in fixed:
            if f not in out:
                first = min(blk.headers) if blk.headers else 1
                self.problem(f"the {part.title} table has no {f!r} column; its header row starts "
                             + ", ".join(fixed), g.at(blk.header_row, first), path=part.dotted)
                ok = False
        used = set(out.values())
        for r in blk.rows:
            for c in g.row(r):
                if c not in used and c not in blk.headers:
                    self.problem("a value in a column with no header; give the column a header or clear the cell",
                                 g.at(r, c), path=part.dotted)
                    ok = False
        return out if ok else None

    def _column_hint(self, part: L.Part, name: str, known: list[str]) -> str:
        for p in L.parts():
            if p.path[: len(part.path)] == part.path and len(p.path) > len(part.path) and p is not part:
                rest = ".".join(p.path[len(part.path):])
                if name == rest or name.startswith(rest + "."):
                    return f"{name.split('.')[0]} go on the {p.title} " + ("sheet" if p.main else "block")
        for p in L.parts():
            if part.kind == "fields" and (p.dotted == name or name.startswith(p.dotted + ".")) and p.path:
                return f"{p.dotted} goes on the {p.title} " + ("sheet" if p.main else "block")
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            return f"did you mean {close[0]}?"
        return "columns: " + ", ".join(known)

    def _name(self, blk: _Block, r: int, c: int, path: tuple) -> Any:
        """A header, field name or path cell as text (a number reads as its digits)."""
        v = self._cell(blk, r, c, path, "a name", "Text")
        if v is _SKIP:
            return _SKIP
        if isinstance(v, str):
            return v.strip()
        return number_text(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)

    def _value(self, blk: _Block, r: int, c: int, ann: Any, path: tuple, meta: tuple = ()) -> Any:
        what = "a list" if is_list(ann) else "text" if ann is str else "a number" if ann in (int, float) else "a value"
        v = self._cell(blk, r, c, path, what, "Text" if what in ("text", "a list") else "Number",
                       "Excel took the entry for a date: ")
        return _SKIP if v is _SKIP else from_cell(v, ann, meta)

    def _cell(self, blk: _Block, r: int, c: int, path: tuple, what: str, fmt: str, why: str = "") -> Any:
        """The cell's value, or _SKIP with a located problem when it was refused on reading or is a date where
        ``what`` belongs (the fix: format the cell as ``fmt`` and type it again)."""
        v = blk.grid.cells[(r, c)]
        if isinstance(v, _Refused):
            self.problem(v.message, blk.grid.at(r, c), path=".".join(map(str, path)))
            return _SKIP
        if isinstance(v, _Date):
            self.problem(f"a date ({v}) where {what} belongs; {why}format the cell as {fmt} and type it again",
                         blk.grid.at(r, c), path=".".join(map(str, path)))
            return _SKIP
        return v

    # -- kinds
    def _fields(self, blk: _Block) -> None:
        part, g = blk.part, blk.grid
        cols = self._columns(blk, [L.FIELD, L.VALUE])
        if cols is None:
            return
        fc, vc = cols[L.FIELD], cols[L.VALUE]
        seen: dict[str, int] = {}
        known = L.known_names(part.leaves)
        owned = dict(L.owned(part))
        scalar_given: dict[tuple, str] = {}
        for r in blk.rows:
            row = g.row(r)
            if fc not in row:
                self.problem("a value with no field name; write the field (e.g. name) in the field column",
                             g.at(r, vc), path=part.dotted)
                continue
            label = self._name(blk, r, fc, part.path)
            if label is _SKIP:
                continue
            if label in seen:
                self.problem(f"field {label!r} is given twice (first in row {seen[label]}); keep one", g.at(r, fc),
                             path=_join(part.path, label))
                continue
            seen[label] = r
            found = L.resolve(part.leaves, label)
            if found is None and label in owned and vc in row and self._empty_table(blk, r, vc, owned[label]):
                continue
            if found is None:
                self.problem(f"unknown field {label!r}", g.at(r, fc), path=part.dotted,
                             hint=self._column_hint(part, label, known))
                continue
            if vc not in row:
                self.locate(part.path + tuple(label.split(".")), g.at(r, vc))
                continue
            leaf, key = found
            path = part.path + leaf.rel + ((key,) if key is not None else ())
            self._set_leaf(blk, r, vc, leaf, key, path, scalar_given)

    def _empty_table(self, blk: _Block, r: int, c: int, sub: L.Part) -> bool:
        """A row ``licenses`` = ``{}``: that table, given empty (where empty is not its default)."""
        v = blk.grid.cells[(r, c)]
        if not isinstance(v, str) or v.strip() not in ("{}", "[]"):
            return False
        self.put(sub.path, {} if v.strip() == "{}" else [], blk.grid.at(r, c))
        self.empty_tables[sub.path] = (blk.grid.at(r, c), sub)
        return True

    def _set_leaf(self, blk: _Block, r: int, c: int, leaf: L.Leaf, key: str | None, path: tuple,
                  scalar_given: dict[tuple, str]) -> None:
        """One value of a record or of Settings; a field given both as one value and per key is refused."""
        g = blk.grid
        ann = leaf.value_ann if key is not None else leaf.ann
        v = self._value(blk, r, c, ann, path, leaf.value_meta if key is not None else leaf.meta)
        if v is _SKIP:
            return
        base = path if key is None else path[:-1]
        other = scalar_given.get(base)
        mine = "one" if key is None else "keyed"
        if other is not None and other != mine and leaf.scalar and leaf.keyed:
            word = "period" if leaf.rel[-1] in L.PERIOD_KEYED else "key"
            self.problem(f"{leaf.name} is given both as one value and per {word} ({leaf.name}.<{word}>); "
                         "keep one form", g.at(r, c), path=".".join(map(str, base)))
            return
        scalar_given[base] = mine
        self.put(path, v, g.at(r, c))

    def _pairs(self, blk: _Block) -> None:
        part, g = blk.part, blk.grid
        kname, vname = part.columns
        cols = self._columns(blk, [kname, vname])
        if cols is None:
            return
        kc, vc = cols[kname], cols[vname]
        seen: dict[Any, int] = {}
        for r in blk.rows:
            row = g.row(r)
            if kc not in row:
                self.problem(f"a {vname} with no {kname}; write the {kname} in column {kname!r}", g.at(r, vc),
                             path=part.dotted)
                continue
            key = self._key(blk, r, kc, part.key_ann, part.path)
            if key is _SKIP:
                continue
            if key in seen:
                self.problem(f"{kname} {key!r} is given twice (first in row {seen[key]}); keep one", g.at(r, kc),
                             path=_join(part.path, key))
                continue
            seen[key] = r
            path = part.path + (key,)
            self.locate(path, g.at(r, kc))
            if vc not in row:
                self.put(path, None, g.at(r, vc))
                continue
            v = self._value(blk, r, vc, part.value_ann, path, part.value_meta)
            if v is not _SKIP:
                self.put(path, v, g.at(r, vc))

    def _key(self, blk: _Block, r: int, c: int, ann: Any, parent: tuple) -> Any:
        v = self._cell(blk, r, c, parent, "an id", "Text")
        if v is _SKIP:
            return _SKIP
        return key_from_cell(v.strip() if isinstance(v, str) else v, ann if ann is int else str)

    def _table(self, blk: _Block) -> None:
        part, g = blk.part, blk.grid
        fixed = [L.ID] if part.id_column else []
        cols = self._columns(blk, fixed, part.leaves)
        if cols is None:
            return
        ic = cols.get(L.ID)
        records: list[tuple[Any, int]] = []
        seen: dict[Any, int] = {}
        with_id = [r for r in blk.rows if ic is not None and ic in g.row(r)]
        as_list = part.optional_id and not with_id
        for r in blk.rows:
            row = g.row(r)
            if part.id_column and not as_list:
                if ic not in row:
                    msg = ("a licence with no id; give every row an id (a mapping) or none (a list)"
                           if part.optional_id else f"a row with no id; write the {part.title[:-1].lower() or 'row'}'s id in column id")
                    self.problem(msg, g.at(r, ic), path=part.dotted)
                    continue
                key = self._key(blk, r, ic, str, part.path)
                if key is _SKIP:
                    continue
                if key in seen:
                    self.problem(f"id {key!r} is given twice (first in row {seen[key]}); keep one", g.at(r, ic),
                                 path=_join(part.path, key))
                    continue
                seen[key] = r
            else:
                key = len(records)
            path = part.path + (key,)
            self.locate(path, g.at(r, ic if ic is not None and ic in row else min(row)))
            self._ensure(path)
            records.append((key, r))
            given: dict[tuple, str] = {}
            for name, c in cols.items():
                if name == L.ID or c not in row:
                    continue
                leaf, k = L.resolve(part.leaves, name)
                self._set_leaf(blk, r, c, leaf, k, path + leaf.rel + ((k,) if k is not None else ()), given)
        if not records:
            return
        self.ids[part.path] = [str(k) for k, _ in records]
        if not part.id_column or as_list:  # records were gathered under 0, 1, 2, ...: make them a list
            holder = L.get_in(self.data, part.path)
            self._replace(part.path, [holder[k] for k, _ in records])

    def _replace(self, path: tuple, value: Any) -> None:
        cur = self.data
        for p in path[:-1]:
            cur = cur.setdefault(p, {})
        cur[path[-1]] = value

    def _long(self, blk: _Block) -> None:
        part, g = blk.part, blk.grid
        ename, kname, vname = part.columns
        cols = self._columns(blk, [ename, kname, vname])
        if cols is None:
            return
        ec, kc, vc = cols[ename], cols[kname], cols[vname]
        owner = part.path[:-1]
        known = self.ids.get(owner, [])
        seen: dict[tuple, int] = {}
        for r in blk.rows:
            row = g.row(r)
            missing = [n for n, c in ((ename, ec), (kname, kc)) if c not in row]
            if missing:
                self.problem(f"a row with no {' and no '.join(missing)}", g.at(r, min(row)), path=part.dotted)
                continue
            ent = self._key(blk, r, ec, str, owner)
            key = self._key(blk, r, kc, part.key_ann, part.path)
            if ent is _SKIP or key is _SKIP:
                continue
            if ent not in known:
                close = difflib.get_close_matches(str(ent), known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "known: " + (", ".join(known) or "none")
                owner_part = L.part_for_path(owner)
                self.problem(f"unknown {ename} {ent!r}: not on the {owner_part.title if owner_part else ''} sheet",
                             g.at(r, ec), path=_join(owner, ent), hint=hint)
                continue
            if (ent, key) in seen:
                self.problem(f"{ename} {ent!r} and {kname} {key!r} are given twice (first in row {seen[(ent, key)]}); "
                             "keep one", g.at(r, kc), path=_join(owner + (ent,) + part.path[-1:], key))
                continue
            seen[(ent, key)] = r
            path = owner + (ent,) + part.path[-1:] + (key,)
            if vc not in row:
                self.put(path, None, g.at(r, vc))
                continue
            v = self._value(blk, r, vc, part.value_ann, path, part.value_meta)
            if v is not _SKIP:
                self.put(path, v, g.at(r, vc))

    def _changes(self, blk: _Block) -> None:
        from typing import Any as _Any

        part, g = blk.part, blk.grid
        idc_name = part.id_column
        cols = self._columns(blk, [idc_name, L.PATH, L.VALUE], part.leaves)
        if cols is None:
            return
        ic, pc, vc = cols[idc_name], cols[L.PATH], cols[L.VALUE]
        changes_name = "changes" if part.model is not None else None
        scalars_at: dict[tuple, int] = {}
        seen_path: dict[tuple, int] = {}
        for r in blk.rows:
            row = g.row(r)
            if ic not in row:
                self.problem(f"a row with no {idc_name}; write the {idc_name}'s name in column {idc_name!r}",
                             g.at(r, min(row)), path=part.dotted)
                continue
            name = self._key(blk, r, ic, str, part.path)
            if name is _SKIP:
                continue
            base = part.path + (name,)
            self.locate(base, g.at(r, ic))
            if L.get_in(self.data, base) is None:
                self._ensure(base)
            for cname, c in cols.items():
                if cname in (idc_name, L.PATH, L.VALUE) or c not in row:
                    continue
                leaf, k = L.resolve(part.leaves, cname)
                p = base + leaf.rel + ((k,) if k is not None else ())
                v = self._value(blk, r, c, leaf.value_ann if k is not None else leaf.ann, p,
                                leaf.value_meta if k is not None else leaf.meta)
                if v is _SKIP:
                    continue
                prev = L.get_in(self.data, p)
                if p in scalars_at and prev != v:
                    self.problem(f"{cname} of {idc_name} {name!r} is {prev!r} in row {scalars_at[p]} and {v!r} here; "
                                 "give it once", g.at(r, c), path=".".join(map(str, p)))
                    continue
                scalars_at.setdefault(p, r)
                self.put(p, v, g.at(r, c))
            if pc not in row:
                if vc in row:
                    self.problem("a value with no path; write the dotted path it sets, e.g. chips.h20.unit_price",
                                 g.at(r, vc), path=".".join(map(str, base)))
                continue
            dotted = self._name(blk, r, pc, base)
            if dotted is _SKIP:
                continue
            if (name, dotted) in seen_path:
                self.problem(f"path {dotted!r} is given twice for {idc_name} {name!r} (first in row "
                             f"{seen_path[(name, dotted)]}); keep one", g.at(r, pc), path=".".join(map(str, base)))
                continue
            seen_path[(name, dotted)] = r
            if vc not in row:
                self.problem(f"no value for {dotted}; write the value (null clears the field)", g.at(r, vc),
                             path=".".join(map(str, base)))
                continue
            target = base + ((changes_name,) if changes_name else ())
            v = self._value(blk, r, vc, _Any, target + (dotted,))
            if v is _SKIP:
                continue
            self._ensure(target)
            L.get_in(self.data, target)[dotted] = v
            where = g.at(r, vc)
            self.cells[target + (dotted,)] = where
            self.cells.setdefault(target + tuple(dotted.split(".")), where)
            self.locate(target, g.at(r, pc))

    def _ensure(self, path: tuple) -> None:
        cur = self.data
        for p in path:
            nxt = cur.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[p] = nxt
            cur = nxt


_SKIP = object()


def _join(path: tuple, *more: Any) -> str:
    return ".".join(str(x) for x in (*path, *more))
