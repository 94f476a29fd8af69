// `ragd kb tune`: questions the chat model writes from a sample of the
// knowledge base's chunks (dataset synth: a JSON schema, the chunk must
// support the answer, near duplicates out), each labelled with its chunk;
// generic ones dropped; the fusion grid scored on them.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/status_macros.h"
#include "rag/context.h"
#include "ragd/dataset.h"
#include "ragd/engine.h"
#include "ragd/tune.h"

namespace ragd {

namespace {

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Chunks besides the question's own, among its 20 best hits, that hold at
// least 0.8 of its terms: a question many chunks answer cannot tell the
// retrievers apart (and its label would be wrong half the time).
Result<int> OtherSources(Engine& engine, const std::string& kb, const SynthPair& p) {
  SearchOptions so;
  so.kb = kb;
  so.query = p.question;
  so.k = 20;
  so.rerank = false;
  RAGD_ASSIGN_OR_RETURN(SearchResponse resp, engine.Search(so));
  int n = 0;
  for (const auto& h : resp.hits)
    if (h.chunk_id != p.chunk_id && SupportShare(p.question, h.text) >= 0.8) ++n;
  return n;
}

}  // namespace

std::map<std::string, std::string> TuningSettings(const TuneReport& r) {
  const FusionTuning& t = r.tuning;
  const FusionChoice& c = t.chosen.choice;
  std::map<std::string, std::string> s;
  s["search.fusion"] = FusionName(c.fusion);
  s["search.lexical_weight"] = Fixed(c.lexical_weight, 1);
  s["search.rrf_k"] = std::to_string(c.rrf_k);
  s["search.mmr_lambda"] = c.mmr_lambda >= 0 ? Fixed(c.mmr_lambda, 1) : "off";
  s["tune.at"] = UtcNow();
  s["tune.choice"] = c.Describe();
  s["tune.questions"] = std::to_string(r.used) + " from " + std::to_string(r.chunks) + " chunks (" +
                        std::to_string((r.used + 1) / 2) + " chosen on, " + std::to_string(r.used / 2) + " held out)";
  s["tune.ndcg_held_out"] = "tuned " + Fixed(t.chosen.ndcg_check, 3) + ", default " +
                            Fixed(t.default_fusion.ndcg_check, 3) + ", dispersion " + Fixed(t.dispersion.ndcg_check, 3) +
                            ", bm25 " + Fixed(t.bm25.ndcg_check, 3) + ", dense " + Fixed(t.dense.ndcg_check, 3);
  s["tune.model"] = r.model;
  return s;
}

Result<TuneReport> TuneKnowledgeBase(Engine& engine, ChatModel& model, const Prompts& prompts, const TuneOptions& options,
                                     const TuneProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.sample_chunks < 4 || options.sample_chunks > 10000)
    return Status::InvalidArgument("the sample must be between 4 and 10000 chunks");
  TuneReport r;
  r.model = model.model();
  SynthOptions so;
  so.kb = options.kb;
  so.per_chunk = options.per_chunk;
  so.max_chunks = options.sample_chunks;
  so.validation_fraction = 0;
  std::vector<SynthPair> pairs;
  RAGD_ASSIGN_OR_RETURN(SynthReport synth, SynthesizeDataset(engine, model, prompts, so, &pairs, [&](int64_t d, int64_t n) {
                          if (progress) progress("questions", d, n);
                        }));
  r.chunks = synth.chunks;
  r.generated = synth.generated;
  r.dropped = synth.generated - synth.kept;
  r.model_seconds = synth.seconds;

  std::vector<TuneQuestion> questions;
  for (const SynthPair& p : pairs) {
    RAGD_ASSIGN_OR_RETURN(int others, OtherSources(engine, options.kb, p));
    if (others >= options.max_other_sources) {
      ++r.generic;
      continue;
    }
    questions.push_back({p.question, {{std::to_string(p.chunk_id), 1}}});
  }
  r.used = static_cast<int64_t>(questions.size());
  if (questions.size() < 6)
    return Status::InvalidArgument(
        "only " + std::to_string(questions.size()) + " usable questions came from " + std::to_string(r.chunks) +
        " chunks (" + std::to_string(r.generated) + " written, " + std::to_string(r.dropped) + " dropped by the filters, " +
        std::to_string(r.generic) + " generic); tuning needs at least 6: sample more chunks (--sample) or use a larger chat model");
  RAGD_ASSIGN_OR_RETURN(r.tuning, ScoreFusions(engine, options.kb, questions, TuneUnit::kChunk, [&](int64_t d, int64_t n) {
                          if (progress) progress("searches", d, n);
                        }));
  if (options.store)
    for (const auto& [k, v] : TuningSettings(r)) RAGD_RETURN_IF_ERROR(engine.SetKbSetting(options.kb, k, v));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace ragd
