#include "ragd/agent_eval.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ragd {

namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Lower case, and "1,200" read as "1200" (a comma between digits).
std::string Normalize(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1])))
      continue;
    out += s[i];
  }
  return Lower(out);
}

}  // namespace

Result<std::vector<AgentTask>> ReadAgentTasks(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open the task file " + path);
  std::vector<AgentTask> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    const std::string where = path + " line " + std::to_string(n);
    if (!j.is_object() || !j.contains("question") || !j["question"].is_string() || !j.contains("check") ||
        !j["check"].is_object())
      return Status::InvalidArgument(where + " is not a task ({\"id\", \"question\", \"check\": {...}})");
    std::string type = j["check"].value("type", std::string());
    if (type != "number" && type != "contains" && type != "refusal")
      return Status::InvalidArgument(where + ": check type '" + type + "' is not number, contains or refusal");
    if (type == "number" && !j["check"].contains("value"))
      return Status::InvalidArgument(where + ": a number check needs a value");
    AgentTask t;
    t.id = j.value("id", "task-" + std::to_string(n));
    t.kind = j.value("kind", std::string());
    t.question = j["question"];
    t.check_json = j["check"].dump();
    out.push_back(std::move(t));
  }
  if (out.empty()) return Status::InvalidArgument(path + " holds no tasks");
  return out;
}

std::vector<double> NumbersIn(const std::string& text) {
  const std::string s = Normalize(text);
  std::vector<double> out;
  for (size_t i = 0; i < s.size();) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) ||
                            (s[j] == '.' && j + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[j + 1])))))
      ++j;
    double v = std::strtod(s.substr(i, j - i).c_str(), nullptr);
    if (i > 0 && s[i - 1] == '-' && (i < 2 || !std::isalnum(static_cast<unsigned char>(s[i - 2])))) v = -v;
    out.push_back(v);
    // Chinese magnitudes right after the number: 5万 = 50000, 1亿 = 1e8.
    if (s.compare(j, 3, "万") == 0) out.push_back(v * 1e4);
    if (s.compare(j, 3, "亿") == 0) out.push_back(v * 1e8);
    if (s.compare(j, 8, " million") == 0) out.push_back(v * 1e6);
    i = j;
  }
  return out;
}

TaskVerdict CheckAgentTask(const AgentTask& task, const std::string& answer, bool found) {
  json c = json::parse(task.check_json, nullptr, false);
  const std::string type = c.value("type", std::string());
  if (type == "refusal") {
    if (!found) return {true, ""};
    return {false, "expected a refusal"};
  }
  if (!found) return {false, "refused, expected an answer"};
  if (type == "number") {
    const double want = c.value("value", 0.0);
    const double tol = std::max(c.value("tolerance", 0.01), std::fabs(want) * 0.005);
    for (double v : NumbersIn(answer))
      if (std::fabs(v - want) <= tol) return {true, ""};
    return {false, "expected the number " + json(want).dump()};
  }
  const std::string a = Normalize(answer);
  for (const json& group : c.value("all", json::array())) {
    bool any = false;
    for (const json& alt : group)
      if (alt.is_string() && a.find(Normalize(alt.get<std::string>())) != std::string::npos) any = true;
    if (!any) return {false, "expected one of " + group.dump()};
  }
  return {true, ""};
}

std::vector<AgentModeSummary> SummarizeAgentEval(const std::vector<AgentTaskRecord>& records) {
  std::vector<AgentModeSummary> out;
  for (const auto& r : records) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& s) { return s.mode == r.mode && s.model == r.model; });
    if (it == out.end()) {
      out.push_back({r.mode, r.model});
      it = out.end() - 1;
    }
  }
  for (auto& s : out) {
    std::map<std::string, std::pair<int, int>> kinds;  // passed, total
    int calls = 0, valid = 0, passed = 0;
    double steps = 0, tokens = 0, seconds = 0;
    for (const auto& r : records) {
      if (r.mode != s.mode || r.model != s.model) continue;
      ++s.tasks;
      passed += r.pass;
      kinds[r.kind].first += r.pass;
      kinds[r.kind].second += 1;
      steps += r.steps;
      calls += r.tool_calls;
      valid += r.valid_tool_calls;
      tokens += r.tokens;
      seconds += r.seconds;
      s.errors += !r.error.empty();
    }
    if (s.tasks == 0) continue;
    s.success = static_cast<double>(passed) / s.tasks;
    for (const auto& [k, pt] : kinds) s.by_kind[k] = static_cast<double>(pt.first) / pt.second;
    s.mean_steps = steps / s.tasks;
    s.valid_call_share = calls ? static_cast<double>(valid) / calls : 0;
    s.tokens_per_task = tokens / s.tasks;
    s.seconds_per_task = seconds / s.tasks;
  }
  return out;
}

}  // namespace ragd
