#include "agent/schema_check.h"

#include <cmath>
#include <string>

namespace ragd::agent {

namespace {

using nlohmann::json;

bool IsType(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned() ||
                                (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;  // an unknown type name constrains nothing
}

std::string Shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

Status Check(const json& schema, const json& v, const std::string& at, int depth) {
  if (!schema.is_object() || depth > 32) return Status::OK();
  auto fail = [&](const std::string& why) {
    return Status::InvalidArgument((at.empty() ? std::string("the arguments") : at) + ": " + why);
  };
  if (auto t = schema.find("type"); t != schema.end()) {
    bool ok = false;
    std::string names;
    for (const json& one : t->is_array() ? *t : json::array({*t})) {
      if (!one.is_string()) continue;
      ok = ok || IsType(v, one.get<std::string>());
      names += (names.empty() ? "" : " or ") + one.get<std::string>();
    }
    if (!ok) return fail("expected " + names + ", got " + Shown(v));
  }
  if (auto c = schema.find("const"); c != schema.end() && *c != v) return fail("must be " + Shown(*c) + ", got " + Shown(v));
  if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array() && !any->empty()) {
    Status first;
    for (const json& alt : *any) {
      Status st = Check(alt, v, at, depth + 1);
      if (st.ok()) { first = Status::OK(); break; }
      if (first.ok()) first = st;
    }
    if (!first.ok()) return first;
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    bool found = false;
    for (const json& x : *e) found = found || x == v;
    if (!found) return fail("must be one of " + Shown(*e) + ", got " + Shown(v));
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && m->is_number() && d < m->get<double>())
      return fail("must be at least " + m->dump() + ", got " + v.dump());
    if (auto m = schema.find("maximum"); m != schema.end() && m->is_number() && d > m->get<double>())
      return fail("must be at most " + m->dump() + ", got " + v.dump());
  }
  if (v.is_string()) {
    size_t n = 0;  // code points
    for (unsigned char c : v.get_ref<const std::string&>()) n += (c & 0xC0) != 0x80;
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number_unsigned() && n < m->get<size_t>())
      return fail("must be at least " + m->dump() + " characters long");
    if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number_unsigned() && n > m->get<size_t>())
      return fail("must be at most " + m->dump() + " characters long");
  }
  if (v.is_array()) {
    if (auto m = schema.find("minItems"); m != schema.end() && m->is_number_unsigned() && v.size() < m->get<size_t>())
      return fail("needs at least " + m->dump() + " items");
    if (auto m = schema.find("maxItems"); m != schema.end() && m->is_number_unsigned() && v.size() > m->get<size_t>())
      return fail("takes at most " + m->dump() + " items");
    if (auto items = schema.find("items"); items != schema.end() && items->is_object())
      for (size_t i = 0; i < v.size(); ++i)
        if (Status st = Check(*items, v[i], at + "[" + std::to_string(i) + "]", depth + 1); !st.ok()) return st;
  }
  if (v.is_object()) {
    const json* props = nullptr;
    if (auto p = schema.find("properties"); p != schema.end() && p->is_object()) props = &*p;
    if (auto r = schema.find("required"); r != schema.end() && r->is_array())
      for (const json& name : *r)
        if (name.is_string() && !v.contains(name.get<std::string>()))
          return fail("'" + name.get<std::string>() + "' is required");
    const bool closed = schema.value("additionalProperties", json(true)) == json(false);
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string path = at.empty() ? it.key() : at + "." + it.key();
      if (props && props->contains(it.key())) {
        if (Status st = Check((*props)[it.key()], it.value(), path, depth + 1); !st.ok()) return st;
      } else if (closed) {
        std::string known;
        if (props)
          for (auto p = props->begin(); p != props->end(); ++p) known += (known.empty() ? "" : ", ") + p.key();
        return fail("unknown argument '" + it.key() + "'" + (known.empty() ? "" : " (known: " + known + ")"));
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status CheckAgainstSchema(const nlohmann::json& schema, const nlohmann::json& value) {
  return Check(schema, value, "", 0);
}

Status CheckToolArguments(const ToolSpec& tool, const nlohmann::json& arguments) {
  if (!arguments.is_object()) return Status::InvalidArgument("the arguments of " + tool.name + " are not a JSON object");
  if (tool.parameters.empty()) return Status::OK();
  nlohmann::json schema = nlohmann::json::parse(tool.parameters, nullptr, false);
  return CheckAgainstSchema(schema, arguments);
}

}  // namespace ragd::agent
