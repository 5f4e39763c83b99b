#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz", clang) and runs each for SECONDS (default 20)
# over a scratch copy of its seed corpus tests/fuzz/corpus/<target>/. Fails if any target
# finds a crash, leak, sanitizer report or timeout; the reproducer lands in build/fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS]
# SLUICE_BUILD_LOCK (default /tmp/sluice-build.lock): builds are serialized on this file.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
lock="${SLUICE_BUILD_LOCK:-/tmp/sluice-build.lock}"

locked() { flock "$lock" "$@"; }
locked cmake --preset fuzz >/dev/null
locked cmake --build --preset fuzz -j2

shopt -s nullglob
targets=(build/fuzz/bin/fuzz_*)
((${#targets[@]} > 0)) || { echo "fuzz: no targets in build/fuzz/bin" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
artifacts="$PWD/build/fuzz/artifacts"
mkdir -p "$artifacts"

# Runs one target over a corpus directory; libFuzzer stops itself after max_total_time, the
# outer timeout only catches a stuck run.
run_target() {  # BIN CORPUS LOG
  timeout --kill-after=10 $((seconds + 60)) "$1" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$(basename "$1")-" "$2" >"$3" 2>&1
}

failed=()
for bin in "${targets[@]}"; do
  name="$(basename "$bin")"
  corpus="$scratch/$name"
  log="$scratch/$name.log"
  mkdir -p "$corpus"
  if [[ -d "tests/fuzz/corpus/$name" ]]; then
    cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  else
    echo "fuzz: warning: no seed corpus tests/fuzz/corpus/$name" >&2
  fi
  echo "== $name: ${seconds}s"
  status=0
  run_target "$bin" "$corpus" "$log" || status=$?
  if ((status != 0)) && grep -q "LeakSanitizer has encountered a fatal error" "$log"; then
    # LeakSanitizer cannot work where ptrace is denied (some containers): fuzz without it.
    echo "fuzz: LeakSanitizer unavailable here; rerunning $name with detect_leaks=0" >&2
    status=0
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      run_target "$bin" "$corpus" "$log" || status=$?
  fi
  if ((status == 0)); then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$log" | tr -s ' \n' ' '
    echo
  else
    echo "fuzz: $name FAILED (exit $status); last lines of its log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]} (reproducers in $artifacts)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
