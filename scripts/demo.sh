#!/usr/bin/env bash
# The main job, offline: ingest the bundled example knowledge base and answer
# questions about it with the packaged local chat model, citing the sources.
# Fails loudly if an answer does not cite the document that holds it.
set -euo pipefail
RAGD="$1"
DATA="$2"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export RAGD_DATA_DIR="$DATA"

echo "== ingesting examples/bank-kb into knowledge base 'bank' (data in $DATA)"
"$RAGD" ingest "$ROOT/examples/bank-kb" --kb bank

ask() {  # ask EXPECTED-FILE QUESTION [KB [GLOBAL FLAGS...]]
  local expected="$1" question="$2" kb="${3:-bank}"
  local flags=("${@:4}")
  echo
  echo "== [$kb] $question"
  # Streamed as a person sees it, then checked through --json (same seed).
  "$RAGD" "${flags[@]}" ask "$question" --kb "$kb" --seed 1
  local cited
  cited="$("$RAGD" "${flags[@]}" ask "$question" --kb "$kb" --seed 1 --json |
    python3 -c 'import json,sys,os; r=json.load(sys.stdin); print(" ".join(os.path.basename(s["source"]) for s in r["sources"] if s["cited"]))')"
  if [[ " $cited " != *" $expected "* ]]; then
    echo "demo: expected the answer to cite $expected, it cited: '$cited'" >&2
    exit 1
  fi
}

ask platinum-card.docx "What is the annual fee for the Platinum credit card?"
ask handbook.md "How long does an international wire transfer take?"
ask faq.csv "如何挂失银行卡？"
ask faq.csv "Can I take money out of a fixed deposit early?"

echo
echo "== a question the knowledge base cannot answer"
"$RAGD" ask "What is the capital of France?" --kb bank

echo
echo "== Chinese questions with the multilingual embedder (knowledge base 'bank-zh')"
E5=(--embed-model multilingual-e5-small)
"$RAGD" "${E5[@]}" ingest "$ROOT/examples/bank-kb" --kb bank-zh
ask credit-card-policy.pdf "信用卡逾期还款会怎么样？" bank-zh "${E5[@]}"
ask faq.csv "外币兑换需要什么材料？" bank-zh "${E5[@]}"
echo
echo "demo: every answer cites the document that holds it"
