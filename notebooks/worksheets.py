"""One printable worksheet per lesson (PDF, one A4 page), built from the lessons' sources.

Each worksheet holds the lesson's title and question, then for every exercise its prompt
with a box for the student's prediction (written before running anything) and one for
what they measured, and an exit ticket. The text comes from ``notebooks/source/*.md``,
so a worksheet never disagrees with its notebook. Fonts (DejaVu, shipped with matplotlib)
are embedded.

    python notebooks/worksheets.py --out build/worksheets      # what `make worksheets` runs
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

import matplotlib
from fpdf import FPDF

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("notebooks_build", HERE / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
PAGE_BOTTOM_MM = 287.0  # A4 is 297 mm tall; 10 mm margin


class WorksheetError(Exception):
    """A worksheet that does not fit on one page."""


def plain(markdown: str) -> str:
    """Markdown and inline LaTeX of a prompt, as plain text for print."""
    text = re.sub(r"\$+([^$]*)\$+", lambda m: m.group(1).replace("\\", ""), markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"\*{1,2}([^*]+)\*{1,2}", r"\1", text).replace("`", "")
    return " ".join(text.replace("*", "").split())


def lesson(source: Path) -> dict:
    """Title, opening question and exercise prompts of one lesson source."""
    cells = build.parse(source.read_text(), name=source.name)
    first = cells[0].text.split("\n\n")
    title = first[0].lstrip("# ").strip()
    question = plain(first[1]) if len(first) > 1 else ""
    prompts = []
    for before, cell in zip(cells, cells[1:], strict=False):
        if cell.kind == "solution":
            paragraph = before.text.split("\n\n")[-1]
            prompts.append(plain(paragraph))
    return {"title": title, "question": question, "exercises": prompts}


def _box(pdf: FPDF, x: float, y: float, w: float, h: float, label: str) -> None:
    pdf.set_draw_color(110, 110, 110)
    pdf.rect(x, y, w, h)
    pdf.set_xy(x + 2, y + 1.5)
    pdf.set_font("DejaVu", "B", 8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(w - 4, 4, label)
    pdf.set_text_color(0, 0, 0)


def worksheet(source: Path) -> FPDF:
    """The one-page worksheet of a lesson source."""
    info = lesson(source)
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 12, 15)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"fewpoints worksheet: {info['title']}")
    pdf.set_creator("fewpoints notebooks/worksheets.py")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(width, 9, f"Lesson {info['title']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    pdf.cell(
        width,
        7,
        "Name: ______________________   Partner: ______________________   Date: __________",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(width, 4.6, info["question"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font("DejaVu", "B", 9.5)
    pdf.multi_cell(
        width,
        4.6,
        "For each exercise: write your prediction BEFORE you run anything, then run it and write what you measured.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1.5)
    exit_h, footer_h = 24.0, 8.0
    n = len(info["exercises"])
    # Lay the prompts out first (to know how much room the boxes get), then draw.
    heights = []
    for prompt in info["exercises"]:
        pdf.set_font("DejaVu", "", 9)
        lines = pdf.multi_cell(width, 4.3, prompt, dry_run=True, output="LINES")
        heights.append(4.3 * len(lines) + 1.5)
    room = PAGE_BOTTOM_MM - footer_h - exit_h - 4 - pdf.get_y() - sum(heights) - 4 * n
    box_h = min(42.0, room / max(n, 1))
    if box_h < 18:
        raise WorksheetError(
            f"{source.name}: the exercises leave {box_h:.0f} mm per answer box (18 needed)"
        )
    for prompt in info["exercises"]:
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(width, 4.3, prompt, new_x="LMARGIN", new_y="NEXT")
        y = pdf.get_y() + 1
        half = (width - 4) / 2
        _box(pdf, pdf.l_margin, y, half, box_h, "My prediction (before running)")
        _box(pdf, pdf.l_margin + half + 4, y, half, box_h, "What I measured, and was I right?")
        pdf.set_xy(pdf.l_margin, y + box_h + 3)
    y = pdf.get_y()
    _box(
        pdf,
        pdf.l_margin,
        y,
        width,
        exit_h,
        "Exit ticket: what surprised you most? What question does it raise?",
    )
    pdf.set_xy(pdf.l_margin, y + exit_h + 2)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(
        width,
        4,
        f"fewpoints, {source.stem}.ipynb. All data in the lessons are synthetic: no real person is in any table.",
    )
    if pdf.page_no() != 1 or pdf.get_y() > PAGE_BOTTOM_MM:
        raise WorksheetError(f"{source.name}: the worksheet runs past one page")
    return pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "build" / "worksheets")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for source in sorted(build.SOURCES.glob("*.md")):
        path = args.out / f"{source.stem}.pdf"
        worksheet(source).output(str(path))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
