"""How every sheet chipalloc writes prints: A4, margins, the footer (written once, for reports and scenario workbooks)."""
from __future__ import annotations

PAPER_A4 = 9  # XlsxWriter's paper index for A4
MARGINS_IN = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.7}
FOOTER = "&L&A&RPage &P of &N"  # sheet name left, page x of y right


def page_setup(ws, landscape: bool) -> None:
    """A4 in the given orientation, chipalloc's margins and footer, one page wide (as many tall as needed)."""
    ws.set_paper(PAPER_A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(**MARGINS_IN)
    ws.fit_to_pages(1, 0)
    ws.set_footer(FOOTER)
