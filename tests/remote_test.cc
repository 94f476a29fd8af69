// The remote backends against real servers: llama-server (built from the
// pinned llama.cpp) serving the packaged chat model and the packaged
// embedding model on ephemeral ports. Faults a real server will not produce
// on demand come from FakeBrokenServer, a deliberately broken stub.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <nlohmann/json.hpp>

#include "ragd/models.h"
#include "ragd/trace.h"
#include "test_util.h"

namespace ragd {
namespace {

using namespace std::chrono_literals;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// A real server child process (llama-server, or ragd serve), stopped with
// the test; ready once GET /health answers 200.
class ChildServer {
 public:
  ChildServer() : port_(FreePort()) {}
  ~ChildServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 protected:
  // env: "NAME=value" settings for the child only.
  void Start(std::vector<std::string> args, const std::string& name, std::vector<std::string> env = {}) {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (auto& e : env) ::putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 600; ++i) {  // up to 60 s for the model to load
      if (auto r = c.Get("/health"); r && r->status == 200) {
        ready_ = true;
        return;
      }
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = name + " exited during start-up";
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    error_ = name + " did not become healthy in 60 s";
  }
  int port_;
  pid_t pid_ = -1;
  bool ready_ = false;
  std::string error_;
};

class LlamaServer : public ChildServer {
 public:
  LlamaServer(const std::string& model_file, std::vector<std::string> extra) {
    auto model = FindPackagedModel(model_file);
    if (!model.ok()) {
      error_ = model.status().ToString();
      return;
    }
    std::vector<std::string> args = {RAGD_LLAMA_SERVER, "-m", model.value(), "--host", "127.0.0.1",
                                     "--port", std::to_string(port_), "-t", "2", "-c", "2048", "-np", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    Start(std::move(args), "llama-server");
  }
};

// ragd serve with the packaged default model, in a data folder of its own.
class RagdServer : public ChildServer {
 public:
  RagdServer() {
    Start({RAGD_BINARY, "serve", "--port", std::to_string(port_), "--api-key", "test-key"}, "ragd serve",
          {"RAGD_DATA_DIR=" + data_.path()});
  }

 private:
  testing::TempDir data_;
};

std::vector<ChatMessage> Question() {
  return {{"user", "Sources:\n[1] International wire transfers take 1 to 3 working days.\n\n"
                   "Question: How long does an international wire transfer take?\nAnswer:"}};
}

class LlamaServerChat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new LlamaServer("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", {"--api-key", "test-key", "--jinja"});
  }
  static void TearDownTestSuite() { delete server_; }
  BackendOptions Options() {
    BackendOptions o;
    o.backend = Backend::kOpenAi;
    o.base_url = server_->base_url();
    o.api_key = "test-key";
    o.model = "qwen";
    return o;
  }
  static LlamaServer* server_;
};
LlamaServer* LlamaServerChat::server_ = nullptr;

// A remote backend's options.
BackendOptions Remote(const std::string& backend, const std::string& base_url, const std::string& model,
                      const std::string& api_key = "") {
  BackendOptions o;
  o.backend = ParseBackend(backend).value();
  o.base_url = base_url;
  o.model = model;
  o.api_key = api_key;
  return o;
}

std::vector<ToolSpec> FeeTool() {
  return {{"get_card_fee", "The annual fee of a credit card, by card name.",
           R"({"type":"object","properties":{"card":{"type":"string"}},"required":["card"]})"}};
}

// The openai backend passes tools and tool messages through to llama-server.
// The 0.5B writes its calls without Qwen's <tool_call> tags, which
// llama-server's parser needs, so llama-server answers with the call as
// content (docs/DECISIONS.md); reading calls back is tested against ragd
// serve below. Here: the tools are accepted, and a conversation holding a
// call and its result is rendered by llama-server's template and answered
// from the result.
TEST_F(LlamaServerChat, PassesToolsAndToolMessagesThrough) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  auto m = OpenChatModel(Options()).value();
  GenerateOptions g;
  g.max_tokens = 64;
  g.tools = FeeTool();
  std::vector<ChatMessage> msgs = {
      {"system", "You are a helpful assistant. When a tool result arrives, answer the user's question from it in one sentence."},
      {"user", "What is the annual fee of the Platinum card?"}};
  auto first = m->Chat(msgs, g);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_NE(first->text.find("get_card_fee"), std::string::npos) << first->text;

  ToolCall call{"call_1", "get_card_fee", R"({"card":"Platinum"})"};
  msgs.push_back({"assistant", "", {call}});
  ChatMessage result{"tool", R"({"annual_fee":"CNY 3,600"})"};
  result.tool_call_id = call.id;
  msgs.push_back(result);
  g.tool_choice = "none";  // the answer turn
  auto answer = m->Chat(msgs, g);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_TRUE(answer->tool_calls.empty());
  EXPECT_NE(answer->text.find("3,600"), std::string::npos) << answer->text;
  EXPECT_EQ(answer->text.find('{'), std::string::npos) << answer->text;  // words, not the result echoed

  g.tool_choice = "get_weather";  // checked before anything is sent
  auto unknown = m->Chat(msgs, g);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
}

// The openai backend reads tool calls back, whole and as streamed deltas,
// from a real OpenAI-compatible server that returns them: ragd serve on the
// same model.
TEST(RagdServeChat, ReadsToolCallsWholeAndStreamed) {
  RagdServer server;
  ASSERT_TRUE(server.ready()) << server.error();
  auto m = OpenChatModel(Remote("openai", server.base_url(), "", "test-key")).value();
  GenerateOptions g;
  g.max_tokens = 96;
  g.tools = FeeTool();
  g.tool_choice = "required";
  std::vector<ChatMessage> msgs = {{"user", "What is the annual fee of the Platinum card?"}};
  auto whole = m->Chat(msgs, g);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(whole->tool_calls.size(), 1u) << whole->text;
  EXPECT_EQ(whole->tool_calls[0].name, "get_card_fee");
  EXPECT_EQ(whole->finish_reason, "tool_calls");
  EXPECT_FALSE(whole->tool_calls[0].id.empty());
  auto args = nlohmann::json::parse(whole->tool_calls[0].arguments);
  EXPECT_TRUE(args["card"].is_string()) << whole->tool_calls[0].arguments;

  std::string id, name, arguments;
  auto streamed = m->Chat(msgs, g, {}, [&](const ToolCallDelta& d) {
    EXPECT_EQ(d.index, 0);
    id += d.id;
    name += d.name;
    arguments += d.arguments;
    return true;
  });
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  ASSERT_EQ(streamed->tool_calls.size(), 1u);
  EXPECT_EQ(name, "get_card_fee");
  EXPECT_EQ(id, streamed->tool_calls[0].id);
  EXPECT_EQ(streamed->finish_reason, "tool_calls");
  EXPECT_EQ(nlohmann::json::parse(arguments), nlohmann::json::parse(streamed->tool_calls[0].arguments));
}

TEST_F(LlamaServerChat, PassesJsonSchemaThrough) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  auto m = OpenChatModel(Options()).value();
  GenerateOptions g;
  g.max_tokens = 64;
  g.json_schema = R"({"type":"object","properties":{"days_max":{"type":"integer"}},"required":["days_max"]})";
  auto r = m->Chat(Question(), g);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto j = nlohmann::json::parse(r->text, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->text;
  EXPECT_TRUE(j["days_max"].is_number_integer()) << r->text;
}

TEST_F(LlamaServerChat, CompletesWithUsage) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  auto m = OpenChatModel(Options());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  GenerateOptions g;
  g.temperature = 0;
  g.max_tokens = 24;
  auto r = (*m)->Chat(Question(), g);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->text.empty());
  EXPECT_GT(r->prompt_tokens, 20);  // the server's own count
  EXPECT_GT(r->completion_tokens, 0);
  EXPECT_LE(r->completion_tokens, 24);
  EXPECT_TRUE(r->finish_reason == "stop" || r->finish_reason == "length") << r->finish_reason;
}

TEST_F(LlamaServerChat, StreamsTheSameAnswer) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  auto m = OpenChatModel(Options()).value();
  GenerateOptions g;
  g.temperature = 0;
  g.max_tokens = 24;
  auto whole = m->Chat(Question(), g);
  ASSERT_TRUE(whole.ok());
  std::string streamed;
  int pieces = 0;
  auto r = m->Chat(Question(), g, [&](std::string_view p) {
    streamed += p;
    ++pieces;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(r->text, whole->text);  // greedy: streaming changes nothing
  EXPECT_GT(pieces, 1);
  EXPECT_GT(r->completion_tokens, 0);  // usage came with the stream
  EXPECT_GT(r->prompt_tokens, 20);
  EXPECT_GT(r->first_token_seconds, 0);
  EXPECT_LE(r->first_token_seconds, r->seconds);
}

TEST_F(LlamaServerChat, CancelsAStream) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  auto m = OpenChatModel(Options()).value();
  GenerateOptions g;
  g.max_tokens = 200;
  g.stop = {};
  int pieces = 0;
  auto r = m->Chat(Question(), g, [&](std::string_view) { return ++pieces < 3; });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish_reason, "cancelled");
  EXPECT_EQ(pieces, 3);
}

TEST_F(LlamaServerChat, WrongApiKeyIsNamed) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  BackendOptions o = Options();
  o.api_key = "wrong";
  auto r = OpenChatModel(o).value()->Chat(Question(), GenerateOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rejected the API key (401)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(server_->base_url()), std::string::npos);
}

TEST_F(LlamaServerChat, TracesRecordTheCall) {
  ASSERT_TRUE(server_->ready()) << server_->error();
  testing::TempDir dir;
  auto log = std::make_shared<TraceLog>(dir / "traces.jsonl");
  auto tags = std::make_shared<TraceTags>(TraceTags{"s1", "How long?"});
  auto m = TraceChatModel(OpenChatModel(Options()).value(), log, tags);
  GenerateOptions g;
  g.temperature = 0;
  g.max_tokens = 8;
  ASSERT_TRUE(m->Chat(Question(), g, [](std::string_view) { return true; }).ok());
  BackendOptions bad = Options();
  bad.api_key = "wrong";
  auto failing = TraceChatModel(OpenChatModel(bad).value(), log, tags);
  EXPECT_FALSE(failing->Chat(Question(), g).ok());
  auto traces = ReadTraces(log->path(), 0);
  ASSERT_TRUE(traces.ok());
  ASSERT_EQ(traces->size(), 2u);
  const TraceRecord& t = (*traces)[0];
  EXPECT_EQ(t.kind, "chat");
  EXPECT_EQ(t.backend, "openai");
  EXPECT_EQ(t.session, "s1");
  EXPECT_EQ(t.question, "How long?");
  EXPECT_NE(t.input_json.find("International wire transfers"), std::string::npos);
  EXPECT_GT(t.prompt_tokens, 0);
  EXPECT_GT(t.completion_tokens, 0);
  EXPECT_GT(t.latency_seconds, 0);
  EXPECT_GT(t.first_token_seconds, 0);
  EXPECT_TRUE(t.error.empty());
  EXPECT_NE((*traces)[1].error.find("401"), std::string::npos);
}

TEST(LlamaServerEmbeddings, MatchTheLocalEmbedder) {
  LlamaServer server("all-MiniLM-L6-v2.gguf", {"--embeddings", "--pooling", "mean"});
  ASSERT_TRUE(server.ready()) << server.error();
  BackendOptions o;
  o.backend = Backend::kOpenAi;
  o.base_url = server.base_url();
  o.model = "all-MiniLM-L6-v2";
  auto remote = OpenEmbedder(EmbedderOptions{o});
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EmbedderOptions mini;
  mini.backend.model = "all-MiniLM-L6-v2";
  auto local = OpenEmbedder(mini);
  ASSERT_TRUE(local.ok());
  ASSERT_EQ((*remote)->dim(), 384);
  std::vector<std::string> texts = {"How do I report a lost card?", "挂失银行卡", "wire transfer fees"};
  std::vector<float> a(texts.size() * 384), b(texts.size() * 384);
  ASSERT_TRUE((*remote)->Embed(texts, EmbedKind::kPassage, a.data()).ok());
  ASSERT_TRUE((*local)->Embed(texts, EmbedKind::kPassage, b.data()).ok());
  for (size_t t = 0; t < texts.size(); ++t) {
    double dot = 0;
    for (int d = 0; d < 384; ++d) dot += a[t * 384 + d] * b[t * 384 + d];
    EXPECT_GT(dot, 0.99) << texts[t];
  }
  EXPECT_EQ((*remote)->model_id(), "openai:all-MiniLM-L6-v2/384");
}

// The same rerank GGUF scores the same pairs alike in-process and behind
// llama-server's /rerank: ragd builds the pair input as the server does.
TEST(LlamaServerRerank, MatchesTheLocalReranker) {
  LlamaServer server("ragd-test-reranker.gguf", {"--reranking"});
  ASSERT_TRUE(server.ready()) << server.error();
  BackendOptions ro;
  ro.backend = Backend::kOpenAi;
  ro.base_url = server.base_url();
  auto remote = OpenReranker(ro);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  BackendOptions lo;
  lo.model = "ragd-test-reranker";
  auto local = OpenReranker(lo);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  std::vector<std::string> docs = {"International wires take two working days.", "The cafeteria opens at noon.",
                                   "电汇通常需要两个工作日到账。", "Report a lost card by phone, day or night."};
  auto a = (*remote)->Rerank("How long does a wire transfer take?", docs);
  auto b = (*local)->Rerank("How long does a wire transfer take?", docs);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(a->size(), docs.size());
  for (size_t i = 0; i < docs.size(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 1e-3) << docs[i];
}

// ---------------------------------------------------------------------------
// FakeBrokenServer: a stub that misbehaves on purpose (500s, 429, 401, a slow
// answer, a stream cut mid-way, malformed SSE) — faults a real server does
// not produce on demand. The model name picks the fault.
class FakeBrokenServer {
 public:
  FakeBrokenServer() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      ++calls_;
      std::string fault = Fault(req.body);
      bool stream = req.body.find("\"stream\":true") != std::string::npos;
      if (fault == "always-500") {
        res.status = 500;
        res.set_content(R"({"error":{"message":"model crashed"}})", "application/json");
      } else if (fault == "429-then-ok" && calls_ == 1) {
        res.status = 429;
        res.set_content(R"({"error":{"message":"slow down"}})", "application/json");
      } else if (fault == "unauthorized") {
        res.status = 401;
        res.set_content(R"({"error":{"message":"Invalid API key"}})", "application/json");
      } else if (fault == "slow") {
        std::this_thread::sleep_for(3s);
        res.set_content(Completion("late"), "application/json");
      } else if (fault == "cut-stream") {
        res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
          std::string e = "data: {\"choices\":[{\"delta\":{\"content\":\"Half an \"}}]}\n\n";
          sink.write(e.data(), e.size());
          return false;  // the connection drops: no finish_reason, no [DONE]
        });
      } else if (fault == "broken-tool-call") {  // a model that emits a call that is not JSON
        res.set_content(R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1",)"
                        R"("type":"function","function":{"name":"get_card_fee","arguments":"{\"card\": Plat"}}]},)"
                        R"("finish_reason":"tool_calls"}]})",
                        "application/json");
      } else if (fault == "malformed-sse") {
        res.set_content("data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {this is not json\n\n",
                        "text/event-stream");
      } else if (stream) {
        res.set_content("data: {\"choices\":[{\"delta\":{\"content\":\"fine\"}}]}\n\n"
                        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                        "text/event-stream");
      } else {
        res.set_content(Completion("fine"), "application/json");
      }
    });
    // Ollama's native protocol: no Ollama server comes from the registries
    // this project may use, so its NDJSON shape is exercised here.
    server_.Post("/api/chat", [this](const httplib::Request& req, httplib::Response& res) {
      last_body_ = req.body;
      if (req.body.find("\"tools\"") != std::string::npos) {
        // Ollama sends a whole call, arguments as an object, in one line.
        res.set_content("{\"message\":{\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"get_card_fee\","
                        "\"arguments\":{\"card\":\"Platinum\"}}}]},\"done\":true,\"done_reason\":\"stop\"}\n",
                        "application/x-ndjson");
        return;
      }
      if (req.body.find("\"stream\":true") != std::string::npos)
        res.set_content("{\"message\":{\"content\":\"One \"},\"done\":false}\n"
                        "{\"message\":{\"content\":\"day.\"},\"done\":false}\n"
                        "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\","
                        "\"prompt_eval_count\":12,\"eval_count\":2}\n",
                        "application/x-ndjson");
      else
        res.set_content("{\"message\":{\"content\":\"One day.\"},\"done\":true,\"prompt_eval_count\":12,"
                        "\"eval_count\":2}",
                        "application/json");
    });
    server_.Post("/api/embed", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"embeddings":[[3.0,4.0]]})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeBrokenServer() {
    server_.stop();
    thread_.join();
  }
  BackendOptions Options(const std::string& fault) {
    BackendOptions o;
    o.backend = Backend::kOpenAi;
    o.base_url = "http://127.0.0.1:" + std::to_string(port_) + "/v1";
    o.model = fault;
    o.retry_backoff_seconds = 0.01;
    o.max_retries = 2;
    o.timeout_seconds = 1;
    return o;
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_; }
  const std::string& last_body() const { return last_body_; }

 private:
  static std::string Fault(const std::string& body) {
    size_t at = body.find("\"model\":\"");
    if (at == std::string::npos) return "";
    at += 9;
    return body.substr(at, body.find('"', at) - at);
  }
  static std::string Completion(const std::string& text) {
    return R"({"choices":[{"message":{"role":"assistant","content":")" + text +
           R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1}})";
  }
  httplib::Server server_;
  std::string last_body_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> calls_{0};
};

Status ChatError(const BackendOptions& o, bool stream) {
  auto m = OpenChatModel(o);
  if (!m.ok()) return m.status();
  auto r = (*m)->Chat(Question(), GenerateOptions{}, stream ? TokenFn([](std::string_view) { return true; }) : TokenFn());
  return r.ok() ? Status::OK() : r.status();
}

TEST(FakeBrokenServerFaults, Repeated500sAreRetriedThenReported) {
  FakeBrokenServer fake;
  Status st = ChatError(fake.Options("always-500"), false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("failed (500): model crashed"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("after 3 attempts"), std::string::npos) << st.message();
  EXPECT_EQ(fake.calls(), 3);  // 1 + max_retries, bounded
}

TEST(FakeBrokenServerFaults, A429IsRetriedAndThenSucceeds) {
  FakeBrokenServer fake;
  EXPECT_TRUE(ChatError(fake.Options("429-then-ok"), false).ok());
  EXPECT_EQ(fake.calls(), 2);
}

TEST(FakeBrokenServerFaults, A401IsNotRetried) {
  FakeBrokenServer fake;
  Status st = ChatError(fake.Options("unauthorized"), true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rejected the API key (401): Invalid API key"), std::string::npos) << st.message();
  EXPECT_EQ(fake.calls(), 1);
}

TEST(FakeBrokenServerFaults, ASlowServerHitsTheTimeout) {
  FakeBrokenServer fake;
  BackendOptions o = fake.Options("slow");
  o.max_retries = 0;
  auto t0 = std::chrono::steady_clock::now();
  Status st = ChatError(o, false);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("did not answer /chat/completions within 1 s"), std::string::npos) << st.message();
  EXPECT_LT(took, 2.5);
}

TEST(FakeBrokenServerFaults, AStreamCutMidWayIsAnError) {
  FakeBrokenServer fake;
  Status st = ChatError(fake.Options("cut-stream"), true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  bool named = st.message().find("cut off") != std::string::npos ||
               st.message().find("ended before the answer was complete") != std::string::npos;
  EXPECT_TRUE(named) << st.message();
}

TEST(FakeBrokenServerFaults, MalformedSseIsAnError) {
  FakeBrokenServer fake;
  Status st = ChatError(fake.Options("malformed-sse"), true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("malformed stream event: '{this is not json'"), std::string::npos) << st.message();
}

TEST(FakeBrokenServerFaults, NoServerListeningIsNamed) {
  BackendOptions o;
  o.backend = Backend::kOpenAi;
  o.base_url = "http://127.0.0.1:" + std::to_string(FreePort()) + "/v1";
  o.max_retries = 1;
  o.retry_backoff_seconds = 0.01;
  Status st = ChatError(o, false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no server listening at " + o.base_url), std::string::npos) << st.message();
  o.base_url = "ftp://x";
  auto ftp = OpenChatModel(o);
  ASSERT_FALSE(ftp.ok());
  EXPECT_NE(ftp.status().message().find("must start with http:// or https://"), std::string::npos);
}

// Ollama's tools: arguments go out as objects and come back as JSON text;
// ids are made here. A broken call from an OpenAI server is a clear error.
TEST(FakeBrokenServerFaults, OllamaToolCallsAndABrokenCall) {
  FakeBrokenServer fake;
  auto m = OpenChatModel(Remote("ollama", fake.origin(), "qwen2.5")).value();
  GenerateOptions g;
  g.tools = FeeTool();
  std::vector<ChatMessage> msgs = {{"user", "fee?"}};
  msgs.push_back({"assistant", "", {{"call_9", "get_card_fee", R"({"card":"Gold"})"}}});
  ChatMessage result{"tool", R"({"annual_fee":"300"})"};
  result.tool_call_id = "call_9";
  result.name = "get_card_fee";
  msgs.push_back(result);
  msgs.push_back({"user", "and the Platinum card?"});
  std::vector<ToolCallDelta> deltas;
  auto r = m->Chat(msgs, g, {}, [&](const ToolCallDelta& d) {
    deltas.push_back(d);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].name, "get_card_fee");
  EXPECT_EQ(nlohmann::json::parse(r->tool_calls[0].arguments), nlohmann::json::parse(R"({"card":"Platinum"})"));
  EXPECT_EQ(r->finish_reason, "tool_calls");
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].id, r->tool_calls[0].id);
  auto sent = nlohmann::json::parse(fake.last_body());
  EXPECT_EQ(sent["tools"][0]["function"]["name"], "get_card_fee");
  EXPECT_EQ(sent["messages"][1]["tool_calls"][0]["function"]["arguments"], nlohmann::json::parse(R"({"card":"Gold"})"));
  EXPECT_EQ(sent["messages"][2]["tool_name"], "get_card_fee");
  g.tool_choice = "none";  // Ollama has no tool_choice: none sends no tools
  ASSERT_TRUE(m->Chat(std::vector<ChatMessage>{{"user", "fee?"}}, g).ok());
  EXPECT_FALSE(nlohmann::json::parse(fake.last_body()).contains("tools"));

  auto openai = OpenChatModel(fake.Options("broken-tool-call")).value();
  auto broken = openai->Chat(std::vector<ChatMessage>{{"user", "fee?"}}, GenerateOptions{});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("not a JSON object"), std::string::npos) << broken.status().message();
  EXPECT_NE(broken.status().message().find("get_card_fee"), std::string::npos);
}

TEST(FakeBrokenServerFaults, OllamaNativeStreamsNdjson) {
  FakeBrokenServer fake;
  BackendOptions o;
  o.backend = Backend::kOllama;
  o.base_url = fake.origin();
  o.model = "llama3.2";
  auto m = OpenChatModel(o);
  ASSERT_TRUE(m.ok());
  std::string streamed;
  auto r = (*m)->Chat(Question(), GenerateOptions{}, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(streamed, "One day.");
  EXPECT_EQ(r->text, "One day.");
  EXPECT_EQ(r->prompt_tokens, 12);
  EXPECT_EQ(r->completion_tokens, 2);
  auto whole = (*m)->Chat(Question(), GenerateOptions{});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->text, "One day.");
  auto e = OpenEmbedder(EmbedderOptions{o});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->dim(), 2);
  float v[2];
  std::vector<std::string> one = {"x"};
  ASSERT_TRUE((*e)->Embed(one, EmbedKind::kQuery, v).ok());
  EXPECT_FLOAT_EQ(v[0], 0.6f);  // L2-normalised
  EXPECT_FLOAT_EQ(v[1], 0.8f);
}

}  // namespace
}  // namespace ragd
