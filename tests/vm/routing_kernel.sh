#!/bin/bash
# tests/vm/routing_kernel.sh: where ctest runs the tests that need a kernel
# that routes multicast (label routing-kernel: the system.* scripts and the
# *Kernel.* unit tests). ctest calls it as
#
#   routing_kernel.sh setup SESSION PROBE     fixture setup (once per run)
#   routing_kernel.sh run SESSION LIMIT -- CMD...   each such test
#   routing_kernel.sh cleanup SESSION         fixture cleanup
#
# setup decides once: when this machine's kernel can route multicast in a
# network namespace (PROBE, tests/tools/kernel_probe, after creating a veth
# pair) the tests run natively; otherwise (as root) one VM is booted with
# tests/vm/vm.sh and every test runs in it. SMCROUTE_TEST_KERNEL=native|vm
# forces the choice. The decision is printed: "system tests: native kernel
# ..." or "system tests: in VM, Debian kernel ...".
#
# run keeps the test's output and exit status either way (LIMIT: seconds the
# test may take in the VM). Under software emulation it sets SMCT_TIME_SCALE
# for the tests that assert durations. A skip (exit 77, or GoogleTest's [  SKIPPED ])
# is reported as exit 77; with CI=true it is a failure instead: in CI every
# routing-kernel test must really run.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VM=$HERE/vm.sh

die() { echo "routing_kernel: $*" >&2; exit 1; }

in_ci() { [ "${CI:-}" = true ]; }

# The probe, here or in the guest: a veth pair and both routing sockets in
# a new network namespace.
PROBE_CMD=(unshare -n sh -c 'ip link add rkprobe0 type veth peer name rkprobe1 && exec "$0"')

native_probe() {
    [ "$(id -u)" = 0 ] || return 1
    "${PROBE_CMD[@]}" "$1"
}

# say_choice SESSION LINE: where the routing-kernel tests run, said now and
# kept in SESSION/choice (ctest shows a passing test's output only with -V:
# tests/run_all.sh and matrix.sh print it from there).
say_choice() {
    echo "$2" | tee "$1/choice"
}

setup() {
    local session=$1 probe=$2
    local want=${SMCROUTE_TEST_KERNEL:-auto}
    bash "$VM" stop "$session/vm" 2>/dev/null
    rm -rf "$session"
    mkdir -p "$session" || die "cannot create $session"
    case "$want" in
        auto|native|vm) ;;
        *) die "SMCROUTE_TEST_KERNEL must be auto, native or vm, not '$want'" ;;
    esac
    if [ "$want" = auto ]; then
        if native_probe "$probe"; then
            want=native
        elif [ "$(id -u)" = 0 ]; then
            echo "this kernel ($(uname -r)) cannot route multicast in a namespace: using the VM runner"
            want=vm
        elif in_ci; then
            die "CI must run as root: the routing-kernel tests need it"
        else
            echo "not root: the routing-kernel tests will skip"
            want=native
        fi
    fi
    if [ "$want" = native ]; then
        echo native >"$session/mode"
        say_choice "$session" "system tests: native kernel $(uname -r)"
        return 0
    fi
    # The build tree may live under /tmp, which the guest has its own of.
    SMCROUTE_VM_KEEP=$(dirname "$session") bash "$VM" start "$session/vm" >"$session/vm.info" \
        || die "the VM runner could not start a guest"
    echo vm >"$session/mode"
    say_choice "$session" "system tests: in VM, $(cat "$session/vm.info")"
    # The guest must be able to do what the tests need.
    bash "$VM" exec "$session/vm" --timeout 120 -- "${PROBE_CMD[@]}" "$probe" \
        || die "the guest's kernel cannot route multicast in a namespace"
}

cleanup() {
    local session=$1
    [ "$(cat "$session/mode" 2>/dev/null)" = vm ] || return 0
    bash "$VM" stop "$session/vm"
    echo "system tests: VM stopped"
}

run() {
    local session=$1 limit=$2; shift 2
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die "run: no command"
    local mode
    mode=$(cat "$session/mode" 2>/dev/null || echo native)
    # GoogleTest's own listing (test discovery at build time) never needs
    # the routing kernel.
    case " $* " in *" --gtest_list_tests "*) exec "$@" ;; esac
    # Software emulation runs the tests several times slower: tests that
    # assert durations scale them (tests/system/lib.sh, TIME_SCALE).
    if [ "$mode" = vm ] && grep -q 'TCG' "$session/vm.info" 2>/dev/null; then
        export SMCT_TIME_SCALE=${SMCT_TIME_SCALE:-3}
    fi
    local out rc
    out=$(mktemp)
    if [ "$mode" = vm ]; then
        bash "$VM" exec "$session/vm" --timeout "$limit" -- "$@" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    else
        "$@" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    fi
    local skipped=0
    if [ "$rc" = 77 ] || { [ "$rc" = 0 ] && grep -q '^\[  SKIPPED \]' "$out"; }; then
        skipped=1
    fi
    rm -f "$out"
    if [ "$skipped" = 1 ]; then
        if in_ci; then
            echo "FAIL: skipped in CI, where every routing-kernel test must run ($mode kernel)"
            return 1
        fi
        return 77
    fi
    [ "$rc" = 124 ] && [ "$mode" = vm ] && echo "FAIL: the test ran out of its ${limit} s in the VM"
    return "$rc"
}

verb=${1:-}
shift || true
case "$verb" in
    setup) [ $# = 2 ] || die "usage: setup SESSION PROBE"; setup "$@" ;;
    cleanup) [ $# = 1 ] || die "usage: cleanup SESSION"; cleanup "$@" ;;
    run) [ $# -ge 3 ] || die "usage: run SESSION LIMIT -- CMD..."; run "$@" ;;
    *) die "usage: routing_kernel.sh setup|run|cleanup ..." ;;
esac
