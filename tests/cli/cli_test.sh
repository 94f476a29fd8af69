#!/usr/bin/env bash
# Black-box test of the built ragd binary on the example knowledge base:
# ingest, incremental re-ingest, metadata and filters, global options,
# --sync, kb list/info/delete, and the errors a user sees.
set -uo pipefail
RAGD="$1"
SRC="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RAGD_DATA_DIR="$WORK/data"
pass=0
fail=0
check() {  # check NAME CONDITION-EXIT-CODE
  if [[ "$2" == 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

cp -r "$SRC/examples/bank-kb" "$WORK/kb"
out="$("$RAGD" -q ingest "$WORK/kb" --kb bank --json)"
check "ingest exits 0" $?
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["added"]==4 and r["failed"]==[] and r["chunks"]>10, r'
check "ingest report counts" $?

# Rankings and error messages of single commands are cases kept as data
# in tests/cases/ (ctest cases); this script tests sequences of commands.

"$RAGD" search "late payment fee" --kb bank --mode bm25 -k 1 --json |
  python3 -c 'import json,sys; h=json.load(sys.stdin)["results"][0]; assert h["page"]==2 and h["rank"]==1 and "doc_id" in h and "text" in h, h'
check "json hit has page, rank, doc_id, text" $?

out="$("$RAGD" -q ingest "$WORK/kb" --kb bank --json)"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["unchanged"]==4 and r["chunks"]==0, r'
check "unchanged re-ingest does no work" $?

# Global options go before or after the subcommand, in the form users type.
"$RAGD" ingest "$WORK/kb/faq.csv" --kb other --data-dir "$WORK/data2" -q --json >/dev/null &&
  "$RAGD" kb list --json --data-dir "$WORK/data2" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); assert [k["name"] for k in r["knowledge_bases"]]==["other"], r' &&
  [[ "$("$RAGD" search "如何挂失银行卡" --kb other -k 1 --json --data-dir "$WORK/data2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))')" == 1 ]]
check "global options after the subcommand" $?

rm "$WORK/kb/faq.csv"
echo "junk" > "$WORK/kb/broken.pdf"
"$RAGD" -q ingest "$WORK/kb" --kb bank --sync --json > "$WORK/sync.json" 2>/dev/null
code=$?
[[ $code == 3 ]]; check "partial failure exits 3 (got $code)" $?
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["removed"]==1 and len(r["failed"])==1 and "broken.pdf" in r["failed"][0]["path"], r' "$WORK/sync.json"
check "sync removes vanished file, broken file reported" $?

"$RAGD" kb list --json | python3 -c 'import json,sys; k=json.load(sys.stdin)["knowledge_bases"]; assert [x["name"] for x in k]==["bank"] and k[0]["documents"]==3, k'
check "kb list" $?
"$RAGD" kb info bank | grep -q "documents:    3"
check "kb info" $?


# Metadata at ingest, filters at search, a configured reranker.
mkdir -p "$WORK/loans"
printf 'Mortgage rates are fixed for five years, then follow the prime rate.\n' > "$WORK/loans/mortgage.txt"
"$RAGD" -q ingest "$WORK/loans" --kb bank --meta team=loans --meta year=2024 >/dev/null
check "ingest with --meta" $?
"$RAGD" search "rates and fees" --kb bank -k 10 --filter team=loans --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; assert [h["source"].split("/")[-1] for h in r]==["mortgage.txt"], r'
check "--filter on ingest metadata" $?
"$RAGD" search "rates and fees" --kb bank -k 10 --filter 'year>2023' --filter 'type!=txt' --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; assert r==[], r'
check "filters combine with AND" $?
"$RAGD" search "annual fee" --kb bank -k 3 --filter type=pdf --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; assert r and all(h["source"].endswith(".pdf") for h in r), r'
check "--filter type" $?
err="$("$RAGD" search "x" --kb bank --filter 'modified>=soon' 2>&1)"
[[ $? == 1 && "$err" == *"'soon' is not a date"* ]]; check "bad filter error" $?
err="$("$RAGD" -q ingest "$WORK/loans" --kb bank --meta novalue 2>&1)"
[[ $? == 1 && "$err" == *"--meta 'novalue' is not key=value"* ]]; check "bad --meta error" $?
"$RAGD" --reranker ragd-test-reranker search "annual fee" --kb bank -k 3 --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["results"]; assert d["reranker"]=="ragd-test-reranker" and len(r)==3 and all(h["rerank_score"] is not None for h in r) and [h["score"] for h in r]==sorted([h["score"] for h in r], reverse=True), d'
check "--reranker reorders by its score" $?
"$RAGD" --reranker ragd-test-reranker search "annual fee" --kb bank -k 3 --no-rerank --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert "reranker" not in d and d["results"][0]["rerank_score"] is None, d'
check "--no-rerank skips it" $?
err="$("$RAGD" --reranker all-MiniLM-L6-v2 search "annual fee" --kb bank 2>&1)"
[[ $? == 1 && "$err" == *"has no classification head"* ]]; check "an embedding model as reranker is refused" $?

"$RAGD" kb delete bank >/dev/null
check "kb delete" $?
[[ ! -d "$RAGD_DATA_DIR/bank" ]]; check "kb directory removed" $?

echo "cli_test: $pass passed, $fail failed"
[[ $fail == 0 ]]
