#!/bin/bash
# Run every libFuzzer target of a SMCROUTE_FUZZ=ON build for SECONDS each, on
# a scratch copy of its seed corpus. Exits non-zero if any target crashed,
# leaked, timed out or ran out of memory, and says which (the reproducer is
# kept in the scratch directory and its path printed).
#   run_fuzzers.sh BUILD_DIR [SECONDS]    (BUILD_DIR: top-level or tests/fuzz)
set -u

usage() { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 64; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
build=$1
seconds=${2:-60}
[[ $seconds =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "$0")" && pwd)
if [ -d "$build/tests/fuzz" ]; then bin=$build/tests/fuzz; else bin=$build; fi
targets="fuzz_config fuzz_ipc fuzz_cli fuzz_upcall fuzz_netlink fuzz_accounts fuzz_group_packet"

work=$(mktemp -d "${TMPDIR:-/tmp}/smcroute-fuzz.XXXXXX")
echo "fuzzing for ${seconds}s per target; work directory $work"

failed=()
for t in $targets; do
    exe=$bin/$t
    if [ ! -x "$exe" ]; then
        echo "$t: MISSING ($exe not built)"
        failed+=("$t (not built)")
        continue
    fi
    corpus=$work/$t/corpus
    artifacts=$work/$t/artifacts
    mkdir -p "$corpus" "$artifacts"
    cp -r "$here/corpus/$t/." "$corpus/" 2>/dev/null
    log=$work/$t/log
    dict=()
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    found=$(ls "$artifacts" 2>/dev/null)
    if [ $rc -ne 0 ] || [ -n "$found" ]; then
        kind=crash
        grep -q 'ERROR: libFuzzer: timeout' "$log" && kind=timeout
        grep -q 'ERROR: LeakSanitizer' "$log" && kind=leak
        grep -q 'out-of-memory' "$log" && kind=out-of-memory
        echo "$t: FAILED ($kind, exit $rc) after ${execs:-?} runs"
        for a in $found; do echo "    reproducer: $artifacts/$a"; done
        grep -m1 -E '^(==[0-9]+==ERROR|.*runtime error|.*invariant broken|ERROR: libFuzzer)' "$log" | sed 's/^/    /'
        grep -m12 -E '^ +#[0-9]+ ' "$log" | sed 's/^/    /'
        echo "    full log: $log"
        failed+=("$t ($kind)")
    else
        echo "$t: ok, ${execs:-?} runs, ${cov:-cov ?}, corpus $(ls "$corpus" | wc -l) files"
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
rm -rf "$work"
echo "all fuzz targets ok"
