#!/bin/bash
# tests/vm/runner_test.sh PROBE: the VM runner's own test. It boots a guest,
# checks there that MRT_INIT and MRT6_INIT work and a veth pair can be made
# in a new network namespace (PROBE is tests/tools/kernel_probe), that the
# command's exit status and output come back, and that a guest that cannot
# boot, or never comes up, makes the runner fail with a clear message within
# its limit instead of hanging.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROBE=$(readlink -f "$1")
VM=$HERE/vm.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: vm.runner: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: vm.runner needs root"; [ "${CI:-}" = true ] && exit 1; exit 77; }

# 1. A real routing kernel, and the exit status comes back.
start=$SECONDS
bash "$VM" run -- sh -c '
    uname -r
    unshare -n sh -c "ip link add vmt0 type veth peer name vmt1 && ip link show vmt1 >/dev/null && exec \"\$0\"" "$0" || exit 1
    exit 7' "$PROBE" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/err" "$TMP/out"
[ "$rc" = 7 ] || fail "exit status $rc, want 7 (the command's own)"
grep -qx 'ipv4 multicast routing (MRT_INIT): ok' "$TMP/out" || fail "MRT_INIT does not work in the guest"
grep -qx 'ipv6 multicast routing (MRT6_INIT): ok' "$TMP/out" || fail "MRT6_INIT does not work in the guest"
grep -q -- '-amd64$' "$TMP/out" || fail "the guest did not run a Debian kernel"
echo "ok: routing kernel in the guest, exit status 7 propagated ($((SECONDS - start)) s)"

# 2. The guest's PID 1 is missing: the initramfs gives up and the runner
#    says so (the console's last lines included).
start=$SECONDS
SMCROUTE_VM_STAGE2=/nonexistent/stage2 bash "$VM" run -- true >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
[ "$rc" != 0 ] || fail "a guest that cannot boot reported success"
grep -q 'stage 2 /nonexistent/stage2 not found' "$TMP/out" || fail "the console's reason is not shown"
grep -q 'vm.sh: the guest did not come up' "$TMP/out" || fail "no clear error"
echo "ok: a guest that cannot boot fails clearly ($((SECONDS - start)) s)"

# 3. The guest boots but never comes up: the boot time limit ends it.
printf '#!/bin/bash\nexec sleep 100000\n' >"$TMP/hang.sh"
start=$SECONDS
SMCROUTE_VM_STAGE2=$TMP/hang.sh SMCROUTE_VM_BOOT_TIMEOUT=30 bash "$VM" run -- true >"$TMP/out" 2>&1
rc=$?
took=$((SECONDS - start))
cat "$TMP/out"
[ "$rc" != 0 ] || fail "a guest that never came up reported success"
grep -q 'vm.sh: the guest did not come up (limit 30 s)' "$TMP/out" || fail "no clear error on a hung guest"
[ "$took" -lt 120 ] || fail "the runner took $took s to give up on a 30 s limit"
pgrep -f "smcvm.stage2=$TMP/hang.sh" >/dev/null && fail "the hung guest's qemu is still running"
echo "ok: a guest that never comes up fails after its limit ($took s)"
echo "PASS: vm.runner"
