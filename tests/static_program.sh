#!/bin/bash
# tests/static_program.sh: the program as a release build links it
# (SMCROUTE_STATIC: statically, not sanitized; here the g++ build that
# warnings_gcc.sh makes, which is the one such build in the test run) is a
# static executable with no dynamic loader and no shared library, and it
# works on the routing kernel where it matters most that glibc loads nothing
# at run time: dropping privileges to a user by name (-p nobody, from
# /etc/passwd and /etc/group: os/account_files), forwarding, reload and
# kill, which is tests/system/ops_privileges.sh run on this binary.
# Environment as for the system tests; SMCROUTE = the static program.
set -u
fail() { echo "FAIL: static_program: $*" >&2; exit 1; }
[ -x "${SMCROUTE:-}" ] || fail "SMCROUTE=${SMCROUTE:-} is not an executable (warnings_gcc builds it)"
headers=$(LC_ALL=C readelf -lW "$SMCROUTE") || fail "readelf cannot read $SMCROUTE"
grep -q 'INTERP' <<<"$headers" && fail "$SMCROUTE asks for a dynamic loader (PT_INTERP)"
grep -q 'DYNAMIC' <<<"$headers" && fail "$SMCROUTE has a dynamic section (shared libraries)"
echo "[static_program] ok: $SMCROUTE is static (no PT_INTERP, no PT_DYNAMIC)"
exec bash "$(dirname "$0")/system/ops_privileges.sh"
