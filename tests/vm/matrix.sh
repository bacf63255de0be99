#!/bin/bash
# tests/vm/matrix.sh BUILD_DIR [KERNEL...]: the kernel matrix. Runs every
# routing-kernel test (system.* and *Kernel.*) of BUILD_DIR in a VM booting
# each Debian kernel in turn (default: 6.1 and 6.12, see vm.sh --kernel),
# then reports per kernel. Exit 0 when every kernel passed.
set -uo pipefail
build=${1:?usage: matrix.sh BUILD_DIR [KERNEL...]}
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)

declare -A summary=()
status=0
for k in "${kernels[@]}"; do
    log=$build/matrix-$k.log
    echo "==== kernel $k (log: $log)"
    start=$SECONDS
    SMCROUTE_TEST_KERNEL=vm SMCROUTE_VM_KERNEL=$k \
        ctest --test-dir "$build" -L routing-kernel -j2 --output-on-failure >"$log" 2>&1
    rc=$?
    [ "$rc" = 0 ] || status=1
    where=$(sed 's/^system tests: //' "$build/routing-kernel/choice" 2>/dev/null)
    echo "    ${where:-no guest}"
    result=$(grep -m1 -E '^[0-9]+% tests passed' "$log")
    summary[$k]="${where:-no guest} | ${result:-no result} | $((SECONDS - start)) s"
    grep -E '\(Failed\)|\(Timeout\)|\(Not Run\)|\(Skipped\)' "$log" | sed 's/^/    /'
done
echo "==== kernel matrix"
for k in "${kernels[@]}"; do
    echo "$k: ${summary[$k]}"
done
exit "$status"
