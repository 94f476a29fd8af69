// Small helpers for what the program prints to people.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ragd/status.h"

namespace ragd::cli {

// Prints "ragd: error: ..." to stderr; returns exit code 1.
int Fail(const Status& st);
// s on one line (newlines and tabs as spaces), cut to max_bytes with "…".
std::string OneLine(std::string_view s, size_t max_bytes);

// The records an earlier, stopped evaluation left in its JSONL file (none
// when it does not exist yet), each made by from_json; done receives each
// one's key(record), so that a second run skips them. Lines that are not
// JSON objects (a line cut by a kill) are left out.
template <typename Record, typename FromJson, typename Key>
std::vector<Record> ReadEarlierRecords(const std::string& path, FromJson from_json, Key key, std::set<std::string>* done) {
  std::vector<Record> records;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    Record r = from_json(j);
    done->insert(key(r));
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace ragd::cli
