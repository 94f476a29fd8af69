#!/usr/bin/env python3
"""Builds the example knowledge base's PDF and DOCX from the project's own
text in examples/sources/ (fpdf2 and python-docx, pinned in requirements.txt).

Usage: make_examples.py SOURCES_DIR OUT_DIR LATIN_FONT.ttf CJK_FONT.ttf
"""
import json
import sys
from pathlib import Path

from docx import Document
from fpdf import FPDF


def make_pdf(src: Path, out: Path, latin: Path, cjk: Path) -> None:
    spec = json.loads(src.read_text(encoding="utf-8"))
    pdf = FPDF(format="A4")
    pdf.set_title(spec["title"])
    pdf.set_creator("ragd examples")
    pdf.add_font("latin", fname=str(latin))
    pdf.add_font("cjk", fname=str(cjk))
    # Latin text in DejaVu; characters it lacks fall back to the CJK font.
    pdf.set_fallback_fonts(["cjk"])
    pdf.set_margins(20, 20, 20)
    for page in spec["pages"]:
        pdf.add_page()
        pdf.set_fallback_fonts(["cjk"])
        pdf.set_font("latin", size=16)
        pdf.multi_cell(0, 9, spec["title"] if pdf.page_no() == 1 else page["heading"])
        if pdf.page_no() == 1:
            pdf.ln(4)
            pdf.set_font("latin", size=13)
            pdf.multi_cell(0, 8, page["heading"])
        pdf.ln(3)
        pdf.set_font("latin", size=11)
        for para in page["paragraphs"]:
            # fpdf2 mis-wraps Latin lines when a fallback font is active, so
            # the CJK fallback is switched on only for paragraphs that need it.
            pdf.set_fallback_fonts(["cjk"] if any(ord(ch) > 0x2E80 for ch in para) else [])
            pdf.multi_cell(0, 6.5, para)
            pdf.ln(3)
    tmp = out.with_suffix(".pdf.tmp")
    pdf.output(str(tmp))
    tmp.replace(out)


def make_docx(src: Path, out: Path) -> None:
    spec = json.loads(src.read_text(encoding="utf-8"))
    doc = Document()
    doc.core_properties.title = spec["title"]
    doc.add_heading(spec["title"], level=1)
    for section in spec["sections"]:
        doc.add_heading(section["heading"], level=2)
        for para in section["paragraphs"]:
            doc.add_paragraph(para)
        if "table" in section:
            rows = section["table"]
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    tmp = out.with_suffix(".docx.tmp")
    doc.save(str(tmp))
    tmp.replace(out)


def main() -> None:
    sources, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    latin, cjk = Path(sys.argv[3]), Path(sys.argv[4])
    out_dir.mkdir(parents=True, exist_ok=True)
    make_pdf(sources / "policy.json", out_dir / "credit-card-policy.pdf", latin, cjk)
    make_docx(sources / "product-sheet.json", out_dir / "platinum-card.docx")


if __name__ == "__main__":
    main()
