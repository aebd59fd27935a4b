"""How numbers are written in sentences (terminal, JSON text, workbook text): once, here.

- :func:`format_value`: as typed after ``--set PATH=`` (no separators, no exponent noise);
- :func:`num`: in a sentence (thousands separators; short decimals);
- :func:`pct`: a share as a percentage with up to four decimals;
- :func:`sig`: a computed figure (a shadow price, a TOPS gain) with separators.
"""
from __future__ import annotations

from decimal import Decimal


def format_value(x: float) -> str:
    """A number as it should be typed after ``--set PATH=`` (no separators, no exponent noise)."""
    if x == 0:
        return "0"
    if float(x).is_integer() and abs(x) < 1e21:
        return str(int(x))
    d = Decimal(repr(float(x))).normalize()
    return format(d, "f")


def num(x: float) -> str:
    """A scenario number in a sentence: 142,000; 28,600.5; 0.85."""
    if float(x).is_integer() and abs(x) < 1e21:
        return f"{int(x):,}"
    if abs(x) >= 1000:
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return format_value(x)


def pct(x: float) -> str:
    """0.6 -> 60%; 0.8978 -> 89.78%."""
    v = 100.0 * x
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def sig(x: float) -> str:
    """A computed figure: whole with separators from 100 on, else 4 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"
