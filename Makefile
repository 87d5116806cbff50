# Everyday commands. `make test` is what CI runs (.ci/run) and what the README shows.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD      ?= build
ASAN_BUILD ?= build-asan
TMP        ?= .tmp
JOBS       ?= 2
ROCKSPEC   := rockspec/alephant-scm-1.rockspec
# Each interpreter with the core module built for its ABI.
LUAS       := lua5.4 luajit
cpath_lua5.4 := $(BUILD)/lua5.4/?.so
cpath_luajit := $(BUILD)/luajit/?.so
LUA_PATH_DEV := ./lua/?.lua;./lua/?/init.lua;./?.lua;;

.PHONY: all setup build check test test-c test-c-asan test-lua lint examples rock clean fuzz fuzz-smoke

all: build

setup:
	@scripts/setup.sh

# Development builds treat warnings as errors (ALEPHANT_WERROR); the rockspec does not,
# so a user's `luarocks make` with a newer compiler cannot fail on a new warning.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALEPHANT_WERROR=ON >/dev/null

build: $(BUILD)/CMakeCache.txt
	@grep -q '^ALEPHANT_WERROR:BOOL=ON' $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DALEPHANT_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# The inner loop, under a minute: build, lint, the C unit tests and the busted specs that
# start no server (`busted --run=unit`, the list is in .busted), under both interpreters.
# No nginx, emulator, fuzzing or benchmarks: `make test` runs everything.
check: build lint
	@mkdir -p $(TMP) && : > $(TMP)/check.results
	@# ctest's summary line only, unless a test fails: then all its output
	@ctest --test-dir $(BUILD) --output-on-failure > $(TMP)/check-ctest.log 2>&1 \
	  || { cat $(TMP)/check-ctest.log; echo "check: the C unit tests failed"; exit 1; }; grep "tests passed" $(TMP)/check-ctest.log
	@rc=0; for lua in $(LUAS); do scripts/busted.sh $$lua $(BUILD) $(TMP)/check.results --run=unit || rc=1; done; \
	  exit $$rc

RESULTS := $(TMP)/results

# Every suite appends "passed failed" to $(RESULTS); the last line adds them up.
test: setup
	@mkdir -p $(TMP) && : > $(RESULTS)
	$(MAKE) --no-print-directory build lint annotations-check test-c test-c-asan test-lua examples rock fuzz-smoke docs \
	  bench-smoke
	@scripts/summary.sh $(RESULTS)

# ctest's own summary line, reduced to counts for the closing total.
define ctest_counts
	@mkdir -p $(TMP); ctest --test-dir $(1) --output-on-failure | tee $(TMP)/ctest.log; \
	  awk '/tests passed, .* tests failed out of/ { print $$NF - $$(NF-5), $$(NF-5) }' $(TMP)/ctest.log >> $(RESULTS)
endef

test-c: build
	$(call ctest_counts,$(BUILD))

# The C unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-c-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DALEPHANT_SANITIZE=ON -DALEPHANT_WERROR=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	$(call ctest_counts,$(ASAN_BUILD))

test-lua: build
	@mkdir -p $(TMP)
	@rc=0; for lua in $(LUAS); do scripts/busted.sh $$lua $(BUILD) $(RESULTS) spec || rc=1; done; exit $$rc

lint:
	luacheck -q lua spec examples $(wildcard emulator bin/alephant bench)

# Every example runs, under both interpreters, against a fresh emulator.
examples: build
	@mkdir -p $(TMP); scripts/run-examples.sh $(BUILD) $(RESULTS)

# A real luarocks install into throw-away trees, for Lua 5.4 and for LuaJIT (5.1 ABI),
# then `require "alephant"` from each tree (run outside the checkout so ./lua is not used).
rock:
	luarocks --lua-version=5.4 lint $(ROCKSPEC)
	rm -rf $(TMP)/rock-5.4 $(TMP)/rock-5.1 build.luarocks
	@# -Wpadded stands for a warning a newer compiler adds: the user's build must not fail on it
	luarocks --lua-version=5.4 make --deps-mode=none --tree $(TMP)/rock-5.4 $(ROCKSPEC) \
	  CFLAGS="-O2 -fPIC -Wpadded" >/dev/null
	luarocks --lua-version=5.1 make --deps-mode=none --tree $(TMP)/rock-5.1 $(ROCKSPEC) \
	  LUA_INCDIR=/usr/include/luajit-2.1 >/dev/null
	@tree=$$(cd $(TMP)/rock-5.4 && pwd); cd /; \
	  eval "$$(luarocks --lua-version=5.4 path --tree $$tree)"; \
	  lua5.4 -e 'local a = require "alephant"; assert(package.searchpath("alephant.core", package.cpath):find("'$$tree'", 1, true)); print("rock 5.4: alephant " .. a._VERSION)'
	@tree=$$(cd $(TMP)/rock-5.1 && pwd); cd /; \
	  eval "$$(luarocks --lua-version=5.1 path --tree $$tree)"; \
	  luajit -e 'local a = require "alephant"; assert(package.searchpath("alephant.core", package.cpath):find("'$$tree'", 1, true)); print("rock luajit: alephant " .. a._VERSION)'
	@# the editor annotations ship in each tree (README "Editor annotations")
	@test -f $(TMP)/rock-5.4/share/lua/5.4/alephant/types/alephant.lua && \
	  test -f $(TMP)/rock-5.1/share/lua/5.1/alephant/types/alephant.lua && echo "rock: annotations in share/lua/*/alephant/types"
	@# the command line from each tree as a user runs it, without `luarocks path` (it finds its
	@# own tree): the 5.4 wrapper luarocks wrote, the 5.1 script under luajit
	@tree=$$(cd $(TMP)/rock-5.4 && pwd); cd /; \
	  env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "$$tree/bin/alephant" --version \
	  | sed 's/^/rock 5.4: bin\/alephant: /'
	@tree=$$(cd $(TMP)/rock-5.1 && pwd); cd /; \
	  env -u LUA_PATH -u LUA_CPATH luajit "$$tree"/lib/luarocks/rocks-5.1/alephant/scm-1/bin/alephant --version \
	  | sed 's/^/rock luajit: bin\/alephant: /'

# libFuzzer harnesses for every parser and encoder of the C core (fuzz/fuzz_*.c).
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# A few seconds of each harness inside `make test`, so they cannot rot.
fuzz-smoke:
	@mkdir -p $(TMP); scripts/fuzz.sh 5 $(RESULTS)

# `make test && make demo` in a fresh clone inside a bare Debian 12 (debootstrap minbase plus
# git, make, ca-certificates), then removes it: the proof for any change to set-up,
# dependencies or the build. Needs root; not part of `make test`. Last line: pass or fail.
.PHONY: check-fresh
check-fresh:
	@scripts/check-fresh.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TMP) build.luarocks build-fuzz

# --- Editor annotations (README "Editor annotations") ---------------------------------
.PHONY: annotations annotations-check
ANNOTATIONS := lua/alephant/types
ANNOTATE    := LUA_PATH="$(LUA_PATH_DEV)" LUA_CPATH="$(cpath_lua5.4);;" lua5.4 scripts/annotations.lua

# LuaLS (---@meta) files from core.endpoints() into lua/alephant/types (installed with the rock).
annotations: build
	@$(ANNOTATE) $(ANNOTATIONS)

# Inside `make test`: fails when the committed files differ from what the catalog gives.
annotations-check: build
	@$(ANNOTATE) --check $(ANNOTATIONS)

# --- The README's main job, and the API reference -----------------------------------
.PHONY: demo docs

# On a fresh Debian 12: installs what is missing, builds, starts the emulator, prints the
# cost report and a few library calls against it, stops the emulator (also on failure).
# The build's output goes to $(TMP)/demo-build.log and is shown only if the build fails.
demo: setup
	@mkdir -p $(TMP); if ! $(MAKE) --no-print-directory build > $(TMP)/demo-build.log 2>&1; then \
	  cat $(TMP)/demo-build.log; echo "demo: the build failed (log: $(TMP)/demo-build.log)"; exit 1; fi
	@scripts/demo.sh $(BUILD)

# LDoc (config.ld) over lua/alephant into doc/; any warning fails (also run by `make test`).
docs:
	@ldoc --fatalwarnings -q . && echo "docs: doc/index.html"

# --- Benchmarks (bench/run.sh writes bench/RESULTS.md) -------------------------------
.PHONY: bench bench-smoke

# The SDK against raw libcurl, LuaSocket and wrk, prepare, memory, nginx under SDK calls:
# 5 runs of each, the median and spread in one table (several minutes; never fails on a
# number). Builds its own Release module in .tmp/bench-build.
bench:
	@bench/run.sh

# One short run inside `make test` (every variant must run and have its row), so the
# benchmark cannot rot; no goal is checked. Its table goes to .tmp/bench-smoke.md.
bench-smoke:
	@mkdir -p $(TMP); if bench/run.sh --smoke --results $(RESULTS) > $(TMP)/bench-smoke.log 2>&1 \
	  && scripts/check-secrets.sh $(TMP)/bench-smoke.log $(TMP)/bench-smoke.md; then \
	  echo "bench-smoke: every variant ran (table in $(TMP)/bench-smoke.md)"; \
	  else cat $(TMP)/bench-smoke.log; echo "bench-smoke: FAILED"; exit 1; fi

# --- Hardening: sanitizers, valgrind, garbage-collector stress ------------------------
.PHONY: check-asan check-valgrind

# The C core and the Lua module built with ASan+UBSan ($(ASAN_BUILD)), the C unit tests,
# then the whole busted suite under lua5.4 with the sanitizer runtimes preloaded; any
# report fails (scripts/check-asan.sh, a few minutes).
check-asan:
	@mkdir -p $(TMP); scripts/check-asan.sh $(ASAN_BUILD) $(TMP)/check-asan.results

# memcheck over lua5.4 (a driver of every capability, plus the specs without timing
# assertions, also under an aggressive collector), then the whole suite under the
# aggressive collector with lua5.4 and luajit (scripts/check-valgrind.sh, about 10 minutes).
check-valgrind: build
	@mkdir -p $(TMP); scripts/check-valgrind.sh $(BUILD) $(TMP)/check-valgrind.results
