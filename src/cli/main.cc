// The ragd command-line program. It parses flags, calls the Engine and turns
// results and Status values into text for people or JSON for programs.
//
// Exit codes: 0 success; 1 error; 2 bad usage; 3 ingest finished but some
// files failed (each is listed).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/json_forms.h"
#include "api/search_request.h"
#include "cli/agent_commands.h"
#include "cli/dataset_commands.h"
#include "cli/tune_commands.h"
#include "cli/recommend_commands.h"
#include "cli/summarize_commands.h"
#include "cli/answer_commands.h"
#include "cli/config.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "core/text.h"
#include "ragd/engine.h"
#include "ragd/eval.h"

namespace {

using nlohmann::json;
using namespace ragd;

using GlobalFlags = ragd::cli::CommonFlags;
using ragd::cli::Fail;
using ragd::cli::OneLine;

// kb names the knowledge base whose traces.jsonl records the embedding calls
// (empty: the data folder's).
Result<std::unique_ptr<Engine>> OpenEngine(const GlobalFlags& g, const std::string& kb = "") {
  auto settings = cli::LoadSettings(g.config);
  if (!settings.ok()) return settings.status();
  EngineOptions o = cli::MakeEngineOptions(settings.value(), g);
  if (std::string path = cli::TracePath(settings.value(), g.no_trace, g.trace_file, o.data_dir, kb); !path.empty())
    o.trace = std::make_shared<TraceLog>(path);
  return Engine::Open(o);
}

std::string Location(const SearchHit& h) {
  std::string loc = h.source;
  if (h.page) loc += ":p" + std::to_string(h.page);
  if (h.row) loc += ":row " + std::to_string(h.row);
  return loc;
}

Result<ChunkUnit> ParseUnit(const std::string& s) {
  if (s == "tokens") return ChunkUnit::kTokens;
  if (s == "chars") return ChunkUnit::kChars;
  return Status::InvalidArgument("--chunk-unit must be tokens or chars");
}

// A knowledge base reaching kAutoTuneChunks that was never tuned (nor
// tried automatically) and has no fusion set by hand is tuned now with the
// configured chat model (a few minutes). Its failure is a note and is
// recorded, so later ingests do not pay for it again: the ingest itself
// succeeded, and `kb tune` tries again on demand. Checked cheaply: the
// settings, then the documents' chunk counts (one query).
void MaybeTuneAfterIngest(Engine& engine, const GlobalFlags& g, const std::string& kb, bool json_out) {
  if (const char* v = std::getenv("RAGD_AUTO_TUNE"); v && std::string(v) == "0") return;
  auto settings = engine.GetKbSettings(kb);
  if (!settings.ok()) return;
  for (const char* key : {"tune.at", "tune.auto", "search.fusion", "search.lexical_weight"})
    if (settings->contains(key)) return;
  auto docs = engine.ListDocuments(kb);
  if (!docs.ok()) return;
  int64_t chunks = 0;
  for (const auto& d : *docs) chunks += d.chunk_count;
  if (chunks < kAutoTuneChunks) return;
  if (!g.quiet)
    std::fprintf(stderr, "ragd: '%s' has %lld chunks and was never tuned: choosing its fusion from questions the chat "
                         "model writes (ragd kb tune; skip with --no-tune)\n",
                 kb.c_str(), static_cast<long long>(chunks));
  cli::AnswerFlags f;
  f.kb = kb;
  TuneOptions o;
  o.kb = kb;
  if (cli::RunTune(g, f, o, json_out ? cli::TuneOutput::kNote : cli::TuneOutput::kTable) != 0) {
    (void)engine.SetKbSetting(kb, "tune.auto", "failed after ingest; `ragd kb tune " + kb + "` tries again");
    std::fprintf(stderr, "ragd: '%s' keeps the default fusion; `ragd kb tune %s` tries again\n", kb.c_str(), kb.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ragd — retrieval-augmented generation engine: ingest documents, search them, answer with cited sources"};
  app.require_subcommand(1);
  // Global options also work after the subcommand (`ragd ingest docs --kb x
  // --data-dir d`): a subcommand hands the options it does not know to its
  // parent. Set before any subcommand is added, which inherit it.
  app.fallthrough();
  GlobalFlags g;
  app.add_option("--data-dir", g.data_dir, "folder of knowledge bases (default: $RAGD_DATA_DIR or ~/.local/share/ragd)");
  app.add_option("--store", g.store, "where knowledge bases live: postgres://user@host:port/db (or $RAGD_STORE_URL, [store] url; default: the data directory)");
  app.add_option("--embed-model", g.embed_model, "GGUF embedding model or packaged name (default: multilingual-e5-small; a knowledge base keeps the one it was built with)");
  app.add_option("--reranker", g.reranker, "cross-encoder GGUF that reorders search results (or [rerank] in ragd.toml)");
  app.add_option("--threads", g.threads, "CPU threads for the models (default: all cores)");
  app.add_flag("-q,--quiet", g.quiet, "no progress output");
  app.add_option("--config", g.config, "settings file (default ./ragd.toml when present; see docs/CONFIG.md)");
  app.add_flag("--no-trace", g.no_trace, "do not record model calls");
  app.add_option("--trace-file", g.trace_file, "JSONL file for traces (default <kb dir>/traces.jsonl)");

  // ingest
  auto* ingest = app.add_subcommand("ingest", "add files or folders to a knowledge base");
  std::vector<std::string> paths;
  std::string kb;
  bool sync = false, ingest_json = false;
  int chunk_size = 0, chunk_overlap = -1, batch_files = 0;
  std::string chunk_unit = "tokens";
  int64_t max_file_mb = 256;
  ingest->add_option("paths", paths, "files or directories (recursed)")->required();
  ingest->add_option("--kb", kb, "knowledge base name (created if missing)")->required();
  ingest->add_flag("--sync", sync, "also remove documents whose files are gone from the given folders");
  bool no_tune = false;
  ingest->add_flag("--no-tune", no_tune,
                   "do not tune the fusion after the first ingest that brings the knowledge base to 1000 chunks");
  ingest->add_option("--chunk-size", chunk_size, "chunk length (default 200 tokens or 1000 chars)");
  ingest->add_option("--chunk-overlap", chunk_overlap, "overlap between chunks (default 15% of the size)");
  ingest->add_option("--chunk-unit", chunk_unit, "tokens (embedding model's tokenizer) or chars");
  ingest->add_option("--max-file-size", max_file_mb, "skip files above this many MiB (default 256)");
  ingest->add_option("--batch-files", batch_files, "files per atomic commit (default 64)");
  ingest->add_flag("--json", ingest_json, "print the report as JSON");
  bool records = false;
  RecordFields record_fields;
  ingest->add_flag("--records", records, "one document per record of CSV/JSONL/JSON files (a catalogue), the id field its id");
  ingest->add_option("--id-field", record_fields.id, "with --records: the id field (default _id, id, item or item_id)");
  ingest->add_option("--title-field", record_fields.title, "with --records: the title field (default title or name)");
  ingest->add_option("--text-field", record_fields.text,
                     "with --records: the text field (default text, description, content, body or summary; "
                     "none: every other field)");
  std::vector<std::string> meta;
  ingest->add_option("--meta", meta, "KEY=VALUE attached to every ingested document, for --filter (repeatable)");
  bool no_ocr = false;
  std::optional<std::string> ocr_lang;
  std::optional<int> ocr_dpi;
  ingest->add_flag("--no-ocr", no_ocr, "do not OCR scanned pages and images (images then fail, image-only pages are skipped)");
  ingest->add_option("--ocr-lang", ocr_lang,
                     "Tesseract languages for OCR: auto (by each page's script), eng, chi_sim, eng+chi_sim (default auto)");
  ingest->add_option("--ocr-dpi", ocr_dpi, "resolution scanned PDF pages are rendered at for OCR (default 300)");
  std::string commit_log;
  ingest->add_option("--commit-log", commit_log,
                     "append one JSON line per committed batch (its document ids) to this file, for audits and resumable scripts");

  // search
  auto* search = app.add_subcommand("search", "search a knowledge base");
  std::string query, mode_name = "hybrid";
  int k = 10;
  bool search_json = false, per_doc = false;
  search->add_option("query", query, "the question or keywords")->required();
  search->add_option("--kb", kb, "knowledge base name")->required();
  search->add_option("--mode", mode_name, "bm25, dense or hybrid (default hybrid: both, fused)");
  search->add_option("-k", k, "number of results (default 10)");
  search->add_flag("--per-document", per_doc, "at most one result per document");
  search->add_flag("--json", search_json, "print results as JSON");
  std::optional<std::string> fusion;
  std::optional<double> lexical_weight, mmr_lambda, min_score;
  int neighbors = 0;
  for (CLI::App* cmd : {search}) {
    cmd->add_option("--fusion", fusion, "hybrid fusion: rrf, minmax, zscore or dispersion (default: the knowledge base's, else zscore)");
    cmd->add_option("--lexical-weight", lexical_weight, "weight of BM25 in the fusion, 0..1 (default: the knowledge base's, else 0.7)");
    cmd->add_option("--mmr", mmr_lambda, "diversify with MMR, lambda 0..1 (1 = relevance only)");
  }
  search->add_option("--min-score", min_score, "drop hits scoring below this");
  search->add_option("--neighbors", neighbors, "also show n chunks before and after each hit");
  std::vector<std::string> filters;
  bool no_rerank = false;
  std::optional<int> rerank_candidates;
  cli::AddRetrievalFlags(search, &filters, &no_rerank, &rerank_candidates);

  // kb
  auto* kbcmd = app.add_subcommand("kb", "list, inspect or delete knowledge bases");
  kbcmd->require_subcommand(1);
  bool kb_json = false;
  auto* kb_list = kbcmd->add_subcommand("list", "list knowledge bases");
  kb_list->add_flag("--json", kb_json, "print as JSON");
  auto* kb_info = kbcmd->add_subcommand("info", "show one knowledge base");
  std::string kb_name;
  kb_info->add_option("name", kb_name)->required();
  kb_info->add_flag("--json", kb_json, "print as JSON");
  auto* kb_set = kbcmd->add_subcommand("set", "set a knowledge base's search default (search.fusion, search.lexical_weight, search.rrf_k, search.mmr_lambda)");
  std::string setting_key, setting_value;
  kb_set->add_option("name", kb_name)->required();
  kb_set->add_option("key", setting_key)->required();
  kb_set->add_option("value", setting_value)->required();
  auto* kb_reembed = kbcmd->add_subcommand(
      "reembed", "switch a knowledge base to another embedding model in place (--embed-model M); searchable throughout, "
                 "and a stopped run resumes");
  kb_reembed->add_option("name", kb_name)->required();
  kb_reembed->add_flag("--json", kb_json, "print the report as JSON");
  std::string copy_to, copy_as;
  auto* kb_copy = kbcmd->add_subcommand(
      "copy", "copy a knowledge base with its embeddings to another store: --to postgres://... or a data directory");
  kb_copy->add_option("name", kb_name)->required();
  kb_copy->add_option("--to", copy_to, "postgres://user@host:port/db, or a data directory")->required();
  kb_copy->add_option("--as", copy_as, "name of the copy (default: the same)");
  kb_copy->add_flag("--json", kb_json, "print the report as JSON");
  auto* kb_delete = kbcmd->add_subcommand("delete", "delete a knowledge base and its files");
  kb_delete->add_option("name", kb_name)->required();
  auto* kb_check = kbcmd->add_subcommand("check", "verify that documents, chunks, the full-text and the vector index agree");
  kb_check->add_option("name", kb_name)->required();
  kb_check->add_flag("--json", kb_json, "print the verdict as JSON");
  std::string backup_dir;
  auto* kb_backup = kbcmd->add_subcommand("backup", "copy a consistent snapshot of a knowledge base into a new folder (safe while serving)");
  kb_backup->add_option("name", kb_name)->required();
  kb_backup->add_option("dest", backup_dir, "new folder for the snapshot")->required();
  auto* kb_restore = kbcmd->add_subcommand("restore", "add a backup folder as a new knowledge base and verify it");
  kb_restore->add_option("backup", backup_dir, "folder written by `ragd kb backup`")->required();
  kb_restore->add_option("name", kb_name, "name of the new knowledge base")->required();

  // embed
  auto* embed = app.add_subcommand("embed", "print the embedding of each text as JSON (one array per line)");
  std::vector<std::string> embed_texts;
  bool embed_query = false;
  embed->add_option("texts", embed_texts, "texts to embed")->required();
  embed->add_flag("--query", embed_query, "embed as queries (models such as E5 distinguish them)");

  // eval
  auto* evalcmd = app.add_subcommand("eval", "evaluate retrieval, answers, agents and summaries");
  evalcmd->require_subcommand(1);
  auto* eval_ret = evalcmd->add_subcommand("retrieval", "nDCG@10, recall@10/100, MRR@10 on a BEIR-layout folder");
  std::string beir_dir, split = "test", eval_kb;
  bool eval_json = false;
  eval_ret->add_option("dir", beir_dir, "folder with corpus.jsonl, queries.jsonl, qrels/<split>.tsv")->required();
  eval_ret->add_option("--split", split, "qrels split (default test)");
  eval_ret->add_option("--mode", mode_name, "bm25, dense or hybrid (default hybrid)");
  eval_ret->add_option("--kb", eval_kb, "knowledge base to build or reuse (default derived from the corpus hash)");
  eval_ret->add_flag("--json", eval_json, "print metrics as JSON");
  eval_ret->add_option("--fusion", fusion, "hybrid fusion: rrf, minmax, zscore or dispersion");
  eval_ret->add_option("--lexical-weight", lexical_weight, "weight of BM25 in the fusion, 0..1");
  eval_ret->add_option("--mmr", mmr_lambda, "diversify with MMR, lambda 0..1");
  bool eval_grid = false;
  eval_ret->add_flag("--grid", eval_grid,
                     "score every fusion of the tuning grid on the set's judgements (the oracle, docs/RETRIEVAL.md)");
  cli::AddRetrievalFlags(eval_ret, &filters, &no_rerank, &rerank_candidates);

  cli::AnswerCommands answer_commands(&app, &g);
  cli::AgentCommands agent_commands(&app, &g);
  cli::SummarizeCommands summarize_commands(&app, &g);
  cli::RecommendCommands recommend_commands(&app, &g);
  cli::DatasetCommands dataset_commands(&app, &g);
  cli::TuneCommands tune_commands(kbcmd, &g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? 0 : 2;
  }

  if (auto rc = answer_commands.Run()) return *rc;
  if (auto rc = agent_commands.Run()) return *rc;
  if (auto rc = summarize_commands.Run()) return *rc;
  if (auto rc = recommend_commands.Run()) return *rc;
  if (auto rc = dataset_commands.Run()) return *rc;
  if (auto rc = tune_commands.Run()) return *rc;

  if (*ingest) {
    auto unit = ParseUnit(chunk_unit);
    if (!unit.ok()) return Fail(unit.status());
    auto metadata = cli::ParseMetadata(meta);
    if (!metadata.ok()) return Fail(metadata.status());
    auto engine = OpenEngine(g, kb);
    if (!engine.ok()) return Fail(engine.status());
    if (!records && (!record_fields.id.empty() || !record_fields.title.empty() || !record_fields.text.empty()))
      return Fail(Status::InvalidArgument("--id-field, --title-field and --text-field go with --records"));
    if (records) {
      if (sync) return Fail(Status::InvalidArgument("--sync does not apply to --records"));
      SplitOptions split;
      split.chunk_size = chunk_size;
      split.chunk_overlap = chunk_overlap;
      split.unit = unit.value();
      return cli::IngestRecords(**engine, kb, paths, record_fields, split, metadata.value(), ingest_json, g.quiet);
    }
    IngestOptions o;
    o.kb = kb;
    o.paths = paths;
    o.sync = sync;
    o.split.chunk_size = chunk_size;
    o.split.chunk_overlap = chunk_overlap;
    o.split.unit = unit.value();
    o.max_file_bytes = max_file_mb << 20;
    o.batch_files = batch_files;
    o.metadata = metadata.value();
    auto settings = cli::LoadSettings(g.config);
    if (!settings.ok()) return Fail(settings.status());
    o.ocr = settings->ocr;
    if (no_ocr) o.ocr.enabled = false;
    if (ocr_lang) o.ocr.languages = *ocr_lang;
    if (ocr_dpi) {
      if (*ocr_dpi < 70 || *ocr_dpi > 600) return Fail(Status::InvalidArgument("--ocr-dpi must be between 70 and 600"));
      o.ocr.dpi = *ocr_dpi;
    }
    std::FILE* log = nullptr;
    if (!commit_log.empty()) {
      log = std::fopen(commit_log.c_str(), "a");
      if (!log) return Fail(Status::IOError("cannot open the commit log " + commit_log + ": " + std::strerror(errno)));
      // Written after SQLite's commit returns: a listed batch is durable.
      o.on_commit = [log, batch = 0](std::span<const std::string> ids) mutable {
        std::fprintf(log, "%s\n", json{{"batch", ++batch}, {"documents", ids}}.dump().c_str());
        std::fflush(log);
      };
    }
    cli::ProgressBar bar("ingest", g.quiet || ingest_json);
    auto r = (*engine)->IngestFiles(o, [&](const IngestProgress& p) { bar.Update(p); });
    bar.Finish();
    if (log) std::fclose(log);
    if (!r.ok()) return Fail(r.status());
    const IngestReport& rep = r.value();
    double cps = rep.seconds > 0 ? rep.chunks_written / rep.seconds : 0;
    if (ingest_json) {
      std::cout << api::IngestReportJson(kb, rep).dump(2) << "\n";
    } else {
      for (const auto& f : rep.failures) std::fprintf(stderr, "ragd: skipped %s: %s\n", f.path.c_str(), f.status.message().c_str());
      std::printf("ingested into '%s': %lld files (%lld added, %lld updated, %lld unchanged, %lld removed, %zu failed), "
                  "%lld chunks in %.2fs (%.1f chunks/s)\n",
                  kb.c_str(), static_cast<long long>(rep.files_seen), static_cast<long long>(rep.files_added),
                  static_cast<long long>(rep.files_updated), static_cast<long long>(rep.files_unchanged),
                  static_cast<long long>(rep.files_removed), rep.failures.size(),
                  static_cast<long long>(rep.chunks_written), rep.seconds, cps);
    }
    if (!no_tune) MaybeTuneAfterIngest(**engine, g, kb, ingest_json);
    return rep.failures.empty() ? 0 : 3;
  }

  if (*search) {
    auto mode = ParseSearchMode(mode_name);
    if (!mode.ok()) return Fail(mode.status());
    auto parsed_filters = cli::ParseFilters(filters);
    if (!parsed_filters.ok()) return Fail(parsed_filters.status());
    auto engine = OpenEngine(g, kb);
    if (!engine.ok()) return Fail(engine.status());
    SearchOptions o;
    o.filters = parsed_filters.value();
    o.rerank = !no_rerank;
    o.rerank_candidates = rerank_candidates.value_or(0);
    o.kb = kb;
    o.query = query;
    o.mode = mode.value();
    o.k = k;
    o.one_per_document = per_doc;
    auto parsed_fusion = api::ParseOptionalFusion(fusion);
    if (!parsed_fusion.ok()) return Fail(parsed_fusion.status());
    o.fusion = parsed_fusion.value();
    o.lexical_weight = lexical_weight;
    o.mmr_lambda = mmr_lambda;
    o.min_score = min_score;
    o.neighbors = neighbors;
    auto r = (*engine)->Search(o);
    if (!r.ok()) return Fail(r.status());
    if (search_json) {
      std::cout << api::SearchResultJson(o, r.value()).dump(2) << "\n";
    } else {
      if (r->hits.empty()) std::printf("no results in '%s' for: %s\n", kb.c_str(), query.c_str());
      for (const auto& h : r->hits) {
        std::printf("%2d. %.4f  %s\n", h.rank, h.score, Location(h).c_str());
        if (!h.heading_path.empty()) std::printf("    § %s\n", h.heading_path.c_str());
        std::printf("    %s\n", OneLine(h.context.empty() ? h.text : h.context, h.context.empty() ? 220 : 600).c_str());
      }
    }
    return 0;
  }

  if (*kbcmd) {
    auto engine = OpenEngine(g);
    if (!engine.ok()) return Fail(engine.status());
    if (*kb_list) {
      auto r = (*engine)->ListKnowledgeBases();
      if (!r.ok()) return Fail(r.status());
      if (kb_json) {
        json arr = json::array();
        for (const auto& i : r.value()) arr.push_back(api::KbJson(i));
        std::cout << json{{"data_dir", (*engine)->data_dir()}, {"store", (*engine)->store()}, {"knowledge_bases", arr}}.dump(2)
                  << "\n";
      } else {
        if (r->empty()) std::printf("no knowledge bases in %s\n", (*engine)->store().c_str());
        for (const auto& i : r.value())
          std::printf("%-24s %8lld docs %9lld chunks  %8.1f MiB  %s\n", i.name.c_str(), static_cast<long long>(i.documents),
                      static_cast<long long>(i.chunks), i.bytes_on_disk / 1048576.0, i.embed_model.c_str());
      }
      return 0;
    }
    if (*kb_info) {
      auto r = (*engine)->GetKnowledgeBase(kb_name);
      if (!r.ok()) return Fail(r.status());
      if (kb_json) {
        std::cout << api::KbJson(r.value()).dump(2) << "\n";
      } else {
        const KbInfo& i = r.value();
        std::printf("name:         %s\npath:         %s\ndocuments:    %lld\nchunks:       %lld\nembed model:  %s\n"
                    "schema:       v%d\nsize:         %.1f MiB\ncreated:      %s\nupdated:      %s\n",
                    i.name.c_str(), i.path.c_str(), static_cast<long long>(i.documents), static_cast<long long>(i.chunks),
                    i.embed_model.c_str(), i.schema_version, i.bytes_on_disk / 1048576.0, i.created_at.c_str(),
                    i.updated_at.c_str());
        if (!i.scripts.empty()) {
          std::string line;
          for (const auto& [script, share] : i.scripts) {
            char part[48];
            std::snprintf(part, sizeof part, "%s%s %.0f%%", line.empty() ? "" : ", ", script.c_str(), 100 * share);
            line += part;
          }
          std::printf("scripts:      %s (of the documents)\n", line.c_str());
        }
        if (!i.language_warning.empty()) std::printf("warning:      %s\n", i.language_warning.c_str());
        if (auto settings = (*engine)->GetKbSettings(kb_name); settings.ok())
          for (const auto& [k, v] : settings.value()) std::printf("%-13s %s\n", (k + ":").c_str(), v.c_str());
      }
      return 0;
    }
    if (*kb_set) {
      Status st = (*engine)->SetKbSetting(kb_name, setting_key, setting_value);
      if (!st.ok()) return Fail(st);
      std::printf("%s: %s = %s\n", kb_name.c_str(), setting_key.c_str(), setting_value.c_str());
      return 0;
    }
    if (*kb_reembed) {
      if (g.embed_model.empty())
        return Fail(Status::InvalidArgument("give the new model: ragd kb reembed " + kb_name +
                                            " --embed-model NAME|FILE.gguf"));
      auto settings = cli::LoadSettings(g.config);
      if (!settings.ok()) return Fail(settings.status());
      const EmbedderOptions to = cli::MakeEngineOptions(settings.value(), g).embedder;
      cli::ProgressBar bar("reembed", g.quiet || kb_json);
      auto r = (*engine)->ReembedKnowledgeBase(kb_name, to, [&](const IngestProgress& p) { bar.Update(p); });
      bar.Finish();
      if (!r.ok()) return Fail(r.status());
      if (kb_json) {
        std::cout << json{{"kb", kb_name}, {"from", r->from}, {"to", r->to}, {"chunks", r->chunks},
                          {"embedded", r->embedded}, {"resumed", r->resumed}, {"seconds", r->seconds}}
                         .dump(2)
                  << "\n";
      } else {
        std::printf("'%s' now uses %s (was %s): %lld chunks, %lld embedded now%s in %.1fs\n", kb_name.c_str(),
                    r->to.c_str(), r->from.c_str(), static_cast<long long>(r->chunks),
                    static_cast<long long>(r->embedded),
                    r->resumed ? (", " + std::to_string(r->resumed) + " kept from the stopped run").c_str() : "",
                    r->seconds);
      }
      return 0;
    }
    if (*kb_copy) {
      cli::ProgressBar bar("copy", g.quiet || kb_json);
      auto r = (*engine)->CopyKnowledgeBase(kb_name, copy_to, copy_as, [&](const IngestProgress& p) { bar.Update(p); });
      bar.Finish();
      if (!r.ok()) return Fail(r.status());
      if (kb_json) {
        std::cout << json{{"kb", kb_name}, {"from", r->from}, {"to", r->to}, {"documents", r->documents},
                          {"chunks", r->chunks}, {"interactions", r->interactions}, {"seconds", r->seconds}}
                         .dump(2)
                  << "\n";
      } else {
        std::printf("copied '%s' to %s: %lld documents, %lld chunks with their embeddings, checked, in %.1fs\n",
                    kb_name.c_str(), r->to.c_str(), static_cast<long long>(r->documents),
                    static_cast<long long>(r->chunks), r->seconds);
      }
      return 0;
    }
    if (*kb_delete) {
      Status st = (*engine)->DeleteKnowledgeBase(kb_name);
      if (!st.ok()) return Fail(st);
      std::printf("deleted knowledge base '%s'\n", kb_name.c_str());
      return 0;
    }
    if (*kb_check) {
      Status st = (*engine)->VerifyKnowledgeBase(kb_name);
      if (kb_json) {
        json out{{"kb", kb_name}, {"consistent", st.ok()}};
        if (!st.ok()) out["error"] = st.ToString();
        std::cout << out.dump(2) << "\n";
        return st.ok() ? 0 : 1;
      }
      if (!st.ok()) return Fail(st);
      auto info = (*engine)->GetKnowledgeBase(kb_name);
      if (!info.ok()) return Fail(info.status());
      std::printf("'%s' is consistent: %lld documents, %lld chunks, each in the full-text and the vector index\n",
                  kb_name.c_str(), static_cast<long long>(info->documents), static_cast<long long>(info->chunks));
      return 0;
    }
    if (*kb_backup) {
      Status st = (*engine)->BackupKnowledgeBase(kb_name, backup_dir);
      if (!st.ok()) return Fail(st);
      std::printf("backed up '%s' to %s\n", kb_name.c_str(), backup_dir.c_str());
      return 0;
    }
    if (*kb_restore) {
      Status st = (*engine)->RestoreKnowledgeBase(backup_dir, kb_name);
      if (!st.ok()) return Fail(st);
      std::printf("restored %s as '%s' (verified)\n", backup_dir.c_str(), kb_name.c_str());
      return 0;
    }
  }

  if (*embed) {
    auto engine = OpenEngine(g);
    if (!engine.ok()) return Fail(engine.status());
    auto e = (*engine)->embedder();
    if (!e.ok()) return Fail(e.status());
    std::vector<float> out(embed_texts.size() * (*e)->dim());
    Status st = (*e)->Embed(embed_texts, embed_query ? EmbedKind::kQuery : EmbedKind::kPassage, out.data());
    if (!st.ok()) return Fail(st);
    for (size_t i = 0; i < embed_texts.size(); ++i) {
      json v(std::vector<float>(out.begin() + i * (*e)->dim(), out.begin() + (i + 1) * (*e)->dim()));
      std::cout << v.dump() << "\n";
    }
    return 0;
  }

  if (*eval_ret) {
    auto mode = ParseSearchMode(mode_name);
    if (!mode.ok()) return Fail(mode.status());
    auto engine = OpenEngine(g);
    if (!engine.ok()) return Fail(engine.status());
    RetrievalEvalOptions o;
    o.beir_dir = beir_dir;
    o.split = split;
    o.mode = mode.value();
    o.kb = eval_kb;
    auto parsed_fusion = api::ParseOptionalFusion(fusion);
    if (!parsed_fusion.ok()) return Fail(parsed_fusion.status());
    o.fusion = parsed_fusion.value();
    o.lexical_weight = lexical_weight;
    o.mmr_lambda = mmr_lambda;
    o.rerank = !no_rerank;
    o.rerank_candidates = rerank_candidates.value_or(0);
    cli::ProgressBar bar("eval", g.quiet || eval_json);
    if (eval_grid) {
      std::string kb;
      auto t = TuneOnBeir(**engine, o, &kb, [&](const IngestProgress& p) { bar.Update(p); });
      bar.Finish();
      if (!t.ok()) return Fail(t.status());
      if (eval_json) {
        json out = cli::FusionTuningJson(*t);
        out["kb"] = kb;
        out["split"] = split;
        std::cout << out.dump(2) << "\n";
      } else {
        std::printf("fusion grid on %s (%s split, knowledge base '%s')\n", beir_dir.c_str(), split.c_str(), kb.c_str());
        cli::PrintFusionTuning(*t);
      }
      return 0;
    }
    auto r = EvaluateRetrieval(**engine, o, [&](const IngestProgress& p) { bar.Update(p); });
    bar.Finish();
    if (!r.ok()) return Fail(r.status());
    const RetrievalMetrics& m = r->metrics;
    if (eval_json) {
      json out{{"ndcg@10", m.ndcg_at_10},   {"recall@10", m.recall_at_10}, {"recall@100", m.recall_at_100},
               {"mrr@10", m.mrr_at_10},     {"queries", m.queries},        {"mode", SearchModeName(o.mode)},
               {"split", split},            {"kb", r->kb},                 {"search_seconds", r->search_seconds},
               {"skipped_queries", r->skipped_queries},  {"reranker", r->reranker},
               {"ingest", {{"documents", r->ingest.files_seen}, {"added", r->ingest.files_added},
                           {"unchanged", r->ingest.files_unchanged}, {"chunks", r->ingest.chunks_written},
                           {"seconds", r->ingest.seconds}}}};
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("%s%s on %s (%s split, %d queries, knowledge base '%s')\n", SearchModeName(o.mode),
                  r->reranker.empty() ? "" : (" + rerank by " + r->reranker).c_str(), beir_dir.c_str(), split.c_str(),
                  m.queries, r->kb.c_str());
      std::printf("  nDCG@10    %.4f\n  recall@10  %.4f\n  recall@100 %.4f\n  MRR@10     %.4f\n", m.ndcg_at_10,
                  m.recall_at_10, m.recall_at_100, m.mrr_at_10);
      if (!r->skipped_queries.empty())
        std::printf("  skipped %zu empty queries (first: %s)\n", r->skipped_queries.size(), r->skipped_queries[0].c_str());
      std::printf("  %.1f queries/s\n", r->search_seconds > 0 ? m.queries / r->search_seconds : 0.0);
    }
    return 0;
  }
  return 0;
}
