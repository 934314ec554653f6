# The README's two commands: `make demo` and `make test`. Both install missing Debian
# packages first (scripts/install-deps.sh is a no-op when everything is present).
BUILD      ?= build
ASAN_BUILD ?= build-asan
# Seconds per fuzz target: `make fuzz` and the fuzz step of `make test` (7 targets, JOBS at
# a time under ASan + UBSan).
FUZZ_SECONDS ?= 15
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build demo test test-release test-asan fuzz bench area clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCASCADE_UNITY_BUILD=ON $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the default configuration.
demo: build
	@bash scripts/demo.sh $(BUILD)

test: test-release test-asan fuzz

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The C++ suites again under AddressSanitizer + UBSan, and the libFuzzer targets, from one
# clang-15 tree (-O1, libFuzzer's coverage instrumentation, no benchmarks, no RTL): one
# library build serves both (CMakeLists.txt, CASCADE_SANITIZE + CASCADE_FUZZ).
# clang's ASan needs llvm-symbolizer for readable reports and for tests/lsan.supp to match.
SAN_ENV = ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-15/bin/llvm-symbolizer
SAN_CMAKE = cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-15 \
	-DCASCADE_SANITIZE=ON -DCASCADE_FUZZ=ON -DCASCADE_BENCHMARKS=OFF -DCASCADE_RTL=OFF \
	-DCASCADE_UNITY_BUILD=ON $(CMAKE_ARGS)
test-asan: deps
	$(SAN_CMAKE)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(SAN_ENV) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --output-on-failure -j $(JOBS) -L sanitize

# The libFuzzer targets (tests/fuzz: every file reader, parse -> print -> parse) under ASan +
# UBSan, each run for FUZZ_SECONDS on corpora seeded from configs/ and tests/data
# (scripts/fuzz.sh); fails on any finding. A long run: experiments/fuzz/.
fuzz: deps
	$(SAN_CMAKE)
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzzers
	$(SAN_ENV) bash scripts/fuzz.sh $(ASAN_BUILD) $(FUZZ_SECONDS) $(JOBS)

bench: build
	@bash experiments/run-benchmarks.sh $(BUILD)

# Synthesizes the hdl/ kernels with yosys 0.23 (generic cells; hdl/synth/) and prints cells,
# gate equivalents and um^2 next to the arch YAML's component areas (experiments/area/).
AREA_YAML ?= configs/arch/fusemax.yaml
area: deps
	/usr/bin/python3 experiments/area/area.py --yaml $(AREA_YAML)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
