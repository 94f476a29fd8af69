// Local generation speed on a fixed RAG prompt: prompt evaluation and
// generation tokens/s and time to first token, cold and with a cached
// prompt prefix. Run next to llama-bench by bench/generation.sh, which
// turns both into ratios. Prints one JSON object.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ragd/models.h"

using namespace ragd;

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  int gen = argc > 2 ? std::atoi(argv[2]) : 128;
  int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  BackendOptions o;
  o.threads = threads;
  if (argc > 4) o.model = argv[4];  // a GGUF path or packaged name; default: the packaged default
  auto model = OpenChatModel(o);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  // A RAG prompt of the size ragd ask builds: system, four sources, question.
  std::string sources;
  for (int i = 1; i <= 4; ++i)
    sources += "[" + std::to_string(i) + "] Passage " + std::to_string(i) +
               ": International wire transfers (SWIFT) take 1 to 3 working days and cost 0.1% of the amount, "
               "at least 50 yuan and at most 200 yuan, plus a 150 yuan cable fee. Domestic transfers between "
               "accounts of our bank arrive immediately; transfers to other banks usually arrive the same day.\n";
  std::vector<ChatMessage> msgs = {
      {"system", "You answer questions from a knowledge base. Use only the numbered sources and cite them like [1]."},
      {"user", "Sources:\n" + sources + "\nQuestion: How long does an international wire transfer take?\nAnswer:"}};
  GenerateOptions g;
  g.temperature = 0;
  g.max_tokens = gen;
  g.ignore_eos = true;
  g.repeat_penalty = 1.0;  // llama-bench samples nothing; keep the sampler minimal
  std::vector<double> pp, tg, ttft, ttft_cached;
  int prompt_tokens = 0;
  for (int r = 0; r < reps + 1; ++r) {
    GenerateOptions cold = g;
    cold.seed = 1;  // a fixed seed evaluates the whole prompt afresh
    auto a = (*model)->Chat(msgs, cold);
    if (!a.ok()) {
      std::fprintf(stderr, "%s\n", a.status().ToString().c_str());
      return 1;
    }
    auto b = (*model)->Chat(msgs, g);  // same prompt: all but one token cached
    if (!b.ok()) return 1;
    if (r == 0) continue;  // warm-up
    prompt_tokens = a->prompt_tokens;
    pp.push_back(a->prompt_tokens / a->first_token_seconds);
    tg.push_back((a->completion_tokens - 1) / (a->seconds - a->first_token_seconds));
    ttft.push_back(a->first_token_seconds);
    ttft_cached.push_back(b->first_token_seconds);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  nlohmann::json out = {{"threads", threads},
                        {"prompt_tokens", prompt_tokens},
                        {"generated_tokens", gen},
                        {"repetitions", reps},
                        {"prompt_tokens_per_second", median(pp)},
                        {"generated_tokens_per_second", median(tg)},
                        {"first_token_seconds", median(ttft)},
                        {"first_token_seconds_cached_prefix", median(ttft_cached)}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
