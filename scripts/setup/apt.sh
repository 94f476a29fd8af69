#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the set-up need
# (clang-16 with its libFuzzer runtime for the fuzz targets, qpdf to make
# the encrypted PDF of the hostile-input matrix, Tesseract with its English,
# simplified Chinese and orientation data for OCR).
# Skips apt entirely when everything is already there (dpkg query only).
set -euo pipefail
source "$(dirname "$0")/common.sh"

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3-venv
  libsqlite3-dev libpq-dev libicu-dev libstemmer-dev libmagic-dev libxxhash-dev
  libpoppler-cpp-dev libzip-dev libpugixml-dev libgumbo-dev libmd4c-dev libcsv-dev
  libtesseract-dev tesseract-ocr-eng tesseract-ocr-chi-sim tesseract-ocr-osd
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libcpp-httplib-dev
  libgtest-dev libhnswlib-dev libfaiss-dev
  fonts-droid-fallback fonts-dejavu-core
  nodejs chromium wrk
  clang-16 libclang-rt-16-dev qpdf
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
  SUDO=(sudo)
fi
log "installing Debian packages: ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
