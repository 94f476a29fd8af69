#include "cli/progress.h"

#include <unistd.h>

namespace ragd::cli {

ProgressBar::ProgressBar(std::string label, bool quiet)
    : label_(std::move(label)), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {
  start_ = last_ = std::chrono::steady_clock::now();
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(const IngestProgress& p) {
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  bool last = p.total > 0 && p.done >= p.total;
  double since = std::chrono::duration<double>(now - last_).count();
  if (!last && since < (tty_ ? 0.1 : 5.0)) return;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = p.total > 0 ? static_cast<double>(p.done) / p.total : 0;
  if (tty_) {
    constexpr int kWidth = 30;
    int fill = static_cast<int>(frac * kWidth);
    std::string bar(fill, '#');
    bar.resize(kWidth, '.');
    double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
    std::fprintf(stderr, "\r%s [%s] %lld/%lld  %lld chunks  %.0fs  eta %.0fs   ", label_.c_str(), bar.c_str(),
                 static_cast<long long>(p.done), static_cast<long long>(p.total), static_cast<long long>(p.chunks),
                 elapsed, eta);
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s: %lld/%lld (%.0f%%), %lld chunks, %.1fs\n", label_.c_str(),
                 static_cast<long long>(p.done), static_cast<long long>(p.total), frac * 100,
                 static_cast<long long>(p.chunks), elapsed);
  }
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace ragd::cli
