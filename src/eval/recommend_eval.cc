// Leave-last-out evaluation of recommendation through the public API: the
// training interactions are imported into a knowledge base of their own,
// so every method is what `ragd recommend` answers.
#include "ragd/recommend_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "core/files.h"
#include "core/status_macros.h"

namespace ragd {
namespace {

struct Split {
  std::vector<Interaction> train;
  std::map<std::string, Interaction> target;  // per user with two interactions or more
  std::map<std::string, int> history;
};

// Each user's last interaction by time (the file's order breaking ties) is
// the target; a user with one interaction only has no history and is left out.
Split LeaveLastOut(const std::vector<Interaction>& rows) {
  std::map<std::string, std::vector<size_t>> by_user;
  for (size_t i = 0; i < rows.size(); ++i) by_user[rows[i].user].push_back(i);
  std::vector<char> held(rows.size(), 0);
  Split s;
  for (auto& [user, idx] : by_user) {
    if (idx.size() < 2) continue;
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return rows[a].time.value_or(0) < rows[b].time.value_or(0); });
    held[idx.back()] = 1;
    s.target[user] = rows[idx.back()];
    s.history[user] = static_cast<int>(idx.size() - 1);
  }
  for (size_t i = 0; i < rows.size(); ++i)
    if (!held[i]) s.train.push_back(rows[i]);
  return s;
}

struct Acc {
  std::vector<double> hr, ndcg, rr;
  double seconds = 0;
  int64_t calls = 0, invalid = 0, tokens = 0;
};

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / v.size();
}

double HalfWidth(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = Mean(v), ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return 1.96 * std::sqrt(ss / (v.size() - 1)) / std::sqrt(static_cast<double>(v.size()));
}

Result<RecommendOptions> MethodOptions(const std::string& method, const RecommendEvalOptions& o) {
  RecommendOptions r;
  r.k = o.list_length;
  r.candidates = std::max(o.list_length, 200);
  r.seed = o.seed;
  RecommendWeights only{0, 0, 0, 0};
  if (method == "popularity") r.weights = only, r.weights.popularity = 1;
  else if (method == "item-knn") r.weights = only, r.weights.item_knn = 1;
  else if (method == "profile") r.weights = only, r.weights.profile = 1;
  else if (method == "fused") r.weights = o.weights;
  else if (method == "fused+llm") {
    r.weights = o.weights;
    r.rerank_llm = true;
    r.rerank_top = o.rerank_top;
    r.rerank_repeats = o.rerank_repeats;
  } else {
    return Status::InvalidArgument("unknown method '" + method + "' (popularity, item-knn, profile, fused, fused+llm)");
  }
  return r;
}

}  // namespace

Result<RecommendEvalReport> EvaluateRecommend(Engine& engine, ChatModel* model, const Prompts* prompts,
                                              const RecommendEvalOptions& o,
                                              const std::function<void(const RecommendEvalRecord&)>& on_record,
                                              const std::function<void(const RecommendEvalProgress&)>& progress,
                                              const ProgressFn& ingest_progress) {
  if (o.methods.empty()) return Status::InvalidArgument("no methods to evaluate");
  for (const std::string& m : o.methods) {
    RAGD_RETURN_IF_ERROR(MethodOptions(m, o).status());
    if (m == "fused+llm" && (!model || !prompts)) return Status::InvalidArgument("fused+llm needs a chat model");
  }
  if (o.users < 0 || o.llm_users < 0) return Status::InvalidArgument("--users and --llm-users cannot be negative");
  if (o.list_length < 10 || o.list_length > 1000) return Status::InvalidArgument("the list length must be 10 to 1000");
  const std::filesystem::path dir(o.folder);
  const std::string items_path = (dir / o.items_file).string(), rows_path = (dir / o.interactions_file).string();
  RAGD_ASSIGN_OR_RETURN(std::vector<SourceDocument> items, ReadRecordsFile(items_path));
  RAGD_ASSIGN_OR_RETURN(std::vector<Interaction> rows, ReadInteractionsFile(rows_path));
  RecommendEvalReport report;
  report.items = static_cast<int>(items.size());
  report.interactions = static_cast<int64_t>(rows.size());
  report.kb = o.kb;
  if (report.kb.empty()) {
    // Named by both files' content: a changed file gets a fresh knowledge base.
    RAGD_ASSIGN_OR_RETURN(std::string a, files::ReadFile(items_path, 1LL << 30));
    RAGD_ASSIGN_OR_RETURN(std::string b, files::ReadFile(rows_path, 1LL << 30));
    std::string folder = dir.lexically_normal().filename().string();
    if (folder.empty()) folder = dir.lexically_normal().parent_path().filename().string();
    std::string safe;
    for (char c : folder) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    report.kb = "rec-" + safe.substr(0, 40) + "-" + files::ContentHash(a + '\0' + b).substr(0, 8);
  }
  Split split = LeaveLastOut(rows);
  report.users = static_cast<int>(split.target.size());
  // Whole records, one chunk each where the embedder's window allows.
  SplitOptions chunks;
  RAGD_ASSIGN_OR_RETURN(Embedder * e, engine.embedder());
  chunks.chunk_size = e->max_tokens() - 2;
  chunks.chunk_overlap = chunks.chunk_size / 8;
  RAGD_RETURN_IF_ERROR(engine.IngestDocuments(report.kb, items, chunks, ingest_progress).status());
  RAGD_ASSIGN_OR_RETURN(InteractionImportReport stored, engine.ImportInteractions(report.kb, {}));
  if (stored.total == 0) {
    RAGD_RETURN_IF_ERROR(engine.ImportInteractions(report.kb, split.train).status());
  } else if (stored.total != static_cast<int64_t>(split.train.size())) {
    return Status::InvalidArgument("knowledge base '" + report.kb + "' holds " + std::to_string(stored.total) +
                                   " interactions, not this split's " + std::to_string(split.train.size()) +
                                   ": delete it (ragd kb delete) or name another with --kb");
  }

  std::vector<std::string> users;
  for (const auto& [u, t] : split.target) users.push_back(u);
  std::mt19937_64 rng(o.seed);
  std::shuffle(users.begin(), users.end(), rng);
  if (o.users > 0 && static_cast<size_t>(o.users) < users.size()) users.resize(o.users);

  for (const std::string& method : o.methods) {
    RAGD_ASSIGN_OR_RETURN(RecommendOptions base, MethodOptions(method, o));
    base.kb = report.kb;
    const bool llm = method == "fused+llm";
    const size_t n = llm ? std::min(users.size(), static_cast<size_t>(o.llm_users)) : users.size();
    Acc acc;
    for (size_t i = 0; i < n; ++i) {
      RecommendOptions ro = base;
      ro.user = users[i];
      const Interaction& target = split.target[users[i]];
      const auto t0 = std::chrono::steady_clock::now();
      Result<RecommendResult> r = llm ? RecommendWithModel(engine, model, ro, *prompts) : engine.Recommend(ro);
      if (!r.ok()) return r.status().WithContext("user " + users[i] + ", " + method);
      RecommendEvalRecord rec;
      rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rec.user = users[i];
      rec.method = method;
      rec.target = target.item;
      rec.history = split.history[users[i]];
      for (size_t p = 0; p < r->items.size(); ++p) {
        if (p < 10) rec.top.push_back(r->items[p].item);
        if (r->items[p].item == target.item && rec.rank == 0) rec.rank = static_cast<int>(p + 1);
      }
      rec.model_calls = r->rerank_calls;
      rec.invalid_outputs = r->rerank_invalid;
      rec.prompt_tokens = r->prompt_tokens;
      rec.completion_tokens = r->completion_tokens;
      acc.hr.push_back(rec.rank >= 1 && rec.rank <= 10 ? 1 : 0);
      acc.ndcg.push_back(rec.rank >= 1 && rec.rank <= 10 ? 1.0 / std::log2(rec.rank + 1.0) : 0);
      acc.rr.push_back(rec.rank >= 1 ? 1.0 / rec.rank : 0);
      acc.seconds += rec.seconds;
      acc.calls += rec.model_calls, acc.invalid += rec.invalid_outputs;
      acc.tokens += rec.prompt_tokens + rec.completion_tokens;
      if (on_record) on_record(rec);
      if (progress) progress({method, static_cast<int>(i + 1), static_cast<int>(n)});
    }
    RecommendMethodMetrics m;
    m.method = method;
    m.users = static_cast<int>(n);
    m.hr_at_10 = Mean(acc.hr), m.ndcg_at_10 = Mean(acc.ndcg), m.mrr = Mean(acc.rr);
    m.hr_ci = HalfWidth(acc.hr), m.ndcg_ci = HalfWidth(acc.ndcg), m.mrr_ci = HalfWidth(acc.rr);
    if (n) {
      m.ms_per_user = 1000 * acc.seconds / n;
      m.model_calls_per_user = static_cast<double>(acc.calls) / n;
      m.tokens_per_user = static_cast<double>(acc.tokens) / n;
    }
    if (acc.calls) m.invalid_share = static_cast<double>(acc.invalid) / acc.calls;
    report.methods.push_back(m);
  }
  return report;
}

}  // namespace ragd
