# Developer entry points. On a fresh Debian 12 machine: `make demo`, then `make test`.
# Builds take the shared lock $(BUILD_LOCK) so they never overlap another build on the machine.
BUILD_LOCK ?= /tmp/sluice-build.lock
LOCKED := flock $(BUILD_LOCK)
JOBS ?= 2
FUZZ_SECONDS ?= 20
BENCH_ARGS ?=
PEERS ?= 1
RELEASE_BIN := build/release/bin

.PHONY: help deps configure build demo test bench fuzz clean

help:
	@echo "make demo    5 backends join under load: L4 (HAProxy tcp) vs sluice, live, then a chart"
	@echo "make test    the whole suite: release, ASan+UBSan, TSan, fuzz (scripts/test.sh)"
	@echo "make build   release build (build/release/bin)"
	@echo "make bench   release build, then every micro benchmark (results in bench-out/)"
	@echo "make fuzz    every fuzz target for FUZZ_SECONDS=$(FUZZ_SECONDS) seconds"
	@echo "make clean   remove build/, demo-out/ and bench-out/"

deps:
	scripts/install-deps.sh build

configure: deps
	$(LOCKED) cmake --preset release

build: configure
	$(LOCKED) cmake --build --preset release -j$(JOBS)

demo: configure
	scripts/install-deps.sh demo
	$(LOCKED) cmake --build --preset release -j$(JOBS) --target sluice sluice-testserver sluice-load
	scripts/demo.py

test:
	scripts/test.sh

# Each benchmark prints its table and writes bench-out/<name>.json (extra flags: BENCH_ARGS);
# then the end-to-end comparison with peer proxies, bench/run_peers.sh, and memory per idle
# connection, fresh and used, beside HAProxy and nghttpx, bench/idle_memory.py (skip both
# with PEERS=0).
bench: build
	@mkdir -p bench-out
	@set -e; for b in $(RELEASE_BIN)/bench_*; do \
	  [ -x "$$b" ] || continue; \
	  name=$$(basename "$$b"); echo "== $$name"; \
	  "$$b" --benchmark_out=bench-out/$$name.json --benchmark_out_format=json $(BENCH_ARGS); \
	done
	@if [ "$(PEERS)" != 0 ] && [ -f bench/run_peers.sh ]; then bash bench/run_peers.sh; fi
	@if [ "$(PEERS)" != 0 ]; then /usr/bin/python3 bench/idle_memory.py; fi

fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build demo-out bench-out
