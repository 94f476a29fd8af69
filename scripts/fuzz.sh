#!/usr/bin/env bash
# The libFuzzer targets of fuzz/: build them with clang-16 (instrumented,
# ASan + UBSan) into build-fuzz/, or run them.
#
#   scripts/fuzz.sh build               configure and build every target
#   scripts/fuzz.sh run SECONDS [T...]  replay fuzz/regressions, then fuzz each
#                                       target (or the named ones) for SECONDS
#
# Corpora grow in build-fuzz/corpus/<target> (seeded from fuzz/seeds and the
# example knowledge base); a crash leaves its input in build-fuzz/crashes/ and
# fails the run: fix it, then keep the input in fuzz/regressions/<target>/.
set -euo pipefail
source "$(dirname "$0")/setup/common.sh"
BUILD_FUZZ="${BUILD_FUZZ:-$ROOT/build-fuzz}"
TARGETS=(text markdown html pdf docx pptx xlsx csv json jsonl detect splitter beir http)

build() {
  command -v clang++-16 >/dev/null || die "clang++-16 missing (Debian package clang-16; make deps installs it)"
  if [[ ! -f "$BUILD_FUZZ/build.ninja" ]]; then
    # llama.cpp was built by gcc with OpenMP: link gcc's own runtime, libgomp,
    # rather than bring clang's libomp in beside it.
    local gomp
    gomp="$(gcc -print-file-name=libgomp.so)"
    CC=clang-16 CXX=clang++-16 cmake -S "$ROOT" -B "$BUILD_FUZZ" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRAGD_FUZZ=ON -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DOpenMP_C_FLAGS=-fopenmp=libgomp -DOpenMP_CXX_FLAGS=-fopenmp=libgomp -DOpenMP_C_LIB_NAMES=gomp \
      -DOpenMP_CXX_LIB_NAMES=gomp -DOpenMP_gomp_LIBRARY="$gomp" >/dev/null
  fi
  cmake --build "$BUILD_FUZZ" --target fuzz_all -j "$(nproc)"
}

# Seeds: fuzz/seeds/<target>, plus the example documents of its type.
seed_dirs() {
  local t=$1
  local dirs=("$ROOT/fuzz/seeds/$t")
  local ext=""
  case $t in
    pdf) ext=pdf ;; docx) ext=docx ;; pptx) ext=pptx ;; xlsx) ext=xlsx ;; csv) ext=csv ;; markdown) ext=md ;; json) ext=json ;;
  esac
  if [[ -n "$ext" ]]; then
    local ex="$BUILD_FUZZ/examples/$t"
    mkdir -p "$ex"
    find "$ROOT/examples" -name "*.$ext" -exec cp {} "$ex/" \; 2>/dev/null || true
    dirs+=("$ex")
  fi
  for d in "${dirs[@]}"; do [[ -d "$d" ]] && echo "$d"; done
}

run() {
  local seconds=$1
  shift
  local targets=("$@")
  ((${#targets[@]})) || targets=("${TARGETS[@]}")
  export RAGD_MODELS_DIR="${RAGD_MODELS_DIR:-$DEPS/models}"
  # Leak checking is off: the fuzz fixtures (a server, a type detector) live
  # until exit on purpose. ASan's other checks and UBSan stay on.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:symbolize=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  mkdir -p "$BUILD_FUZZ/crashes"
  local failed=()
  for t in "${targets[@]}"; do
    local bin="$BUILD_FUZZ/fuzz/fuzz_$t"
    [[ -x "$bin" ]] || die "$bin missing: run scripts/fuzz.sh build (make fuzz-build)"
    local reg="$ROOT/fuzz/regressions/$t"
    if [[ -d "$reg" ]] && compgen -G "$reg/*" >/dev/null; then
      if ! "$bin" "$reg"/* >"$BUILD_FUZZ/crashes/$t-regressions.log" 2>&1; then
        echo "fuzz_$t: a kept regression input fails again (see $BUILD_FUZZ/crashes/$t-regressions.log)"
        failed+=("$t")
        continue
      fi
    fi
    local corpus="$BUILD_FUZZ/corpus/$t"
    mkdir -p "$corpus"
    mapfile -t seeds < <(seed_dirs "$t")
    local logf="$BUILD_FUZZ/crashes/$t.log"
    if "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=65536 \
        -artifact_prefix="$BUILD_FUZZ/crashes/$t-" -print_final_stats=1 "$corpus" "${seeds[@]}" >"$logf" 2>&1; then
      local runs
      runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logf" | grep -o '[0-9]*$' || echo "?")
      echo "fuzz_$t: ${seconds}s, $runs inputs, no crash (corpus $(ls "$corpus" | wc -l) files)"
    else
      echo "fuzz_$t: CRASH, input kept in $BUILD_FUZZ/crashes/ (log $logf):"
      grep -m3 -E 'ERROR|invariant|runtime error' "$logf" || tail -5 "$logf"
      failed+=("$t")
    fi
  done
  if ((${#failed[@]})); then
    echo "fuzzing failed for: ${failed[*]}"
    exit 1
  fi
}

case "${1:-}" in
  build) build ;;
  run) shift; [[ $# -ge 1 ]] || die "usage: scripts/fuzz.sh run SECONDS [TARGET...]"; run "$@" ;;
  *) die "usage: scripts/fuzz.sh build | run SECONDS [TARGET...]" ;;
esac
