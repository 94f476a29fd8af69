#include "store/analyzer.h"

#include <libstemmer.h>
#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/utext.h>

#include <string>
#include <unordered_set>

namespace ragd::store {

namespace {

// Common English function words (the classic Lucene/SMART core set).
const std::unordered_set<std::string_view>& StopWords() {
  static const std::unordered_set<std::string_view> words = {
      "a",    "an",   "and",  "are",   "as",    "at",   "be",   "but",  "by",   "for",  "if",
      "in",   "into", "is",   "it",    "no",    "not",  "of",   "on",   "or",   "such", "that",
      "the",  "their", "then", "there", "these", "they", "this", "to",   "was",  "will", "with"};
  return words;
}

bool IsAsciiWord(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

struct Analyzer::Impl {
  std::unique_ptr<icu::BreakIterator> words;
  const icu::Normalizer2* nfkc_cf = nullptr;
  sb_stemmer* stemmer = nullptr;
  std::string folded;

  ~Impl() {
    if (stemmer) sb_stemmer_delete(stemmer);
  }

  // NFKC + case folding; ASCII takes a fast path.
  std::string_view Fold(std::string_view w) {
    folded.clear();
    if (IsAsciiWord(w)) {
      for (char c : w) folded.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      return folded;
    }
    UErrorCode err = U_ZERO_ERROR;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(w.data(), static_cast<int32_t>(w.size())));
    icu::UnicodeString n = nfkc_cf ? nfkc_cf->normalize(u, err) : u.foldCase();
    if (U_FAILURE(err)) n = u.foldCase();
    n.toUTF8String(folded);
    return folded;
  }
};

Analyzer::Analyzer() : impl_(std::make_unique<Impl>()) {
  UErrorCode err = U_ZERO_ERROR;
  impl_->words.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), err));
  if (U_FAILURE(err)) impl_->words.reset();
  err = U_ZERO_ERROR;
  impl_->nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(err);
  if (U_FAILURE(err)) impl_->nfkc_cf = nullptr;
  impl_->stemmer = sb_stemmer_new("english", "UTF_8");
}

Analyzer::~Analyzer() = default;

void Analyzer::Analyze(std::string_view text, const EmitFn& emit) {
  if (text.empty() || !impl_->words) return;
  UErrorCode err = U_ZERO_ERROR;
  UText* ut = utext_openUTF8(nullptr, text.data(), static_cast<int64_t>(text.size()), &err);
  if (U_FAILURE(err)) return;
  icu::BreakIterator* it = impl_->words.get();
  it->setText(ut, err);
  if (U_FAILURE(err)) {
    utext_close(ut);
    return;
  }
  // With a UTF-8 UText, break positions are byte offsets.
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    int32_t status = it->getRuleStatus();
    if (status < UBRK_WORD_NONE_LIMIT) continue;  // spaces and punctuation
    std::string_view word = text.substr(start, end - start);
    std::string_view term = impl_->Fold(word);
    if (term.empty()) continue;
    if (status >= UBRK_WORD_LETTER && status < UBRK_WORD_LETTER_LIMIT && IsAsciiWord(term)) {
      if (StopWords().count(term)) continue;
      if (impl_->stemmer) {
        const sb_symbol* s = sb_stemmer_stem(impl_->stemmer, reinterpret_cast<const sb_symbol*>(term.data()),
                                             static_cast<int>(term.size()));
        if (s) term = std::string_view(reinterpret_cast<const char*>(s), sb_stemmer_length(impl_->stemmer));
      }
    }
    emit(term, static_cast<size_t>(start), static_cast<size_t>(end));
  }
  // Detach the iterator from the UText before closing it.
  it->setText(icu::UnicodeString());
  utext_close(ut);
}

std::vector<std::string> Analyzer::Terms(std::string_view text) {
  std::vector<std::string> out;
  Analyze(text, [&](std::string_view t, size_t, size_t) { out.emplace_back(t); });
  return out;
}

}  // namespace ragd::store
