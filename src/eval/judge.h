// The model as a judge, shared by `eval answers` and `eval summaries`:
// deterministic short calls, and the yes/no check of one claim against a
// context (prompts/judge_verify.*.txt).
#pragma once

#include <string>
#include <string_view>

#include "ragd/answer.h"
#include "ragd/models.h"

namespace ragd::eval {

// Judge calls are greedy (temperature 0 unless given), short, and free of
// the caller's schema and stop strings.
GenerateOptions JudgeOptions(const GenerateOptions& base, int max_tokens, int64_t seed = -1, double temperature = 0);

// "yes", "是", "支持", "对" at the start of a judge's reply.
bool SaysYes(std::string_view reply);

// Whether the model says context supports claim; context is cut to
// max_context_bytes (at a UTF-8 boundary).
Result<bool> VerifyClaim(ChatModel& model, const Prompts& prompts, const std::string& language,
                         std::string_view context, const std::string& claim, const GenerateOptions& base,
                         size_t max_context_bytes = 6000);

}  // namespace ragd::eval
