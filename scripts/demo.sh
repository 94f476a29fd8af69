#!/usr/bin/env bash
# The main job, offline: ingest the bundled example knowledge base and answer
# questions about it with the passage that holds the answer, citing where it
# is. Fails loudly if a top result is not the expected source.
set -euo pipefail
RAGD="$1"
DATA="$2"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export RAGD_DATA_DIR="$DATA"

echo "== ingesting examples/bank-kb into knowledge base 'bank' (data in $DATA)"
"$RAGD" ingest "$ROOT/examples/bank-kb" --kb bank

ask() {  # ask MODE EXPECTED-FILE QUESTION [KB [FLAGS...]]
  local mode="$1" expected="$2" question="$3" kb="${4:-bank}"
  local flags=("${@:5}")
  echo
  echo "== [$kb, $mode] $question"
  "$RAGD" "${flags[@]}" search "$question" --kb "$kb" --mode "$mode" -k 2
  local top
  top="$("$RAGD" "${flags[@]}" search "$question" --kb "$kb" --mode "$mode" -k 1 --json |
    python3 -c 'import json,sys,os; r=json.load(sys.stdin)["results"]; print(os.path.basename(r[0]["source"]) if r else "")')"
  if [[ "$top" != "$expected" ]]; then
    echo "demo: expected the top result from $expected, got '$top'" >&2
    exit 1
  fi
}

ask hybrid platinum-card.docx "What is the annual fee for the Platinum credit card?"
ask hybrid handbook.md "How long does an international wire transfer take?"
ask hybrid faq.csv "如何挂失银行卡？"
ask bm25 credit-card-policy.pdf "信用卡逾期还款会怎么样？"
ask hybrid faq.csv "Can I take money out of a fixed deposit early?"

echo
echo "== the same documents with the multilingual embedder (knowledge base 'bank-zh')"
E5=(--embed-model multilingual-e5-small)
"$RAGD" "${E5[@]}" ingest "$ROOT/examples/bank-kb" --kb bank-zh
ask dense credit-card-policy.pdf "挂失前被盗刷的损失谁来赔？" bank-zh "${E5[@]}"
ask dense platinum-card.docx "白金信用卡年费多少钱？" bank-zh "${E5[@]}"
ask hybrid credit-card-policy.pdf "取现有手续费吗？" bank-zh "${E5[@]}"
echo
echo "demo: all answers found in the expected documents"
