#include "retrieve/search_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status_macros.h"
#include "core/text.h"
#include "retrieve/fusion.h"

namespace ragd {

const char* SearchModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kBm25: return "bm25";
    case SearchMode::kDense: return "dense";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "?";
}

Result<SearchMode> ParseSearchMode(const std::string& name) {
  if (name == "bm25" || name == "lexical") return SearchMode::kBm25;
  if (name == "dense" || name == "vector") return SearchMode::kDense;
  if (name == "hybrid") return SearchMode::kHybrid;
  return Status::InvalidArgument("unknown search mode '" + name + "' (use bm25, dense or hybrid)");
}

const char* FusionName(Fusion fusion) {
  switch (fusion) {
    case Fusion::kRrf: return "rrf";
    case Fusion::kMinMax: return "minmax";
    case Fusion::kZScore: return "zscore";
    case Fusion::kDispersion: return "dispersion";
  }
  return "?";
}

Result<Fusion> ParseFusion(const std::string& name) {
  if (name == "rrf") return Fusion::kRrf;
  if (name == "minmax") return Fusion::kMinMax;
  if (name == "zscore") return Fusion::kZScore;
  if (name == "dispersion") return Fusion::kDispersion;
  return Status::InvalidArgument("unknown fusion '" + name + "' (rrf, minmax, zscore or dispersion)");
}

namespace retrieve {
namespace {

// The fusion defaults, measured in docs/RETRIEVAL.md.
constexpr Fusion kDefaultFusion = Fusion::kZScore;
constexpr double kDefaultLexicalWeight = 0.7;
constexpr int kDefaultRrfK = 60;

struct SearchSettings {
  FusionSettings fusion{kDefaultFusion, kDefaultLexicalWeight, kDefaultRrfK};
  double mmr_lambda = -1;  // off
};

// A number from a setting's text; NaN when it is not one.
double ParseNumber(const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  return (end && *end == '\0' && !v.empty()) ? d : std::nan("");
}

Status CheckLexicalWeight(double w) {
  if (!(w >= 0 && w <= 1)) return Status::InvalidArgument("the lexical weight must be a number between 0 and 1");
  return Status::OK();
}

Status CheckMmrLambda(double lambda) {
  if (std::isnan(lambda) || lambda > 1)
    return Status::InvalidArgument("the MMR lambda must be a number between 0 and 1, or off");
  return Status::OK();
}

Status CheckRrfK(double k) {
  if (!(k >= 1 && k <= 1000)) return Status::InvalidArgument("the RRF k must be a whole number between 1 and 1000");
  return Status::OK();
}

double ParseMmrLambda(const std::string& v) { return v.empty() || v == "off" ? -1 : ParseNumber(v); }

// The query's options, else the knowledge base's settings, else defaults.
Result<SearchSettings> ResolveSearchSettings(store::KbStore& kb, const SearchOptions& o) {
  SearchSettings s;
  RAGD_ASSIGN_OR_RETURN(auto stored, kb.GetSettings());
  auto setting = [&](const char* key) { auto it = stored.find(key); return it == stored.end() ? std::string() : it->second; };
  if (o.fusion) {
    s.fusion.fusion = *o.fusion;
  } else if (std::string f = setting("search.fusion"); !f.empty()) {
    RAGD_ASSIGN_OR_RETURN(s.fusion.fusion, ParseFusion(f));
  }
  std::string weight = setting("search.lexical_weight");
  s.fusion.lexical_weight =
      o.lexical_weight ? *o.lexical_weight : (weight.empty() ? kDefaultLexicalWeight : ParseNumber(weight));
  RAGD_RETURN_IF_ERROR(CheckLexicalWeight(s.fusion.lexical_weight));
  std::string rrf_k = setting("search.rrf_k");
  s.fusion.rrf_k = o.rrf_k ? *o.rrf_k : rrf_k.empty() ? kDefaultRrfK : static_cast<int>(ParseNumber(rrf_k));
  RAGD_RETURN_IF_ERROR(CheckRrfK(s.fusion.rrf_k));
  s.mmr_lambda = o.mmr_lambda ? *o.mmr_lambda : ParseMmrLambda(setting("search.mmr_lambda"));
  RAGD_RETURN_IF_ERROR(CheckMmrLambda(s.mmr_lambda));
  return s;
}

// Re-ranks hits by MMR over their stored embeddings and keeps k.
Status Diversify(store::KbStore& kb, double lambda, int k, std::vector<SearchHit>* hits) {
  std::vector<int64_t> ids;
  std::vector<double> relevance;
  for (const auto& h : *hits) ids.push_back(h.chunk_id), relevance.push_back(h.score);
  RAGD_ASSIGN_OR_RETURN(std::vector<float> vecs, kb.GetVectors(ids));
  const size_t dim = ids.empty() ? 0 : vecs.size() / ids.size();
  auto sim = [&](size_t a, size_t b) {
    double dot = 0;
    for (size_t d = 0; d < dim; ++d) dot += static_cast<double>(vecs[a * dim + d]) * vecs[b * dim + d];
    return dot;  // stored vectors are L2-normalised: dot = cosine
  };
  std::vector<size_t> order = Mmr(relevance, sim, lambda, static_cast<size_t>(k));
  std::vector<SearchHit> out;
  for (size_t i : order) out.push_back(std::move((*hits)[i]));
  for (size_t i = 0; i < out.size(); ++i) out[i].rank = static_cast<int>(i) + 1;
  *hits = std::move(out);
  return Status::OK();
}

// Scores the first `candidates` hits with the cross-encoder and orders them
// by that score (ties keep the fused order); hits past them keep their fused
// order after them. The best `keep` remain.
Status Rerank(Reranker* reranker, const std::string& query, int candidates, int keep, std::vector<SearchHit>* hits) {
  const size_t n = std::min(hits->size(), static_cast<size_t>(candidates));
  std::vector<std::string> texts;
  texts.reserve(n);
  for (size_t i = 0; i < n; ++i) texts.push_back((*hits)[i].text);
  RAGD_ASSIGN_OR_RETURN(std::vector<double> scores, reranker->Rerank(query, texts));
  if (scores.size() != n)
    return Status::Unavailable("the reranker returned " + std::to_string(scores.size()) + " scores for " +
                               std::to_string(n) + " passages");
  for (size_t i = 0; i < n; ++i) {
    (*hits)[i].rerank_score = scores[i];
    (*hits)[i].score = scores[i];
  }
  std::stable_sort(hits->begin(), hits->begin() + n,
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (static_cast<int>(hits->size()) > keep) hits->resize(keep);
  for (size_t i = 0; i < hits->size(); ++i) (*hits)[i].rank = static_cast<int>(i) + 1;
  return Status::OK();
}

// Code points from the start of s.
size_t Utf8Skip(std::string_view s, int64_t code_points) {
  size_t i = 0;
  while (i < s.size() && code_points > 0) {
    int len = 1;
    text::DecodeAt(s, i, &len);
    i += len > 0 ? len : 1;
    --code_points;
  }
  return i;
}

// The hit's text with up to n chunks either side, joined where they
// overlap (chunks share code-point offsets into the document's text).
Status ExpandWithNeighbours(store::KbStore& kb, int n, SearchHit* h) {
  RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> range,
                        kb.GetChunkRange(h->doc_id, h->chunk_index - n, h->chunk_index + n));
  std::string text;
  int64_t end = -1;
  for (const auto& c : range) {
    if (end < 0) {
      text = c.text;
    } else if (c.char_start >= end) {
      text += "\n\n" + c.text;  // a gap (segments are joined by a blank line)
    } else if (c.char_end > end) {
      text += c.text.substr(Utf8Skip(c.text, end - c.char_start));
    }
    end = std::max(end, c.char_end);
  }
  h->context = range.empty() ? h->text : text;
  return Status::OK();
}

// Each hit's document metadata, looked up once per document.
Status AttachMetadata(store::KbStore& kb, std::vector<SearchHit>* hits) {
  std::unordered_map<std::string, std::map<std::string, std::string>> by_doc;
  for (auto& h : *hits) {
    auto it = by_doc.find(h.doc_id);
    if (it == by_doc.end()) {
      RAGD_ASSIGN_OR_RETURN(std::optional<store::StoredDocument> d, kb.FindDocument(h.doc_id));
      it = by_doc.emplace(h.doc_id, d ? std::move(d->metadata) : std::map<std::string, std::string>{}).first;
    }
    h.metadata = it->second;
  }
  return Status::OK();
}

// A caller's query vector, checked against the knowledge base's dimension
// (the number after the last '/' of its embed_model, "name/384") and
// L2-normalised as the stored vectors are.
Result<std::vector<float>> NormalisedQueryVector(const store::KbStore& kb, const std::vector<float>& v) {
  const std::string model = kb.embed_model();
  const size_t slash = model.rfind('/');
  const long dim = slash == std::string::npos ? 0 : std::strtol(model.c_str() + slash + 1, nullptr, 10);
  if (dim > 0 && static_cast<long>(v.size()) != dim)
    return Status::InvalidArgument("the query vector has " + std::to_string(v.size()) + " dimensions; the knowledge base's embedder " +
                                   model + " makes " + std::to_string(dim));
  double norm = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return Status::InvalidArgument("the query vector holds a value that is not a finite number");
    norm += static_cast<double>(x) * x;
  }
  if (norm == 0) return Status::InvalidArgument("the query vector is all zeros");
  std::vector<float> q(v);
  const double inv = 1.0 / std::sqrt(norm);
  for (float& x : q) x = static_cast<float>(x * inv);
  return q;
}

std::vector<FusedHit> Fuse(SearchMode mode, const SearchSettings& settings, const std::vector<store::ScoredId>& lexical,
                           const std::vector<store::ScoredId>& dense) {
  switch (mode) {
    case SearchMode::kBm25: return FromLexical(lexical);
    case SearchMode::kDense: return FromDense(dense);
    case SearchMode::kHybrid: break;
  }
  return FuseLists(settings.fusion, lexical, dense);
}

SearchHit ToHit(const FusedHit& f, store::ChunkRecord&& c, int rank) {
  SearchHit h;
  h.rank = rank;
  h.score = f.score;
  h.lexical_rank = f.lexical_rank;
  h.dense_rank = f.dense_rank;
  h.lexical_score = f.lexical_score;
  h.dense_score = f.dense_score;
  h.doc_id = std::move(c.doc_id);
  h.source = std::move(c.source);
  h.title = std::move(c.title);
  h.chunk_id = c.id;
  h.chunk_index = c.chunk_index;
  h.page = c.page;
  h.heading_path = std::move(c.heading_path);
  h.row = c.row;
  h.char_start = c.char_start;
  h.char_end = c.char_end;
  h.text = std::move(c.text);
  h.ocr_confidence = c.ocr_confidence;
  return h;
}

// The filters a search applies: its own and the two shorthands.
std::vector<FilterCondition> AllFilters(const SearchOptions& o) {
  std::vector<FilterCondition> filters = o.filters;
  if (!o.source_contains.empty()) filters.push_back({"source", "=", o.source_contains});
  if (!o.doc_id.empty()) filters.push_back({"doc_id", "=", o.doc_id});
  return filters;
}

}  // namespace

Status CheckSearchOptions(const SearchOptions& o) {
  if (!o.query_vector.empty() && o.mode == SearchMode::kBm25)
    return Status::InvalidArgument("a query vector needs the dense or hybrid mode (bm25 searches the query's words)");
  const bool vector_only = !o.query_vector.empty() && o.mode == SearchMode::kDense;
  if (!vector_only && text::Trim(o.query).empty()) return Status::InvalidArgument("the query is empty");
  if (text::FindInvalidUtf8(o.query) != std::string::npos) return Status::InvalidArgument("the query is not valid UTF-8");
  if (o.k <= 0 || o.k > 10000) return Status::InvalidArgument("k must be between 1 and 10000");
  if (o.neighbors < 0 || o.neighbors > 10) return Status::InvalidArgument("neighbors must be between 0 and 10");
  if (o.rerank_candidates < 0 || o.rerank_candidates > 1000)
    return Status::InvalidArgument("rerank_candidates must be between 0 and 1000");
  if (o.lexical_weight) RAGD_RETURN_IF_ERROR(CheckLexicalWeight(*o.lexical_weight));
  if (o.mmr_lambda) RAGD_RETURN_IF_ERROR(CheckMmrLambda(*o.mmr_lambda));
  if (o.rrf_k) RAGD_RETURN_IF_ERROR(CheckRrfK(*o.rrf_k));
  for (const auto& f : AllFilters(o)) RAGD_RETURN_IF_ERROR(ValidateFilterCondition(f));
  return Status::OK();
}

Status CheckSearchSetting(const std::string& key, const std::string& value) {
  Status st;
  if (key == "search.fusion") st = ParseFusion(value).status();
  else if (key == "search.lexical_weight") st = CheckLexicalWeight(ParseNumber(value));
  else if (key == "search.mmr_lambda") st = CheckMmrLambda(ParseMmrLambda(value));
  else if (key == "search.rrf_k") st = CheckRrfK(ParseNumber(value));
  // The figures `kb tune` keeps beside its choice: shown, never read.
  else if (key.starts_with("tune.") && key.size() <= 64)
    st = value.size() > 4096 || text::FindInvalidUtf8(value) != std::string::npos
             ? Status::InvalidArgument("must be valid UTF-8 of at most 4096 bytes")
             : Status::OK();
  else return Status::InvalidArgument("unknown setting '" + key +
                                      "' (search.fusion, search.lexical_weight, search.rrf_k, search.mmr_lambda)");
  return st.WithContext(key + " = '" + value + "'");
}

Result<SearchResponse> Search(store::KbStore& kb, const SearchOptions& options, const SearchModels& models) {
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto t0 = Clock::now();
  const std::vector<FilterCondition> filters = AllFilters(options);
  // A cross-encoder reads the query's text: a search by vector alone is not reranked.
  const bool rerank = options.rerank && models.reranker && !text::Trim(options.query).empty();
  const int rerank_candidates = options.rerank_candidates > 0 ? options.rerank_candidates : std::max(options.k, 20);
  int candidates = options.candidates > 0 ? options.candidates : std::max(100, 2 * options.k);
  if (rerank) candidates = std::max(candidates, rerank_candidates);
  if (options.one_per_document) candidates *= 2;  // several chunks of one document may crowd the list
  RAGD_ASSIGN_OR_RETURN(SearchSettings settings, ResolveSearchSettings(kb, options));
  // BM25 alone is exact: when nothing after it looks past its first k (no
  // reranker, MMR or one hit per document), k is all it needs to find, and
  // a higher k-th score lets MaxScore skip more (docs/SCALE.md).
  if (options.mode == SearchMode::kBm25 && options.candidates <= 0 && !rerank && settings.mmr_lambda < 0 &&
      !options.one_per_document)
    candidates = options.k;

  SearchResponse resp;
  std::vector<store::ScoredId> lexical, dense;
  auto run_lexical = [&]() -> Result<std::vector<store::ScoredId>> {
    auto t = Clock::now();
    auto r = kb.LexicalSearch(options.query, candidates, filters);
    resp.timings.lexical = since(t);
    return r;
  };
  // In hybrid mode BM25 runs on its own thread while the query is embedded
  // when there is a core for it: the two are independent. (The store's
  // reads share its lock; the vector index is only read here.)
  std::future<Result<std::vector<store::ScoredId>>> lexical_job;
  if (options.mode == SearchMode::kHybrid && models.lexical_alongside_embedding) {
    lexical_job = std::async(std::launch::async, run_lexical);
  } else if (options.mode != SearchMode::kDense) {
    RAGD_ASSIGN_OR_RETURN(lexical, run_lexical());
  }
  if (options.mode != SearchMode::kBm25) {
    Status dense_status = [&]() -> Status {
      std::vector<float> q;
      auto t = Clock::now();
      if (!options.query_vector.empty()) {
        RAGD_ASSIGN_OR_RETURN(q, NormalisedQueryVector(kb, options.query_vector));
      } else {
        RAGD_ASSIGN_OR_RETURN(Embedder * e, models.embedder());
        q.resize(e->dim());
        std::string query = options.query;
        RAGD_RETURN_IF_ERROR(e->Embed({&query, 1}, EmbedKind::kQuery, q.data()));
        resp.timings.embed = since(t);
      }
      t = Clock::now();
      RAGD_ASSIGN_OR_RETURN(dense, kb.DenseSearch(q, candidates, false, filters));
      resp.timings.vector = since(t);
      return Status::OK();
    }();
    if (lexical_job.valid()) {
      auto lexical_result = lexical_job.get();  // joined before any return: it borrows this frame
      RAGD_RETURN_IF_ERROR(dense_status);
      RAGD_ASSIGN_OR_RETURN(lexical, std::move(lexical_result));
    }
    RAGD_RETURN_IF_ERROR(dense_status);
  }
  resp.timings.candidates = since(t0);
  resp.embed_model = kb.embed_model();
  for (const auto& d : dense) resp.best_dense_score = std::max(resp.best_dense_score, static_cast<double>(d.score));
  std::vector<FusedHit> fused = Fuse(options.mode, settings, lexical, dense);
  // MMR chooses k among more candidates; the reranker reorders more.
  const int want = settings.mmr_lambda >= 0 ? std::max(options.k * 4, 20) : options.k;
  const int fetch = rerank ? std::max(want, rerank_candidates) : want;

  // Fetch chunk records for the top of the list; when deduplicating by
  // document, in windows until k documents are found.
  std::unordered_set<std::string> docs_seen;
  size_t window = options.one_per_document ? std::max<size_t>(fetch, 32) : fetch;
  for (size_t start = 0; start < fused.size() && static_cast<int>(resp.hits.size()) < fetch; start += window) {
    size_t end = std::min(fused.size(), start + window);
    std::vector<int64_t> ids;
    for (size_t i = start; i < end; ++i) ids.push_back(fused[i].id);
    RAGD_ASSIGN_OR_RETURN(std::vector<store::ChunkRecord> chunks, kb.GetChunks(ids));
    for (size_t j = 0; j < chunks.size() && static_cast<int>(resp.hits.size()) < fetch; ++j) {
      if (options.one_per_document && !docs_seen.insert(chunks[j].doc_id).second) continue;
      resp.hits.push_back(ToHit(fused[start + j], std::move(chunks[j]), static_cast<int>(resp.hits.size()) + 1));
    }
  }
  if (rerank && !resp.hits.empty()) {
    RAGD_ASSIGN_OR_RETURN(Reranker * r, models.reranker());
    auto t = Clock::now();
    RAGD_RETURN_IF_ERROR(Rerank(r, options.query, rerank_candidates, want, &resp.hits));
    resp.timings.rerank = since(t);
    resp.reranker = r->model();
  }
  if (settings.mmr_lambda >= 0 && resp.hits.size() > 1)
    RAGD_RETURN_IF_ERROR(Diversify(kb, settings.mmr_lambda, options.k, &resp.hits));
  if (options.min_score) {
    std::erase_if(resp.hits, [&](const SearchHit& h) { return h.score < *options.min_score; });
    for (size_t i = 0; i < resp.hits.size(); ++i) resp.hits[i].rank = static_cast<int>(i) + 1;
  }
  if (options.neighbors > 0)
    for (auto& h : resp.hits) RAGD_RETURN_IF_ERROR(ExpandWithNeighbours(kb, options.neighbors, &h));
  if (options.with_metadata) RAGD_RETURN_IF_ERROR(AttachMetadata(kb, &resp.hits));
  resp.seconds = since(t0);
  return resp;
}

}  // namespace retrieve
}  // namespace ragd
