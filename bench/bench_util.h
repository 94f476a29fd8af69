// What the in-process benchmark tools share: flags and percentiles.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace ragd::bench {

// The value after --name, or fallback.
inline std::string Flag(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

// The p-th quantile (0..1) by nearest rank; 0 for no values.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace ragd::bench
