#!/usr/bin/env bash
# Fetches the pinned usearch C++ headers (header-only ANN library) from the
# npm registry, where the `usearch` package carries include/usearch/*.hpp and
# NumKong, its SIMD distance kernels (C sources built by CMake as
# `numkong`, dispatching at run time to the CPU's AVX2/AVX-512/NEON code).
set -euo pipefail
source "$(dirname "$0")/common.sh"

DEST="$DEPS/usearch"
STAMP="$USEARCH_VERSION+numkong"
if [[ -f "$DEST/.ragd-version" && "$(cat "$DEST/.ragd-version")" == "$STAMP" ]]; then
  exit 0
fi
mkdir -p "$DEPS/downloads"
TARBALL="$DEPS/downloads/usearch-$USEARCH_VERSION.tgz"
if [[ ! -f "$TARBALL" ]] || ! sha256_ok "$TARBALL" "$USEARCH_SHA256"; then
  log "downloading usearch $USEARCH_VERSION headers from npm"
  (cd "$DEPS/downloads" && npm pack --silent "usearch@$USEARCH_VERSION" >/dev/null)
fi
sha256_ok "$TARBALL" "$USEARCH_SHA256" || die "sha256 mismatch for $TARBALL"
rm -rf "$DEST" "$DEPS/usearch-unpack"
mkdir -p "$DEPS/usearch-unpack"
tar -xzf "$TARBALL" -C "$DEPS/usearch-unpack" package/include package/LICENSE \
  package/numkong/c package/numkong/include package/numkong/probes package/numkong/LICENSE
# NumKong's own probe: which instruction sets this compiler can emit (the
# kernels for each are chosen at run time by the CPU, so builds stay portable).
(cd "$DEPS/usearch-unpack/package/numkong" && CC="${CC:-cc}" node probes/probe.js >/dev/null) \
  || die "NumKong's ISA probe failed (needs node and a C compiler)"
mv "$DEPS/usearch-unpack/package" "$DEST"
rm -rf "$DEPS/usearch-unpack"
echo "$STAMP" > "$DEST/.ragd-version"
