#!/bin/bash
# Multicast Router Discovery (RFC 4286) on the wire. With "phyint a1 mrdisc"
# and -m 4 the daemon announces on a1; tests/tools/mrdisc_capture, in the
# sender namespace on the other end of a1, sees: IPv4 IGMP type 0x30 to
# 224.0.0.106 and IPv6 ICMPv6 type 151 to ff02::6a, TTL/hop limit 1, Router
# Alert present, checksums right, code (advertisement interval) 4, query
# interval 125 and robustness 2; the initial burst of three then the 4 s
# interval; every solicitation (0x31 to 224.0.0.2, 152 to ff02::2) answered
# at once; a termination (0x32 / 153) when a reload drops the flag and when
# the daemon exits, and no advertisement in between.
. "$(dirname "$0")/lib.sh"
[ -x "$TOOLS/mrdisc_capture" ] || fail "$TOOLS/mrdisc_capture missing (build the test tools)"
topo

CAP=$TMP/capture.out
rm -f "$TMP/capture.ready"
ip netns exec "$SND_NS" "$TOOLS/mrdisc_capture" -i eth0 -w 100 -R "$TMP/capture.ready" >"$CAP" 2>"$TMP/capture.err" &
CAP_PID=$!
RECV_PIDS+=("$CAP_PID") # stopped by the cleanup
_wait_ready_files "$TMP/capture.ready" || fail "mrdisc_capture did not start: $(cat "$TMP/capture.err")"
C0=$(date +%s.%N)

# Seconds since the capture started (its t= clock, give or take a few ms).
now_rel() { awk -v a="$(date +%s.%N)" -v b="$C0" 'BEGIN { printf "%.3f", a - b }'; }

# lines TYPE [FROM [TO]]: capture lines of message TYPE with FROM <= t < TO.
lines() {
    awk -v type="$1" -v from="${2:-0}" -v to="${3:-1e9}" '
        { t = substr($1, 3) + 0 }
        $0 ~ (" type=" type " ") && t >= from && t < to' "$CAP"
}
count() { lines "$@" | wc -l; }
times() { lines "$@" | awk '{ print substr($1, 3) }'; }

show_capture() { echo "---- capture ----"; cat "$CAP"; echo "-----------------"; }
cfail() { show_capture >&2; fail "$@"; }

write_conf <<'CONF'
phyint a1 mrdisc
CONF
T_START=$(now_rel)
start_daemon -m 4
say "daemon started at capture t=$T_START"

# ---- initial burst and the interval: wait past the 3 initial (<= 3 x 2 s)
# and at least one periodic advertisement (4 s +- 0.1 s after the third).
sleep 11
for spec in "v4 48" "v6 151"; do
    set -- $spec
    fam=$1 type=$2
    n=$(count "$type")
    [ "$n" -ge 4 ] || cfail "$fam: $n advertisement(s) in 11 s, want >= 4 (3 initial + periodic)"
    mapfile -t ts < <(times "$type")
    burst_end=$(awk -v s="$T_START" -v t="${ts[2]}" 'BEGIN { printf "%.3f", t - s }')
    awk -v d="$burst_end" 'BEGIN { exit !(d >= 0 && d <= 6.5) }' \
        || cfail "$fam: third advertisement ${burst_end}s after start, want within the 3 x 2 s burst"
    gap=$(awk -v a="${ts[2]}" -v b="${ts[3]}" 'BEGIN { printf "%.3f", b - a }')
    awk -v g="$gap" 'BEGIN { exit !(g >= 3.85 && g <= 4.35) }' \
        || cfail "$fam: first periodic advertisement ${gap}s after the burst, want 4 s +- 2.5% (+ slack)"
    say "ok: $fam: $n advertisements, burst done ${burst_end}s after start, then ${gap}s"
done

# Every message so far: TTL/hop limit 1, Router Alert, checksum, address.
bad=$(awk '$2 == "v4" || $2 == "v6"' "$CAP" | grep -v ' ttl=1 ra=1 csum=ok ')
[ -z "$bad" ] || cfail "messages without TTL 1 / Router Alert / good checksum: $bad"
bad=$(awk '$2 == "v4" && ($4 != "dst=224.0.0.106" || $3 != "src=10.0.1.1")' "$CAP")
[ -z "$bad" ] || cfail "IPv4 messages not from 10.0.1.1 to 224.0.0.106: $bad"
bad=$(awk '$2 == "v6" && ($4 != "dst=ff02::6a" || $3 !~ /^src=fe80:/)' "$CAP")
[ -z "$bad" ] || cfail "IPv6 messages not from a link-local address to ff02::6a: $bad"
bad=$(awk '($2 == "v4" || $2 == "v6") && !/ code=4 qi=125 rv=2 len=8$/' "$CAP")
[ -z "$bad" ] || cfail "advertisements without code 4, query interval 125, robustness 2, length 8: $bad"
say "ok: all advertisements: TTL 1, Router Alert, checksum, 224.0.0.106 / ff02::6a, code 4, qi 125, rv 2"

# ---- solicitations, 1 s apart: each answered within 0.5 s. With a 4 s
# interval at most one of the three windows can hold a periodic one, so
# three answers are the daemon answering.
for i in 1 2 3; do
    t_sol=$(now_rel)
    kill -USR1 "$CAP_PID"
    sleep 1
    grep -q "solicit v4 ok" "$CAP" && grep -q "solicit v6 ok" "$CAP" || cfail "capture could not send solicitations"
    sent=$(awk -v t0="$t_sol" '$2 == "solicit" && $3 == "v4" && substr($1, 3) + 0 >= t0 - 0.05 { print substr($1, 3); exit }' "$CAP")
    [ -n "$sent" ] || cfail "solicitation $i not logged"
    until=$(awk -v s="$sent" 'BEGIN { printf "%.3f", s + 0.5 }')
    [ "$(count 48 "$sent" "$until")" -ge 1 ] || cfail "IPv4 solicitation $i (t=$sent) not answered within 0.5 s"
    [ "$(count 151 "$sent" "$until")" -ge 1 ] || cfail "IPv6 solicitation $i (t=$sent) not answered within 0.5 s"
    say "ok: solicitation $i at t=$sent answered (v4 and v6)"
done

# ---- reload without the flag: terminations, then silence.
write_conf <<'CONF'
# mrdisc off
CONF
T_RELOAD=$(now_rel)
ctl reload || fail "smcroutectl reload failed"
sleep 1.5
[ "$(count 50 "$T_RELOAD")" = 1 ] || cfail "want one IPv4 termination (0x32) after the reload, got $(count 50 "$T_RELOAD")"
[ "$(count 153 "$T_RELOAD")" = 1 ] || cfail "want one IPv6 termination (153) after the reload, got $(count 153 "$T_RELOAD")"
term_t=$(times 50 "$T_RELOAD")
bad=$(lines 50 "$T_RELOAD"; lines 153 "$T_RELOAD")
echo "$bad" | grep -v ' ttl=1 ra=1 csum=ok ' | grep -q . && cfail "termination without TTL 1 / Router Alert / checksum: $bad"
echo "$bad" | grep -q ' len=4$' || cfail "termination not 4 bytes: $bad"
say "ok: terminations on reload without mrdisc (t=$term_t)"
sleep 5 # more than the interval
after=$(( $(count 48 "$term_t") + $(count 151 "$term_t") ))
[ "$after" = 0 ] || cfail "$after advertisement(s) after the termination"
say "ok: no advertisements for 5 s after the termination"

# ---- flag back: announcing again; exit: terminations.
write_conf <<'CONF'
phyint a1 mrdisc
CONF
T_BACK=$(now_rel)
ctl reload || fail "smcroutectl reload failed"
sleep 2.5
[ "$(count 48 "$T_BACK")" -ge 1 ] && [ "$(count 151 "$T_BACK")" -ge 1 ] \
    || cfail "no advertisements within 2.5 s of restoring phyint a1 mrdisc"
say "ok: announcing again after the reload"
T_STOP=$(now_rel)
stop_daemon
sleep 0.5
[ "$(count 50 "$T_STOP")" = 1 ] || cfail "want one IPv4 termination on exit, got $(count 50 "$T_STOP")"
[ "$(count 153 "$T_STOP")" = 1 ] || cfail "want one IPv6 termination on exit, got $(count 153 "$T_STOP")"
say "ok: terminations on daemon exit"
pass
