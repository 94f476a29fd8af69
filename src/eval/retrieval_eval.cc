#include <chrono>
#include <filesystem>

#include "core/status_macros.h"
#include "core/text.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "ragd/eval.h"

namespace ragd {

namespace eval {

Result<std::string> BuildBeirKb(Engine& engine, const BeirSet& set, const std::string& dir, const std::string& kb_name,
                                const SplitOptions& split_options, const ProgressFn& progress, IngestReport* ingest) {
  std::string kb = kb_name;
  if (kb.empty()) {
    std::string folder = std::filesystem::path(dir).lexically_normal().filename().string();
    if (folder.empty()) folder = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
    std::string safe;
    for (char c : folder) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    kb = "beir-" + safe.substr(0, 40) + "-" + set.corpus_hash.substr(0, 8);
  }
  // Whole records as one chunk where the model's window allows.
  SplitOptions split = split_options;
  if (split.chunk_size == 0 && split.unit == ChunkUnit::kTokens) {
    RAGD_ASSIGN_OR_RETURN(Embedder * e, engine.embedder());
    split.chunk_size = e->max_tokens() - 2;
    if (split.chunk_overlap < 0) split.chunk_overlap = split.chunk_size / 8;
  }
  RAGD_ASSIGN_OR_RETURN(*ingest, engine.IngestDocuments(kb, set.corpus, split, progress));
  return kb;
}

}  // namespace eval

Result<RetrievalEvalReport> EvaluateRetrieval(Engine& engine, const RetrievalEvalOptions& options,
                                              const ProgressFn& progress) {
  RAGD_ASSIGN_OR_RETURN(eval::BeirSet set, eval::ReadBeir(options.beir_dir, options.split));
  RetrievalEvalReport report;
  RAGD_ASSIGN_OR_RETURN(report.kb, eval::BuildBeirKb(engine, set, options.beir_dir, options.kb, options.split_options,
                                                      progress, &report.ingest));

  auto t0 = std::chrono::steady_clock::now();
  IngestProgress prog;
  prog.total = static_cast<int64_t>(set.queries.size());
  double ndcg = 0, r10 = 0, r100 = 0, mrr = 0;
  int scored = 0;
  for (const auto& q : set.queries) {
    if (text::Trim(q.text).empty()) {
      report.skipped_queries.push_back(q.id);
      ++prog.done;  // so progress still reaches its total
      continue;
    }
    SearchOptions so;
    so.kb = report.kb;
    so.query = q.text;
    so.mode = options.mode;
    so.k = 100;
    so.one_per_document = true;
    so.fusion = options.fusion;
    so.lexical_weight = options.lexical_weight;
    so.mmr_lambda = options.mmr_lambda;
    so.rerank = options.rerank;
    so.rerank_candidates = options.rerank_candidates > 0 ? options.rerank_candidates : so.k;
    auto resp = engine.Search(so);
    if (!resp.ok()) return resp.status().WithContext("query " + q.id);
    report.reranker = resp->reranker;
    std::vector<std::string> ranked;
    for (const auto& h : resp->hits) ranked.push_back(h.doc_id);
    const eval::Qrels& rel = set.qrels[q.id];
    ndcg += eval::NdcgAtK(ranked, rel, 10);
    r10 += eval::RecallAtK(ranked, rel, 10);
    r100 += eval::RecallAtK(ranked, rel, 100);
    mrr += eval::MrrAtK(ranked, rel, 10);
    ++scored;
    ++prog.done;
    prog.current = q.id;
    if (progress) progress(prog);
  }
  if (scored == 0) return Status::InvalidArgument(options.beir_dir + ": every judged query is empty");
  double n = static_cast<double>(scored);
  report.metrics = {ndcg / n, r10 / n, r100 / n, mrr / n, scored};
  report.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace ragd
