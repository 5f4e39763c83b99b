#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz", clang) and runs each for SECONDS (default 20)
# over a scratch copy of its seed corpus tests/fuzz/corpus/<target>/, FUZZ_JOBS (default: one
# per core) targets at a time. Fails if any target finds a crash, leak, sanitizer report or
# timeout; the reproducer lands in build/fuzz/artifacts/.
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

# One target, start to verdict: its report goes to $scratch/NAME.report, its exit status to
# $scratch/NAME.status (targets run side by side, so nothing is printed here).
fuzz_one() {  # BIN
  local bin="$1" name status=0
  name="$(basename "$bin")"
  local corpus="$scratch/$name" log="$scratch/$name.log" report="$scratch/$name.report"
  mkdir -p "$corpus"
  if [[ -d "tests/fuzz/corpus/$name" ]]; then
    cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  else
    echo "fuzz: warning: no seed corpus tests/fuzz/corpus/$name" >"$report"
  fi
  echo "== $name: ${seconds}s" >>"$report"
  run_target "$bin" "$corpus" "$log" || status=$?
  if ((status != 0)) && grep -q "LeakSanitizer has encountered a fatal error" "$log"; then
    # LeakSanitizer cannot work where ptrace is denied (some containers): fuzz without it.
    echo "fuzz: LeakSanitizer unavailable here; rerunning $name with detect_leaks=0" >>"$report"
    status=0
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      run_target "$bin" "$corpus" "$log" || status=$?
  fi
  if ((status == 0)); then
    { grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$log" | tr -s ' \n' ' '
      echo; } >>"$report"
  else
    { echo "fuzz: $name FAILED (exit $status); last lines of its log:"
      tail -n 40 "$log"; } >>"$report"
  fi
  echo "$status" >"$scratch/$name.status"
}

# libFuzzer runs one process per target: FUZZ_JOBS (default: one per core) targets at a time
# keep every core busy for the same fuzzing time per target.
max_jobs="${FUZZ_JOBS:-$(nproc)}"
for bin in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= max_jobs)); do wait -n || true; done
  fuzz_one "$bin" &
done
wait

failed=()
for bin in "${targets[@]}"; do
  name="$(basename "$bin")"
  cat "$scratch/$name.report"
  [[ "$(cat "$scratch/$name.status" 2>/dev/null)" == 0 ]] || failed+=("$name")
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]} (reproducers in $artifacts)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding"
