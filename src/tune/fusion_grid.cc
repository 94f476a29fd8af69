// The fusion grid: each question's two candidate lists are fetched once and
// fused every way in memory, so a grid of ~40 choices costs one search per
// question (plus two real searches each for MMR, which needs the vectors).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "core/status_macros.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "ragd/engine.h"
#include "ragd/eval.h"
#include "ragd/tune.h"
#include "retrieve/fusion.h"

namespace ragd {

std::string FusionChoice::Describe() const {
  char buf[96];
  switch (fusion) {
    case Fusion::kDispersion: std::snprintf(buf, sizeof buf, "dispersion"); break;
    case Fusion::kRrf: std::snprintf(buf, sizeof buf, "rrf %.1f k=%d", lexical_weight, rrf_k); break;
    default: std::snprintf(buf, sizeof buf, "%s %.1f", FusionName(fusion), lexical_weight);
  }
  std::string out = buf;
  if (mmr_lambda >= 0) {
    std::snprintf(buf, sizeof buf, " + mmr %.1f", mmr_lambda);
    out += buf;
  }
  return out;
}

namespace {

// One question's candidates as the search saw them, before fusion.
struct Candidates {
  std::vector<store::ScoredId> lexical, dense;
  std::unordered_map<int64_t, std::string> unit;  // chunk id -> chunk or document id
  eval::Qrels relevant;
};

std::string UnitOf(const SearchHit& h, TuneUnit unit) {
  return unit == TuneUnit::kDocument ? h.doc_id : std::to_string(h.chunk_id);
}

// Candidates taken from each list: as many as a real search of that kind
// takes (search_pipeline: max(100, 2k), doubled when one hit per document),
// because z-scores and the dispersion rule depend on the list's length.
int CandidatesFor(TuneUnit unit) { return unit == TuneUnit::kDocument ? 400 : 100; }

// Both lists of one question, from one hybrid search that returns every
// candidate (each hit carries its rank and score in each list).
Result<Candidates> Collect(Engine& engine, const std::string& kb, const TuneQuestion& q, TuneUnit unit) {
  SearchOptions so;
  so.kb = kb;
  so.query = q.text;
  so.mode = SearchMode::kHybrid;
  so.candidates = CandidatesFor(unit);
  so.k = 2 * so.candidates;
  so.rerank = false;
  so.fusion = Fusion::kZScore;
  so.lexical_weight = 0.5;
  so.mmr_lambda = -1;
  RAGD_ASSIGN_OR_RETURN(SearchResponse resp, engine.Search(so));
  Candidates c;
  std::vector<const SearchHit*> lex, dense;
  for (const auto& h : resp.hits) {
    c.unit[h.chunk_id] = UnitOf(h, unit);
    if (h.lexical_rank) lex.push_back(&h);
    if (h.dense_rank) dense.push_back(&h);
  }
  std::sort(lex.begin(), lex.end(), [](auto* a, auto* b) { return a->lexical_rank < b->lexical_rank; });
  std::sort(dense.begin(), dense.end(), [](auto* a, auto* b) { return a->dense_rank < b->dense_rank; });
  for (auto* h : lex) c.lexical.push_back({h->chunk_id, static_cast<float>(h->lexical_score)});
  for (auto* h : dense) c.dense.push_back({h->chunk_id, static_cast<float>(h->dense_score)});
  c.relevant = eval::Qrels(q.relevant.begin(), q.relevant.end());
  return c;
}

// nDCG@10 of a fused list, one entry per unit (its best chunk).
double Ndcg(const std::vector<retrieve::FusedHit>& fused, const Candidates& c) {
  std::vector<std::string> ranked;
  std::unordered_set<std::string> seen;
  for (const auto& h : fused) {
    const std::string& u = c.unit.at(h.id);
    if (seen.insert(u).second) ranked.push_back(u);
    if (ranked.size() == 10) break;
  }
  return eval::NdcgAtK(ranked, c.relevant, 10);
}

// The grid, the default first so that it wins ties.
std::vector<FusionChoice> Grid() {
  std::vector<FusionChoice> g{{Fusion::kZScore, 0.7}, {Fusion::kDispersion, 0.5}};
  for (int i = 0; i <= 10; ++i)
    if (i != 7) g.push_back({Fusion::kZScore, i / 10.0});  // 0.7 is the default, first
  for (int i = 1; i <= 9; ++i) g.push_back({Fusion::kMinMax, i / 10.0});
  for (int k : {10, 30, 60})
    for (int i = 2; i <= 8; ++i) g.push_back({Fusion::kRrf, i / 10.0, k});
  return g;
}

// Mean nDCG over the tune half (even positions), the check half (odd) and all.
FusionTrial Score(const FusionChoice& choice, std::string name, const std::vector<double>& per_question) {
  FusionTrial t{choice, std::move(name)};
  double sums[2] = {0, 0};
  size_t counts[2] = {0, 0};
  for (size_t i = 0; i < per_question.size(); ++i) sums[i % 2] += per_question[i], ++counts[i % 2];
  t.ndcg_tune = counts[0] ? sums[0] / counts[0] : 0;
  t.ndcg_check = counts[1] ? sums[1] / counts[1] : 0;
  t.ndcg_all = per_question.empty() ? 0 : (sums[0] + sums[1]) / per_question.size();
  return t;
}

}  // namespace

Result<FusionTuning> ScoreFusions(Engine& engine, const std::string& kb, std::span<const TuneQuestion> questions,
                                  TuneUnit unit, const std::function<void(int64_t, int64_t)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<const TuneQuestion*> usable;
  for (const auto& q : questions)
    if (!q.relevant.empty() && q.text.find_first_not_of(" \t\r\n") != std::string::npos) usable.push_back(&q);
  if (usable.size() < 4)
    return Status::InvalidArgument("tuning needs at least 4 questions with a known answer, got " +
                                   std::to_string(usable.size()));
  std::vector<Candidates> cands;
  const int64_t total = static_cast<int64_t>(usable.size()) * 3;  // the grid's searches, then MMR's two
  for (const auto* q : usable) {
    RAGD_ASSIGN_OR_RETURN(Candidates c, Collect(engine, kb, *q, unit));
    cands.push_back(std::move(c));
    if (progress) progress(static_cast<int64_t>(cands.size()), total);
  }

  FusionTuning out;
  out.questions = static_cast<int>(cands.size());
  auto run = [&](const FusionChoice& choice, std::string name, auto&& fuse) {
    std::vector<double> per;
    for (const auto& c : cands) per.push_back(Ndcg(fuse(c), c));
    return Score(choice, std::move(name), per);
  };
  out.bm25 = run({Fusion::kZScore, 1.0}, "bm25", [](const Candidates& c) { return retrieve::FromLexical(c.lexical); });
  out.dense = run({Fusion::kZScore, 0.0}, "dense", [](const Candidates& c) { return retrieve::FromDense(c.dense); });
  for (const FusionChoice& choice : Grid()) {
    retrieve::FusionSettings s{choice.fusion, choice.lexical_weight, choice.rrf_k};
    out.trials.push_back(run(choice, choice.Describe(),
                             [&](const Candidates& c) { return retrieve::FuseLists(s, c.lexical, c.dense); }));
  }
  out.default_fusion = out.trials[0];
  out.default_fusion.name = "default (" + out.default_fusion.name + ")";
  out.dispersion = out.trials[1];
  out.chosen = out.oracle = out.trials[0];
  for (const auto& t : out.trials) {
    if (t.ndcg_tune > out.chosen.ndcg_tune + 1e-12) out.chosen = t;
    if (t.ndcg_all > out.oracle.ndcg_all + 1e-12) out.oracle = t;
  }

  // MMR on top of the best fusions: real searches (it needs the vectors).
  const FusionTrial base_chosen = out.chosen, base_oracle = out.oracle;
  for (double lambda : {0.9, 0.7}) {
    for (const FusionTrial* base : {&base_chosen, &base_oracle}) {
      if (base == &base_oracle && base_oracle.choice.Describe() == base_chosen.choice.Describe()) continue;
      FusionChoice choice = base->choice;
      choice.mmr_lambda = lambda;
      std::vector<double> per;
      for (size_t i = 0; i < usable.size(); ++i) {
        SearchOptions so;
        so.kb = kb;
        so.query = usable[i]->text;
        so.mode = SearchMode::kHybrid;
        so.k = 10;
        so.candidates = unit == TuneUnit::kDocument ? CandidatesFor(unit) / 2 : CandidatesFor(unit);
        so.one_per_document = unit == TuneUnit::kDocument;
        so.rerank = false;
        so.fusion = choice.fusion;
        so.lexical_weight = choice.lexical_weight;
        so.rrf_k = choice.rrf_k;
        so.mmr_lambda = lambda;
        RAGD_ASSIGN_OR_RETURN(SearchResponse resp, engine.Search(so));
        std::vector<std::string> ranked;
        for (const auto& h : resp.hits) ranked.push_back(UnitOf(h, unit));
        per.push_back(eval::NdcgAtK(ranked, cands[i].relevant, 10));
        if (progress && base == &base_chosen)
          progress(static_cast<int64_t>(usable.size()) * (lambda > 0.8 ? 1 : 2) + static_cast<int64_t>(i) + 1, total);
      }
      FusionTrial t = Score(choice, choice.Describe(), per);
      out.trials.push_back(t);
      if (base == &base_chosen && t.ndcg_tune > out.chosen.ndcg_tune + 1e-12) out.chosen = t;
      if (t.ndcg_all > out.oracle.ndcg_all + 1e-12) out.oracle = t;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Result<FusionTuning> TuneOnBeir(Engine& engine, const RetrievalEvalOptions& options, std::string* kb,
                                const ProgressFn& progress) {
  RAGD_ASSIGN_OR_RETURN(eval::BeirSet set, eval::ReadBeir(options.beir_dir, options.split));
  IngestReport ingest;
  RAGD_ASSIGN_OR_RETURN(*kb, eval::BuildBeirKb(engine, set, options.beir_dir, options.kb, options.split_options,
                                               progress, &ingest));
  std::vector<TuneQuestion> questions;
  for (const auto& q : set.queries) {
    auto it = set.qrels.find(q.id);
    if (it == set.qrels.end()) continue;
    TuneQuestion t{q.text};
    for (const auto& [doc, grade] : it->second)
      if (grade > 0) t.relevant[doc] = grade;
    questions.push_back(std::move(t));
  }
  return ScoreFusions(engine, *kb, questions, TuneUnit::kDocument, [&](int64_t done, int64_t total) {
    if (progress) progress(IngestProgress{done, total, 0, "question " + std::to_string(done)});
  });
}

}  // namespace ragd
