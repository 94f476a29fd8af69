// How an answer's prompt is put together and its citations checked
// (private to the library; the Assistant calls these).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ragd/answer.h"

namespace ragd {

// The numbered-sources prompt as it goes to the model.
struct BuiltPrompt {
  std::vector<ChatMessage> messages;
  std::vector<Source> sources;  // those that fit, numbered from 1
  std::string sources_text;     // the numbered sources as rendered into the last message
  int context_tokens = 0;
  int stable_messages = 0;      // leading messages the same for every question (GenerateOptions)
};

// Assembles system prompt, few-shot examples, history and the numbered
// sources, in rank order, as many as fit in `budget` tokens counted with the
// model's tokenizer (the best one is cut to fit when alone it is too long).
// The budget is capped by what the model's context leaves after the rest of
// the prompt and answer_tokens; budget <= 0 means the model's
// default_context_budget(), or when that is 0 all of the room.
Result<BuiltPrompt> BuildAnswerPrompt(const Prompts& prompts, ChatModel& model, const std::string& language,
                                      const std::string& question, const std::vector<SearchHit>& hits,
                                      const std::vector<ChatMessage>& history, int budget, int answer_tokens);

// The condensing prompt: the history (as the memory keeps it) and the
// follow-up question.
Result<std::vector<ChatMessage>> BuildCondensePrompt(const Prompts& prompts, const std::string& language,
                                                     const Session& session, const std::string& question);

// How well source supports text, by AttributeCitations' measure: the
// least share, over text's sentences of two terms or more, of a sentence's
// terms found in source (a text without such a sentence: the share of all
// its terms). 0..1.
double SupportShare(std::string_view text, std::string_view source);

// Post-hoc citation check for models that cite badly (small local ones).
// For each sentence, the source sharing the largest part of its terms
// (analyzer terms; character bigrams for Chinese) supports it when that
// part is at least min_overlap. A sentence without a
// valid [n] gets the supporting source; [n] that match no source, or cite a
// source that does not support the sentence while another does, are
// replaced by it. *changed tells whether anything moved.
std::string AttributeCitations(std::string_view answer, const std::vector<Source>& sources, double min_overlap,
                               bool* changed);

}  // namespace ragd
