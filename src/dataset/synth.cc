// Question and answer pairs from a knowledge base's chunks, self-instruct
// style: the chat model writes them under a JSON schema, and each is kept
// only when its chunk supports the answer and the question is not a near
// duplicate of one kept before (docs/DATASETS.md).
#include <algorithm>
#include <chrono>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "rag/context.h"
#include "ragd/answer.h"
#include "ragd/dataset.h"
#include "ragd/embedder.h"
#include "ragd/engine.h"

namespace ragd {
namespace {

using nlohmann::json;

constexpr int kMaxQuestionChars = 300;
constexpr int kMaxAnswerChars = 600;
// Share of a question's terms another must hold to be its near duplicate.
constexpr double kDuplicateOverlap = 0.5;

Status CheckSynthOptions(const SynthOptions& o) {
  if (o.kb.empty()) return Status::InvalidArgument("no knowledge base given");
  if (o.per_chunk < 1 || o.per_chunk > 10) return Status::InvalidArgument("pairs per chunk must be between 1 and 10");
  if (o.max_chunks < 0) return Status::InvalidArgument("the number of chunks cannot be negative");
  if (o.language != "auto" && o.language != "en" && o.language != "zh")
    return Status::InvalidArgument("language '" + o.language + "' is not auto, en or zh");
  if (!(o.min_support >= 0 && o.min_support <= 1)) return Status::InvalidArgument("min support must be between 0 and 1");
  if (!(o.max_similarity > 0 && o.max_similarity <= 1))
    return Status::InvalidArgument("max similarity must be above 0 and at most 1");
  if (!(o.validation_fraction >= 0 && o.validation_fraction <= 0.5))
    return Status::InvalidArgument("the validation fraction must be between 0 and 0.5");
  if (o.max_tokens < 32) return Status::InvalidArgument("max tokens per call must be at least 32");
  return Status::OK();
}

std::string Schema(int per_chunk) {
  json pair = {{"type", "object"},
               {"properties",
                {{"question", {{"type", "string"}, {"minLength", 5}, {"maxLength", kMaxQuestionChars}}},
                 {"answer", {{"type", "string"}, {"minLength", 1}, {"maxLength", kMaxAnswerChars}}}}},
               {"required", {"question", "answer"}}};
  return json{{"type", "object"},
              {"properties", {{"pairs", {{"type", "array"}, {"items", pair}, {"minItems", 1}, {"maxItems", per_chunk}}}}},
              {"required", {"pairs"}}}
      .dump();
}

struct ChunkRef {
  std::string doc_id;
  int64_t chunk_id = 0;
  std::string text;
};

// The chunks to use: all, or max_chunks spread evenly over the knowledge
// base in document and chunk order (so every part of it is asked about).
Result<std::vector<ChunkRef>> PickChunks(Engine& engine, const SynthOptions& o) {
  RAGD_ASSIGN_OR_RETURN(std::vector<DocumentInfo> docs, engine.ListDocuments(o.kb));
  std::vector<ChunkRef> all;
  for (const DocumentInfo& d : docs) {
    RAGD_ASSIGN_OR_RETURN(DocumentDetail detail, engine.GetDocument(o.kb, d.doc_id));
    for (ChunkInfo& c : detail.chunks) all.push_back({d.doc_id, c.chunk_id, std::move(c.text)});
  }
  if (all.empty()) return Status::InvalidArgument("knowledge base '" + o.kb + "' has no chunks to write questions from");
  if (o.max_chunks == 0 || static_cast<size_t>(o.max_chunks) >= all.size()) return all;
  std::vector<ChunkRef> picked;
  for (int i = 0; i < o.max_chunks; ++i) picked.push_back(std::move(all[i * all.size() / o.max_chunks]));
  return picked;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

// Whether a kept pair goes to validation: a hash of its question, so the
// split does not move when other pairs come or go.
bool IsValidation(const std::string& question, double fraction) {
  const std::string h = files::ContentHash(question);
  return static_cast<double>(std::stoul(h.substr(0, 6), nullptr, 16) % 10000) < fraction * 10000;
}

bool EndsWithQuestionMark(const std::string& s) { return s.ends_with("?") || s.ends_with("？"); }

// A question ends with a question mark (ASCII or full-width), and its
// answer is not a question and says more than the question: small models
// copy the prompt's wording or the question into either, or answer with
// another question.
bool IsQuestion(const std::string& question, const std::string& answer) {
  if (!EndsWithQuestionMark(question) || EndsWithQuestionMark(answer)) return false;
  return answer.find(question.substr(0, question.size() - (question.ends_with("?") ? 1 : 3))) == std::string::npos;
}

}  // namespace

Result<SynthReport> SynthesizeDataset(Engine& engine, ChatModel& model, const Prompts& prompts, const SynthOptions& o,
                                      std::vector<SynthPair>* pairs, const SynthProgressFn& progress,
                                      std::vector<SynthPair>* rejected) {
  RAGD_RETURN_IF_ERROR(CheckSynthOptions(o));
  const auto t0 = std::chrono::steady_clock::now();
  RAGD_ASSIGN_OR_RETURN(std::vector<ChunkRef> chunks, PickChunks(engine, o));
  RAGD_ASSIGN_OR_RETURN(Embedder * embedder, engine.embedder());
  SynthReport report;
  std::vector<std::vector<float>> kept_questions;  // of the pairs from kept_start on
  const size_t kept_start = pairs->size();
  GenerateOptions g;
  g.json_schema = Schema(o.per_chunk);
  g.max_tokens = o.max_tokens;
  for (const ChunkRef& chunk : chunks) {
    const std::string lang = o.language == "auto" ? DetectLanguage(chunk.text) : o.language;
    RAGD_ASSIGN_OR_RETURN(std::string prompt, prompts.Render("dataset_synth", lang,
                                                             {{"passage", chunk.text}, {"count", std::to_string(o.per_chunk)}}));
    std::vector<ChatMessage> messages{{"user", prompt, {}, "", ""}};
    RAGD_ASSIGN_OR_RETURN(ChatResult r, model.Chat(messages, g, {}));
    ++report.chunks;
    report.prompt_tokens += r.prompt_tokens;
    report.completion_tokens += r.completion_tokens;
    json out = json::parse(r.text, nullptr, false);
    if (!out.is_object() || !out.contains("pairs") || !out["pairs"].is_array()) {
      ++report.malformed;  // cut off by max_tokens, or not the schema's
    } else {
      // At most per_chunk: a remote model may not hold to the schema.
      for (size_t n = 0; n < out["pairs"].size() && n < static_cast<size_t>(o.per_chunk); ++n) {
        const json& p = out["pairs"][n];
        ++report.generated;
        if (!p.is_object() || !p.contains("question") || !p.contains("answer") || !p["question"].is_string() ||
            !p["answer"].is_string()) {
          ++report.malformed;
          continue;
        }
        SynthPair pair;
        pair.question = text::NormalizeWhitespace(p["question"].get<std::string>());
        pair.answer = text::NormalizeWhitespace(p["answer"].get<std::string>());
        pair.doc_id = chunk.doc_id;
        pair.chunk_id = chunk.chunk_id;
        pair.chunk_text = chunk.text;
        // A dropped pair is counted, and handed back with its reason.
        auto drop = [&](int64_t* counter, const char* reason) {
          ++*counter;
          pair.dropped = reason;
          if (rejected) rejected->push_back(std::move(pair));
        };
        if (pair.question.empty() || pair.answer.empty()) {
          drop(&report.malformed, "malformed");
          continue;
        }
        if (!IsQuestion(pair.question, pair.answer)) {
          drop(&report.not_questions, "not a question");
          continue;
        }
        pair.support = SupportShare(pair.answer, chunk.text);
        if (pair.support < o.min_support) {
          drop(&report.unsupported, "unsupported");
          continue;
        }
        std::vector<float> v(static_cast<size_t>(embedder->dim()));
        RAGD_RETURN_IF_ERROR(embedder->Embed(std::span<const std::string>(&pair.question, 1), EmbedKind::kQuery, v.data()));
        // A near duplicate is close in meaning and in wording: an
        // embedder alone puts distinct questions of one language and topic
        // close (MiniLM scores 如何挂失银行卡？ against 忘记手机银行登录密码？
        // 0.92), so the words must overlap too.
        bool duplicate = false;
        for (size_t k = 0; k < kept_questions.size(); ++k) {
          const double similarity = Cosine(kept_questions[k], v);
          const std::string& other = (*pairs)[kept_start + k].question;
          if (similarity > pair.similarity) {
            pair.similarity = similarity;
            pair.closest = other;
          }
          if (similarity >= o.max_similarity && SupportShare(pair.question, other) >= kDuplicateOverlap) {
            duplicate = true;
            pair.similarity = similarity;
            pair.closest = other;
            break;
          }
        }
        if (duplicate) {
          drop(&report.duplicates, "duplicate");
          continue;
        }
        kept_questions.push_back(std::move(v));
        pair.validation = IsValidation(pair.question, o.validation_fraction);
        ++report.kept;
        ++(pair.validation ? report.validation : report.train);
        pairs->push_back(std::move(pair));
      }
    }
    if (progress) progress(report.chunks, static_cast<int64_t>(chunks.size()));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

Conversation PairConversation(const SynthPair& pair, bool with_context) {
  Conversation c;
  c.source = pair.doc_id + "#" + std::to_string(pair.chunk_id);
  std::string user = with_context ? pair.chunk_text + "\n\n" + pair.question : pair.question;
  c.messages.push_back({"user", std::move(user), {}, "", ""});
  c.messages.push_back({"assistant", pair.answer, {}, "", ""});
  return c;
}

}  // namespace ragd
