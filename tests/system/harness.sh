#!/bin/bash
# Self-test of the system-test machinery, no daemon involved: the topology
# comes up, the /proc address converters are right, and mcsend/mcrecv count,
# filter and report TTLs and sources correctly over the snd--a1 link.
. "$(dirname "$0")/lib.sh"

# Address converters against hand-computed values.
if [ "$HOST_LE" = 1 ]; then want4=030201E1; else want4=E1010203; fi
[ "$(hex4 225.1.2.3)" = "$want4" ] || fail "hex4 225.1.2.3 = $(hex4 225.1.2.3), want $want4"
[ "$(expand6 ff0e::1:2:3)" = ff0e:0000:0000:0000:0000:0001:0002:0003 ] || fail "expand6 ff0e::1:2:3 = $(expand6 ff0e::1:2:3)"
[ "$(expand6 fd01::2)" = fd01:0000:0000:0000:0000:0000:0000:0002 ] || fail "expand6 fd01::2"
[ "$(expand6 ::1)" = 0000:0000:0000:0000:0000:0000:0000:0001 ] || fail "expand6 ::1"
[ "$(expand6 ff0e::)" = ff0e:0000:0000:0000:0000:0000:0000:0000 ] || fail "expand6 ff0e::"
[ "$(expand6 1:2:3:4:5:6:7:8)" = 0001:0002:0003:0004:0005:0006:0007:0008 ] || fail "expand6 full"
say "ok: address converters"

topo
nsx snd ip route get 10.0.2.2 >/dev/null || fail "snd has no route to rcv1 via the router"
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty without a daemon"
check_not "mfc_has on an empty MFC" mfc_has 10.0.1.2 225.1.2.3

# recv_on_a1 OUTFILE MCRECV-ARGS...: mcrecv in the router namespace on a1.
recv_on_a1() {
    local out=$1; shift
    rm -f "$TMP/a1.ready"
    "$TOOLS/mcrecv" -i a1 -p "$PORT" -w 10 -R "$TMP/a1.ready" "$@" >"$out" &
    RECV_PIDS+=($!)
}
stop_recv() {
    sleep 0.3
    kill -TERM "${RECV_PIDS[@]}"
    local p
    for p in "${RECV_PIDS[@]}"; do wait "$p" || fail "mcrecv exited with $?"; done
    RECV_PIDS=()
}

for fam in v4 v6; do
    if [ "$fam" = v4 ]; then six=(); g=225.1.2.3; src=10.0.1.2; else six=(-6); g=ff0e::123; src=fd01::2; fi
    recv_on_a1 "$TMP/r1" "${six[@]}" -g "$g" -T -v
    recv_on_a1 "$TMP/r2" "${six[@]}" -g "$g" -I 42      # only id 42
    _wait_ready_files "$TMP/a1.ready" || fail "mcrecv did not start"
    sleep 0.2
    must nsx snd "$TOOLS/mcsend" "${six[@]}" -g "$g" -p "$PORT" -i eth0 -s "$src" -n 25 -t 9 -r 0 -I 7
    must nsx snd "$TOOLS/mcsend" "${six[@]}" -g "$g" -p "$PORT" -i eth0 -s "$src" -n 3 -t 9 -r 500 -I 42
    stop_recv
    [ "$(head -n 1 "$TMP/r1")" = 28 ] || fail "$fam: mcrecv counted $(head -n 1 "$TMP/r1"), want 28: $(cat "$TMP/r1")"
    grep -qx "ttl 9 28" "$TMP/r1" || fail "$fam: want 'ttl 9 28' (same link, no decrement): $(cat "$TMP/r1")"
    grep -qx "src $src 28" "$TMP/r1" || fail "$fam: want 'src $src 28': $(cat "$TMP/r1")"
    [ "$(cat "$TMP/r2")" = 3 ] || fail "$fam: mcrecv -I 42 counted '$(cat "$TMP/r2")', want 3"
    say "ok: $fam mcsend -> mcrecv on one link: count, TTL, source, id filter"
done

# -w: mcrecv stops by itself and prints 0 when nothing arrives.
start=$(date +%s%N)
out=$("$TOOLS/mcrecv" -g 225.9.9.9 -p "$PORT" -i a1 -w 0.5)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$out" = 0 ] || fail "mcrecv -w 0.5 printed '$out', want 0"
[ "$ms" -lt 2000 ] || fail "mcrecv -w 0.5 took $ms ms"
say "ok: mcrecv -w stops on time (${ms} ms)"

# -J: without any join nothing arrives; with another socket joined it counts.
recv_on_a1 "$TMP/nj" -g 225.1.2.4 -J
_wait_ready_files "$TMP/a1.ready" || fail "mcrecv did not start"
must nsx snd "$TOOLS/mcsend" -g 225.1.2.4 -p "$PORT" -i eth0 -n 5 -r 0
stop_recv
[ "$(cat "$TMP/nj")" = 0 ] || fail "mcrecv -J with no member counted $(cat "$TMP/nj"), want 0"
recv_on_a1 "$TMP/nj" -g 225.1.2.4 -J
recv_on_a1 "$TMP/j" -g 225.1.2.4
_wait_ready_files "$TMP/a1.ready" || fail "mcrecv did not start"
sleep 0.2
must nsx snd "$TOOLS/mcsend" -g 225.1.2.4 -p "$PORT" -i eth0 -n 5 -r 0
stop_recv
[ "$(cat "$TMP/nj")" = 5 ] || fail "mcrecv -J next to a member counted $(cat "$TMP/nj"), want 5"
say "ok: mcrecv -J"

# -S FIRST -N NUM cycles the source address.
recv_on_a1 "$TMP/ms" -g 225.1.2.5 -v
_wait_ready_files "$TMP/a1.ready" || fail "mcrecv did not start"
must nsx snd "$TOOLS/mcsend" -g 225.1.2.5 -p "$PORT" -i eth0 -S 10.0.1.100 -N 3 -n 9 -r 0
stop_recv
for s in 10.0.1.100 10.0.1.101 10.0.1.102; do
    grep -qx "src $s 3" "$TMP/ms" || fail "mcsend -S/-N: want 'src $s 3' in: $(cat "$TMP/ms")"
done
say "ok: mcsend -S/-N cycles sources"

# No daemon: nothing crosses the router.
traffic v4 225.1.2.3 5
expect_recv rcv1 0
expect_recv rcv2 0
pass
