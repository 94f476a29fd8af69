// ann_compare: the ANN libraries considered for the vector index, side by
// side on the same real embeddings: usearch (through ragd's VectorIndex, f16
// as ragd holds it and f32), hnswlib and FAISS IndexHNSWFlat, all HNSW with M=16, ef_construction=128,
// single thread. Ground truth is exact inner-product search.
//
//   ann_compare KB_DIR QUERIES.jsonl [--embed-model NAME] [--json] [--dump DIR]
//
// --json prints one object for bench/run.py: per library its build time,
// bytes per vector of its saved index, and (ef, recall@10, q/s) rows.
// "faiss" here is Debian's libfaiss; --dump writes the vectors, queries and
// ground truth (raw little-endian base.f32, queries.f32, truth.i64 as row
// indices) so bench/peers/faiss_ann.py can run PyPI's faiss-cpu on them.
#include <faiss/IndexHNSW.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <hnswlib/hnswlib.h>
#include <sqlite3.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_map>

#include "ragd/embedder.h"
#include "store/vector_index.h"

using namespace ragd;
using Clock = std::chrono::steady_clock;

namespace {

double Secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Recall(const std::vector<std::vector<int64_t>>& got, const std::vector<std::vector<int64_t>>& truth) {
  double hits = 0, total = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    std::set<int64_t> t(truth[i].begin(), truth[i].end());
    for (auto id : got[i]) hits += t.count(id);
    total += truth[i].size();
  }
  return hits / total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ann_compare KB_DIR QUERIES.jsonl [--embed-model NAME]\n");
    return 2;
  }
  std::string kb_dir = argv[1], queries_path = argv[2];
  EmbedderOptions eo;
  bool as_json = false;
  std::string dump_dir;
  for (int i = 3; i < argc; ++i) {
    if (std::string(argv[i]) == "--embed-model" && i + 1 < argc) eo.backend.model = argv[++i];
    else if (std::string(argv[i]) == "--json") as_json = true;
    else if (std::string(argv[i]) == "--dump" && i + 1 < argc) dump_dir = argv[++i];
  }
#ifdef _OPENMP
  omp_set_num_threads(1);  // single thread for every library
#endif
  nlohmann::json libs = nlohmann::json::object();
  auto row = [&](const char* lib, int ef, double build, double recall, double qps) {
    if (!as_json) std::printf("%-8s %8d %10.2f %10.4f %10.0f\n", lib, ef, build, recall, qps);
    libs[lib]["build_seconds"] = build;
    libs[lib]["rows"].push_back({{"ef", ef}, {"recall", recall}, {"qps", qps}});
  };
  const std::string tmp = (std::filesystem::temp_directory_path() / ("ann_compare." + std::to_string(::getpid()))).string();
  const int k = 10;

  // Vectors from the knowledge base.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((kb_dir + "/kb.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return 1;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, embedding FROM chunks", -1, &st, nullptr);
  std::vector<int64_t> ids;
  std::vector<float> base;
  int dim = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ids.push_back(sqlite3_column_int64(st, 0));
    const float* v = static_cast<const float*>(sqlite3_column_blob(st, 1));
    dim = sqlite3_column_bytes(st, 1) / 4;
    base.insert(base.end(), v, v + dim);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  size_t n = ids.size();

  auto emb = OpenEmbedder(eo);
  if (!emb.ok()) { std::fprintf(stderr, "%s\n", emb.status().ToString().c_str()); return 1; }
  std::vector<std::string> texts;
  std::ifstream in(queries_path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("text")) texts.push_back(j["text"].get<std::string>());
  }
  std::vector<float> q(texts.size() * dim);
  if (!(*emb)->Embed(texts, EmbedKind::kQuery, q.data()).ok()) return 1;
  size_t nq = texts.size();

  // Exact ground truth (chunk ids; truth_rows holds the same as row indices).
  std::vector<std::vector<int64_t>> truth(nq);
  std::vector<int64_t> truth_rows;
  for (size_t i = 0; i < nq; ++i) {
    std::vector<std::pair<float, int64_t>> s(n);
    for (size_t j = 0; j < n; ++j) {
      float d = 0;
      for (int c = 0; c < dim; ++c) d += q[i * dim + c] * base[j * dim + c];
      s[j] = {-d, ids[j]};
    }
    std::partial_sort(s.begin(), s.begin() + k, s.end());
    for (int r = 0; r < k; ++r) truth[i].push_back(s[r].second);
  }
  if (!dump_dir.empty()) {
    std::unordered_map<int64_t, int64_t> row_of;
    for (size_t j = 0; j < n; ++j) row_of[ids[j]] = static_cast<int64_t>(j);
    for (const auto& t : truth)
      for (auto id : t) truth_rows.push_back(row_of[id]);
    std::filesystem::create_directories(dump_dir);
    auto write = [&](const char* name, const void* data, size_t bytes) {
      std::ofstream(dump_dir + "/" + name, std::ios::binary).write(static_cast<const char*>(data), bytes);
    };
    write("base.f32", base.data(), base.size() * sizeof(float));
    write("queries.f32", q.data(), q.size() * sizeof(float));
    write("truth.i64", truth_rows.data(), truth_rows.size() * sizeof(int64_t));
  }

  if (!as_json) {
    std::printf("{\"vectors\": %zu, \"dim\": %d, \"queries\": %zu, \"k\": %d, \"M\": 16, \"ef_construction\": 128}\n", n, dim, nq, k);
    std::printf("%-8s %8s %10s %10s %10s\n", "library", "ef", "build_s", "recall@10", "qps");
  }
  // A fine grid, so "q/s at recall >= 0.95 / 0.99" is read near where each
  // library crosses the line (the same grid in peers/faiss_ann.py).
  const std::vector<int> efs{16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 256};

  // usearch through ragd's VectorIndex: f16 (ragd's default) and f32.
  for (const char* lib : {"usearch", "usearch-f32"})
  for (int ef : efs) {
    store::VectorIndexOptions o;
    o.dim = dim;
    o.expansion_search = ef;
    o.half_precision = std::string(lib) == "usearch";
    auto t0 = Clock::now();
    auto idx = store::NewUsearchIndex(o);
    for (size_t j = 0; j < n; ++j) (void)idx->Add(ids[j], {base.data() + j * dim, static_cast<size_t>(dim)});
    auto t1 = Clock::now();
    std::vector<std::vector<int64_t>> got(nq);
    for (size_t i = 0; i < nq; ++i)
      for (auto& s : idx->Search({q.data() + i * dim, static_cast<size_t>(dim)}, k).value()) got[i].push_back(s.id);
    auto t2 = Clock::now();
    row(lib, ef, Secs(t0, t1), Recall(got, truth), nq / Secs(t1, t2));
    if (ef == efs.front()) {
      (void)idx->Save(tmp, 0);  // ragd's own file: header + usearch payload
      libs[lib]["bytes_per_vector"] = static_cast<double>(std::filesystem::file_size(tmp)) / n;
    }
    if (ef == efs.back() && !as_json) {
      std::vector<std::vector<int64_t>> ex(nq);
      for (size_t i = 0; i < nq; ++i)
        for (auto& s : idx->SearchExact({q.data() + i * dim, static_cast<size_t>(dim)}, k).value()) ex[i].push_back(s.id);
      std::printf("%-8s %8s %10s %10.4f %10s\n", lib, "exact", "-", Recall(ex, truth), "-");
    }
  }
  // hnswlib.
  {
    hnswlib::InnerProductSpace space(dim);
    auto t0 = Clock::now();
    hnswlib::HierarchicalNSW<float> h(&space, n, 16, 128);
    for (size_t j = 0; j < n; ++j) h.addPoint(base.data() + j * dim, static_cast<size_t>(ids[j]));
    auto t1 = Clock::now();
    for (int ef : efs) {
      h.setEf(ef);
      auto s0 = Clock::now();
      std::vector<std::vector<int64_t>> got(nq);
      for (size_t i = 0; i < nq; ++i) {
        auto pq = h.searchKnn(q.data() + i * dim, k);
        while (!pq.empty()) {
          got[i].push_back(static_cast<int64_t>(pq.top().second));
          pq.pop();
        }
      }
      auto s1 = Clock::now();
      row("hnswlib", ef, Secs(t0, t1), Recall(got, truth), nq / Secs(s0, s1));
    }
    h.saveIndex(tmp);
    libs["hnswlib"]["bytes_per_vector"] = static_cast<double>(std::filesystem::file_size(tmp)) / n;
  }
  // FAISS.
  {
    auto t0 = Clock::now();
    faiss::IndexHNSWFlat f(dim, 16, faiss::METRIC_INNER_PRODUCT);
    f.hnsw.efConstruction = 128;
    f.add(static_cast<faiss::Index::idx_t>(n), base.data());
    auto t1 = Clock::now();
    for (int ef : efs) {
      f.hnsw.efSearch = ef;
      std::vector<faiss::Index::idx_t> labels(k);
      std::vector<float> dist(k);
      auto s0 = Clock::now();
      std::vector<std::vector<int64_t>> got(nq);
      for (size_t i = 0; i < nq; ++i) {
        f.search(1, q.data() + i * dim, k, dist.data(), labels.data());
        for (auto l : labels)
          if (l >= 0) got[i].push_back(ids[l]);
      }
      auto s1 = Clock::now();
      row("faiss", ef, Secs(t0, t1), Recall(got, truth), nq / Secs(s0, s1));
    }
    faiss::VectorIOWriter w;
    faiss::write_index(&f, &w);
    libs["faiss"]["bytes_per_vector"] = static_cast<double>(w.data.size()) / n;
  }
  std::filesystem::remove(tmp);
  if (as_json)
    std::printf("%s\n", nlohmann::json{{"vectors", n}, {"dim", dim}, {"queries", nq}, {"k", k}, {"M", 16},
                                       {"ef_construction", 128}, {"libraries", libs}}.dump().c_str());
  return 0;
}
