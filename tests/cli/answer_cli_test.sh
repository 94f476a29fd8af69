#!/usr/bin/env bash
# Black-box test of ragd ask / chat / sessions / traces on the example
# knowledge base with the packaged local chat model: cited sources, refusal
# when nothing relevant is found, a two-turn conversation resumed by id,
# traces of every model call, and the settings files (ragd.toml, .env).
set -uo pipefail
RAGD="$(realpath "$1")"
SRC="$(realpath "$2")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RAGD_DATA_DIR="$WORK/data"
unset OPENAI_BASE_URL OPENAI_API_KEY OLLAMA_HOST
pass=0
fail=0
check() {  # check NAME CONDITION-EXIT-CODE
  if [[ "$2" == 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
py() { python3 -c "$@"; }
# The command line's plumbing is under test here, not answer quality (the
# instruct model's answers are checked by rag_test, server_tools and the
# demo): the small base model keeps this test fast.
M=(--model gemma-3-270m-q4_k_m)

"$RAGD" -q ingest "$SRC/examples/bank-kb" --kb bank >/dev/null
check "ingest" $?

# A question the knowledge base answers: the cited source is the right file.
out="$("$RAGD" ask "${M[@]}" "What is the annual fee for the Platinum credit card?" --kb bank --seed 1 --json)"
check "ask exits 0" $?
echo "$out" | py 'import json,sys,os; r=json.load(sys.stdin)
assert r["found"] and r["answer"], r
cited=[os.path.basename(s["source"]) for s in r["sources"] if s["cited"]]
assert cited and cited[0]=="platinum-card.docx", cited
assert r["usage"]["prompt_tokens"]>0 and r["usage"]["completion_tokens"]>0, r["usage"]
assert all(k in r["timings"] for k in ("retrieval_seconds","prompt_seconds","generation_seconds")), r["timings"]
assert r["backend"]=="local" and r["language"]=="en", r'
check "ask cites platinum-card.docx" $?

out="$("$RAGD" ask "${M[@]}" "如何挂失银行卡？" --kb bank --seed 1 --json)"
echo "$out" | py 'import json,sys,os; r=json.load(sys.stdin)
assert r["language"]=="zh" and r["found"], r
cited=[os.path.basename(s["source"]) for s in r["sources"] if s["cited"]]
assert "faq.csv" in cited, cited'
check "chinese ask cites faq.csv" $?

# Streamed to the terminal: the answer, then the numbered sources.
out="$("$RAGD" -q ask "${M[@]}" "How long does an international wire transfer take?" --kb bank --seed 1)"
[[ "$out" == *"Sources:"* && "$out" == *"[1]"* && "$out" == *"handbook.md"* ]]
check "human ask lists sources" $?

# Filters and the reranker reach ask's retrieval.
"$RAGD" --reranker ragd-test-reranker ask "${M[@]}" "信用卡逾期怎么办？" --kb bank --seed 1 --max-tokens 16 \
    --filter type=pdf -k 3 --json |
  py 'import json,sys; r=json.load(sys.stdin); s=r["sources"]
assert s and all(x["source"].endswith(".pdf") and x["rerank_score"] is not None for x in s), s'
check "ask --filter --reranker" $?

# Nothing relevant: the knowledge base says so instead of inventing.
out="$("$RAGD" ask "${M[@]}" "What is the capital of France?" --kb bank --json)"
echo "$out" | py 'import json,sys; r=json.load(sys.stdin)
assert not r["found"] and "does not contain" in r["answer"] and r["sources"]==[], r'
check "off-topic question is refused" $?
# Without the threshold retrieval never refuses: the model is asked (and
# may itself answer that the sources do not say).
"$RAGD" ask "${M[@]}" "What is the capital of France?" --kb bank --json --min-score -1 |
  py 'import json,sys; r=json.load(sys.stdin); assert r["sources"] and r["usage"]["completion_tokens"] > 0 and r["model_answer"], r'
check "--min-score -1 never refuses in retrieval" $?

out="$("$RAGD" ask "${M[@]}" "Say hello." --no-retrieval --max-tokens 8 --json)"
echo "$out" | py 'import json,sys; r=json.load(sys.stdin); assert r["sources"]==[] and r["usage"]["completion_tokens"]>0, r'
check "--no-retrieval talks to the model directly" $?

for strategy in map-reduce refine; do
  "$RAGD" ask "${M[@]}" "What is the annual fee for the Platinum credit card?" --kb bank --seed 1 --strategy "$strategy" -k 2 --json |
    py 'import json,sys; r=json.load(sys.stdin); assert r["found"] and r["answer"] and r["strategy"]==sys.argv[1], r' "$strategy"
  check "strategy $strategy answers" $?
done

# A conversation: two turns, saved, listed, resumed, shown, deleted.
out="$(printf 'What is the annual fee for the Platinum credit card?\nIs it waived in the first year?\n' |
  "$RAGD" chat "${M[@]}" --kb bank --seed 1 --memory buffer --json)"
check "chat exits 0" $?
sid="$(echo "$out" | head -1 | py 'import json,sys; print(json.load(sys.stdin)["session"])')"
echo "$out" | py 'import json,sys; t=[json.loads(l) for l in sys.stdin]; assert len(t)==2 and t[1]["turn"]==2 and t[0]["session"]==t[1]["session"], t'
check "chat answers two turns in one session" $?
"$RAGD" sessions list --kb bank --json | py 'import json,sys; s=json.load(sys.stdin)["sessions"]; assert len(s)==1 and s[0]["turns"]==2 and s[0]["memory"]=="buffer", s'
check "sessions list" $?
printf 'And for supplementary cards?\n' | "$RAGD" chat "${M[@]}" --kb bank --session "$sid" --seed 1 --json >/dev/null
check "chat resumes a session" $?
"$RAGD" sessions show "$sid" --kb bank --json | py 'import json,sys; s=json.load(sys.stdin); assert len(s["turns"])==3 and s["turns"][2]["question"]=="And for supplementary cards?", s'
check "resumed session has three turns" $?
"$RAGD" chat "${M[@]}" --kb bank --session nosuch </dev/null 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "no session 'nosuch'" "$WORK/err"
check "unknown session is a clear error" $?
"$RAGD" sessions delete "$sid" --kb bank >/dev/null && ! "$RAGD" sessions show "$sid" --kb bank 2>/dev/null
check "sessions delete" $?

# Traces: every model call of the runs above, with session and question.
"$RAGD" traces --kb bank --last 0 --json >"$WORK/traces.jsonl"
py 'import json,sys
t=[json.loads(l) for l in open(sys.argv[1])]
kinds={x["kind"] for x in t}
assert {"chat","embed"} <= kinds, kinds
chats=[x for x in t if x["kind"]=="chat"]
assert all(x["backend"]=="local" and x["latency_seconds"]>0 for x in chats)
assert any(x["session"]==sys.argv[2] for x in chats), "no call tagged with the session"
assert any(x["question"]=="Is it waived in the first year?" for x in t)
assert all("input" in x and "output" in x and "prompt_tokens" in x for x in t)' "$WORK/traces.jsonl" "$sid"
check "traces record chat and embed calls" $?
"$RAGD" traces --kb bank --last 2 | grep -q "chat"
check "traces human output" $?

# Settings: ragd.toml and .env in the working directory.
mkdir -p "$WORK/cwd"
cd "$WORK/cwd" || exit 1
printf '[chat]\nbackend = "openai"\nmodl = "x"\n' > ragd.toml
"$RAGD" ask "${M[@]}" "q" --kb bank 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "unknown key 'modl' in \[chat\]" "$WORK/err"
check "a typo in ragd.toml is named" $?
printf '[chat]\nbackend = "openai"\nmax_retries = 0\n' > ragd.toml
printf '# a comment\nexport OPENAI_BASE_URL="http://127.0.0.1:9/v1"\nOPENAI_API_KEY=from-dotenv\n' > .env
"$RAGD" ask "${M[@]}" "What is the annual fee?" --kb bank 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "no server listening at http://127.0.0.1:9/v1" "$WORK/err"
check ".env base URL is used and an unreachable server is named" $?
"$RAGD" ask "${M[@]}" "What is the annual fee?" --kb bank --base-url http://127.0.0.1:7/v1 2>"$WORK/err"
grep -q "no server listening at http://127.0.0.1:7/v1" "$WORK/err"
check "a flag beats .env" $?
cd "$SRC" || exit 1

"$RAGD" ask "${M[@]}" "q" --kb nosuch 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "knowledge base 'nosuch' does not exist" "$WORK/err"
check "unknown knowledge base" $?
"$RAGD" ask "${M[@]}" "q" --kb bank --strategy bogus 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "unknown answer strategy 'bogus'" "$WORK/err"
check "unknown strategy" $?
"$RAGD" ask "q" --kb bank --model /nonexistent.gguf 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "chat model file not found: /nonexistent.gguf" "$WORK/err"
check "missing model file" $?

# eval answers on a tiny BEIR folder with reference answers.
B="$WORK/beir"
mkdir -p "$B/qrels"
cat > "$B/corpus.jsonl" <<'JSON'
{"_id": "d1", "title": "Wire transfers", "text": "International wire transfers take 1 to 3 working days."}
{"_id": "d2", "title": "Cards", "text": "The gold card annual fee is 300 yuan."}
{"_id": "d3", "title": "挂失", "text": "银行卡丢失后请立即拨打客服热线挂失。"}
JSON
cat > "$B/queries.jsonl" <<'JSON'
{"_id": "q1", "text": "How long do international wire transfers take?"}
{"_id": "q2", "text": "What is the gold card annual fee?"}
{"_id": "q3", "text": "银行卡丢了怎么办？"}
JSON
printf 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n' > "$B/qrels/test.tsv"
cat > "$B/answers.jsonl" <<'JSON'
{"_id": "q1", "answers": ["1 to 3 working days"]}
{"_id": "q2", "answers": ["300 yuan"]}
{"_id": "q3", "answers": ["拨打客服热线挂失"]}
JSON
out="$("$RAGD" eval answers "${M[@]}" "$B" --seed 1 --min-score -1 --json --out "$WORK/ea.jsonl" --plot "$WORK/ea.svg")"
check "eval answers exits 0" $?
echo "$out" | py 'import json,sys; r=json.load(sys.stdin); m=r["metrics"]
assert r["questions"]==3, r
assert m["context_recall_exact"]==1.0 and m["context_recall_normalized"]==1.0, m
for k in ("exact_match","f1","rouge1","rouge2","rougeL","rougeS","semantic_similarity","faithfulness","answer_relevancy"):
    assert k in m and 0 <= m[k] <= 1, (k, m)
assert "sentence cosine" in r["semantic_similarity_method"], r'
check "eval answers reports every metric" $?
py 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]; assert len(rows)==3 and all("scores" in r and r["answer"] for r in rows), rows' "$WORK/ea.jsonl"
check "eval answers writes one JSON line per question" $?
grep -q "<svg" "$WORK/ea.svg" && grep -q "faithfulness" "$WORK/ea.svg"
check "eval answers draws the SVG plot" $?
# --resume: a stopped run's lines are kept byte for byte and only the rest
# is asked; a last line cut short by a kill is dropped; a bad line is named.
R="$WORK/resume.jsonl"
"$RAGD" -q eval answers "${M[@]}" "$B" --seed 1 --min-score -1 --no-judge --limit 1 --out "$R" --plot "$WORK/r.svg" >/dev/null
first="$(head -1 "$R")"
printf '{"id": "q2", "answ' >> "$R"
out="$("$RAGD" eval answers "${M[@]}" "$B" --seed 1 --min-score -1 --no-judge --resume --out "$R" --plot "$WORK/r.svg" --json)"
echo "$out" | py 'import json,sys; r=json.load(sys.stdin); assert r["questions"]==3, r'
[[ "$(head -1 "$R")" == "$first" && "$(wc -l < "$R")" == 3 ]] &&
  py 'import json,sys; assert [json.loads(l)["id"] for l in open(sys.argv[1])]==["q1","q2","q3"]' "$R"
check "eval answers --resume keeps the scored questions and answers the rest" $?
sed -i '2s/.*/{"id": 7}/' "$R"
"$RAGD" eval answers "${M[@]}" "$B" --no-judge --resume --out "$R" --plot "$WORK/r.svg" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "resume.jsonl:2: not a record of eval answers" "$WORK/err" && [[ "$(wc -l < "$R")" == 3 ]]
check "eval answers --resume names a bad line and keeps the file" $?
echo '{"_id": "q1", "answers": "not a list"}' > "$B/answers.jsonl"
"$RAGD" eval answers "${M[@]}" "$B" --no-judge --out "$WORK/x.jsonl" --plot "$WORK/x.svg" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "answers.jsonl:1: 'answers' must be an array of strings" "$WORK/err"
check "a malformed answers.jsonl names its line" $?

echo "answer cli: $pass passed, $fail failed"
[[ $fail == 0 ]]
