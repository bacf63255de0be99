#!/bin/bash
# Who may change state is decided only from facts fixed when the client
# connects (SO_PEERCRED uid/gid, SO_PEERGROUPS), never from what the
# connecting process becomes later or holds in its own user namespace
# (issue 13, finding 1). With the socket open to everyone (0666), user
# nobody -- who may only "show" -- tries, each time against a fresh daemon:
#   setuid-add:  connect, fork; the connecting process execs a setuid-root
#                copy of sleep (euid 0, full CapEff: like su waiting at its
#                password prompt) while the child sends "add" on the
#                inherited connection;
#   setuid-kill: the same with "kill";
#   userns-add:  "smcroutectl add" run inside "unshare -Ur" (uid 0 and a
#                full CapEff in its own user namespace);
#   userns-kill: the same with "kill".
# Each must be refused with 77 "permission denied"; the daemon keeps
# running, its routes and the kernel's MFC and VIF tables unchanged. Every
# attack is tried even when an earlier one got through, and the test fails
# naming each one that did.
. "$(dirname "$0")/lib.sh"
nobody_setup
SOCK=/run/smcroute.sock
[ -x "$TOOLS/ipc_attack" ] || fail "$TOOLS/ipc_attack missing (build the test tools)"
must cp "$TOOLS/ipc_attack" "$NB/ipc_attack"
chmod 0755 "$NB/ipc_attack"
# The setuid-root program the attacker execs: a harmless waiting one.
SUID=$TMP/suid-sleep
must cp "$(command -v sleep)" "$SUID"
must chown 0:0 "$SUID"
must chmod 4755 "$SUID"

topo
write_conf <<'CONF'
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
CONF
ROUTE_ROW='(10.0.1.2, 225.1.2.3)  a1  active  b1'

# Preconditions, or the attacks prove nothing.
[ "$(as_nobody id -u)" != 0 ] || fail "setpriv did not change the uid"
caps=$(as_nobody awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
[ -n "$caps" ] && [ "$((16#$caps))" = 0 ] || fail "a process run as nobody has capabilities (CapEff '$caps')"
inside=$(as_nobody unshare -Ur sh -c 'echo "$(id -u) $(awk '\''$1 == "CapEff:" { print $2 }'\'' /proc/self/status)"' 2>&1) \
    || fail "nobody cannot create a user namespace (unshare -Ur): $inside"
read -r ns_uid ns_caps <<<"$inside"
[ "$ns_uid" = 0 ] && [ $(( (16#$ns_caps >> 12) & 1 )) = 1 ] \
    || fail "inside unshare -Ur nobody is not uid 0 with CAP_NET_ADMIN: '$inside'"
say "ok: nobody in its own user namespace: uid $ns_uid, CapEff $ns_caps"

# refused_and_unchanged WHAT OUTPUT-FILE: the attack's output says
# "permission denied"; the daemon runs with its route and nothing more.
refused_and_unchanged() {
    local what=$1 out=$2 after
    grep -iq 'permission denied' "$out" || fail "$what: not refused with 'permission denied': $(tr '\n' '|' <"$out")"
    alive "$DAEMON_PID" || fail "$what: the daemon (pid $DAEMON_PID) stopped"
    after=$(timeout $((10 * TIME_SCALE)) "$BIN/smcroutectl" show 2>&1) || fail "$what: root's show failed: $after"
    [ "$after" = "$ROUTE_ROW" ] || fail "$what: routes changed: '$after', want '$ROUTE_ROW'"
    [ "$(mfc_count 4)" = 1 ] || fail "$what: kernel MFC holds $(mfc_count 4) entries, want 1"
    check_not "$what: kernel MFC has no (10.0.1.2, 225.1.2.4)" mfc_has 10.0.1.2 225.1.2.4
    [ "$(vif_count 4)" = "$BASE_VIF4" ] || fail "$what: kernel VIF table changed"
    say "ok: $what: refused, nothing changed"
}

# setuid_attack VERB [WORD...]: connect as nobody, exec the setuid copy of
# sleep in the connecting process, send the request from its child.
setuid_attack() {
    local what="setuid-$1"
    as_nobody timeout $((20 * TIME_SCALE)) "$NB/ipc_attack" exec "$SOCK" "$SUID" 60 "$@" >"$TMP/attack.out" 2>&1
    say "$what: $(tr '\n' '|' <"$TMP/attack.out")"
    grep -q '^EXECED .* now has euid 0 ' "$TMP/attack.out" \
        || fail "$what: the connecting process did not become euid 0 by exec'ing $SUID: the attack proves nothing"
    grep -q '^END 77 ' "$TMP/attack.out" || fail "$what: the answer is not END 77: $(tr '\n' '|' <"$TMP/attack.out")"
    refused_and_unchanged "$what" "$TMP/attack.out"
}

# userns_attack VERB [WORD...]: the client, as nobody, in its own user
# namespace where it is uid 0 with every capability.
userns_attack() {
    local what="userns-$1" rc=0
    as_nobody unshare -Ur timeout $((10 * TIME_SCALE)) "$NB/smcroutectl" "$@" >"$TMP/attack.out" 2>&1 || rc=$?
    say "$what: exit $rc: $(tr '\n' '|' <"$TMP/attack.out")"
    [ "$rc" = 77 ] || fail "$what: smcroutectl exited $rc, want 77"
    refused_and_unchanged "$what" "$TMP/attack.out"
}

# attempt NAME FUNCTION ARGS...: one attack against a fresh daemon; a
# success of the attack is recorded, and the next one still runs.
FAILED=()
attempt() {
    local name=$1; shift
    say "-------- $name"
    start_daemon --socket-mode 0666
    check "kernel MFC has (10.0.1.2, 225.1.2.3)" wait_for 2 mfc_forwards 10.0.1.2 225.1.2.3
    BASE_VIF4=$(vif_count 4)
    # A subshell: a failed check ends only this attempt.
    if ("$@"); then
        say "ok: $name: refused"
    else
        say "FAILED: $name got through"
        FAILED+=("$name")
    fi
    if alive "$DAEMON_PID"; then
        stop_daemon "$DAEMON_PID"
    else
        wait "$DAEMON_PID" 2>/dev/null
        STOPPED[$DAEMON_PID]=1
        say "daemon (pid $DAEMON_PID) had stopped"
    fi
}

attempt setuid-add setuid_attack add a1 10.0.1.2 225.1.2.4 b2
attempt setuid-kill setuid_attack kill
attempt userns-add userns_attack add a1 10.0.1.2 225.1.2.4 b2
attempt userns-kill userns_attack kill

[ "${#FAILED[@]}" = 0 ] || fail "attacks that got through: ${FAILED[*]}"

# The daemon still serves nobody's show, and forwards.
start_daemon --socket-mode 0666
out=$(as_nobody timeout $((10 * TIME_SCALE)) "$NB/smcroutectl" show 2>&1) || fail "nobody's show failed: $out"
[ "$out" = "$ROUTE_ROW" ] || fail "nobody's show: '$out'"
expect_forward v4 225.1.2.3 rcv1 10
expect_recv rcv2 0
for log in "${DAEMON_LOGS[@]}"; do
    check_not "no sanitizer report in $(basename "$log")" grep -Eq 'Sanitizer|runtime error:' "$log"
done
pass
