// Helpers shared by the tests: temporary folders that clean up after
// themselves, and small file writers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ragd::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ragd-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string ExamplePath(const std::string& name) { return std::string(RAGD_SOURCE_DIR) + "/examples/bank-kb/" + name; }
// The slide deck, workbook and scans generated into examples/documents.
inline std::string DocumentPath(const std::string& name) { return std::string(RAGD_SOURCE_DIR) + "/examples/documents/" + name; }

}  // namespace ragd::testing
