// engine_bench: ragd measured in-process, for bench/run.py.
//
//   engine_bench embed TEXTS.jsonl --batch B [--threads T] [--rounds R] [--model GGUF] [--batch-tokens N]
//       sentences/s of the packaged embedder at batch size B (the texts are
//       JSON strings, one per line). Prints one JSON object.
//   engine_bench search DATA_DIR KB QUERIES.jsonl QRELS.tsv --mode M [--k K] [--store URL]
//       each query once through Engine::Search (one process, model loaded
//       once, a warm-up query first): queries/s, p50/p99 latency, recall@10
//       by document id (chunk ids map to the document they came from), and
//       from the engine's own timings the p50 of: the query embedding, BM25,
//       the ANN lookup, the time outside model calls, and orchestration
//       (outside model calls and index lookups: checks, fusion, fetching
//       the hits). One JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ragd/embedder.h"
#include "ragd/engine.h"

using namespace ragd;
using ragd::bench::Flag;
using ragd::bench::Percentile;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double Secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

int Fail(const std::string& msg) {
  std::fprintf(stderr, "engine_bench: %s\n", msg.c_str());
  return 1;
}

int Embed(int argc, char** argv) {
  std::vector<std::string> texts;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(json::parse(line).get<std::string>());
  if (texts.empty()) return Fail("no texts in " + std::string(argv[2]));
  int batch = std::stoi(Flag(argc, argv, "--batch", "32"));
  int rounds = std::stoi(Flag(argc, argv, "--rounds", "1"));
  EmbedderOptions o;
  o.backend.threads = std::stoi(Flag(argc, argv, "--threads", "0"));
  o.backend.model = Flag(argc, argv, "--model", "");  // empty: the packaged default
  o.batch_tokens = std::stoi(Flag(argc, argv, "--batch-tokens", "0"));
  auto e = OpenEmbedder(o);
  if (!e.ok()) return Fail(e.status().ToString());
  std::vector<float> out(static_cast<size_t>(batch) * (*e)->dim());
  std::vector<double> rates;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (size_t s = 0; s < texts.size(); s += batch) {
      size_t n = std::min(texts.size() - s, static_cast<size_t>(batch));
      Status st = (*e)->Embed({texts.data() + s, n}, EmbedKind::kPassage, out.data());
      if (!st.ok()) return Fail(st.ToString());
    }
    rates.push_back(texts.size() / Secs(t0, Clock::now()));
  }
  std::printf("%s\n", json{{"texts", texts.size()}, {"batch", batch}, {"sentences_per_second", Percentile(rates, 0.5)},
                           {"rounds", rates}}.dump().c_str());
  return 0;
}

int Search(int argc, char** argv) {
  if (argc < 6) return Fail("usage: engine_bench search DATA_DIR KB QUERIES.jsonl QRELS.tsv --mode M");
  std::string data_dir = argv[2], kb = argv[3];
  auto mode = ParseSearchMode(Flag(argc, argv, "--mode", "hybrid"));
  if (!mode.ok()) return Fail(mode.status().ToString());
  int k = std::stoi(Flag(argc, argv, "--k", "10"));
  std::map<std::string, std::set<std::string>> qrels;
  {
    std::ifstream in(argv[5]);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string q, d, score;
      std::getline(f, q, '\t');
      std::getline(f, d, '\t');
      std::getline(f, score, '\t');
      if (!q.empty() && std::atoi(score.c_str()) > 0) qrels[q].insert(d);
    }
  }
  std::vector<std::pair<std::string, std::string>> queries;  // id, text (only judged ones)
  {
    std::ifstream in(argv[4]);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      json j = json::parse(line);
      std::string id = j["_id"].get<std::string>();
      if (qrels.count(id)) queries.push_back({id, j["text"].get<std::string>()});
    }
  }
  if (queries.empty()) return Fail("no judged queries");
  EngineOptions eo;
  eo.data_dir = data_dir;
  eo.store_url = Flag(argc, argv, "--store", "");  // postgres://... for the PostgreSQL store
  eo.embedder.backend.threads = std::stoi(Flag(argc, argv, "--threads", "0"));
  auto engine = Engine::Open(eo);
  if (!engine.ok()) return Fail(engine.status().ToString());
  SearchOptions so;
  so.kb = kb;
  so.mode = mode.value();
  so.k = k;
  so.one_per_document = true;
  so.query = queries[0].second;  // warm-up: loads the model and the index
  if (auto w = (*engine)->Search(so); !w.ok()) return Fail(w.status().ToString());

  std::vector<double> lat, embed, lexical, vector, outside_model, orchestration;
  double recall = 0;
  auto t0 = Clock::now();
  for (const auto& [id, text] : queries) {
    so.query = text;
    auto s0 = Clock::now();
    auto r = (*engine)->Search(so);
    lat.push_back(Secs(s0, Clock::now()));
    if (!r.ok()) return Fail(r.status().ToString());
    // The engine's own account of the call (SearchResponse::timings).
    const auto& t = r->timings;
    embed.push_back(t.embed);
    lexical.push_back(t.lexical);
    vector.push_back(t.vector);
    outside_model.push_back(r->seconds - t.embed - t.rerank);
    orchestration.push_back(r->seconds - t.candidates - t.rerank);
    const auto& rel = qrels[id];
    int hit = 0;
    // Documents were ingested as <doc id>.txt files or with their BEIR id.
    for (const auto& h : r->hits) {
      std::string doc = h.source.substr(h.source.find_last_of('/') + 1);
      if (doc.size() > 4 && doc.ends_with(".txt")) doc.resize(doc.size() - 4);
      hit += rel.count(doc) || rel.count(h.doc_id);
    }
    recall += static_cast<double>(hit) / rel.size();
  }
  double total = Secs(t0, Clock::now());
  std::printf("%s\n", json{{"mode", SearchModeName(so.mode)},
                           {"queries", queries.size()},
                           {"queries_per_second", queries.size() / total},
                           {"p50_ms", Percentile(lat, 0.5) * 1e3},
                           {"p99_ms", Percentile(lat, 0.99) * 1e3},
                           {"recall_at_10", recall / queries.size()},
                           {"embed_p50_ms", Percentile(embed, 0.5) * 1e3},
                           {"lexical_p50_ms", Percentile(lexical, 0.5) * 1e3},
                           {"vector_p50_ms", Percentile(vector, 0.5) * 1e3},
                           {"outside_model_p50_ms", Percentile(outside_model, 0.5) * 1e3},
                           {"orchestration_p50_ms", Percentile(orchestration, 0.5) * 1e3},
                           {"orchestration_p99_ms", Percentile(orchestration, 0.99) * 1e3}}
                          .dump()
                          .c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "embed") == 0) return Embed(argc, argv);
  if (argc >= 3 && std::strcmp(argv[1], "search") == 0) return Search(argc, argv);
  std::fprintf(stderr, "usage: engine_bench embed TEXTS.jsonl --batch B | search DATA_DIR KB QUERIES QRELS --mode M\n");
  return 2;
}
