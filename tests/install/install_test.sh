#!/usr/bin/env bash
# cmake --install gives a usable libragd: installs the build into a fresh
# prefix, builds examples/library against it with find_package(ragd), and
# runs it: the search must rank the document that answers first.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
for f in include/ragd/engine.h include/ragd/search.h lib/libragd_engine.a lib/cmake/ragd/ragdConfig.cmake; do
  [[ -e "$WORK/prefix/$f" ]] || { echo "FAIL: $f was not installed"; exit 1; }
done
# The stages' own headers stay private.
if find "$WORK/prefix/include" -path '*/store/*' -o -path '*/engine/*' | grep -q .; then
  echo "FAIL: private headers were installed:"; find "$WORK/prefix/include" -path '*/store/*' -o -path '*/engine/*'; exit 1
fi
cmake -S "$SRC/examples/library" -B "$WORK/example" -G Ninja -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$WORK/configure.log" || { cat "$WORK/configure.log"; exit 1; }
cmake --build "$WORK/example" > "$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
got=$("$WORK/example/ragd_library_example" "$WORK/data" "how long does an international wire take?")
first=$(head -1 <<< "$got")
if [[ "$first" != "wire" ]]; then
  echo "FAIL: the example ranked '$first' first, expected 'wire'; it printed:"; echo "$got"; exit 1
fi
echo "install: libragd installed, an outside program built against it and ranked 'wire' first"
