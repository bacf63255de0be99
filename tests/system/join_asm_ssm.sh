#!/bin/bash
# Joins, ASM and SSM, IPv4 and IPv6, made three ways -- mgroup lines in the
# config, the join/leave verbs, legacy -j/-l (IIF GROUP [SOURCE]) -- are held
# by the kernel on the right interface (/proc/net/igmp, igmp6; the SSM source
# in mcfilter, mcfilter6, INCLUDE); show groups lists them as active; a leave
# removes exactly that join and must name it as joined (same source, same
# /LEN), otherwise it fails with "not joined"; exit leaves every group.
. "$(dirname "$0")/lib.sh"
topo
[ -e /proc/net/igmp6 ] || skip "kernel without IPv6 (/proc/net/igmp6 missing)"
mcfilter_anchor   # so that /proc/net/mcfilter{,6} list every SSM filter

write_conf <<'CONF'
mgroup from a1 group 225.1.1.1
mgroup from a1 source 10.0.1.2 group 225.1.1.2
mgroup from b1 group ff0e::1:1
mgroup from b1 group ff3e::1:2 source fd01::2   # keywords in any order
CONF
start_daemon

q() { timeout 10 "$BIN/smcroutectl" "$@"; }

# joined IF GROUP [SOURCE]: held on IF, and on none of the other interfaces;
# an ASM join has no source filter, an SSM join includes exactly SOURCE.
joined() {
    local ifn=$1 grp=$2 src=${3:-} other
    check "kernel holds ${src:-*},$grp on $ifn" wait_for 2 kernel_joined "$ifn" "$grp" "$src"
    for other in a1 b1 b2; do
        [ "$other" = "$ifn" ] && continue
        check_not "kernel does not hold $grp on $other" kernel_joined "$other" "$grp"
    done
    local filt
    filt=$(kernel_sources "$ifn" "$grp")
    if [ -z "$src" ]; then
        [ -z "$filt" ] || fail "ASM join of $grp on $ifn has a source filter: $filt"
    else
        local want=$src
        case "$want" in *:*) want=$(expand6 "$want") ;; esac
        [ "$filt" = "$want 1 0" ] || fail "SSM join ($src, $grp) on $ifn: filter '$filt', want '$want 1 0' (INCLUDE)"
    fi
    say "ok: ${src:-*},$grp joined on $ifn only"
}
gone() {
    check "kernel no longer holds $2 on $1" wait_for 2 kernel_not_joined "$1" "$2"
}

# group_state KEY: the STATE column of the show groups row for KEY ("(*, G)").
group_state() {
    q show groups | awk -F '  +' -v k="$1" '$1 == k { print $3; n++ } END { exit n != 1 }'
}
listed() {
    local st
    st=$(group_state "$1") || fail "show groups has not exactly one row $1: $(q show groups)"
    [ "$st" = "$2" ] || fail "show groups: $1 is '$st', want '$2'"
    say "ok: show groups lists $1 as $2"
}
not_listed() {
    q show groups | grep -qF -- "$1  " && fail "show groups still lists $1: $(q show groups)"
    say "ok: show groups does not list $1"
}
# refused DESC COMMAND...: fails, non-zero, saying "not joined".
refused_not_joined() {
    local what=$1 out; shift
    say "+ $*"
    if out=$("$@" 2>&1); then
        fail "$what: succeeded, want failure (command: $*)"
    fi
    grep -q 'not joined' <<<"$out" || fail "$what: message lacks 'not joined': $out"
    say "ok: $what ($out)"
}

# ---- config
joined a1 225.1.1.1
joined a1 225.1.1.2 10.0.1.2
joined b1 ff0e::1:1
joined b1 ff3e::1:2 fd01::2
listed "(*, 225.1.1.1)" active
listed "(10.0.1.2, 225.1.1.2)" active
listed "(*, ff0e::1:1)" active
listed "(fd01::2, ff3e::1:2)" active

# ---- verbs
check "join a1 225.3.3.3" ctl join a1 225.3.3.3
check "join a1 10.0.1.2 225.3.3.4" ctl join a1 10.0.1.2 225.3.3.4
check "join b2 ff0e::3:3" ctl join b2 ff0e::3:3
check "join b2 fd01::2 ff3e::3:4" ctl join b2 fd01::2 ff3e::3:4
check "join a1 225.6.6.0/30" ctl join a1 225.6.6.0/30
joined a1 225.3.3.3
joined a1 225.3.3.4 10.0.1.2
joined b2 ff0e::3:3
joined b2 ff3e::3:4 fd01::2
for i in 0 1 2 3; do joined a1 "225.6.6.$i"; done
check_not "225.6.6.4 (outside the /30) not joined" kernel_joined a1 225.6.6.4
listed "(*, 225.3.3.3)" active
listed "(10.0.1.2, 225.3.3.4)" active
listed "(*, ff0e::3:3)" active
listed "(fd01::2, ff3e::3:4)" active
listed "(*, 225.6.6.0/30)" active

# A leave must name the join exactly.
refused_not_joined "leave of a group never joined" ctl leave a1 225.3.3.9
refused_not_joined "leave of an IPv6 group never joined" ctl leave b2 ff0e::3:9
refused_not_joined "leave on the wrong interface" ctl leave b1 225.3.3.3
refused_not_joined "leave without the source of an SSM join" ctl leave a1 225.3.3.4
refused_not_joined "leave with another source" ctl leave a1 10.0.1.9 225.3.3.4
refused_not_joined "leave with a source of an ASM join" ctl leave a1 10.0.1.2 225.3.3.3
refused_not_joined "leave without the source (IPv6 SSM)" ctl leave b2 ff3e::3:4
refused_not_joined "leave of one address of a /30 join" ctl leave a1 225.6.6.1
refused_not_joined "leave with another /LEN" ctl leave a1 225.6.6.0/31
# ...and a refused leave changed nothing.
joined a1 225.3.3.3
joined a1 225.3.3.4 10.0.1.2
joined b2 ff3e::3:4 fd01::2
for i in 0 1 2 3; do joined a1 "225.6.6.$i"; done

# A matching leave removes exactly that join.
check "leave a1 10.0.1.2 225.3.3.4" ctl leave a1 10.0.1.2 225.3.3.4
gone a1 225.3.3.4
[ -z "$(kernel_sources a1 225.3.3.4)" ] || fail "mcfilter still has a source for 225.3.3.4"
not_listed "(10.0.1.2, 225.3.3.4)"
joined a1 225.3.3.3
joined a1 225.1.1.2 10.0.1.2
check "leave a1 225.6.6.0/30" ctl leave a1 225.6.6.0/30
for i in 0 1 2 3; do gone a1 "225.6.6.$i"; done
not_listed "(*, 225.6.6.0/30)"
check "leave b2 ff0e::3:3" ctl leave b2 ff0e::3:3
gone b2 ff0e::3:3
joined b2 ff3e::3:4 fd01::2
check "leave b2 fd01::2 ff3e::3:4" ctl leave b2 fd01::2 ff3e::3:4
gone b2 ff3e::3:4
check "leave a1 225.3.3.3" ctl leave a1 225.3.3.3
gone a1 225.3.3.3
refused_not_joined "second leave of the same group" ctl leave a1 225.3.3.3
# The config joins were untouched by all of that.
joined a1 225.1.1.1
joined a1 225.1.1.2 10.0.1.2
joined b1 ff0e::1:1
joined b1 ff3e::1:2 fd01::2

# ---- legacy: -j IIF GROUP [SOURCE], -l IIF GROUP [SOURCE]
check "smcroute -j a1 225.5.5.5" legacy -j a1 225.5.5.5
check "smcroute -j a1 225.5.5.6 10.0.1.2" legacy -j a1 225.5.5.6 10.0.1.2
check "smcroute -j b2 ff0e::5:5" legacy -j b2 ff0e::5:5
check "smcroute -j b2 ff3e::5:6 fd01::2" legacy -j b2 ff3e::5:6 fd01::2
joined a1 225.5.5.5
joined a1 225.5.5.6 10.0.1.2
joined b2 ff0e::5:5
joined b2 ff3e::5:6 fd01::2
listed "(10.0.1.2, 225.5.5.6)" active
listed "(fd01::2, ff3e::5:6)" active
refused_not_joined "legacy -l without the SSM source" legacy -l a1 225.5.5.6
refused_not_joined "legacy -l of a group never joined" legacy -l a1 225.5.5.7
joined a1 225.5.5.6 10.0.1.2
check "smcroute -l a1 225.5.5.6 10.0.1.2" legacy -l a1 225.5.5.6 10.0.1.2
gone a1 225.5.5.6
joined a1 225.5.5.5
check "smcroute -l b2 ff3e::5:6 fd01::2" legacy -l b2 ff3e::5:6 fd01::2
gone b2 ff3e::5:6
joined b2 ff0e::5:5
check "smcroute -l a1 225.5.5.5" legacy -l a1 225.5.5.5
check "smcroute -l b2 ff0e::5:5" legacy -l b2 ff0e::5:5
gone a1 225.5.5.5
gone b2 ff0e::5:5
not_listed "(*, 225.5.5.5)"

# ---- exit leaves every group
stop_daemon
for spec in a1:225.1.1.1 a1:225.1.1.2 b1:ff0e::1:1 b1:ff3e::1:2; do
    check "after exit the kernel no longer holds ${spec#*:} on ${spec%%:*}" kernel_not_joined "${spec%%:*}" "${spec#*:}"
done
pass
