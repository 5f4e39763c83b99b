#!/usr/bin/env bash
# The whole suite from a clean clone, in bounded time:
#   deps -> release build + all tests -> the demo, short, checked -> asan build + all tests (ASan+UBSan)
#   -> tsan build + the tests labelled tsan -> the proxy integration tests against a TSan
#   sluice -> every fuzz target for FUZZ_SECONDS (15).
# A failing build stops the run; failing tests are reported and the run goes on.
# Exits non-zero on any failure. Logs: build/test-logs/. Builds take SLUICE_BUILD_LOCK
# (default /tmp/sluice-build.lock) so they never overlap another build on this machine.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

lock="${SLUICE_BUILD_LOCK:-/tmp/sluice-build.lock}"
fuzz_seconds="${FUZZ_SECONDS:-15}"
logs="build/test-logs"
mkdir -p "$logs"
lock_wait_file="$logs/.lock-wait"

summary=()
failures=()
run_start=$SECONDS

# Runs one phase: NAME LOG COMMAND...; records its duration and result in the summary.
phase() {
  local name="$1" log="$2" start=$SECONDS rc=0 note=""
  shift 2
  echo "=== $name: $*"
  : >"$lock_wait_file"
  "$@" 2>&1 | tee "$logs/$log.log"
  rc=${PIPESTATUS[0]}
  local lock_wait
  lock_wait=$(awk '{s += $1} END {print s + 0}' "$lock_wait_file")
  local took=$((SECONDS - start - lock_wait))
  note="$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/$log.log" | tail -n1)"
  ((lock_wait > 0)) && note="${note:+$note; }waited ${lock_wait}s for the build lock"
  if ((rc == 0)); then
    summary+=("$(printf '%-14s %5ds  ok      %s' "$name" "$took" "$note")")
  else
    summary+=("$(printf '%-14s %5ds  FAILED  %s' "$name" "$took" "${note:+$note; }exit $rc, log $logs/$log.log")")
    failures+=("$name")
    # Name the failed tests in the summary (ctest lists them at the end of its output).
    while IFS= read -r line; do
      summary+=("$(printf '%23s %s' "" "$line")")
    done < <(sed -n '/^The following tests FAILED:/,/^Errors while running CTest/p' \
               "$logs/$log.log" | grep -E '^\s+[0-9]+ - ' | sed 's/^\s*//')
  fi
  return "$rc"
}

print_summary() {
  echo
  echo "=== summary (total $((SECONDS - run_start))s; build times exclude lock waits)"
  local line
  for line in "${summary[@]}"; do echo "$line"; done
  if ((${#failures[@]} > 0)); then
    echo "FAILED: ${failures[*]}"
  else
    echo "all phases passed"
  fi
}
trap print_summary EXIT

# Takes the shared build lock around COMMAND and notes the time spent waiting for it (in a
# file: phases run in a pipeline's subshell). The build does not inherit the lock's fd, so
# nothing it leaves behind can keep holding the lock.
locked() {
  local waited_from=$SECONDS rc=0
  exec 9>>"$lock"
  flock 9
  echo $((SECONDS - waited_from)) >>"$lock_wait_file"
  "$@" 9>&- || rc=$?
  flock -u 9
  exec 9>&-
  return "$rc"
}

build() {  # PRESET [cmake --build args...]: configure and build one preset
  local preset="$1"
  shift
  locked cmake --preset "$preset" && locked cmake --build --preset "$preset" -j2 "$@"
}

# Tests run outside the lock; the outer timeout is a last resort above ctest's per-test one.
run_tests() {  # PRESET MAX_SECONDS
  timeout --kill-after=30 "$2" ctest --preset "$1" --no-tests=error
}

phase deps deps scripts/install-deps.sh all || exit 1
phase release-build release-build build release || exit 1
phase release-test release-test run_tests release 900
# The README's first command in its short mode: the story must still show (scripts/demo.py).
phase demo demo env DEMO_SECONDS=12 timeout --kill-after=10 120 scripts/demo.py --check
phase asan-build asan-build build asan || exit 1
# The soak's half million calls ran in the release phase; under ASan (4x slower) 100k calls
# over the same single connections still check every path, in a quarter of the time.
# Two at a time (the asan test preset), as release runs four: tests that time things are
# RUN_SERIAL either way.
asan_tests() { SLUICE_SOAK_CALLS=100000 run_tests asan 1200; }
phase asan-test asan-test asan_tests
# The tsan preset runs only tests labelled tsan, so build only those (sluice_tsan_tests).
phase tsan-build tsan-build build tsan --target sluice_tsan_tests || exit 1
phase tsan-test tsan-test run_tests tsan 900
# Our own threads live in the proxy, which links no gRPC: run the proxy integration tests
# (release test binary and backends) against a TSan build of sluice that aborts on a race.
phase tsan-proxy-build tsan-proxy-build locked cmake --build --preset tsan -j2 \
  --target sluice sluice-load || exit 1
# The soak runs 100k calls here instead of 500k: TSan slows the proxy several times over.
# ctest runs them (label proxy = test_proxy) two at a time, the RUN_SERIAL ones alone; the
# deadline and backpressure tests time the proxy to the millisecond, which TSan cannot keep.
tsan_proxy_tests() {
  SLUICE_TEST_SLUICE_BIN="$PWD/build/tsan/bin/sluice" SLUICE_SOAK_CALLS=100000 \
    SLUICE_TEST_SLUICE_TSAN_OPTIONS="halt_on_error=1 abort_on_error=1" \
    timeout --kill-after=30 900 ctest --test-dir build/release -L proxy \
    -E '^(ProxyDeadlineTest|ProxyBackpressure)[.]' -j2 --timeout 600 --output-on-failure \
    --no-tests=error
}
phase tsan-proxy tsan-proxy tsan_proxy_tests
# sluice-load's threads too: its integration tests against a TSan build of it.
phase tsan-load tsan-load env SLUICE_TEST_LOAD_BIN="$PWD/build/tsan/bin/sluice-load" \
  TSAN_OPTIONS="halt_on_error=1 abort_on_error=1" \
  timeout --kill-after=30 300 build/release/bin/test_sluice_load
phase fuzz fuzz env SLUICE_BUILD_LOCK="$lock" scripts/fuzz.sh "$fuzz_seconds"

((${#failures[@]} == 0))
