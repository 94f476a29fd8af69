// LoRA adapters on the local chat model. The adapters are built here: a
// GGUF LoRA for the packaged chat model's own tensor names and shapes
// (every layer's attention q and v), with small random weights. Real
// adapters come from PEFT through llama.cpp's convert_lora_to_gguf.py
// (docs/MODELS.md).
#include <ggml.h>
#include <gguf.h>
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>
#include <random>

#include "models/llama_common.h"
#include "ragd/models.h"
#include "test_util.h"

namespace ragd {
namespace {

using testing::TempDir;

constexpr int kRank = 8;

std::string ChatModelPath() {
  auto path = llama::ResolveModelPath("qwen2.5-coder-0.5b-instruct-q4_k_m", "chat model");
  EXPECT_TRUE(path.ok()) << path.status().ToString();
  return path.ok() ? path.value() : "";
}

// Writes a LoRA adapter GGUF for the model at model_path. wrong_shape gives
// the first layer's q adapter one output row too many.
void WriteAdapter(const std::string& model_path, const std::string& out, float magnitude, bool wrong_shape = false) {
  ggml_context* meta = nullptr;
  gguf_context* model = gguf_init_from_file(model_path.c_str(), {true, &meta});
  ASSERT_NE(model, nullptr);
  const std::string arch = gguf_get_val_str(model, gguf_find_key(model, "general.architecture"));
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> targets;
  for (int64_t i = 0; i < gguf_get_n_tensors(model); ++i) {
    std::string name = gguf_get_tensor_name(model, i);
    if (name.ends_with("attn_q.weight") || name.ends_with("attn_v.weight")) {
      ggml_tensor* t = ggml_get_tensor(meta, name.c_str());
      targets.push_back({name, {t->ne[0], t->ne[1]}});
    }
  }
  gguf_free(model);
  ggml_free(meta);
  ASSERT_FALSE(targets.empty());

  size_t bytes = 0;
  for (const auto& [name, ne] : targets) bytes += (ne.first + ne.second + 1) * kRank * sizeof(float) + 2 * ggml_tensor_overhead();
  ggml_context* ctx = ggml_init({bytes + (1 << 20), nullptr, false});
  gguf_context* adapter = gguf_init_empty();
  gguf_set_val_str(adapter, "general.architecture", arch.c_str());
  gguf_set_val_str(adapter, "general.type", "adapter");
  gguf_set_val_str(adapter, "adapter.type", "lora");
  gguf_set_val_f32(adapter, "adapter.lora.alpha", static_cast<float>(kRank));
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, magnitude);
  bool first = true;
  for (const auto& [name, ne] : targets) {
    // llama.cpp's layout: A is [n_in, rank], B is [rank, n_out].
    ggml_tensor* a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, ne.first, kRank);
    ggml_tensor* b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, kRank, ne.second + (wrong_shape && first ? 1 : 0));
    first = false;
    ggml_set_name(a, (name + ".lora_a").c_str());
    ggml_set_name(b, (name + ".lora_b").c_str());
    for (ggml_tensor* t : {a, b}) {
      auto* data = static_cast<float*>(t->data);
      for (int64_t i = 0; i < ggml_nelements(t); ++i) data[i] = normal(rng);
      gguf_add_tensor(adapter, t);
    }
  }
  ASSERT_TRUE(gguf_write_to_file(adapter, out.c_str(), false));
  gguf_free(adapter);
  ggml_free(ctx);
}

// The logits after a short prompt, with the adapter at `scale` (none when
// adapter is null).
std::vector<float> Logits(llama_model* model, llama_adapter_lora* adapter, float scale) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_threads = cp.n_threads_batch = 2;
  llama_context* ctx = llama_init_from_model(model, cp);
  EXPECT_NE(ctx, nullptr);
  if (adapter) EXPECT_EQ(llama_set_adapters_lora(ctx, &adapter, 1, &scale), 0);
  auto tokens = llama::Tokenize(llama_model_get_vocab(model), "The annual fee of the card is", true, false).value();
  llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
  EXPECT_EQ(llama_decode(ctx, batch), 0);
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  const float* logits = llama_get_logits_ith(ctx, -1);
  std::vector<float> out(logits, logits + n_vocab);
  llama_free(ctx);
  return out;
}

std::string Greedy(const std::vector<LoraAdapter>& lora) {
  BackendOptions o;
  o.model = "qwen2.5-coder-0.5b-instruct-q4_k_m";
  o.threads = 2;
  o.lora = lora;
  auto m = OpenChatModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return "";
  GenerateOptions g;
  g.max_tokens = 24;
  ChatMessage msg{"user", "Name three colours."};
  auto r = (*m)->Chat(std::span<const ChatMessage>(&msg, 1), g, {}, {});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->text : "";
}

TEST(Lora, ScaleZeroChangesNothingAndAScaleChangesTheLogits) {
  TempDir dir;
  const std::string model_path = ChatModelPath();
  const std::string adapter_path = dir.path() + "/adapter.gguf";
  WriteAdapter(model_path, adapter_path, 0.05f);

  // Through the chat model: scale 0 answers exactly as no adapter does.
  const std::string plain = Greedy({});
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(Greedy({{adapter_path, 0.0f}}), plain);

  // Through llama.cpp with ragd's loader: a scale moves the logits.
  auto model = llama::LoadModel(model_path, "chat model");
  ASSERT_TRUE(model.ok());
  auto adapter = llama::LoadLoraAdapter(*model, adapter_path);
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  std::vector<float> none = Logits(*model, nullptr, 0), zero = Logits(*model, *adapter, 0.0f),
                     one = Logits(*model, *adapter, 1.0f);
  double zero_diff = 0, one_diff = 0;
  for (size_t i = 0; i < none.size(); ++i) {
    zero_diff = std::max(zero_diff, static_cast<double>(std::abs(zero[i] - none[i])));
    one_diff = std::max(one_diff, static_cast<double>(std::abs(one[i] - none[i])));
  }
  EXPECT_EQ(zero_diff, 0.0);
  EXPECT_GT(one_diff, 0.01);
  llama_model_free(*model);
}

TEST(Lora, BadAdaptersAreClearErrors) {
  TempDir dir;
  const std::string model_path = ChatModelPath();
  const std::string wrong = dir.path() + "/wrong.gguf";
  WriteAdapter(model_path, wrong, 0.01f, /*wrong_shape=*/true);
  BackendOptions o;
  o.model = model_path;
  o.threads = 2;
  o.lora = {{wrong, 1.0f}};
  auto m = OpenChatModel(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("cannot load the LoRA adapter " + wrong), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("tensor 'blk.0.attn_q.weight' has incorrect shape"), std::string::npos)
      << m.status().message();

  o.lora = {{dir.path() + "/missing.gguf", 1.0f}};
  auto missing = OpenChatModel(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("LoRA adapter file not found"), std::string::npos);

  // A GGUF that is a model, not an adapter.
  o.lora = {{model_path, 1.0f}};
  auto not_adapter = OpenChatModel(o);
  ASSERT_FALSE(not_adapter.ok());
  EXPECT_NE(not_adapter.status().message().find("expect general.type to be 'adapter'"), std::string::npos)
      << not_adapter.status().message();

  o.backend = Backend::kOpenAi;
  o.lora = {{wrong, 1.0f}};
  auto remote = OpenChatModel(o);
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.status().message().find("LoRA adapters apply to the local chat backend only"), std::string::npos);
}

TEST(Lora, SpecsParse) {
  auto a = ParseLoraAdapter("adapters/bank.gguf:0.5");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->path, "adapters/bank.gguf");
  EXPECT_FLOAT_EQ(a->scale, 0.5f);
  auto b = ParseLoraAdapter("bank.gguf");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->path, "bank.gguf");
  EXPECT_FLOAT_EQ(b->scale, 1.0f);
  EXPECT_FALSE(ParseLoraAdapter("bank.gguf:1e9").ok());
  EXPECT_FALSE(ParseLoraAdapter(":0.5").ok());
}

}  // namespace
}  // namespace ragd
