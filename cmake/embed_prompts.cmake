# Writes OUT, a C++ source holding every file of DIR as a string, so that
# the default prompts live in prompts/ as files yet ship inside the binary.
file(GLOB files RELATIVE "${DIR}" "${DIR}/*.txt" "${DIR}/*.json")
list(SORT files)
set(body "// Generated from prompts/ by cmake/embed_prompts.cmake. Do not edit.\n#include \"rag/builtin_prompts.h\"\nnamespace ragd::rag {\nconst std::vector<std::pair<std::string, std::string>>& BuiltinPrompts() {\n  static const std::vector<std::pair<std::string, std::string>> files = {\n")
foreach(f IN LISTS files)
  file(READ "${DIR}/${f}" content)
  string(APPEND body "    {\"${f}\", R\"ragd_prompt(${content})ragd_prompt\"},\n")
endforeach()
string(APPEND body "  };\n  return files;\n}\n}  // namespace ragd::rag\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
