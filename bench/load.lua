-- wrk script: POST hybrid searches of the example questions to the search
-- route, and report p50/p99 latency and non-2xx answers as JSON at the end.
local questions = {
  "What is the annual fee for the Platinum credit card?", "How long does an international wire transfer take?",
  "如何挂失银行卡？", "Can I take money out of a fixed deposit early?", "信用卡逾期还款会怎么样？",
}
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"query": "%s", "k": 5}', questions[i % #questions + 1])
  return wrk.format("POST", wrk.path, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("RAGD_KEY") or "") }, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.2f, "requests_per_second": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
