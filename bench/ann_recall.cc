// ann_recall: recall@k of the knowledge base's HNSW index against exact
// search, and queries per second of each, on real query embeddings.
//
//   ann_recall --data-dir DIR --kb NAME queries.jsonl [k]
//
// queries.jsonl is BEIR-style ({"_id":..., "text":...}); every query is
// embedded with the knowledge base's model and searched both ways.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ragd/engine.h"
#include "store/store.h"

using namespace ragd;

int main(int argc, char** argv) {
  std::string data_dir, kb, queries_path;
  int k = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data-dir" && i + 1 < argc) data_dir = argv[++i];
    else if (a == "--kb" && i + 1 < argc) kb = argv[++i];
    else if (queries_path.empty()) queries_path = a;
    else k = std::atoi(a.c_str());
  }
  if (data_dir.empty() || kb.empty() || queries_path.empty()) {
    std::fprintf(stderr, "usage: ann_recall --data-dir DIR --kb NAME queries.jsonl [k]\n");
    return 2;
  }
  auto e = OpenEmbedder({});
  if (!e.ok()) { std::fprintf(stderr, "%s\n", e.status().ToString().c_str()); return 1; }
  auto store = store::OpenSqliteStore(data_dir + "/" + kb, {});
  if (!store.ok()) { std::fprintf(stderr, "%s\n", store.status().ToString().c_str()); return 1; }
  std::vector<std::string> texts;
  std::ifstream in(queries_path);
  for (std::string line; std::getline(in, line);) {
    auto v = nlohmann::json::parse(line, nullptr, false);
    if (v.is_object() && v.contains("text")) texts.push_back(v["text"].get<std::string>());
  }
  int dim = (*e)->dim();
  std::vector<float> q(texts.size() * dim);
  if (!(*e)->Embed(texts, EmbedKind::kQuery, q.data()).ok()) return 1;
  double hits = 0, ann_s = 0, exact_s = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::span<const float> v(q.data() + i * dim, dim);
    auto t0 = std::chrono::steady_clock::now();
    auto approx = (*store)->DenseSearch(v, k, false);
    auto t1 = std::chrono::steady_clock::now();
    auto exact = (*store)->DenseSearch(v, k, true);
    auto t2 = std::chrono::steady_clock::now();
    ann_s += std::chrono::duration<double>(t1 - t0).count();
    exact_s += std::chrono::duration<double>(t2 - t1).count();
    std::set<int64_t> truth;
    for (auto& s : exact.value()) truth.insert(s.id);
    for (auto& s : approx.value()) hits += truth.count(s.id);
  }
  auto stats = (*store)->Stats();
  double n = static_cast<double>(texts.size());
  std::printf("{\"vectors\": %lld, \"queries\": %zu, \"k\": %d, \"recall_at_k\": %.4f, \"ann_qps\": %.0f, \"exact_qps\": %.0f}\n",
              static_cast<long long>(stats->vectors), texts.size(), k, hits / (n * k), n / ann_s, n / exact_s);
  return 0;
}
