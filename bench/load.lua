-- wrk script for bench/load.sh. LOAD_ROUTE=search POSTs hybrid searches of
-- the example questions; LOAD_ROUTE=chat POSTs kb:bank chats about things
-- the knowledge base does not hold, which ragd answers "not in the knowledge
-- base" without generating (retrieval, refusal, citations: everything but
-- the model). English only: MiniLM scores Chinese off-topic questions close
-- enough to the Chinese documents that the model is asked (docs/RAG.md).
-- At the end a JSON line: req/s, p50/p99, errors, non-2xx.
local route = os.getenv("LOAD_ROUTE") or "search"
local key = os.getenv("RAGD_KEY") or ""
local questions = {
  "What is the annual fee for the Platinum credit card?", "How long does an international wire transfer take?",
  "如何挂失银行卡？", "Can I take money out of a fixed deposit early?", "信用卡逾期还款会怎么样？",
}
local off_topic = {
  "Who painted the ceiling of the Sistine Chapel?", "How many moons does Jupiter have?",
  "What is the boiling point of ethanol at sea level?", "Which composer wrote the Brandenburg Concertos?",
  "How far is the Moon from the Earth?",
}
local i = 0
request = function()
  i = i + 1
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
  if route == "chat" then
    local body = string.format('{"model": "kb:bank", "messages": [{"role": "user", "content": "%s"}]}',
                               off_topic[i % #off_topic + 1])
    return wrk.format("POST", "/v1/chat/completions", headers, body)
  end
  local body = string.format('{"query": "%s", "k": 5}', questions[i % #questions + 1])
  return wrk.format("POST", "/api/kbs/bank/search", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"route": "%s", "requests": %d, "seconds": %.2f, "requests_per_second": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    route, summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
