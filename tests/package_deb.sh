#!/usr/bin/env bash
# tests/package_deb.sh BUILD_DIR [RUNNER...]: `cpack -G DEB` of that build
# directory makes
# a .deb named smcroute with the project's version, computed Depends, no
# self-relations, the /etc files as conffiles (not /etc/smcroute.conf, which
# the postinst makes from the example when there is none), its maintainer
# scripts (postinst, prerm, postrm: valid sh, 0755), a systemd unit that
# systemd-analyze verify (Debian 12: systemd 252) accepts without a word, and
# every file in its place;
# the binary extracted from it starts a daemon in a private network
# namespace, takes a route through the smcroutectl link and stops with -k.
# The package is made and checked here; only that last run goes through
# RUNNER (tests/vm/routing_kernel.sh run ...: the routing kernel, in a VM
# where this one cannot route), which sees the files under BUILD_DIR.
# Exit 0 pass, 1 fail, 77 skip (no cpack/dpkg-deb; the run needs root and
# namespaces: the package checks run anyway, then the test skips).
set -euo pipefail

fail() { echo "FAIL: package_deb: $*" >&2; exit 1; }
skip() { echo "SKIP: package_deb: $*"; exit 77; }
ok()   { echo "[package_deb] ok: $*"; }

# ------------------------------------------------ inside the namespaces
if [ -n "${PKGDEB_INSIDE:-}" ]; then
    root=$1
    sbin=$root/usr/sbin
    # A daemon left behind by a failure must not outlive the test.
    trap '[ -f /run/smcroute.pid ] && kill -TERM "$(cat /run/smcroute.pid)" 2>/dev/null' EXIT
    mount -t tmpfs -o mode=0755 pkgdeb-run /run || skip "cannot mount a tmpfs on /run"
    [ -e /proc/net/ip_mr_cache ] || skip "kernel has no IPv4 multicast routing"
    ip link set lo up
    ip link add pk0 type veth peer name pk1
    ip addr add 10.99.0.1/24 dev pk0
    ip addr add 10.99.1.1/24 dev pk1
    ip link set pk0 up
    ip link set pk1 up

    # The shipped example (all comments; the postinst's first
    # /etc/smcroute.conf) is valid and is the one we run.
    example=$root/usr/share/doc/smcroute/smcroute.conf.example
    "$sbin/smcrouted" -F "$example" || fail "smcrouted -F rejects the packaged example config"
    # Legacy -d returns once the daemon (now in the background) is ready.
    "$sbin/smcroute" -d --config "$example" || fail "smcroute -d failed ($?)"
    [ -f /run/smcroute.pid ] || fail "no /run/smcroute.pid after smcroute -d"
    pid=$(cat /run/smcroute.pid)
    ok "daemon started from the extracted package (pid $pid)"
    "$sbin/smcroutectl" add pk0 10.99.0.2 225.9.8.7 pk1 || fail "smcroutectl add failed"
    # /proc/net/ip_mr_cache prints addresses as host-order hex.
    if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then
        grp=070809E1; src=0200630A
    else
        grp=E1090807; src=0A630002
    fi
    awk -v g=$grp -v s=$src 'NR > 1 && toupper($1) == g && toupper($2) == s && $3 != "-1" { f = 1 } END { exit !f }' \
        /proc/net/ip_mr_cache || { cat /proc/net/ip_mr_cache >&2; fail "route (10.99.0.2, 225.9.8.7) not in the kernel MFC"; }
    ok "smcroutectl (the packaged link) added a route the kernel holds"
    "$sbin/smcroute" -k || fail "smcroute -k failed"
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "daemon still running 5 s after smcroute -k"
    [ "$(awk 'NR > 1' /proc/net/ip_mr_cache | wc -l)" = 0 ] || fail "routes left in the kernel after -k"
    ok "smcroute -k stopped the daemon and its routes are gone"
    exit 0
fi

# ------------------------------------------------------ build the package
build=$(readlink -f "${1:?usage: package_deb.sh BUILD_DIR [RUNNER...]}")
shift
runner=("$@")
for tool in cpack dpkg-deb dpkg; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake missing (dist/package.cmake not included?)"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"

# Under BUILD_DIR, not /tmp: a VM runner shares the build tree, not /tmp.
work=$(mktemp -d "$build/package_deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    fail "cpack -G DEB failed"
fi
debs=("$work"/out/*.deb)
{ [ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ]; } || fail "cpack made ${#debs[@]} .deb files: ${debs[*]}"
deb=${debs[0]}
echo "[package_deb] built $(basename "$deb")"

# ------------------------------------------------------------- control file
field() { dpkg-deb -f "$deb" "$1"; }
dpkg-deb -I "$deb" >"$work/info" || fail "dpkg-deb -I cannot read the package"
[ "$(field Package)" = smcroute ] || fail "Package is '$(field Package)', want smcroute"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', want the project's $version"
# Installing it must be an upgrade of Debian's smcroute (2.5.x).
dpkg --compare-versions "$(field Version)" gt 2.5.6-1 || fail "Version $(field Version) is not above Debian's 2.5.6-1"
[ "$(field Section)" = net ] || fail "Section is '$(field Section)', want net"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is '$(field Architecture)'"
[[ $(field Maintainer) =~ ^[^\<]+\ \<[^\>@]+@[^\>]+\>$ ]] || fail "Maintainer '$(field Maintainer)' is not 'Name <email>'"
[ -n "$(field Description)" ] || fail "no Description"
[ "$(field Description | wc -l)" -ge 2 ] || fail "Description has no long description"
depends=$(field Depends)
# Every shared library the packaged binary needs (a sanitized build's; a
# release build is static and needs none) has its package in Depends.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/sbin/smcroute >"$work/smcroute.bin" \
    || fail "cannot extract usr/sbin/smcroute"
needed=$(LC_ALL=C readelf -d "$work/smcroute.bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ -z "$needed" ]; then
    # A release build links statically (SMCROUTE_STATIC): then nothing at
    # all is loaded at run time, and the package depends on nothing.
    LC_ALL=C readelf -lW "$work/smcroute.bin" | grep -qE 'INTERP|DYNAMIC' \
        && fail "readelf found no NEEDED libraries, yet the packaged binary is dynamic"
    [ -z "$depends" ] || fail "the packaged binary is static, yet Depends is '$depends'"
else
    for so in $needed; do
        case $so in
        libc.so.6|libm.so.6) lib=libc6 ;;
        libstdc++.so.6) lib=libstdc++6 ;;
        libgcc_s.so.1) lib=libgcc-s1 ;;
        *) continue ;; # sanitizer runtimes etc.: dpkg-shlibdeps names them
        esac
        [[ ", $depends," =~ [\ ,]${lib//+/\\+}[\ ,] ]] || fail "Depends '$depends' lacks $lib (the binary needs $so)"
    done
    if command -v dpkg-shlibdeps >/dev/null 2>&1; then
        # Computed by dpkg-shlibdeps: versioned by the symbols the binary uses.
        [[ $depends =~ libc6\ \(\>=\ [0-9] ]] || fail "Depends '$depends' has no computed libc6 version"
    fi
fi
# The package replaces Debian's smcroute by upgrading it (same name, higher
# version); a relation of the package with itself would be ignored by dpkg.
self_re='(^|[ ,])smcroute([ ,(]|$)'
for rel in Conflicts Replaces Breaks Provides; do
    [[ $(field "$rel") =~ $self_re ]] && fail "$rel names the package itself: $(field "$rel")"
done
ok "control: smcroute $version, section net, Depends: $depends"

dpkg-deb -e "$deb" "$work/control" || fail "dpkg-deb -e failed"
printf '%s\n' /etc/default/smcroute /etc/init.d/smcroute >"$work/want.conffiles"
sort "$work/control/conffiles" | diff -u "$work/want.conffiles" - || fail "conffiles differ (- want, + package)"
ok "conffiles: $(tr '\n' ' ' <"$work/control/conffiles")"
for script in postinst prerm postrm; do
    [ -f "$work/control/$script" ] || fail "no $script in the package"
    [ "$(stat -c %a "$work/control/$script")" = 755 ] || fail "$script has mode $(stat -c %a "$work/control/$script"), want 755"
    sh -n "$work/control/$script" || fail "$script has syntax errors"
    [ "$(head -n1 "$work/control/$script")" = "#!/bin/sh" ] || fail "$script does not start with #!/bin/sh"
done
ok "maintainer scripts: postinst prerm postrm"

# ----------------------------------------------------------------- contents
dpkg-deb -c "$deb" >"$work/contents" || fail "dpkg-deb -c failed"
# has MODE-PREFIX PATH [LINK-TARGET]
has() {
    local mode=$1 path=$2 target=${3:-}
    awk -v m="$mode" -v p="./$path" -v t="$target" '
        index($1, m) == 1 && $6 == p && (t == "" ? NF == 6 : ($7 == "->" && $8 == t)) { f = 1 }
        END { exit !f }' "$work/contents" || fail "package lacks $mode $path${target:+ -> $target}"
}
has -rwxr-xr-x usr/sbin/smcroute
has l usr/sbin/smcrouted smcroute
has l usr/sbin/smcroutectl smcroute
has -rw-r--r-- usr/share/man/man8/smcroute.8
has -rw-r--r-- usr/share/man/man5/smcroute.conf.5
has l usr/share/man/man8/smcrouted.8 smcroute.8
has l usr/share/man/man8/smcroutectl.8 smcroute.8
has -rw-r--r-- usr/share/doc/smcroute/smcroute.conf.example
has -rw-r--r-- usr/share/doc/smcroute/copyright
has -rw-r--r-- lib/systemd/system/smcroute.service
has -rw-r--r-- etc/default/smcroute
has -rwxr-xr-x etc/init.d/smcroute
has -rw-r--r-- usr/share/bash-completion/completions/smcroute
has l usr/share/bash-completion/completions/smcrouted smcroute
has l usr/share/bash-completion/completions/smcroutectl smcroute
# Nothing else: no /usr/local, no test programs, owned by root.
awk '$6 !~ /^\.\/(usr\/(sbin|share\/(man|doc|bash-completion))|etc|lib\/systemd)(\/|$)/ && $6 !~ /^\.\/(usr|lib|usr\/share)?\/?$/ { print; bad = 1 }
     END { exit bad }' "$work/contents" || fail "unexpected paths in the package (above)"
awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$work/contents" || fail "files not owned by root/root (above)"
ok "contents: binary, links, man pages, unit, default, init script, config, completion"

dpkg-deb -x "$deb" "$work/root" || fail "dpkg-deb -x failed"
srcdir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
if [ -n "$srcdir" ] && [ -d "$srcdir/dist" ]; then
    cmp "$srcdir/dist/smcroute.service" "$work/root/lib/systemd/system/smcroute.service" || fail "packaged unit differs from dist/"
    cmp "$srcdir/dist/smcroute.default" "$work/root/etc/default/smcroute" || fail "packaged defaults differ from dist/"
    cmp "$srcdir/dist/smcroute.init" "$work/root/etc/init.d/smcroute" || fail "packaged init script differs from dist/"
    cmp "$srcdir/smcroute.conf.example" "$work/root/usr/share/doc/smcroute/smcroute.conf.example" || fail "packaged example config differs"
    for script in postinst prerm postrm; do
        cmp "$srcdir/dist/debian/$script" "$work/control/$script" || fail "packaged $script differs from dist/debian/"
    done
fi
[ ! -e "$work/root/etc/smcroute.conf" ] || fail "the package ships /etc/smcroute.conf (it must leave an administrator's own alone)"

# The unit as Debian 12's systemd (252) reads it, in a root holding the
# package's files and the system's own units: not a word of complaint
# (an unknown Type= such as notify-reload, which 252 lacks, is only a
# warning, so the output is what counts).
if ! command -v systemd-analyze >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || fail "systemd-analyze missing and cannot be installed here"
    apt-get install -y --no-install-recommends systemd >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "cannot install systemd"; }
fi
sdroot=$work/sdroot
mkdir -p "$sdroot/lib/systemd/system"
cp -a "$work/root/." "$sdroot/"
for units in /lib/systemd/system /usr/lib/systemd/system; do
    [ -d "$units" ] && cp -an "$units/." "$sdroot/lib/systemd/system/" 2>/dev/null
done
[ -f "$sdroot/lib/systemd/system/sysinit.target" ] || fail "no systemd units on this system to verify against"
systemd-analyze verify --man=no --root="$sdroot" /lib/systemd/system/smcroute.service >"$work/verify.log" 2>&1 \
    || { cat "$work/verify.log" >&2; fail "systemd-analyze verify failed"; }
[ ! -s "$work/verify.log" ] || { cat "$work/verify.log" >&2; fail "systemd-analyze verify complains about the unit"; }
rm -rf "$sdroot"
ok "systemd-analyze verify ($(systemd-analyze --version | head -n1)): unit accepted"
sh -n "$work/root/etc/init.d/smcroute" || fail "packaged init script has syntax errors"
bash -n "$work/root/usr/share/bash-completion/completions/smcroute" || fail "packaged completion has syntax errors"
"$work/root/usr/sbin/smcroutectl" -h 2>&1 | grep -q show || fail "extracted smcroutectl -h does not list its verbs"

# ------------------------------------------------------- run what we built
[ "$(id -u)" = 0 ] || skip "package checks passed; running the extracted daemon needs root"
{ command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; } || skip "package checks passed; unshare(1)/ip(8) missing"
unshare -mn --propagation private true 2>/dev/null || skip "package checks passed; cannot create network/mount namespaces"
# Installing it over Debian's smcroute (a stand-in 2.5.6-1 with regular files
# where we have links, and the same conffile) is an upgrade that takes over
# its files, in a private dpkg root.
up=$work/upgrade
mkdir -p "$up/old/DEBIAN" "$up/old/usr/sbin" "$up/old/etc/init.d" "$up/root/var/lib/dpkg/info" "$up/root/var/lib/dpkg/updates"
touch "$up/root/var/lib/dpkg/status" "$up/root/var/lib/dpkg/available"
printf 'Package: smcroute\nVersion: 2.5.6-1\nArchitecture: %s\nMaintainer: Debian <x@example.org>\nDescription: stand-in for Debian smcroute\n' \
    "$(dpkg --print-architecture)" >"$up/old/DEBIAN/control"
echo /etc/init.d/smcroute >"$up/old/DEBIAN/conffiles"
for f in smcroute smcrouted smcroutectl; do echo old >"$up/old/usr/sbin/$f"; done
printf '#!/bin/sh\n' >"$up/old/etc/init.d/smcroute"
chmod 0755 "$up/old/etc/init.d/smcroute" "$up/old/usr/sbin/"*
dpkg-deb -b "$up/old" "$up/old.deb" >/dev/null || fail "cannot build the stand-in Debian package"
dpkg_up() { dpkg --root="$up/root" --force-script-chrootless --force-depends "$@" >>"$up/log" 2>&1; }
dpkg_up -i "$up/old.deb" || { cat "$up/log" >&2; fail "stand-in Debian smcroute does not install"; }
dpkg_up -i "$deb" || { cat "$up/log" >&2; fail "the package does not install over Debian's smcroute"; }
[ "$(dpkg-query --admindir="$up/root/var/lib/dpkg" -W -f '${Version} ${Status}' smcroute)" = "$version install ok installed" ] \
    || fail "after the upgrade dpkg has: $(dpkg-query --admindir="$up/root/var/lib/dpkg" -W smcroute)"
[ "$(readlink "$up/root/usr/sbin/smcrouted")" = smcroute ] || fail "the upgrade left Debian's smcrouted in place"
cmp -s "$up/root/etc/init.d/smcroute" "$work/root/etc/init.d/smcroute" || fail "the upgrade did not install our init script"
ok "installs over Debian's smcroute 2.5.6-1 as an upgrade"

# A PID namespace too where possible: its processes die with the test.
ns=(unshare -mn --propagation private)
if unshare -mnp --fork --kill-child --mount-proc --propagation private true 2>/dev/null; then
    ns=(unshare -mnp --fork --kill-child --mount-proc --propagation private)
fi
PKGDEB_INSIDE=1 "${runner[@]}" timeout 120 "${ns[@]}" bash "$(readlink -f "$0")" "$work/root"
echo "PASS: package_deb"
