// store_bench: how each store's search latency grows with the corpus, and
// what it costs to write, measured on the KbStore interface (no model in the
// timed path: queries are embedded once, before).
//
//   store_bench --from DATA_DIR --kb KB --queries QUERIES.jsonl
//               --sizes 10000,30000,100000,300000 [--store postgres://...]
//               [--to DATA_DIR2] [--name NAME] [--queries-max 200] [--k 100]
//               [--embed-url http://127.0.0.1:8099/v1]
//
// The corpus is the source knowledge base's chunks (real text and their real
// embeddings, e.g. SciFact built with the default embedder), repeated until
// each size is reached: repeat r of document d is document "r<r>/<d>", its
// text unchanged and its vectors moved by small Gaussian noise (sigma 0.02,
// renormalised) so the HNSW graph does not hold exact duplicates. The store
// is grown step by step (the rows of one size are kept for the next). At
// each size, for every query: BM25 top k, ANN top k, and fetching the 10
// best chunks, each timed on its own. One JSON line per size.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "bench_util.h"
#include "ragd/embedder.h"
#include "store/catalog.h"
#include "store/store.h"

using namespace ragd;
using ragd::bench::Flag;
using ragd::bench::Percentile;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

int Fail(const std::string& msg) {
  std::fprintf(stderr, "store_bench: %s\n", msg.c_str());
  return 1;
}

struct SourceDoc {
  store::StoredDocument doc;
  std::vector<store::ChunkRecord> chunks;
  std::vector<float> vectors;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string from = Flag(argc, argv, "--from", ""), kb = Flag(argc, argv, "--kb", "");
  const std::string queries_path = Flag(argc, argv, "--queries", "");
  if (from.empty() || kb.empty() || queries_path.empty())
    return Fail("usage: store_bench --from DATA_DIR --kb KB --queries Q.jsonl --sizes N,N [--store URL] [--to DIR] [--embed-url URL]");
  std::vector<int64_t> sizes;
  {
    std::stringstream ss(Flag(argc, argv, "--sizes", "10000,30000"));
    for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::stoll(x));
  }
  const std::string store_url = Flag(argc, argv, "--store", "");
  const std::string name = Flag(argc, argv, "--name", "grow");
  const int k = std::stoi(Flag(argc, argv, "--k", "100"));
  const size_t max_queries = std::stoul(Flag(argc, argv, "--queries-max", "200"));

  // The source: every document with its chunks and vectors.
  auto src = store::OpenSqliteStore(from + "/" + kb, {});
  if (!src.ok()) return Fail(src.status().ToString());
  auto listed = (*src)->ListDocuments();
  if (!listed.ok()) return Fail(listed.status().ToString());
  std::vector<SourceDoc> docs;
  int64_t source_chunks = 0;
  for (auto& d : *listed) {
    SourceDoc s{d, {}, {}};
    auto chunks = (*src)->ListChunks(d.doc_id);
    if (!chunks.ok()) return Fail(chunks.status().ToString());
    s.chunks = std::move(chunks).value();
    std::vector<int64_t> ids;
    for (const auto& c : s.chunks) ids.push_back(c.id);
    auto v = (*src)->GetVectors(ids);
    if (!v.ok()) return Fail(v.status().ToString());
    s.vectors = std::move(v).value();
    source_chunks += static_cast<int64_t>(s.chunks.size());
    docs.push_back(std::move(s));
  }
  auto stats = (*src)->Stats();
  const int dim = stats->dim;

  // The queries, embedded once with the knowledge base's model.
  std::vector<std::string> texts;
  {
    std::ifstream in(queries_path);
    for (std::string line; std::getline(in, line) && texts.size() < max_queries;) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("text")) texts.push_back(j["text"].get<std::string>());
    }
  }
  EmbedderOptions eo;
  eo.backend.model = stats->embed_model.substr(0, stats->embed_model.find('/'));
  // A knowledge base embedded by an OpenAI-compatible server (e.g. the
  // stand-in bench/peers/hashing_embedder.py) names it "openai:<model>".
  if (const std::string url = Flag(argc, argv, "--embed-url", ""); !url.empty()) {
    eo.backend.backend = Backend::kOpenAi;
    eo.backend.base_url = url;
    if (eo.backend.model.starts_with("openai:")) eo.backend.model = eo.backend.model.substr(7);
  }
  auto embedder = OpenEmbedder(eo);
  if (!embedder.ok()) return Fail(embedder.status().ToString());
  std::vector<float> qvecs(texts.size() * dim);
  if (Status st = (*embedder)->Embed(texts, EmbedKind::kQuery, qvecs.data()); !st.ok()) return Fail(st.ToString());

  // The store under test, empty.
  Result<std::unique_ptr<store::KbCatalog>> catalog =
      store_url.empty() ? store::OpenDirCatalog(Flag(argc, argv, "--to", "/tmp/ragd-store-bench"))
                        : store::OpenPgCatalog(store_url);
  if (!catalog.ok()) return Fail(catalog.status().ToString());
  (void)(*catalog)->Drop(name);
  auto dest = (*catalog)->Open(name, {true, stats->embed_model, dim});
  if (!dest.ok()) return Fail(dest.status().ToString());

  std::mt19937 rng(42);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  int64_t written = 0, repeat = 0;
  size_t next_doc = 0;
  for (int64_t size : sizes) {
    // Grow to size, in commits of about 512 chunks.
    double write_ms = 0;
    const int64_t before = written;
    while (written < size) {
      std::vector<store::DocumentWrite> batch;
      size_t batch_chunks = 0;
      while (written < size && batch_chunks < 512) {
        const SourceDoc& s = docs[next_doc];
        store::DocumentWrite w;
        w.doc_id = "r" + std::to_string(repeat) + "/" + s.doc.doc_id;
        w.source = s.doc.source;
        w.title = s.doc.title;
        w.mime = s.doc.mime;
        w.content_hash = s.doc.content_hash;
        for (const auto& c : s.chunks)
          w.chunks.push_back({c.text, c.chunk_index, c.page, c.heading_path, c.char_start, c.char_end, c.row, -1});
        w.embeddings = s.vectors;
        if (repeat > 0) {
          for (size_t i = 0; i < w.chunks.size(); ++i) {
            float* v = w.embeddings.data() + i * dim;
            double norm = 0;
            for (int j = 0; j < dim; ++j) {
              v[j] += noise(rng);
              norm += v[j] * v[j];
            }
            for (int j = 0; j < dim; ++j) v[j] = static_cast<float>(v[j] / std::sqrt(norm));
          }
        }
        written += static_cast<int64_t>(w.chunks.size());
        batch_chunks += w.chunks.size();
        batch.push_back(std::move(w));
        if (++next_doc == docs.size()) next_doc = 0, ++repeat;
      }
      auto t0 = Clock::now();
      if (Status st = (*dest)->Commit(batch, {}); !st.ok()) return Fail(st.ToString());
      write_ms += Ms(t0, Clock::now());
    }
    auto f0 = Clock::now();
    if (Status st = (*dest)->Flush(); !st.ok()) return Fail(st.ToString());
    write_ms += Ms(f0, Clock::now());

    // Searches: one warm-up pass, then the timed one.
    std::vector<double> bm25, ann, fetch, total;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t q = 0; q < texts.size(); ++q) {
        auto t0 = Clock::now();
        auto lex = (*dest)->LexicalSearch(texts[q], k);
        auto t1 = Clock::now();
        auto dense = (*dest)->DenseSearch(std::span<const float>(qvecs.data() + q * dim, dim), k);
        auto t2 = Clock::now();
        if (!lex.ok() || !dense.ok()) return Fail((lex.ok() ? dense.status() : lex.status()).ToString());
        std::vector<int64_t> ids;
        for (size_t i = 0; i < std::min<size_t>(10, dense->size()); ++i) ids.push_back((*dense)[i].id);
        auto chunks = (*dest)->GetChunks(ids);
        auto t3 = Clock::now();
        if (!chunks.ok()) return Fail(chunks.status().ToString());
        if (pass == 0) continue;
        bm25.push_back(Ms(t0, t1));
        ann.push_back(Ms(t1, t2));
        fetch.push_back(Ms(t2, t3));
        total.push_back(Ms(t0, t3));
      }
    }
    json out{{"store", store_url.empty() ? "sqlite" : "postgres"},
             {"chunks", written},
             {"source_chunks", source_chunks},
             {"repeats", repeat + (next_doc > 0 ? 1 : 0)},
             {"write_chunks_per_s", (written - before) / (write_ms / 1000.0)},
             {"queries", texts.size()},
             {"k", k},
             {"bm25_p50_ms", Percentile(bm25, 0.5)},
             {"bm25_p99_ms", Percentile(bm25, 0.99)},
             {"ann_p50_ms", Percentile(ann, 0.5)},
             {"ann_p99_ms", Percentile(ann, 0.99)},
             {"fetch_p50_ms", Percentile(fetch, 0.5)},
             {"fetch_p99_ms", Percentile(fetch, 0.99)},
             {"total_p50_ms", Percentile(total, 0.5)},
             {"total_p99_ms", Percentile(total, 0.99)}};
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}
