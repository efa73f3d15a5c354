# oxbow - the commands a user types. CMake does the building underneath.
#   make            build build/oxbow
#   make test       install missing packages, build, run every test, summarise
#   make test SANITIZE=address,undefined   the same under ASan+UBSan (unit tests)
#   make bench      benchmarks against peers measured in the same run
#   make demo       the main job on the embedded defaults
#   make install    PREFIX=/usr/local DESTDIR=
PREFIX   ?= /usr/local
DESTDIR  ?=
SANITIZE ?=
JOBS     ?= $(shell nproc)
# Keep output readable: no "Entering directory" lines from nested makes.
MAKEFLAGS += --no-print-directory
FUZZ_SECONDS ?= 10
# make fuzz-long: executions per target, and which targets (default: all), e.g.
# FUZZ_TARGETS="cm_http store_http".
FUZZ_RUNS ?= 10000000
FUZZ_TARGETS ?=
# and FUZZ_MAX_SECONDS=N caps each target's time (the run then reports fewer executions).
# make chaos: minutes of fault injection (docs/operations.md, "Chaos campaign").
CHAOS_MINUTES ?= 10

ifeq ($(SANITIZE),)
BUILD ?= build
CMAKE_FLAGS ?=
else
BUILD ?= build-san
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Debug -DOX_SANITIZE=$(SANITIZE)
endif

.PHONY: all deps configure build test test-unit fuzz bench demo install clean format
.PHONY: fuzz-long chaos

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Unit tests (and corpus replays) only; with SANITIZE these run under ASan/UBSan.
test-unit: deps build
	cd $(BUILD) && ctest -L unit -j $(JOBS) --output-on-failure

# Short libFuzzer runs of every fuzz target (clang build in build-fuzz).
fuzz: deps
	@[ -f build-fuzz/CMakeCache.txt ] || CC=clang cmake -S . -B build-fuzz -DOX_FUZZ=ON \
	    -DOX_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	cd build-fuzz && ctest -L fuzz -j $(JOBS) --output-on-failure

# Long libFuzzer campaign: FUZZ_RUNS executions of each target, one at a
# time, growing the in-tree corpus with the inputs that found new coverage.
fuzz-long: deps
	@[ -f build-fuzz/CMakeCache.txt ] || CC=clang cmake -S . -B build-fuzz -DOX_FUZZ=ON \
	    -DOX_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	@rc=0; names="$(FUZZ_TARGETS)"; \
	  [ -n "$$names" ] || names=$$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$$//'); \
	  for n in $$names; do \
	    tests/fuzz/fuzz_long.sh build-fuzz/fuzz/fuzz_$$n tests/fuzz/corpus/$$n $(FUZZ_RUNS) || rc=1; \
	  done; exit $$rc

# Fault-injection campaign against real servers (not part of make test):
# kill -9 of stores, supervisor and CM, source restarts, disk full, metaDB
# locked/read-only, idle-connection floods; prints lost/duplicated/reordered rows.
chaos: deps build
	/usr/bin/python3 tests/chaos/chaos.py --self-check
	/usr/bin/python3 tests/chaos/chaos.py --build $(BUILD) --minutes $(CHAOS_MINUTES)

ifeq ($(SANITIZE),)
test: deps build
	@(cd $(BUILD) && ctest -j $(JOBS) --output-on-failure); rc=$$?; \
	  $(MAKE) fuzz || rc=1; \
	  echo; if [ $$rc -eq 0 ]; then echo "make test: ALL PASSED"; else echo "make test: FAILURES (see above)"; fi; \
	  exit $$rc
else
test: test-unit
endif

bench: deps build
	@bench/run.sh $(BUILD)

demo: deps build
	@scripts/demo.sh $(BUILD)

# The prefix is baked into oxbow-client.pc, so set it at configure time too.
install: configure
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz
