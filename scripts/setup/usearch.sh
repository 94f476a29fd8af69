#!/usr/bin/env bash
# Fetches the pinned usearch C++ headers (header-only ANN library) from the
# npm registry, where the `usearch` package carries include/usearch/*.hpp.
set -euo pipefail
source "$(dirname "$0")/common.sh"

DEST="$DEPS/usearch"
if [[ -f "$DEST/.ragd-version" && "$(cat "$DEST/.ragd-version")" == "$USEARCH_VERSION" ]]; then
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
tar -xzf "$TARBALL" -C "$DEPS/usearch-unpack" package/include package/LICENSE
mv "$DEPS/usearch-unpack/package" "$DEST"
rm -rf "$DEPS/usearch-unpack"
echo "$USEARCH_VERSION" > "$DEST/.ragd-version"
