#include "server/metrics.h"

#include <cstdio>

namespace ragd::server {

namespace {
const std::vector<double>& Bounds() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

void Metrics::Request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> l(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  if (h.buckets.empty()) h.buckets.assign(Bounds().size(), 0);
  for (size_t i = 0; i < Bounds().size(); ++i)
    if (seconds <= Bounds()[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::Tokens(int64_t prompt, int64_t completion) {
  std::lock_guard<std::mutex> l(mu_);
  prompt_tokens_ += prompt;
  completion_tokens_ += completion;
}

void Metrics::Ingest(int64_t files, int64_t chunks, int64_t failed) {
  std::lock_guard<std::mutex> l(mu_);
  ingest_files_ += files;
  ingest_chunks_ += chunks;
  ingest_failed_ += failed;
}

std::string Metrics::Render(size_t queue_waiting) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  out += "# HELP ragd_http_requests_total HTTP requests by route and status.\n# TYPE ragd_http_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    out += "ragd_http_requests_total{route=\"" + k.first + "\",code=\"" + std::to_string(k.second) + "\"} " +
           std::to_string(v) + "\n";
  out += "# HELP ragd_http_request_duration_seconds Time to answer a request.\n"
         "# TYPE ragd_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < Bounds().size(); ++i)
      out += "ragd_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"" + Num(Bounds()[i]) + "\"} " +
             std::to_string(h.buckets[i]) + "\n";
    out += "ragd_http_request_duration_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    out += "ragd_http_request_duration_seconds_sum{route=\"" + route + "\"} " + Num(h.sum) + "\n";
    out += "ragd_http_request_duration_seconds_count{route=\"" + route + "\"} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP ragd_tokens_total Model tokens by kind.\n# TYPE ragd_tokens_total counter\n";
  out += "ragd_tokens_total{kind=\"prompt\"} " + std::to_string(prompt_tokens_) + "\n";
  out += "ragd_tokens_total{kind=\"completion\"} " + std::to_string(completion_tokens_) + "\n";
  out += "# HELP ragd_ingest_files_total Files ingested through the API, by outcome.\n# TYPE ragd_ingest_files_total counter\n";
  out += "ragd_ingest_files_total{outcome=\"ok\"} " + std::to_string(ingest_files_) + "\n";
  out += "ragd_ingest_files_total{outcome=\"failed\"} " + std::to_string(ingest_failed_) + "\n";
  out += "# HELP ragd_ingest_chunks_total Chunks written through the API.\n# TYPE ragd_ingest_chunks_total counter\n";
  out += "ragd_ingest_chunks_total " + std::to_string(ingest_chunks_) + "\n";
  out += "# HELP ragd_inference_queue_waiting Model jobs waiting for the worker.\n# TYPE ragd_inference_queue_waiting gauge\n";
  out += "ragd_inference_queue_waiting " + std::to_string(queue_waiting) + "\n";
  return out;
}

}  // namespace ragd::server
