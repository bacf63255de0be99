#!/bin/bash
# Issue 13, finding 5: the identity (-i NAME) names files (/etc/NAME.conf,
# /run/NAME.sock, /run/NAME.pid, with -p the runtime directory /run/NAME/),
# so a NAME that is a path made root act on files elsewhere: with
# "-i ../run/x -p nobody" root gave /run/x to nobody. Performed for real
# against a root-only file: the daemon (smcrouted and smcroute -d) must
# refuse such a NAME as a usage error (exit 64, "invalid identity") and
# change nothing (the file keeps its owner and mode, nothing new in /run);
# the client forms refuse it the same way. A plain NAME with every allowed
# kind of character still works end to end with -p.
. "$(dirname "$0")/lib.sh"
nobody_setup
topo
one_route_conf

victim_make
# /run/../run/smct-NAME/victim is the victim: the identity is a path to it.
EVIL=../run/smct-$TESTNAME/victim
before=$(ls -A /run)

# refused LABEL COMMAND...: a usage error naming the identity; nothing changed.
refused() {
    local label=$1 rc=0 out; shift
    say "+ $*"
    out=$(timeout $((20 * TIME_SCALE)) "$@" 2>&1) || rc=$?
    victim_intact "$label"
    [ "$rc" = 64 ] || fail "$label: exit $rc, want 64 (usage): $out"
    grep -q "invalid identity '" <<<"$out" || fail "$label: the message does not say the identity is invalid: $out"
    say "ok: $label: exit 64: $(head -n 1 <<<"$out")"
    [ "$(ls -A /run)" = "$before" ] || fail "$label: /run changed: now $(ls -A /run | tr '\n' ' '), was $(tr '\n' ' ' <<<"$before")"
}

refused "smcrouted -i PATH -p nobody" "$BIN/smcrouted" -n -f "$CONF" -i "$EVIL" -p nobody
refused "smcroute -d --ident PATH --user nobody" "$BIN/smcroute" -d --foreground --config "$CONF" --ident "$EVIL" --user nobody
refused "smcrouted -i PATH (no -p)" "$BIN/smcrouted" -n -f "$CONF" -i "$EVIL"
refused "smcrouted -i .hidden" "$BIN/smcrouted" -n -f "$CONF" -i .hidden -p nobody
refused "smcrouted -i a/b" "$BIN/smcrouted" -n -f "$CONF" -i a/b
refused "smcroutectl -i PATH show" "$BIN/smcroutectl" -i "$EVIL" show
refused "smcroutectl --ident=.. kill" "$BIN/smcroutectl" --ident=.. kill
refused "smcroute -i PATH -k" "$BIN/smcroute" -i "$EVIL" -k
refused "smcroute -i PATH show" "$BIN/smcroute" -i "$EVIL" show

# A plain name with every kind of character allowed works with -p.
GOOD=Mc-2.v_9
start_daemon -i "$GOOD" -p nobody
check "its socket is /run/$GOOD/$GOOD.sock" test -S "/run/$GOOD/$GOOD.sock"
check "smcroutectl -i $GOOD show" ctl_answers -i "$GOOD"
check "the config route forwards" mfc_forwards 10.0.1.2 225.1.2.3
stop_daemon
victim_intact "at the end"
pass
