# ragd — the two commands of the README are `make demo` and `make test`.
# Everything else here is what they are made of.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
DEMO_DATA  ?= $(BUILD)/demo-data
RAGD       := $(BUILD)/ragd

.PHONY: all deps build demo test examples clean distclean eval-scifact bench

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

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(RAGD) $(DEMO_DATA)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# ragd side by side with LangChain, sentence-transformers, FAISS and
# llama-bench; writes bench/RESULTS.md (not part of `make test`).
BENCH_ARGS ?=
bench: build
	@bash scripts/setup/bench_venv.sh $(CURDIR)/$(BUILD)/bench-venv
	$(BUILD)/bench-venv/bin/python bench/run.py --json $(BUILD)/bench-results.json $(BENCH_ARGS)

# Retrieval quality on the shared BEIR SciFact copy (not part of `make test`).
eval-scifact: build
	$(RAGD) eval retrieval ../shared/data/beir-scifact --mode hybrid

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf .deps
