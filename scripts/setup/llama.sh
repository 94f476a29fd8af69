#!/usr/bin/env bash
# Fetches the pinned llama.cpp source (vendored inside the llama-cpp-python
# source distribution on PyPI), verifies it, and builds the static libraries,
# llama-server and llama-bench into .deps/llama, with llama.cpp's chat
# library (llama-common: chat templates, tool-call grammars and parsers)
# and its headers in .deps/llama/include/llama-common. Idempotent: a stamp file
# keyed by the pinned version makes a second run a no-op.
set -euo pipefail
source "$(dirname "$0")/common.sh"

STAMP="$DEPS/stamps/llama-$LLAMA_CPP_PYTHON_VERSION-$LLAMA_BUILD_FLAVOUR"
if [[ -f "$STAMP" && -x "$DEPS/llama/bin/llama-server" ]]; then
  exit 0
fi

TARBALL="$DEPS/downloads/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
if [[ ! -f "$TARBALL" ]] || ! sha256_ok "$TARBALL" "$LLAMA_CPP_PYTHON_SHA256"; then
  log "downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION source distribution from PyPI"
  mkdir -p "$DEPS/downloads"
  rm -f "$TARBALL"
  python3 -m pip download --quiet --no-deps --no-binary :all: \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$DEPS/downloads"
fi
sha256_ok "$TARBALL" "$LLAMA_CPP_PYTHON_SHA256" || die "sha256 mismatch for $TARBALL"

SRC="$DEPS/llama.cpp"
if [[ ! -f "$SRC/.ragd-version" ]] || [[ "$(cat "$SRC/.ragd-version")" != "$LLAMA_CPP_PYTHON_VERSION" ]]; then
  log "unpacking vendor/llama.cpp"
  rm -rf "$SRC" "$DEPS/llama-unpack"
  mkdir -p "$DEPS/llama-unpack"
  tar -xzf "$TARBALL" -C "$DEPS/llama-unpack" "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
  mv "$DEPS/llama-unpack/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp" "$SRC"
  rm -rf "$DEPS/llama-unpack"
  echo "$LLAMA_CPP_PYTHON_VERSION" > "$SRC/.ragd-version"
fi

log "building llama.cpp (static libs, llama-server, llama-bench) — slow on 2 cores, cached by ccache"
LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$SRC" -B "$DEPS/llama-build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$DEPS/llama" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_TOOLS_INSTALL=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_OPENSSL=OFF \
  "${LAUNCHER[@]}" > "$DEPS/llama-configure.log"
cmake --build "$DEPS/llama-build" --target llama llama-common llama-server llama-bench -j "$(nproc)"
cmake --install "$DEPS/llama-build" > "$DEPS/llama-install.log"
# llama-common has no install rule: its archives and headers are copied.
cp "$DEPS/llama-build/common/libllama-common.a" "$DEPS/llama-build/common/libllama-common-base.a" "$DEPS/llama/lib/"
rm -rf "$DEPS/llama/include/llama-common"
mkdir -p "$DEPS/llama/include/llama-common"
(cd "$SRC/common" && find . \( -name '*.h' -o -name '*.hpp' \) -exec cp --parents {} "$DEPS/llama/include/llama-common/" \;)
mkdir -p "$DEPS/llama/bin"
cp "$DEPS/llama-build/bin/llama-server" "$DEPS/llama-build/bin/llama-bench" "$DEPS/llama/bin/"
mkdir -p "$DEPS/stamps"
touch "$STAMP"
log "llama.cpp ready in $DEPS/llama"
