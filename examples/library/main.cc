// ragd as a library: a knowledge base of three in-memory documents in a
// folder given on the command line, then one search. Prints the ranked
// document ids, one per line.
//   ragd_library_example DATA_DIR "QUERY"
#include <cstdio>

#include "ragd/engine.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR QUERY\n", argv[0]);
    return 2;
  }
  ragd::EngineOptions options;
  options.data_dir = argv[1];
  auto engine = ragd::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  const std::vector<ragd::SourceDocument> docs = {
      {"fees", "fees.md", "Card fees", "The gold card's annual fee is 300 yuan, waived after 12 purchases.", {}},
      {"wire", "wire.md", "Wire transfers", "International wire transfers take 1 to 3 working days.", {}},
      {"loss", "loss.md", "Lost cards", "Report a lost card in the app under Card management, then Freeze.", {}},
  };
  auto report = (*engine)->IngestDocuments("example", docs, ragd::SplitOptions{});
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 1;
  }
  ragd::SearchOptions search;
  search.kb = "example";
  search.query = argv[2];
  search.k = 3;
  auto result = (*engine)->Search(search);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 1;
  }
  for (const auto& hit : result->hits) std::printf("%s\n", hit.doc_id.c_str());
  return 0;
}
