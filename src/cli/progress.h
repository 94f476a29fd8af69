// Progress output for long commands: a redrawn bar on a terminal, a plain
// line every few seconds otherwise (logs, CI), nothing with --quiet.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "ragd/engine.h"

namespace ragd::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, bool quiet);
  ~ProgressBar();
  void Update(const IngestProgress& p);
  void Finish();

 private:
  std::string label_;
  bool quiet_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace ragd::cli
