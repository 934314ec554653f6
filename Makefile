# The README's two commands: `make demo` and `make test`. Both install missing Debian
# packages first (scripts/install-deps.sh is a no-op when everything is present).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target: `make fuzz` and the fuzz step of `make test` (6 targets, JOBS at
# a time under ASan + UBSan).
FUZZ_SECONDS ?= 30
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build demo test test-release test-asan fuzz bench area clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the default configuration.
demo: build
	@bash scripts/demo.sh $(BUILD)

test: test-release test-asan fuzz

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The C++ suites again under AddressSanitizer + UBSan (Debug, no benchmarks, no RTL).
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCASCADE_SANITIZE=ON -DCASCADE_BENCHMARKS=OFF -DCASCADE_RTL=OFF $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --output-on-failure -j $(JOBS) -L sanitize

# The libFuzzer targets (tests/fuzz: every file reader, parse -> print -> parse) built with
# clang-15 under ASan + UBSan, each run for FUZZ_SECONDS on corpora seeded from configs/ and
# tests/data (scripts/fuzz.sh); fails on any finding. A long run: experiments/fuzz/.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-15 -DCASCADE_FUZZ=ON -DCASCADE_BENCHMARKS=OFF -DCASCADE_RTL=OFF $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(JOBS)

bench: build
	@bash experiments/run-benchmarks.sh $(BUILD)

# Synthesizes the hdl/ kernels with yosys 0.23 (generic cells; hdl/synth/) and prints cells,
# gate equivalents and um^2 next to the arch YAML's component areas (experiments/area/).
AREA_YAML ?= configs/arch/fusemax.yaml
area: deps
	/usr/bin/python3 experiments/area/area.py --yaml $(AREA_YAML)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
