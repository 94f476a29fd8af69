// The web UI's files (web/index.html, web/style.css, web/dist/app.js),
// compiled in by cmake/embed_files.cmake.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ragd::server {
const std::vector<std::pair<std::string, std::string>>& WebAssets();
}  // namespace ragd::server
