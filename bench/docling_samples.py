#!/usr/bin/env python3
"""Ingests every document of docling's test data (../shared/data/docling-samples)
with ragd, one file per process, and reports:

- per format: files ingested, files refused with a clear error (each
  message), and failures (a crash, or an error that does not name the file);
- for the OCR samples: the character error rate of ragd's text against what
  each OCR engine docling tested read (its groundtruth/ocr/<engine>/ files);
- for tables: for one row of each table of docling's expected conversion, a
  question naming a cell and another column; whether a chunk among the top 5
  hits of that document holds both cells of the row.

Usage: bench/docling_samples.py RAGD [SAMPLES_DIR] [--out FILE.md] [--json FILE]
Standard library only; the Markdown report goes to stdout (and --out).
"""
import argparse
import collections
import html
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

FORMAT_OF = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".html": "html",
             ".md": "md", ".csv": "csv", ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image",
             ".tiff": "image", ".txt": "text"}


def run_json(cmd, timeout=900):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    try:
        data = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    return p.returncode, data, p.stderr


def normalise(s):
    s = re.sub(r"<!--.*?-->", " ", s)          # docling's image placeholders
    s = re.sub(r"[#*_`>|]", " ", s)           # Markdown marks
    return " ".join(s.split())


def cer(hyp, ref):
    """Levenshtein distance over characters / length of the reference."""
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, hc in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc))
        prev = cur
    return prev[-1] / len(ref)


def plain(cell):
    """A cell of docling's Markdown as text: links, images, emphasis, code,
    list marks, entities and image placeholders removed."""
    s = html.unescape(cell.replace("\\|", "|"))
    s = re.sub(r"<!--.*?-->", " ", s)
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"(\*\*|__|\*|`|~~)", "", s)
    s = re.sub(r"(^|\s)[-+] ", " ", s)
    s = re.sub(r"\$[^$]*\$", " ", s)
    s = re.sub(r"(\d{4}-\d\d-\d\d) 00:00:00", r"\1", s)   # a date cell as a datetime
    return " ".join(s.split())


def markdown_tables(text):
    """Tables of a Markdown file: (header cells, [row cells])."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.strip().startswith("|"):
            block.append(line.strip())
            continue
        if len(block) >= 3 and re.fullmatch(r"\|[\s\-:|]+\|", block[1]):
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in block]
            tables.append((cells[0], cells[2:]))
        block = []
    return tables


def doc_chunks(data, kb, doc_id):
    """The chunks of one document in order: (text, OCR confidence or None),
    read from the knowledge base's SQLite file."""
    db = sqlite3.connect(os.path.join(data, kb, "kb.sqlite"))
    try:
        return db.execute("SELECT text, ocr_confidence FROM chunks WHERE doc_id = ? ORDER BY chunk_index",
                          (doc_id,)).fetchall()
    finally:
        db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ragd")
    ap.add_argument("samples", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                                   "docling-samples"))
    ap.add_argument("--out")
    ap.add_argument("--json")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    samples = os.path.abspath(args.samples)
    if not os.path.isdir(samples):
        sys.exit(f"no docling samples at {samples}")
    rng = random.Random(args.seed)
    files = []
    for root, dirs, names in os.walk(samples):
        dirs[:] = sorted(d for d in dirs if d != "groundtruth")
        for n in sorted(names):
            files.append(os.path.join(root, n))
    data = tempfile.mkdtemp(prefix="ragd-docling-")
    per_format = collections.defaultdict(lambda: {"files": 0, "ingested": 0, "refused": [], "failed": [], "chunks": 0,
                                                  "ocr_chunks": 0, "seconds": 0.0})
    results = {}
    for path in files:
        ext = os.path.splitext(path)[1].lower()
        fmt = FORMAT_OF.get(ext, ext.lstrip(".") or "none")
        row = per_format[fmt]
        row["files"] += 1
        t0 = time.time()
        rc, rep, err = run_json([args.ragd, "--data-dir", data, "-q", "ingest", path, "--kb", fmt, "--json"])
        row["seconds"] += time.time() - t0
        rel = os.path.relpath(path, samples)
        if rep is None or rc not in (0, 3):
            row["failed"].append((rel, f"exit {rc}: {err.strip()[-200:]}"))
            continue
        if rep.get("failed"):
            msg = rep["failed"][0].get("error", "")
            named = os.path.basename(path) in msg
            (row["refused"] if named else row["failed"]).append((rel, msg))
            continue
        row["ingested"] += 1
        row["chunks"] += rep.get("chunks", 0)
        results[path] = fmt

    lines = ["| format | files | ingested | refused, with the reason | failed | chunks | OCR chunks | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    # OCR: character error rate against each engine's reading.
    ocr_rows = []
    gt_ocr = os.path.join(samples, "groundtruth", "ocr")
    for path, fmt in sorted(results.items()):
        chunks = doc_chunks(data, fmt, path)
        per_format[fmt]["ocr_chunks"] += sum(1 for _, c in chunks if c is not None)
        if "/ocr/" not in path:
            continue
        stem = os.path.splitext(os.path.basename(path))[0]
        text = normalise(" ".join(t for t, _ in chunks))
        conf = [c for _, c in chunks if c is not None]
        for engine in sorted(os.listdir(gt_ocr)) if os.path.isdir(gt_ocr) else []:
            ref_path = os.path.join(gt_ocr, engine, "full_page", f"{stem}.{engine}.full_page.md")
            if os.path.exists(ref_path):
                ref = normalise(open(ref_path, encoding="utf-8").read())
                ocr_rows.append((os.path.basename(path), engine, len(ref), cer(text, ref),
                                 sum(conf) / len(conf) if conf else None))
    for fmt in sorted(per_format):
        r = per_format[fmt]
        refused = "; ".join(f"{os.path.basename(p)}: {m}" for p, m in r["refused"]) or "—"
        failed = "; ".join(f"{os.path.basename(p)}: {m}" for p, m in r["failed"]) or "0"
        lines.append(f"| {fmt} | {r['files']} | {r['ingested']} | {len(r['refused'])}: {refused} | {failed} | "
                     f"{r['chunks']} | {r['ocr_chunks']} | {r['seconds']:.1f} |")
    lines += ["", "| OCR sample | reference engine | reference chars | CER | ragd's mean OCR confidence |",
              "|---|---|---|---|---|"]
    for name, engine, n, c, conf in ocr_rows:
        lines.append(f"| {name} | {engine} | {n} | {c:.3f} | {'—' if conf is None else f'{conf:.2f}'} |")

    # Tables: a question about one cell of one row of each expected table.
    table_rows = []
    gt = os.path.join(samples, "groundtruth")
    for path, fmt in sorted(results.items()):
        base = os.path.basename(path)
        folder = {"image": "ocr"}.get(fmt, fmt)
        cands = [os.path.join(gt, folder, base + ".md"), os.path.join(gt, folder, os.path.splitext(base)[0] + ".md")]
        ref = next((c for c in cands if os.path.exists(c)), None)
        if not ref:
            continue
        for t, (header, rows) in enumerate(markdown_tables(open(ref, encoding="utf-8").read())):
            header = [plain(h) for h in header]
            rows = [[plain(c) for c in r] for r in rows]
            rows = [r for r in rows if sum(1 for c in r if len(c) >= 1) >= 2]
            if len(header) < 2 or not rows:
                continue
            row = rng.choice(rows)
            cells = [(i, c) for i, c in enumerate(row) if c and i < len(header)]
            named = max(cells, key=lambda ic: (not re.fullmatch(r"[\d.,%\s-]+", ic[1]), len(ic[1])))
            others = [(i, c) for i, c in cells if i != named[0] and header[i]]
            if not others:
                continue
            col, value = rng.choice(others)
            question = f"{header[col]} of {named[1]}"
            rc, hits, _ = run_json([args.ragd, "--data-dir", data, "-q", "search", "--kb", fmt, "--json", "-k", "5",
                                    "--filter", f"doc_id={path}", question])
            flat = lambda s: "".join(s.replace("\\|", "|").split()).lower()
            found = any(flat(named[1]) in flat(h["text"]) and flat(value) in flat(h["text"])
                        for h in (hits or {}).get("results", []))
            table_rows.append((base, t + 1, question, value, found))
    found = sum(1 for r in table_rows if r[4])
    lines += ["", f"Table rows retrieved (both cells in one of the document's top 5 hits): {found} of {len(table_rows)}",
              "", "| document | table | question | expected cell | retrieved |", "|---|---|---|---|---|"]
    for base, t, q, v, ok in table_rows:
        q = q.replace("|", "\\|")[:80]
        lines.append(f"| {base} | {t} | {q} | {v.replace('|', chr(92) + '|')[:40]} | {'yes' if ok else 'no'} |")
    report = "\n".join(lines) + "\n"
    sys.stdout.write(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"formats": per_format, "ocr": ocr_rows, "tables": table_rows}, f, indent=1, default=list)


if __name__ == "__main__":
    main()
