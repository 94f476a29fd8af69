// ragd eval summaries: each document summarised by each method, scored
// against its references (ROUGE, BERTScore, length), model summaries judged
// sentence by sentence against the parts they cite.
#include "ragd/summary_eval.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "core/status_macros.h"
#include "core/text.h"
#include "eval/answer_metrics.h"
#include "eval/beir.h"
#include "eval/judge.h"
#include "eval/summary_metrics.h"

namespace ragd {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

const std::vector<std::string>& Methods() {
  static const std::vector<std::string> m = {"lead", "central", "auto", "stuff", "map-reduce", "refine"};
  return m;
}

// Plain text's sections: blocks between blank lines; a block whose first
// line is short and ends no sentence is headed by it ("2 Background").
std::vector<SummarySection> TextSections(const std::string& body) {
  std::vector<SummarySection> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string_view block = text::Trim(std::string_view(body).substr(pos, end - pos));
    pos = end + 2;
    if (block.empty()) continue;
    SummarySection s;
    s.text = std::string(block);
    size_t nl = block.find('\n');
    if (nl != std::string_view::npos && nl <= 80) {
      std::string_view first = text::Trim(block.substr(0, nl));
      int len = 1;
      if (!first.empty() && !text::IsSentenceEnd(first, first.size() - 1, &len)) s.heading_path = std::string(first);
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Pieces of text of about max_bytes at sentence ends.
std::vector<std::string> Windows(const std::string& text, size_t max_bytes) {
  std::vector<std::string> out;
  std::string cur;
  for (std::string_view s : text::SplitSentences(text)) {
    if (!cur.empty() && cur.size() + s.size() > max_bytes) out.push_back(std::move(cur)), cur.clear();
    cur += s;
  }
  if (!text::Trim(cur).empty()) out.push_back(std::move(cur));
  return out;
}

// The part numbers a sentence cites: [n] and [n, m].
std::vector<int> CitedParts(std::string_view sentence) {
  std::vector<int> out;
  for (size_t i = 0; i < sentence.size(); ++i) {
    if (sentence[i] != '[') continue;
    size_t j = i + 1;
    std::vector<int> nums;
    int cur = -1;
    for (; j < sentence.size(); ++j) {
      char c = sentence[j];
      if (c >= '0' && c <= '9') cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
      else if (c == ',' || c == ' ') {
        if (cur >= 0) nums.push_back(cur), cur = -1;
      } else break;
    }
    if (j < sentence.size() && sentence[j] == ']' && j > i + 1) {
      if (cur >= 0) nums.push_back(cur);
      out.insert(out.end(), nums.begin(), nums.end());
      i = j;
    }
  }
  return out;
}

std::set<std::string> Bigrams(std::string_view text) {
  std::vector<std::string> t = eval::AnswerTokens(text, false);
  std::set<std::string> out;
  for (size_t i = 0; i + 1 < t.size(); ++i) out.insert(t[i] + " " + t[i + 1]);
  if (t.size() == 1) out.insert(t[0]);
  return out;
}

// The judge's context for one sentence: the windows of its cited parts (all
// parts when it cites none) sharing most of its word pairs, up to kContextBytes,
// in document order. A small model judges a short context better.
constexpr size_t kWindowBytes = 900;
constexpr size_t kContextBytes = 3000;
std::string JudgeContext(const std::string& sentence, const std::vector<SummaryPart>& parts, std::vector<int>* used) {
  std::vector<int> cited = CitedParts(sentence);
  std::set<int> from;
  for (int n : cited)
    if (n >= 1 && n <= static_cast<int>(parts.size())) from.insert(n);
  if (from.empty())
    for (const auto& p : parts) from.insert(p.n);
  // Pairs of neighbouring tokens: single Chinese characters are shared by
  // almost any two windows, their pairs are not.
  const std::set<std::string> pairs = Bigrams(eval::StripCitationMarks(sentence));
  struct Window {
    int part;
    size_t index;
    std::string text;
    double overlap;
  };
  std::vector<Window> windows;
  for (int n : from) {
    auto w = Windows(parts[n - 1].text, kWindowBytes);
    for (size_t i = 0; i < w.size(); ++i) {
      const std::set<std::string> have = Bigrams(w[i]);
      size_t hit = 0;
      for (const auto& t : pairs) hit += have.count(t);
      windows.push_back({n, i, std::move(w[i]), pairs.empty() ? 0.0 : static_cast<double>(hit) / pairs.size()});
    }
  }
  std::stable_sort(windows.begin(), windows.end(), [](const Window& a, const Window& b) { return a.overlap > b.overlap; });
  std::vector<const Window*> picked;
  size_t total = 0;
  for (const auto& w : windows) {
    if (!picked.empty() && total + w.text.size() > kContextBytes) continue;
    picked.push_back(&w);
    total += w.text.size();
  }
  std::sort(picked.begin(), picked.end(), [](const Window* a, const Window* b) {
    return a->part != b->part ? a->part < b->part : a->index < b->index;
  });
  std::string context;
  for (const Window* w : picked) {
    context += (context.empty() ? "" : "\n…\n") + w->text;
    if (used && (used->empty() || used->back() != w->part)) used->push_back(w->part);
  }
  return context;
}

// Each sentence of a model summary (of at least 3 words or characters)
// checked by the judge against the parts it cites.
Status Judge(SummaryEvalRecord& r, const std::vector<SummaryPart>& parts, ChatModel& model, const Prompts& prompts,
             const GenerateOptions& generate) {
  int supported = 0;
  for (std::string_view piece : text::SplitSentences(r.summary)) {
    std::string sentence(text::Trim(piece));
    if (eval::SummaryLength(sentence) < 3) continue;
    JudgedSentence j;
    j.sentence = sentence;
    std::string context = JudgeContext(sentence, parts, &j.parts);
    RAGD_ASSIGN_OR_RETURN(j.supported, eval::VerifyClaim(model, prompts, r.language, context,
                                                         std::string(text::Trim(eval::StripCitationMarks(sentence))),
                                                         generate, kContextBytes + 64));
    supported += j.supported;
    r.judged.push_back(std::move(j));
  }
  if (!r.judged.empty()) r.faithfulness = static_cast<double>(supported) / r.judged.size();
  return Status::OK();
}

// Tokens joined by one space, so that a run of tokens is a substring.
std::string TokenString(std::string_view text, size_t max_tokens) {
  std::string out;
  size_t n = 0;
  for (const auto& t : eval::AnswerTokens(text, false)) {
    if (n++ == max_tokens) break;
    out += ' ' + t;
  }
  return out + ' ';
}

bool ReferenceInText(const SummaryEvalDoc& d) {
  const std::string body = TokenString(d.text, std::string::npos);
  for (const auto& ref : d.references) {
    std::string opening = TokenString(ref, 30);
    if (opening.size() > 2 && body.find(opening) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Result<std::vector<SummaryEvalDoc>> ReadSummaryEvalSet(const std::string& folder, const std::string& docs_file,
                                                       const std::string& summaries_file) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return Status::NotFound("no such folder: " + folder);
  const std::string docs_path = (fs::path(folder) / docs_file).string();
  const std::string refs_path = (fs::path(folder) / summaries_file).string();
  if (!fs::is_regular_file(docs_path, ec))
    return Status::NotFound("no " + docs_file + " in " + folder + " (lines of {\"_id\", \"title\", \"text\"})");
  if (!fs::is_regular_file(refs_path, ec))
    return Status::NotFound("no " + summaries_file + " in " + folder +
                            " (lines of {\"_id\", \"summary\"} or {\"_id\", \"summaries\": [...]})");
  std::vector<SummaryEvalDoc> docs;
  std::map<std::string, size_t> index;
  RAGD_RETURN_IF_ERROR(eval::ReadJsonLines(docs_path, [&](const json& v, const std::string& where) -> Status {
    auto id = v.find("_id");
    auto body = v.find("text");
    if (id == v.end() || !(id->is_string() || id->is_number()))
      return Status::InvalidArgument(where + "record has no _id");
    if (body == v.end() || !body->is_string()) return Status::InvalidArgument(where + "'text' must be a string");
    SummaryEvalDoc d;
    d.id = id->is_string() ? id->get<std::string>() : id->dump();
    d.title = v.value("title", std::string());
    d.text = body->get<std::string>();
    if (text::FindInvalidUtf8(d.text) != std::string::npos)
      return Status::InvalidArgument(where + "'text' is not valid UTF-8");
    if (!index.emplace(d.id, docs.size()).second) return Status::InvalidArgument(where + "_id '" + d.id + "' repeats");
    docs.push_back(std::move(d));
    return Status::OK();
  }));
  RAGD_RETURN_IF_ERROR(eval::ReadJsonLines(refs_path, [&](const json& v, const std::string& where) -> Status {
    auto id = v.find("_id");
    if (id == v.end() || !(id->is_string() || id->is_number()))
      return Status::InvalidArgument(where + "record has no _id");
    std::string key = id->is_string() ? id->get<std::string>() : id->dump();
    auto it = index.find(key);
    if (it == index.end()) return Status::InvalidArgument(where + "_id '" + key + "' is not in " + docs_file);
    std::vector<std::string>& refs = docs[it->second].references;
    // "summaries" holds every reference; "summary" is one of them (often the first).
    if (auto many = v.find("summaries"); many != v.end()) {
      if (!many->is_array()) return Status::InvalidArgument(where + "'summaries' must be an array of strings");
      for (const auto& s : *many) {
        if (!s.is_string()) return Status::InvalidArgument(where + "'summaries' must be an array of strings");
        if (std::find(refs.begin(), refs.end(), s.get<std::string>()) == refs.end()) refs.push_back(s.get<std::string>());
      }
    }
    if (auto one = v.find("summary"); one != v.end()) {
      if (!one->is_string()) return Status::InvalidArgument(where + "'summary' must be a string");
      if (std::find(refs.begin(), refs.end(), one->get<std::string>()) == refs.end())
        refs.insert(refs.begin(), one->get<std::string>());
    }
    if (refs.empty()) return Status::InvalidArgument(where + "record has neither 'summary' nor 'summaries'");
    return Status::OK();
  }));
  std::erase_if(docs, [](const SummaryEvalDoc& d) { return d.references.empty(); });
  for (auto& d : docs) d.reference_in_text = ReferenceInText(d);
  if (docs.empty()) return Status::InvalidArgument(refs_path + " gives no document a reference summary");
  return docs;
}

bool IsModelSummaryMethod(const std::string& method) { return method != "lead" && method != "central"; }

Status CheckSummaryEvalMethods(const std::vector<std::string>& methods) {
  if (methods.empty()) return Status::InvalidArgument("--methods is empty");
  for (const auto& m : methods)
    if (std::find(Methods().begin(), Methods().end(), m) == Methods().end())
      return Status::InvalidArgument("--methods: '" + m + "' is not lead, central, auto, stuff, map-reduce or refine");
  return Status::OK();
}

Result<SummaryEvalRecord> EvaluateSummary(const SummaryEvalDoc& doc, const std::string& method, ChatModel* model,
                                          const Prompts* prompts, const SummaryEvalOptions& options,
                                          const SummaryScorers& scorers) {
  RAGD_RETURN_IF_ERROR(CheckSummaryEvalMethods({method}));
  SummaryEvalRecord r;
  r.id = doc.id;
  r.method = method;
  r.references = doc.references;
  r.language = DetectLanguage(text::TruncateUtf8(doc.text, 8000));
  r.reference_length = eval::SummaryLength(doc.references.front());
  const int target = options.words > 0 ? options.words : std::max(10, r.reference_length);
  RAGD_ASSIGN_OR_RETURN(Embedder * embedder, scorers.embedder(r.language));
  auto t0 = Clock::now();
  std::vector<SummaryPart> parts;
  if (!IsModelSummaryMethod(method)) {
    std::vector<std::string> sentences = eval::DocumentSentences(doc.text);
    if (method == "lead") {
      r.summary = eval::LeadSummary(sentences, target);
    } else {
      RAGD_ASSIGN_OR_RETURN(r.summary, eval::CentralSummary(*embedder, sentences, target));
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    if (!model || !prompts) return Status::InvalidArgument("the method " + method + " needs a chat model");
    r.model = model->model();
    SummaryInput input;
    input.title = options.use_title ? doc.title : "";
    input.source = doc.id;
    input.sections = TextSections(doc.text);
    SummarizeOptions o = options.summarize;
    RAGD_ASSIGN_OR_RETURN(o.strategy, ParseSummaryStrategy(method));
    o.words = std::clamp(target, 10, 2000);
    Summarizer summarizer(model, prompts);
    auto s = summarizer.Summarize(input, o);
    if (!s.ok()) {
      r.error = s.status().ToString();
      return r;
    }
    r.summary = s->text;
    r.strategy = SummaryStrategyName(s->strategy);
    r.parts = static_cast<int>(s->parts.size());
    r.model_calls = s->model_calls;
    r.prompt_tokens = s->prompt_tokens;
    r.completion_tokens = s->completion_tokens;
    r.seconds = s->seconds;
    parts = std::move(s->parts);
  }
  const std::string plain(text::Trim(eval::StripCitationMarks(r.summary)));
  r.length = eval::SummaryLength(plain);
  r.length_ratio = r.reference_length > 0 ? static_cast<double>(r.length) / r.reference_length : 0;
  r.rouge1 = eval::RougeN(plain, doc.references, 1).f1;
  r.rouge2 = eval::RougeN(plain, doc.references, 2).f1;
  r.rougeL = eval::RougeL(plain, doc.references).f1;
  RAGD_ASSIGN_OR_RETURN(TokenVectors cand, embedder->EmbedTokens(plain));
  std::vector<TokenVectors> refs;
  for (const auto& ref : doc.references) {
    RAGD_ASSIGN_OR_RETURN(TokenVectors v, embedder->EmbedTokens(ref));
    refs.push_back(std::move(v));
  }
  eval::BertScore b = eval::BestBertScore(cand, refs);
  r.bert_precision = b.precision, r.bert_recall = b.recall, r.bert_f1 = b.f1;
  r.bert_model = embedder->model_id() + ", layer " + std::to_string(cand.layer) + " of " + std::to_string(cand.layers);
  if (options.judge && model && prompts && !parts.empty())
    RAGD_RETURN_IF_ERROR(Judge(r, parts, *model, *prompts, options.summarize.generate));
  return r;
}

std::vector<SummaryMethodReport> SummarizeSummaryEval(const std::vector<SummaryEvalRecord>& records) {
  std::vector<SummaryMethodReport> out;
  std::map<std::string, double> lead_rougeL;  // id -> lead's ROUGE-L
  for (const auto& r : records)
    if (r.method == "lead" && r.error.empty()) lead_rougeL[r.id] = r.rougeL;
  for (const auto& r : records) {
    auto it = std::find_if(out.begin(), out.end(), [&](const SummaryMethodReport& m) {
      return m.method == r.method && m.model == r.model;
    });
    if (it == out.end()) {
      out.push_back({r.method, r.model});
      it = out.end() - 1;
    }
    SummaryMethodReport& m = *it;
    if (!r.error.empty()) {
      ++m.errors;
      continue;
    }
    ++m.docs;
    m.rouge1 += r.rouge1, m.rouge2 += r.rouge2, m.rougeL += r.rougeL;
    m.bert_precision += r.bert_precision, m.bert_recall += r.bert_recall, m.bert_f1 += r.bert_f1;
    m.length_ratio += r.length_ratio;
    m.seconds_per_doc += r.seconds;
    m.tokens_per_doc += r.prompt_tokens + r.completion_tokens;
    if (r.faithfulness) m.faithfulness = m.faithfulness.value_or(0) + *r.faithfulness, ++m.judged;
    if (r.method != "lead") {
      if (auto l = lead_rougeL.find(r.id); l != lead_rougeL.end()) {
        ++m.paired_with_lead;
        m.rougeL_above_lead += r.rougeL > l->second;
      }
    }
  }
  for (auto& m : out) {
    if (m.docs > 0) {
      for (double* x : {&m.rouge1, &m.rouge2, &m.rougeL, &m.bert_precision, &m.bert_recall, &m.bert_f1, &m.length_ratio,
                        &m.seconds_per_doc, &m.tokens_per_doc})
        *x /= m.docs;
    }
    if (m.faithfulness) *m.faithfulness /= m.judged;
  }
  return out;
}

}  // namespace ragd
