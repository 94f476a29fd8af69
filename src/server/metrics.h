// Prometheus metrics of the server: requests by route and status, latency
// histograms, tokens, ingest counts. Text exposition format 0.0.4.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ragd::server {

class Metrics {
 public:
  void Request(const std::string& route, int status, double seconds);
  void Tokens(int64_t prompt, int64_t completion);
  void Ingest(int64_t files, int64_t chunks, int64_t failed);
  std::string Render(size_t queue_waiting) const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts per bound
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  int64_t ingest_files_ = 0, ingest_chunks_ = 0, ingest_failed_ = 0;
};

}  // namespace ragd::server
