// The HTTP server's request handling: a real ragd::server::Server on a
// loopback port, with a real Engine (the packaged embedding model, a small
// knowledge base in tmpfs). The first input byte picks a route and the rest
// is its body (JSON or a multipart upload); with the top bit set the whole
// input goes to the socket as a raw request, for cpp-httplib's parser.
//
// The chat model is a named fake, FixedChatModel: the subject here is the
// HTTP and JSON layer, and a real model's generation (seconds per request)
// would leave the fuzzer a few inputs a minute. Generation is fuzzed nowhere;
// its inputs are what this layer hands on.
//
// Invariants: no 500 (an exception escaped a handler), and every /api and /v1
// answer that says it is JSON parses as JSON.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <httplib.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "fuzz_check.h"
#include "server/server.h"

namespace {

namespace fs = std::filesystem;
using namespace ragd;

class FixedChatModel final : public ChatModel {
 public:
  Result<ChatResult> Chat(std::span<const ChatMessage>, const GenerateOptions&, const TokenFn& on_token,
                          const ToolCallFn&) override {
    ChatResult r;
    r.text = "Cards are replaced within five days [1].";
    if (on_token) on_token(r.text);
    r.completion_tokens = 8;
    return r;
  }
  Result<int> CountTokens(std::string_view text) override { return static_cast<int>(text.size() / 4 + 1); }
  int context_tokens() const override { return 2048; }
  std::string backend() const override { return "fixed"; }
  std::string model() const override { return "fixed fuzz model"; }
};

struct Fixture {
  std::unique_ptr<Engine> engine;
  FixedChatModel model;
  Prompts prompts;
  std::unique_ptr<server::Server> server;
  std::thread thread;
  int port = 0;

  Fixture() {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path data = base / ("ragd-http-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(data);
    EngineOptions eo;
    eo.data_dir = data.string();
    eo.embedder.backend.threads = 1;
    auto e = Engine::Open(eo);
    FUZZ_CHECK(e.ok(), "the engine opens");
    engine = std::move(e).value();
    SourceDocument docs[] = {
        {"card", "card.md", "Lost card", "Report a lost card in the app; a new card arrives within five days.", {}},
        {"fee", "fees.md", "手续费", "跨行转账手续费为每笔2元，手机银行免收。", {{"team", "payments"}}},
    };
    auto rep = engine->IngestDocuments("fz", docs, SplitOptions{});
    FUZZ_CHECK(rep.ok(), "the fuzz knowledge base is built (is RAGD_MODELS_DIR set?)");
    auto p = Prompts::Load();
    FUZZ_CHECK(p.ok(), "the built-in prompts load");
    prompts = std::move(p).value();
    server::ServeOptions so;
    so.port = 0;
    so.max_body_bytes = 1 << 20;
    so.trace = false;
    auto s = server::Server::Create(so, engine.get(), &model, &prompts);
    FUZZ_CHECK(s.ok() && (*s)->Bind().ok(), "the server binds a loopback port");
    server = std::move(s).value();
    port = server->port();
    thread = std::thread([this] { (void)server->Serve(); });
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();  // never destroyed: libFuzzer exits without unwinding
  return *f;
}

struct RouteCase {
  const char* method;
  const char* path;
  bool multipart;
};
constexpr RouteCase kRoutes[] = {
    {"POST", "/v1/chat/completions", false},
    {"POST", "/v1/embeddings", false},
    {"POST", "/api/kbs/fz/search", false},
    {"POST", "/api/kbs", false},
    {"POST", "/api/kbs/scratch/documents", true},
    {"POST", "/api/kbs/fz/documents", true},
    {"GET", "/api/kbs/fz/documents/card", false},
    {"DELETE", "/api/kbs/scratch/documents/x", false},
    {"DELETE", "/api/kbs/scratch", false},
    {"GET", "/v1/models", false},
    {"GET", "/api/kbs", false},
    {"GET", "/metrics", false},
};

void CheckAnswer(int status, const std::string& content_type, const std::string& body) {
  if (status == 500) std::fprintf(stderr, "500: %s\n", body.c_str());
  FUZZ_CHECK(status != 500, "no handler lets an exception escape");
  if (content_type.starts_with("application/json"))
    FUZZ_CHECK(!nlohmann::json::parse(body, nullptr, false).is_discarded(), "a JSON answer parses");
}

// Writes the raw request, closes our side, reads the answer to the end.
void SendRaw(int port, std::string_view request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "the server accepts");
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (and close) before reading it all
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (answer.starts_with("HTTP/1.1 500")) std::fprintf(stderr, "500: %s\n", answer.c_str());
  FUZZ_CHECK(!answer.starts_with("HTTP/1.1 500"), "no handler lets an exception escape");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = F();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 0x80) {
    SendRaw(f.port, rest);
    return 0;
  }
  const RouteCase& r = kRoutes[data[0] % std::size(kRoutes)];
  httplib::Client client("127.0.0.1", f.port);
  client.set_read_timeout(60, 0);
  auto send = [&]() -> httplib::Result {
    if (r.multipart) {
      // The rest is "name\0content\0meta": a file name, its bytes, the meta field.
      std::string_view name = rest.substr(0, rest.find('\0'));
      std::string_view after = name.size() < rest.size() ? rest.substr(name.size() + 1) : std::string_view();
      std::string_view content = after.substr(0, after.find('\0'));
      std::string_view meta = content.size() < after.size() ? after.substr(content.size() + 1) : std::string_view();
      httplib::MultipartFormDataItems items = {{"files", std::string(content), std::string(name), "text/plain"}};
      if (!meta.empty()) items.push_back({"meta", std::string(meta), "", ""});
      return client.Post(r.path, items);
    }
    if (std::string_view(r.method) == "POST") return client.Post(r.path, std::string(rest), "application/json");
    if (std::string_view(r.method) == "DELETE") return client.Delete(r.path);
    return client.Get(r.path);
  };
  httplib::Result res = send();
  FUZZ_CHECK(res, "the server answers");
  CheckAnswer(res->status, res->get_header_value("Content-Type"), res->body);
  return 0;
}
