"""``chipalloc template``: a documented starting workbook, and the Read me sheet of every scenario workbook.

The example is a valid schema-version-2 scenario with one row on every sheet
(figures from the shared chip reference; the capacities, lease and outcome
probabilities are placeholders to replace). The Read me's table of columns
is generated from the schema, so it lists every field with its rule and
default.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from . import layout as L
from .write import _default, _Styles, rule, write_scenario_workbook

EXAMPLE: dict[str, Any] = {
    "schema_version": 2,
    "name": "Example 2025 plan (replace with yours)",
    "description": "One site in China, two chips, two half-year periods. Replace the example rows with your own.",
    "currency": "CNY",
    "fx": {"USD": 7.2},
    "integer_units": True,
    "periods": ["2025h1", "2025h2"],
    "flexibility": {"gpgpu": 1.0, "asic": 0.75},
    "vendors": {
        "huawei": {"name": "Huawei", "origin": "CN", "capacity_units": {"2025h1": 80000, "2025h2": 120000},
                   "delivery_rate": 0.85, "max_share": 0.7},
        "nvidia": {"name": "NVIDIA", "origin": "US", "delivery_rate": 0.95},
    },
    "chips": {
        "ascend910c": {"vendor": "huawei", "model": "Huawei Ascend 910C", "architecture": "asic", "int8_tops": 1600,
                       "unit_price": 28600, "price_currency": "USD", "die_area_mm2": 1331, "power_w": 800,
                       "max_units": 70000},
        "h20": {"vendor": "nvidia", "model": "NVIDIA H20", "architecture": "gpgpu", "int8_tops": 296,
                "unit_price": 110000, "tpp": 2368, "die_area_mm2": 814, "power_w": 400},
    },
    "sites": {
        "cn": {"name": "Mainland China", "country": "CN", "budget": {"amount": 40e9, "currency": "CNY"},
               "domestic_min_share": 0.6, "power_mw": 300, "prices": {"h20": 105000}},
    },
    "leases": {
        "cn-h20": {"site": "cn", "chip": "h20", "operator": "Example data-centre operator", "price_per_period": 9000,
                   "max_units": 5000},
    },
    "export_controls": {
        "regime": "US EAR 3A090 (Oct 2023)",
        "origins": ["US"],
        "controlled_if": [{"tpp_min": 4800}, {"tpp_min": 1600, "density_min": 5.92}],
        "default_tier": 1,
        "tiers": {"CN": 3},
        "tier_rules": {1: "allow", 2: "cap", 3: "deny"},
        "tpp_caps": {"MY": 790e6},
        "licenses": {"h20-cn": {"chip": "h20", "country": "CN", "status": "allow",
                                "note": "licence assumed granted from the second half", "from": "2025h2"}},
    },
    "uncertainty": {
        "revealed": "2025h2",
        "outcomes": {
            "granted": {"probability": 0.6, "description": "H20 licence granted"},
            "denied": {"probability": 0.4, "description": "no H20 licence",
                       "changes": {"export_controls.licenses.h20-cn.status": "deny"}},
        },
    },
    "variants": {"budget_cut_20": {"sites.cn.budget.amount": 32e9}},
}

README_LINES = [
    "How to fill it in",
    "Each sheet is one part of the scenario. Row 1 is the header; one row per entry; the example rows show the form: "
    "replace them with yours.",
    "An empty cell means 'not given': the default applies (see the table below).",
    "Ids (column id) use lowercase letters, digits, _ and -. Other sheets name them: a chip's vendor, a price's site.",
    "Lists (periods, origins, a site's chips) are one cell, comma-separated: 2025h1, 2025h2. [] is an empty list.",
    "A value per period goes in columns named field.period, e.g. capacity_units.2025h1 (one column per period; "
    "leave the plain capacity_units empty). Add or delete such columns as you need.",
    "Fractions of 1 (shares, delivery rates, probabilities) show as percentages: type 60% or 0.6.",
    "Variants and Outcomes: one row per changed value, with its dotted path (as --set takes it) and the value "
    "(0.6, true, null, text, {1: allow}). The Export controls sheet has titled blocks below its settings.",
    "A formula in an input cell is read as its stored value (Excel and LibreOffice store it when saving).",
    "Then: chipalloc validate FILE.xlsx; chipalloc solve FILE.xlsx. chipalloc convert FILE.xlsx FILE.yaml "
    "gives the same scenario as YAML (and back).",
    "Errors name the sheet and cell: FILE.xlsx: Chips!F3: chips.h20.unit_price: 'about 95k': expected a number",
    "The sheets Read me and Lists (hidden: the country codes behind the drop-downs) are not read.",
]


def example() -> dict:
    """The template's example scenario as plain data (a fresh copy)."""
    return copy.deepcopy(EXAMPLE)


def readme_rows() -> list[tuple[str, str, str, str, str]]:
    """(sheet, column or field, required, rule, default) for every value of the layout, from the schema."""
    out: list[tuple[str, str, str, str, str]] = []
    for p in L.parts():
        where = p.sheet if p.main else f"{p.sheet}: block {p.title}"
        if p.kind in ("fields", "table", "changes"):
            if p.id_column:
                out.append((where, p.id_column, "yes" if not p.optional_id else "all or none",
                            "an id: lowercase letters, digits, _ and -" +
                            ("; empty for a list of licences" if p.optional_id else ""), ""))
            for lf in p.leaves:
                req = "yes" if lf.info is not None and lf.info.is_required() else ""
                if lf.scalar:
                    text = rule(lf.ann, lf.meta, lf.name)
                    if lf.keyed:
                        text += f"; or per {_key_word(lf)}: columns {lf.name}.<{_key_word(lf)}>"
                    out.append((where, lf.name, req, text, _show_default(_default(lf))))
                elif lf.keyed:
                    out.append((where, f"{lf.name}.<{_key_word(lf)}>", req,
                                rule(lf.value_ann, lf.value_meta, lf.name) + f", one column per {_key_word(lf)}", ""))
            if p.kind == "changes":
                out.append((where, L.PATH, "with a value", "a dotted path, as --set takes it: chips.h20.unit_price", ""))
                out.append((where, L.VALUE, "with a path", rule(Any), ""))
        else:
            cols = list(p.columns)
            anns = [(p.key_ann, ())] if p.kind == "pairs" else [(str, ()), (p.key_ann, ())]
            anns.append((p.value_ann, p.value_meta))
            for name, (ann, meta) in zip(cols, anns):
                out.append((where, name, "yes", rule(ann, meta, name), ""))
    return out


def _key_word(lf: L.Leaf) -> str:
    return "period" if lf.rel[-1] in L.PERIOD_KEYED else "key"


def _show_default(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, list):
        return ", ".join(map(str, v)) if v else "[]"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items())
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def add_readme_sheet(wb, title: str = "chipalloc scenario workbook") -> None:
    """The Read me sheet: how the workbook is laid out, and every column with its rule and default."""
    st = _Styles(wb)
    ws = wb.add_worksheet(L.README_SHEET)
    big = wb.add_format({"bold": True, "font_size": 14})
    ws.write_string(0, 0, title, big)
    r = 2
    for i, line in enumerate(README_LINES):
        if i == 0:
            ws.write_string(r, 0, line, st.title)
        else:
            ws.write_string(r, 0, line)
        r += 1
    r += 1
    ws.write_string(r, 0, "Every sheet, column and rule (from the schema)", st.title)
    r += 1
    head = ["sheet", "column or field", "required", "what it holds", "default"]
    for c, h in enumerate(head):
        ws.write_string(r, c, h, st.header)
    top = r
    for row in readme_rows():
        r += 1
        for c, v in enumerate(row):
            if v:
                ws.write_string(r, c, v, st.text)
    ws.autofilter(top, 0, r, len(head) - 1)
    for c, w in enumerate((26, 30, 12, 90, 22)):
        ws.set_column(c, c, w)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(top)
    ws.activate()


def write_template(path: str | Path, force: bool = False) -> Path:
    """Write the starting workbook: Read me, then every sheet with its example rows."""
    return write_scenario_workbook(path, example(), force=force, before=add_readme_sheet)
