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

ask() {  # ask MODE EXPECTED-FILE QUESTION
  local mode="$1" expected="$2" question="$3"
  echo
  echo "== [$mode] $question"
  "$RAGD" search "$question" --kb bank --mode "$mode" -k 2
  local top
  top="$("$RAGD" search "$question" --kb bank --mode "$mode" -k 1 --json |
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
echo "demo: all answers found in the expected documents"
