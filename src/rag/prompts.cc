// Prompt templates: built-in files, overridable file by file, rendered with
// {{variables}}.
#include <filesystem>

#include "core/files.h"
#include "core/status_macros.h"
#include "core/text.h"
#include "rag/builtin_prompts.h"
#include "ragd/rag.h"

namespace ragd {

namespace fs = std::filesystem;

Result<Prompts> Prompts::Load(const std::string& override_dir) {
  Prompts p;
  for (const auto& [name, text] : rag::BuiltinPrompts()) {
    p.files_[name] = text;
    p.origin_[name] = "built-in";
  }
  if (override_dir.empty()) return p;
  std::error_code ec;
  if (!fs::is_directory(override_dir, ec))
    return Status::NotFound("the prompts folder " + override_dir + " does not exist");
  for (const auto& entry : fs::directory_iterator(override_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !(name.ends_with(".txt") || name.ends_with(".json"))) continue;
    RAGD_ASSIGN_OR_RETURN(std::string raw, files::ReadFile(entry.path().string(), 1 << 20));
    if (text::FindInvalidUtf8(raw) != std::string::npos)
      return Status::InvalidArgument("the prompt file " + entry.path().string() + " is not valid UTF-8");
    p.files_[name] = std::move(raw);
    p.origin_[name] = entry.path().string();
  }
  if (ec) return Status::IOError("cannot list the prompts folder " + override_dir + ": " + ec.message());
  return p;
}

Result<std::string> Prompts::Raw(const std::string& name, const std::string& language) const {
  for (const std::string& file : {name + "." + language + ".txt", name + ".txt", name + "." + language + ".json",
                                  name + ".json"}) {
    if (auto it = files_.find(file); it != files_.end()) return it->second;
  }
  return Status::NotFound("no prompt template named '" + name + "' (looked for " + name + "." + language + ".txt and " +
                          name + ".txt)");
}

Result<std::string> Prompts::Render(const std::string& name, const std::string& language,
                                    const std::map<std::string, std::string>& vars) const {
  RAGD_ASSIGN_OR_RETURN(std::string tmpl, Raw(name, language));
  // Templates end with a newline in their files; the prompt should not.
  while (!tmpl.empty() && (tmpl.back() == '\n' || tmpl.back() == '\r')) tmpl.pop_back();
  std::string out;
  out.reserve(tmpl.size() + 256);
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      out.append(tmpl, i);
      break;
    }
    out.append(tmpl, i, open - i);
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos)
      return Status::InvalidArgument("prompt template '" + name + "' (" + language + ") has an unclosed {{");
    std::string var(text::Trim(std::string_view(tmpl).substr(open + 2, close - open - 2)));
    auto it = vars.find(var);
    if (it == vars.end()) {
      std::string known;
      for (const auto& [k, v] : vars) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument("prompt template '" + name + "' (" + language + ") uses {{" + var +
                                     "}}, which is not one of: " + (known.empty() ? "(none)" : known));
    }
    out += it->second;  // inserted verbatim, never re-scanned
    i = close + 2;
  }
  return out;
}

std::vector<std::string> Prompts::Names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : files_) out.push_back(k + " (" + origin_.at(k) + ")");
  return out;
}

}  // namespace ragd
