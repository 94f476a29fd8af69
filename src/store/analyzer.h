// Text analysis for the lexical index: ICU word segmentation (dictionary
// based for Chinese and Japanese), NFKC case folding (full-width forms fold
// to ASCII), English stop words dropped and Snowball (Porter2) stemming.
// The same analyzer runs at index time (inside the FTS5 tokenizer) and at
// query time, so terms always meet.
//
// Thread-compatible: one Analyzer per thread (ICU iterators and the stemmer
// hold state).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ragd::store {

class Analyzer {
 public:
  Analyzer();
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Calls emit(term, begin, end) for each index term; begin/end are byte
  // offsets of the word in text. text must be valid UTF-8.
  using EmitFn = std::function<void(std::string_view term, size_t begin, size_t end)>;
  void Analyze(std::string_view text, const EmitFn& emit);
  std::vector<std::string> Terms(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ragd::store
