#!/usr/bin/env python3
"""Builds the example knowledge base's PDF and DOCX, and the documents of
examples/documents/ (a slide deck, a workbook, a PDF with scanned pages and
a scanned image), from the project's own text in examples/sources/ (fpdf2,
python-docx, python-pptx, openpyxl and Pillow, pinned in requirements.txt).

Usage: make_examples.py SOURCES_DIR OUT_DIR DOCS_OUT_DIR LATIN_FONT.ttf CJK_FONT.ttf
"""
import datetime
import io
import json
import sys
from pathlib import Path

from docx import Document
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from PIL import Image, ImageDraw, ImageFont
from pptx import Presentation
from pptx.util import Inches, Pt


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


def replace_atomically(out: Path, data: bytes) -> None:
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def make_pptx(spec: dict, out: Path) -> None:
    """Title-and-content slides (a table on one), each with speaker notes."""
    deck = Presentation()
    deck.core_properties.title = spec["title"]
    for slide_spec in spec["slides"]:
        slide = deck.slides.add_slide(deck.slide_layouts[5 if "table" in slide_spec else 1])
        slide.shapes.title.text = slide_spec["title"]
        if "body" in slide_spec:
            frame = slide.placeholders[1].text_frame
            frame.text = slide_spec["body"][0]
            for line in slide_spec["body"][1:]:
                frame.add_paragraph().text = line
        if "table" in slide_spec:
            rows = slide_spec["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(2), Inches(6), Inches(2))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    shape.table.cell(r, c).text = cell
        slide.notes_slide.notes_text_frame.text = slide_spec["notes"]
    buf = io.BytesIO()
    deck.save(buf)
    replace_atomically(out, buf.getvalue())


def make_xlsx(spec: dict, out: Path) -> None:
    """Sheets with a header row (one under a title row), numbers and dates as
    typed cells."""
    book = Workbook()
    book.remove(book.active)
    book.properties.title = spec["title"]
    for sheet_spec in spec["sheets"]:
        sheet = book.create_sheet(sheet_spec["name"])
        if "title" in sheet_spec:
            sheet.append([sheet_spec["title"]])
        for row in sheet_spec["rows"]:
            cells = []
            for v in row:
                if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                    v = datetime.date.fromisoformat(v)
                cells.append(v)
            sheet.append(cells)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, datetime.datetime):
                    cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    book.save(buf)
    replace_atomically(out, buf.getvalue())


def render_lines(lines: list, font_path: Path, rotate: int) -> Image.Image:
    """Black text on a white A4 page at 200 dpi, as a scanner gives it,
    turned by `rotate` degrees clockwise."""
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(font_path), 44)
    y = 200
    for line in lines:
        draw.text((160, y), line, font=font, fill=0)
        y += 90
    return page.rotate(-rotate, expand=True) if rotate else page


def make_scans(spec: dict, docs_dir: Path, latin: Path, cjk: Path) -> None:
    """A PDF whose first page has a text layer and whose other pages are
    images only (one upside down), and a PNG turned a quarter."""
    pdf = FPDF(format="A4")
    pdf.set_title(spec["title"])
    pdf.add_font("latin", fname=str(latin))
    pdf.add_page()
    pdf.set_font("latin", size=16)
    pdf.multi_cell(0, 9, spec["text_page"][0])
    pdf.ln(4)
    pdf.set_font("latin", size=11)
    pdf.multi_cell(0, 6.5, spec["text_page"][1])
    pdf.ln(6)
    with pdf.table(col_widths=(60, 50, 50), text_align="LEFT", headings_style=FontFace(emphasis=None)) as table:
        for row in spec["table"]:
            cells = table.row()
            for value in row:
                cells.cell(value)
    for scanned in spec["scanned_pages"]:
        image = render_lines(scanned["lines"], cjk if scanned["lang"] == "zh" else latin, scanned["rotate"])
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=210, h=297)
    replace_atomically(docs_dir / "branch-notice.pdf", bytes(pdf.output()))
    image = render_lines(spec["image"]["lines"], latin, spec["image"]["rotate"])
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(200, 200))
    replace_atomically(docs_dir / "rate-card.png", buf.getvalue())


def main() -> None:
    sources, out_dir, docs_dir = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    latin, cjk = Path(sys.argv[4]), Path(sys.argv[5])
    out_dir.mkdir(parents=True, exist_ok=True)
    docs_dir.mkdir(parents=True, exist_ok=True)
    make_pdf(sources / "policy.json", out_dir / "credit-card-policy.pdf", latin, cjk)
    make_docx(sources / "product-sheet.json", out_dir / "platinum-card.docx")
    documents = json.loads((sources / "documents.json").read_text(encoding="utf-8"))
    make_pptx(documents["deck"], docs_dir / "deposit-briefing.pptx")
    make_xlsx(documents["workbook"], docs_dir / "fee-schedule.xlsx")
    make_scans(documents["scan"], docs_dir, latin, cjk)


if __name__ == "__main__":
    main()
