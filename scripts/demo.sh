#!/usr/bin/env bash
# The main job, offline: ingest the bundled example knowledge base and answer
# questions about it with the packaged local chat model, citing the sources.
# Fails loudly if an answer misses its fact or does not cite the document that
# holds it. Answers are greedy (the default), and only facts are checked,
# never a whole sentence: the exact wording differs between CPUs.
set -euo pipefail
RAGD="$1"
DATA="$2"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export RAGD_DATA_DIR="$DATA"

echo "== ingesting examples/bank-kb into knowledge base 'bank' (data in $DATA)"
"$RAGD" ingest "$ROOT/examples/bank-kb" --kb bank

# ask EXPECTED-FILE FACTS QUESTION [KB [GLOBAL FLAGS...]]
# FACTS: "a|b" = each of a and b; "a/b" = a or b. Commas are ignored.
ask() {
  local expected="$1" facts="$2" question="$3" kb="${4:-bank}"
  local flags=("${@:5}")
  echo
  echo "== [$kb] $question"
  # Streamed as a person sees it, then checked through --json (greedy: the
  # same answer).
  "$RAGD" "${flags[@]}" ask "$question" --kb "$kb"
  "$RAGD" "${flags[@]}" ask "$question" --kb "$kb" --json | python3 -c '
import json, os, sys
expected, facts = sys.argv[1], sys.argv[2].split("|")
r = json.load(sys.stdin)
cited = [os.path.basename(s["source"]) for s in r["sources"] if s["cited"]]
text = r["answer"].replace(",", "").replace("，", "")
missing = [f for f in facts if not any(alt.replace(",", "") in text for alt in f.split("/"))]
if expected not in cited:
    sys.exit(f"demo: expected the answer to cite {expected}, it cited: {cited}")
if missing:
    sys.exit("demo: the answer misses %s: %r" % (missing, r["answer"]))
' "$expected" "$facts"
}

ask platinum-card.docx "1200" "What is the annual fee for the Platinum credit card?"
ask handbook.md "1|3" "How long does an international wire transfer take?"
ask faq.csv "400-820-6688" "挂失银行卡要打哪个电话？"
ask faq.csv "demand-deposit/demand deposit/current" "Can I take money out of a fixed deposit early?"

echo
echo "== a question the knowledge base cannot answer"
"$RAGD" ask "What is the capital of France?" --kb bank
"$RAGD" ask "What is the capital of France?" --kb bank --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if not r["found"] else "demo: the off-topic question was answered: " + r["answer"])'


echo
echo "== documents as people have them: a slide deck, a workbook, a PDF with scanned pages and a scanned image"
echo "   (examples/documents, read with OCR where there is no text) into knowledge base 'docs'"
"$RAGD" ingest "$ROOT/examples/documents" --kb docs
ask fee-schedule.xlsx "380" "What is the annual fee of the Gold card?" docs
ask branch-notice.pdf "10:00|14:00" "What are the Saturday opening hours of the Riverside branch?" docs

echo
echo "== more Chinese questions (the default embedder, multilingual-e5-small, reads both languages)"
ask credit-card-policy.pdf "万分之五/0.05%|5%" "信用卡逾期还款会怎么样？"
ask faq.csv "身份证件" "外币兑换需要什么材料？"
echo
echo "demo: every answer states its fact and cites the document that holds it"
