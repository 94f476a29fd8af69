// Reader for BEIR-layout folders: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
#pragma once

#include <map>
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

}  // namespace ragd::eval
