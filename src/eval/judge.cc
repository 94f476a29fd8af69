#include "eval/judge.h"

#include <vector>

#include "core/status_macros.h"
#include "core/text.h"
#include "eval/answer_metrics.h"

namespace ragd::eval {

GenerateOptions JudgeOptions(const GenerateOptions& base, int max_tokens, int64_t seed, double temperature) {
  GenerateOptions g = base;
  g.temperature = temperature;
  g.seed = seed;
  g.max_tokens = max_tokens;
  g.json_schema.clear();
  g.stop.clear();
  return g;
}

bool SaysYes(std::string_view reply) {
  std::string t = NormalizeAnswer(reply);
  return t.starts_with("yes") || t.starts_with("是") || t.starts_with("支持") || t.starts_with("对");
}

Result<bool> VerifyClaim(ChatModel& model, const Prompts& prompts, const std::string& language,
                         std::string_view context, const std::string& claim, const GenerateOptions& base,
                         size_t max_context_bytes) {
  RAGD_ASSIGN_OR_RETURN(std::string verify,
                        prompts.Render("judge_verify", language,
                                       {{"context", std::string(text::TruncateUtf8(context, max_context_bytes))},
                                        {"claim", claim}}));
  RAGD_ASSIGN_OR_RETURN(ChatResult v, model.Chat(std::vector<ChatMessage>{{"user", verify}}, JudgeOptions(base, 4)));
  return SaysYes(v.text);
}

}  // namespace ragd::eval
