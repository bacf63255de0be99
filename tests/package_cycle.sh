#!/usr/bin/env bash
# tests/package_cycle.sh BUILD_DIR [RUNNER...]: the package's life
# on a Debian system, for real, as an administrator lives it. In a private
# copy-on-write root (an overlay over this system's /, so dpkg, update-rc.d
# and the maintainer scripts run unchanged and the real system is never
# touched), booted as SysV runlevel 2 (no systemd as PID 1):
#  1. Debian's smcroute 2.5.6 (fetched by tests/tools/peer_smcroute.sh) is
#     installed with an administrator's
#     /etc/smcroute.conf: its daemon starts and sets up the route and join;
#  2. our package is installed over it while that daemon runs: 2.5.6's
#     daemon is gone, ours runs, from the same unchanged config, and the
#     kernel has the same route and join again;
#  3. `dpkg -r`: no daemon runs, no route is left; `dpkg -P`: nothing of the
#     package is left (files, boot links, /run), the administrator's config
#     stays;
#  4. a fresh install (no 2.5.6, no config) starts ours on a copy of the
#     example config, and purge removes that copy.
# The package is built here (cpack); the cycle runs through RUNNER
# (tests/vm/routing_kernel.sh run ...: a kernel that routes multicast, in a
# VM where this one cannot), which shares BUILD_DIR.
# Exit 0 pass, 1 fail, 77 skip (not root, no cpack or unshare).
set -euo pipefail

fail() { echo "FAIL: package_cycle: $*" >&2; exit 1; }
skip() { echo "SKIP: package_cycle: $*"; exit 77; }
ok()   { echo "[package_cycle] ok: $*"; }

# ------------------------------------------------ inside the namespaces
if [ -n "${PKGCYCLE_INSIDE:-}" ]; then
    ours=$1 peer=$2
    [ -e /proc/net/ip_mr_cache ] || skip "kernel has no IPv4 multicast routing"
    mount -t tmpfs -o mode=0755 pkgcycle /run || fail "cannot mount a tmpfs on /run"
    mkdir -p /run/o/upper /run/o/work /run/o/root
    mount -t overlay overlay -o lowerdir=/,upperdir=/run/o/upper,workdir=/run/o/work /run/o/root \
        || fail "cannot mount an overlay over / here"
    R=/run/o/root
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs -o mode=0755 run "$R/run"
    mount -t tmpfs -o mode=1777 tmp "$R/tmp"
    cp "$ours" "$R/tmp/ours.deb"
    cp "$peer" "$R/tmp/peer.deb"
    # The booted system this root plays: SysV runlevel 2, no policy that
    # forbids starting services (a build host often has one), and no
    # earlier smcroute.
    rm -f "$R/usr/sbin/policy-rc.d"
    printf '#!/bin/sh\necho "N 2"\n' >"$R/usr/sbin/runlevel"
    chmod 0755 "$R/usr/sbin/runlevel"
    in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C "$@"; }
    if in_root dpkg-query -W -f '${Status}' smcroute 2>/dev/null | grep -q installed; then
        in_root dpkg -P --force-depends smcroute >/dev/null 2>&1 || fail "cannot purge the smcroute this system has"
    fi
    rm -f "$R/etc/smcroute.conf"
    ip link set lo up
    ip link add pc0 type veth peer name pc1
    ip addr add 10.97.0.1/24 dev pc0
    ip addr add 10.97.1.1/24 dev pc1
    ip link set pc0 up
    ip link set pc1 up

    conf='# the administrator'"'"'s own
mgroup from pc0 group 225.9.7.1
mroute from pc0 source 10.97.0.2 group 225.9.7.1 to pc1
'
    printf '%s' "$conf" >"$R/etc/smcroute.conf"
    if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then grp=010709E1; src=0200610A
    else grp=E1090701; src=0A610002; fi
    route_there() { awk -v g=$grp -v s=$src 'NR > 1 && toupper($1) == g && toupper($2) == s && $3 != "-1" { f = 1 } END { exit !f }' /proc/net/ip_mr_cache; }
    join_there() { awk '/pc0/ { d = 1; next } /^[0-9]/ { d = 0 } d && toupper($1) == "'$grp'" { f = 1 } END { exit !f }' /proc/net/igmp; }
    # daemons: "PID EXE" of every smcroute daemon running (2.5.6's smcrouted
    # or ours, whatever name it runs under).
    daemons() {
        local p exe
        for p in $(pgrep -f 'smcroute' || true); do
            exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
            case "$exe" in */smcroute*) echo "$p $exe" ;; esac
        done
    }
    wait_for() { local i; for ((i = 0; i < 300; i++)); do "$@" && return 0; sleep 0.1; done; return 1; }
    no_daemons() { [ -z "$(daemons)" ]; }
    no_route() { ! route_there; }
    log=/run/o/dpkg.log
    dpkg_in() { in_root dpkg "$@" >>"$log" 2>&1 || { cat "$log" >&2; fail "dpkg $* failed"; }; }

    # 1. Debian's 2.5.6 with the administrator's config.
    dpkg_in -i /tmp/peer.deb
    [ "$(in_root dpkg-query -W -f '${Version}' smcroute)" = 2.5.6-1 ] || fail "2.5.6-1 is not installed"
    wait_for route_there || { cat "$log" >&2; daemons >&2; fail "2.5.6's daemon did not set up the config's route"; }
    wait_for join_there || fail "2.5.6's daemon did not join 225.9.7.1 on pc0"
    old=$(daemons)
    [ "$(echo "$old" | wc -l)" = 1 ] || fail "2.5.6: want one daemon, have: $old"
    old_pid=${old%% *}
    ok "Debian's 2.5.6 runs (pid $old_pid) and set up the route and join of /etc/smcroute.conf"

    # 2. Ours over it, while its daemon runs.
    dpkg_in -i /tmp/ours.deb
    version=$(dpkg-deb -f "$ours" Version)
    [ "$(in_root dpkg-query -W -f '${Version} ${Status}' smcroute)" = "$version install ok installed" ] \
        || fail "after the upgrade dpkg has: $(in_root dpkg-query -W smcroute)"
    wait_for test ! -d "/proc/$old_pid" || fail "2.5.6's daemon (pid $old_pid) still runs after the upgrade"
    wait_for test -n "$(daemons)" || { cat "$log" >&2; fail "no daemon runs after the upgrade"; }
    new=$(daemons)
    [ "$(echo "$new" | wc -l)" = 1 ] || fail "after the upgrade: want one daemon, have: $new"
    case "$new" in */usr/sbin/smcroute) ;; *) fail "the daemon after the upgrade is not ours: $new" ;; esac
    [ "$(cat "$R/etc/smcroute.conf")" = "$(printf '%s' "$conf")" ] || fail "the upgrade changed /etc/smcroute.conf"
    [ ! -e "$R/etc/smcroute.conf.dpkg-new" ] && [ ! -e "$R/etc/smcroute.conf.dpkg-dist" ] || fail "the upgrade left a .dpkg-* config"
    wait_for route_there || { cat /proc/net/ip_mr_cache >&2; fail "our daemon did not set up the config's route after the upgrade"; }
    wait_for join_there || fail "our daemon did not join 225.9.7.1 on pc0 after the upgrade"
    in_root smcroutectl show >/dev/null || fail "smcroutectl cannot talk to the daemon after the upgrade"
    ok "upgrade: 2.5.6's daemon gone, ours (${new%% *}) runs the same config, route and join back"

    # 3. Remove, then purge.
    dpkg_in -r smcroute
    wait_for no_daemons || fail "a daemon still runs after dpkg -r: $(daemons)"
    wait_for no_route || fail "the route stays in the kernel after dpkg -r"
    [ -e "$R/etc/smcroute.conf" ] || fail "dpkg -r removed the administrator's /etc/smcroute.conf"
    ok "remove: no daemon, no route"
    dpkg_in -P smcroute
    in_root dpkg-query -W smcroute >/dev/null 2>&1 && in_root dpkg-query -W -f '${Status}' smcroute | grep -qv not-installed \
        && fail "dpkg still knows smcroute after purge: $(in_root dpkg-query -W -f '${Status}' smcroute)"
    left=$(cd "$R" && ls -d etc/init.d/smcroute etc/default/smcroute etc/rc?.d/*smcroute* \
        etc/systemd/system/*/smcroute* lib/systemd/system/smcroute* usr/sbin/smcroute* \
        usr/share/doc/smcroute var/lib/smcroute run/smcroute* 2>/dev/null || true)
    [ -z "$left" ] || fail "purge left behind: $left"
    [ "$(cat "$R/etc/smcroute.conf")" = "$(printf '%s' "$conf")" ] || fail "purge removed or changed the administrator's /etc/smcroute.conf"
    ok "purge: nothing left but the administrator's config"

    # 4. A first install starts on the example; purge removes that copy.
    rm "$R/etc/smcroute.conf"
    dpkg_in -i /tmp/ours.deb
    wait_for test -n "$(daemons)" || { cat "$log" >&2; fail "no daemon runs after a first install"; }
    cmp -s "$R/etc/smcroute.conf" "$R/usr/share/doc/smcroute/smcroute.conf.example" \
        || fail "a first install did not make /etc/smcroute.conf from the example"
    ls "$R"/etc/rc2.d/S*smcroute >/dev/null 2>&1 || fail "a first install did not enable the init script"
    dpkg_in -P smcroute
    wait_for no_daemons || fail "a daemon still runs after purge: $(daemons)"
    [ ! -e "$R/etc/smcroute.conf" ] || fail "purge left the config the postinst made"
    ok "first install: enabled, started on the example; purge removes that copy"
    exit 0
fi

# ------------------------------------------------------ build the package
build=$(readlink -f "${1:?usage: package_cycle.sh BUILD_DIR [RUNNER...]}")
shift
runner=("$@")
[ "$(id -u)" = 0 ] || skip "needs root (namespaces, dpkg in a private root)"
for tool in cpack dpkg-deb unshare ip; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
peer=$(bash "$(dirname "$0")/tools/peer_smcroute.sh" --deb) || fail "cannot fetch Debian's smcroute package"
work=$(mktemp -d "$build/package_cycle.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$work"/out/*.deb)
[ ${#debs[@]} = 1 ] || fail "cpack made ${#debs[@]} .deb files"
cp "$peer" "$work/peer.deb"
PKGCYCLE_INSIDE=1 "${runner[@]}" timeout 600 unshare -mnp --fork --kill-child --mount-proc --propagation private \
    bash "$(readlink -f "$0")" "${debs[0]}" "$work/peer.deb"
echo "PASS: package_cycle"
