#!/usr/bin/env bash
# Builds the libFuzzer harness (Tests/Fuzz/Harness) with -sanitize=fuzzer,address in its own
# scratch folder and runs each parser for SECONDS (default 60), starting from the seeds in
# Tests/Fuzz/seeds/<target>/ plus the corpus it grew on earlier runs (.build-fuzz/corpus/).
# Prints executions per target; a crash stops that target and leaves crash-* files in
# .build-fuzz/artifacts/<target>/, to be turned into a regression test.
#
#   bash Tests/Fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pointer config tree manifest index csv metrics features safetensors gate delta records parquet)

MLV_FUZZ=1 swift build --scratch-path .build-fuzz --product mlv-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xlinker --export-dynamic >&2
bin=.build-fuzz/debug/mlv-fuzz
# Swift's own crash backtracer trips ASan; libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no

status=0
for t in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$t artifacts=.build-fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts" "Tests/Fuzz/seeds/$t"
  log=$(mktemp)
  # -rss_limit_mb: a parser must not balloon on hostile input; -timeout: nor spin.
  if MLV_FUZZ_TARGET=$t $bin -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 -timeout=10 \
       -use_value_profile=1 -artifact_prefix="$artifacts/" "$corpus" "Tests/Fuzz/seeds/$t" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $artifacts)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo ?)
  printf '%-12s %10s executions  coverage %5s  %s\n' "$t" "$runs" "$cov" "$result"
  [ "$result" = ok ] || tail -30 "$log" >&2
  rm -f "$log"
done
exit $status
