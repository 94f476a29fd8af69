// The BEIR-layout readers (corpus.jsonl, queries.jsonl, qrels/test.tsv) and
// answers.jsonl. The input is the four files separated by NUL bytes, written
// to a scratch folder (tmpfs when there is one).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "eval/beir.h"
#include "fuzz_check.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path dir = [] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("ragd-beir-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d / "qrels");
    return d;
  }();
  static const char* kFiles[] = {"corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "answers.jsonl"};
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const char* name : kFiles) {
    size_t cut = in.find('\0');
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << in.substr(0, cut);
    in = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);
  }
  auto set = ragd::eval::ReadBeir(dir.string(), "test");
  if (set.ok()) {
    for (const auto& d : set->corpus) CheckUtf8(d.text, "corpus text is UTF-8");
    for (const auto& q : set->queries) FUZZ_CHECK(set->qrels.count(q.id), "every query read is judged");
  } else {
    FUZZ_CHECK(!set.status().message().empty(), "an error carries a message");
  }
  auto answers = ragd::eval::ReadAnswers(dir.string());
  if (!answers.ok()) FUZZ_CHECK(!answers.status().message().empty(), "an error carries a message");
  return 0;
}
