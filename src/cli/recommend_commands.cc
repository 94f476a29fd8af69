#include "cli/recommend_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>

#include "api/json_forms.h"
#include "cli/answer_setup.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "ragd/recommend_eval.h"

namespace ragd::cli {

using nlohmann::json;

namespace {

// "profile=1,item_knn=0.5": each named source's weight.
Status ParseWeights(const std::vector<std::string>& given, RecommendWeights* w) {
  for (const std::string& g : given) {
    size_t eq = g.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("--weight '" + g + "': give SOURCE=WEIGHT");
    std::string name = g.substr(0, eq), value = g.substr(eq + 1);
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return Status::InvalidArgument("--weight '" + g + "': the weight is not a number");
    if (name == "profile") w->profile = v;
    else if (name == "item_knn" || name == "item-knn") w->item_knn = v;
    else if (name == "popularity") w->popularity = v;
    else if (name == "query") w->query = v;
    else return Status::InvalidArgument("--weight '" + g + "': sources are profile, item_knn, popularity and query");
  }
  return Status::OK();
}

}  // namespace

RecommendCommands::RecommendCommands(CLI::App* app, CommonFlags* common) : common_(common) {
  auto* interactions = app->add_subcommand("interactions", "users' interactions with a knowledge base's items");
  interactions->require_subcommand(1);
  import_ = interactions->add_subcommand("import", "append interactions from a CSV (user,item[,rating][,time]) or JSONL file");
  import_->add_option("kb", import_kb_, "knowledge base whose documents are the items")->required();
  import_->add_option("file", import_file_, "CSV with a header, or JSONL objects")->required();
  import_->add_flag("--json", import_json_, "print the report as JSON");

  recommend_ = app->add_subcommand("recommend", "recommend items of a knowledge base for a user, liked items or a query");
  recommend_->add_option("--kb", f_.kb, "knowledge base of the items")->required();
  recommend_->add_option("--user", user_, "a user whose interactions were imported");
  recommend_->add_option("--like", like_, "an item the user likes (repeatable; a cold start needs no history)");
  recommend_->add_option("--query", query_, "text describing what is wanted");
  recommend_->add_option("-k", k_, "how many items (default 10)");
  recommend_->add_option("--rerank", rerank_, "llm: the chat model re-ranks the top candidates (default none)");
  recommend_->add_option("--rerank-top", rerank_top_, "candidates the model re-ranks (default 20)");
  recommend_->add_option("--repeats", repeats_, "re-rank calls, each in a shuffled order (default 3)");
  recommend_->add_flag("--explain", explain_, "one reason per item from the user's history (the chat model)");
  recommend_->add_option("--filter", f_.filters, "metadata condition on the items, e.g. year>=2000 (repeatable)");
  recommend_->add_flag("--include-seen", include_seen_, "keep items the user has interacted with");
  recommend_->add_option("--weight", weights_, "SOURCE=W: profile, item_knn, popularity, query (repeatable)");
  recommend_->add_option("--candidates", candidates_, "items taken from each source (default 200)");
  recommend_->add_flag("--json", f_.json, "print the recommendations as JSON");
  AddModelFlags(recommend_, &f_);

  if (CLI::App* eval = app->get_subcommand("eval")) {
    eval_ = eval->add_subcommand("recommend", "leave-last-out HR@10, nDCG@10 and MRR of each recommendation method");
    eval_->add_option("folder", eval_folder_, "folder with items.jsonl and interactions.csv")->required();
    eval_->add_option("--items", eval_items_, "the catalogue's file in the folder (default items.jsonl)");
    eval_->add_option("--interactions", eval_rows_, "the interactions' file in the folder (default interactions.csv)");
    eval_->add_option("--methods", eval_methods_, "popularity, item-knn, profile, fused, fused+llm (default all but fused+llm)")
        ->delimiter(',');
    eval_->add_option("--users", eval_users_, "a fixed random sample of this many users (default all)");
    eval_->add_option("--llm-users", eval_llm_users_, "users fused+llm runs on, the first of that sample (default 50)");
    eval_->add_option("--weight", weights_, "SOURCE=W for the fused methods: profile, item_knn, popularity (repeatable)");
    eval_->add_option("--kb", eval_kb_, "knowledge base to build or reuse (default named by the files' hash)");
    eval_->add_option("--out", eval_out_, "per user and method JSONL (default ragd-eval-recommend.jsonl)");
    eval_->add_flag("--json", f_.json, "print the table as JSON");
    AddModelFlags(eval_, &f_);
  }
}

std::optional<int> RecommendCommands::Run() {
  if (*import_) return Import();
  if (*recommend_) return Recommend();
  if (eval_ && *eval_) return Eval();
  return std::nullopt;
}

int RecommendCommands::Import() {
  auto rows = ReadInteractionsFile(import_file_);
  if (!rows.ok()) return Fail(rows.status());
  AnswerFlags f;
  f.kb = import_kb_;
  f.no_retrieval = true;
  auto prepared = Prepare(*common_, f, KbNeed::kAlways, false);
  if (!prepared.ok()) return Fail(prepared.status());
  auto r = (*prepared)->engine->ImportInteractions(import_kb_, *rows);
  if (!r.ok()) return Fail(r.status());
  if (import_json_) {
    std::cout << api::InteractionImportJson(import_kb_, *r).dump(2) << "\n";
    return 0;
  }
  std::printf("imported into '%s': %lld of %lld interactions (%lld users, %lld interactions in all)\n",
              import_kb_.c_str(), static_cast<long long>(r->added), static_cast<long long>(r->read),
              static_cast<long long>(r->users), static_cast<long long>(r->total));
  if (r->unknown_items) {
    std::string examples;
    for (const auto& e : r->unknown_examples) examples += (examples.empty() ? "" : ", ") + e;
    std::fprintf(stderr, "ragd: warning: %lld rows name items that are not documents of '%s' (%s); they were not stored\n",
                 static_cast<long long>(r->unknown_items), import_kb_.c_str(), examples.c_str());
  }
  return 0;
}

int RecommendCommands::Recommend() {
  RecommendOptions o;
  o.kb = f_.kb;
  o.user = user_;
  o.like = like_;
  o.query = query_;
  o.k = k_;
  o.include_seen = include_seen_;
  o.candidates = candidates_;
  o.explain = explain_;
  o.seed = f_.seed.value_or(1);  // --seed: the model's sampling and the re-rank's shuffles
  if (rerank_ != "none" && rerank_ != "llm")
    return Fail(Status::InvalidArgument("--rerank is llm or none, got '" + rerank_ + "'"));
  o.rerank_llm = rerank_ == "llm";
  o.rerank_top = rerank_top_;
  o.rerank_repeats = repeats_;
  if (Status st = ParseWeights(weights_, &o.weights); !st.ok()) return Fail(st);
  auto filters = ParseFilters(f_.filters);
  if (!filters.ok()) return Fail(filters.status());
  o.filters = *filters;
  AnswerFlags f = f_;
  f.filters.clear();
  f.no_retrieval = query_.empty();  // the embedder loads only for a query
  const bool need_model = o.rerank_llm || o.explain;
  auto prepared = Prepare(*common_, f, KbNeed::kAlways, false);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  // The request is checked before the model loads: a typo costs no load.
  auto r = run.engine->Recommend(FusedStepOptions(o));
  if (!r.ok()) return Fail(r.status());
  if (need_model) {
    if (Status st = LoadChatModel(run); !st.ok()) return Fail(st);
    run.tags->question = "recommend: " + (user_.empty() ? query_ : user_);
    if (Status st = ApplyModel(*run.model, run.prompts, o, *r); !st.ok()) return Fail(st);
    WarnTrace(run);
  }
  if (f_.json) {
    std::cout << api::RecommendResultJson(*r).dump(2) << "\n";
    return 0;
  }
  if (r->items.empty()) std::printf("nothing to recommend in '%s' (every candidate filtered out or seen)\n", o.kb.c_str());
  for (size_t i = 0; i < r->items.size(); ++i) {
    const Recommendation& it = r->items[i];
    std::string from;
    for (const auto& [name, rank] : it.sources) from += (from.empty() ? "" : ", ") + name + " #" + std::to_string(rank);
    std::printf("%2zu. %s  (%s)  %.4f  [%s]\n", i + 1, OneLine(it.title, 90).c_str(), it.item.c_str(), it.score, from.c_str());
    if (!it.reason.empty())
      std::printf("    %s  (you liked: %s)\n", OneLine(it.reason, 240).c_str(), OneLine(it.because_title, 60).c_str());
    else if (!it.because.empty())
      std::printf("    close to: %s\n", OneLine(it.because_title, 90).c_str());
  }
  if (!common_->quiet) {
    std::fprintf(stderr, "ragd: %s%d interactions in the history, %.1f ms", r->cold_start ? "cold start, " : "", r->history,
                 r->seconds * 1000);
    if (r->rerank_calls || r->explain_calls)
      std::fprintf(stderr, "; model: %d re-rank calls (%d invalid), %d explain, %d + %d tokens, %.1f s", r->rerank_calls,
                   r->rerank_invalid, r->explain_calls, r->prompt_tokens, r->completion_tokens, r->model_seconds);
    std::fprintf(stderr, "\n");
  }
  return 0;
}

int RecommendCommands::Eval() {
  RecommendEvalOptions o;
  o.folder = eval_folder_;
  o.items_file = eval_items_;
  o.interactions_file = eval_rows_;
  o.kb = eval_kb_;
  if (!eval_methods_.empty()) o.methods = eval_methods_;
  o.users = eval_users_;
  o.llm_users = eval_llm_users_;
  if (Status st = ParseWeights(weights_, &o.weights); !st.ok()) return Fail(st);
  o.seed = f_.seed.value_or(1);  // --seed: the user sample and the re-rank's shuffles
  const bool need_model = std::find(o.methods.begin(), o.methods.end(), "fused+llm") != o.methods.end();
  AnswerFlags f = f_;
  f.no_retrieval = true;
  auto prepared = Prepare(*common_, f, KbNeed::kUnlessNoRetrieval, false);
  if (!prepared.ok()) return Fail(prepared.status());
  cli::Run& run = **prepared;
  if (need_model) {
    if (Status st = LoadChatModel(run); !st.ok()) return Fail(st);
  }
  std::ofstream out(eval_out_, std::ios::trunc);
  if (!out) return Fail(Status::IOError("cannot write " + eval_out_));
  auto on_record = [&](const RecommendEvalRecord& r) {
    out << json{{"user", r.user}, {"method", r.method}, {"target", r.target}, {"rank", r.rank}, {"top", r.top},
                {"history", r.history}, {"seconds", r.seconds}, {"model_calls", r.model_calls},
                {"invalid_outputs", r.invalid_outputs}, {"prompt_tokens", r.prompt_tokens},
                {"completion_tokens", r.completion_tokens}}
               .dump()
        << "\n";
    out.flush();
  };
  cli::ProgressBar bar("ingest", common_->quiet || f_.json);
  std::string shown;
  auto progress = [&](const RecommendEvalProgress& p) {
    if (common_->quiet || f_.json) return;
    if (p.done == p.total || p.done % 50 == 0) {
      std::fprintf(stderr, "\rragd: %s %d/%d", p.method.c_str(), p.done, p.total);
      if (p.done == p.total) std::fprintf(stderr, "\n");
    }
  };
  auto report = EvaluateRecommend(*run.engine, run.model.get(), &run.prompts, o, on_record, progress,
                                  [&](const IngestProgress& p) { bar.Update(p); });
  bar.Finish();
  if (!report.ok()) return Fail(report.status());
  if (f_.json) {
    json rows = json::array();
    for (const auto& m : report->methods)
      rows.push_back({{"method", m.method}, {"users", m.users}, {"hr_at_10", m.hr_at_10}, {"hr_ci", m.hr_ci},
                      {"ndcg_at_10", m.ndcg_at_10}, {"ndcg_ci", m.ndcg_ci}, {"mrr", m.mrr}, {"mrr_ci", m.mrr_ci},
                      {"ms_per_user", m.ms_per_user}, {"model_calls_per_user", m.model_calls_per_user},
                      {"invalid_share", m.invalid_share}, {"tokens_per_user", m.tokens_per_user}});
    std::cout << json{{"kb", report->kb}, {"items", report->items}, {"users", report->users},
                      {"interactions", report->interactions}, {"list_length", o.list_length},
                      {"model", run.model ? run.model->model() : ""}, {"out", eval_out_}, {"methods", rows}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::printf("%s: %d items, %lld interactions, %d users with a history; leave-last-out, lists of %d\n",
              report->kb.c_str(), report->items, static_cast<long long>(report->interactions), report->users,
              o.list_length);
  std::printf("%-11s %6s %16s %16s %16s %9s %s\n", "method", "users", "HR@10", "nDCG@10", "MRR", "ms/user", "model");
  for (const auto& m : report->methods) {
    std::string model = m.model_calls_per_user > 0
                            ? std::to_string(m.model_calls_per_user).substr(0, 4) + " calls, " +
                                  std::to_string(static_cast<int>(m.tokens_per_user)) + " tokens, " +
                                  std::to_string(static_cast<int>(m.invalid_share * 100)) + "% invalid"
                            : "-";
    std::printf("%-11s %6d %7.4f ± %.4f %7.4f ± %.4f %7.4f ± %.4f %9.1f %s\n", m.method.c_str(), m.users, m.hr_at_10,
                m.hr_ci, m.ndcg_at_10, m.ndcg_ci, m.mrr, m.mrr_ci, m.ms_per_user, model.c_str());
  }
  return 0;
}

int IngestRecords(Engine& engine, const std::string& kb, const std::vector<std::string>& paths,
                  const RecordFields& fields, const SplitOptions& split,
                  const std::map<std::string, std::string>& metadata, bool json_out, bool quiet) {
  IngestReport total;
  std::vector<FileFailure> failures;
  for (const std::string& path : paths) {
    auto docs = ReadRecordsFile(path, fields);
    if (!docs.ok()) {
      failures.push_back({path, docs.status()});
      continue;
    }
    for (auto& d : *docs)
      for (const auto& [k, v] : metadata) d.metadata.emplace(k, v);
    cli::ProgressBar bar("ingest", quiet || json_out);
    auto r = engine.IngestDocuments(kb, *docs, split, [&](const IngestProgress& p) { bar.Update(p); });
    bar.Finish();
    if (!r.ok()) return Fail(r.status().WithContext(path));
    total.files_seen += r->files_seen, total.files_added += r->files_added;
    total.files_updated += r->files_updated, total.files_unchanged += r->files_unchanged;
    total.chunks_written += r->chunks_written, total.seconds += r->seconds;
    for (auto& fl : r->failures) failures.push_back(std::move(fl));
  }
  total.failures = failures;
  if (json_out) {
    std::cout << api::IngestReportJson(kb, total).dump(2) << "\n";
  } else {
    for (const auto& fl : failures) std::fprintf(stderr, "ragd: skipped %s: %s\n", fl.path.c_str(), fl.status.message().c_str());
    std::printf("ingested into '%s': %lld records (%lld added, %lld updated, %lld unchanged, %zu failed), %lld chunks in %.2fs\n",
                kb.c_str(), static_cast<long long>(total.files_seen), static_cast<long long>(total.files_added),
                static_cast<long long>(total.files_updated), static_cast<long long>(total.files_unchanged),
                failures.size(), static_cast<long long>(total.chunks_written), total.seconds);
  }
  return failures.empty() ? 0 : 3;
}

}  // namespace ragd::cli
