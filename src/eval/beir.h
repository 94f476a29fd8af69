// Reader for BEIR-layout folders: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "ragd/engine.h"

namespace ragd::eval {

struct BeirQuery {
  std::string id;
  std::string text;
};

struct BeirSet {
  std::vector<SourceDocument> corpus;
  std::vector<BeirQuery> queries;            // only those judged in the split
  std::map<std::string, Qrels> qrels;        // query id -> judgements
  std::string corpus_hash;                   // content hash of corpus.jsonl
};

// Errors name the file and line of the first malformed record.
Result<BeirSet> ReadBeir(const std::string& dir, const std::string& split);

// answers.jsonl of a BEIR-layout folder: {"_id": query id, "answers": [..]}.
Result<std::map<std::string, std::vector<std::string>>> ReadAnswers(const std::string& dir);

// A JSONL file of questions, {"_id": ..., "text": ...} per line (other
// fields ignored), e.g. squad2-dev-5's unanswerable.jsonl.
Result<std::vector<BeirQuery>> ReadQuestions(const std::string& path);

// Calls fn with each non-empty line of a JSONL file parsed as a JSON object
// and "path:line: " for its messages; a line that is not an object is
// InvalidArgument naming it, and fn's error stops the reading.
Status ReadJsonLines(const std::string& path,
                     const std::function<Status(const nlohmann::json& record, const std::string& where)>& fn);

// Builds (or reuses, by content hash) the knowledge base of a BEIR corpus;
// kb empty = "beir-<folder>-<corpus hash>". Returns the knowledge base's name.
Result<std::string> BuildBeirKb(Engine& engine, const BeirSet& set, const std::string& dir, const std::string& kb,
                                const SplitOptions& split, const ProgressFn& progress, IngestReport* ingest);

}  // namespace ragd::eval
