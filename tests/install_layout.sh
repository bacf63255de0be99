#!/usr/bin/env bash
# tests/install_layout.sh BUILD_DIR: `cmake --install` with DESTDIR puts
# smcroute in sbin with the smcrouted and smcroutectl links, the man pages
# and the example config, and the links pick their personalities.
set -euo pipefail
build=${1:?usage: install_layout.sh BUILD_DIR}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" --prefix /usr >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }
sbin=$dest/usr/sbin
[ -x "$sbin/smcroute" ] || fail "no $sbin/smcroute"
for link in smcrouted smcroutectl; do
    [ -L "$sbin/$link" ] || fail "$sbin/$link is not a link"
    [ "$(readlink "$sbin/$link")" = smcroute ] || fail "$sbin/$link does not point at smcroute"
done
[ -f "$dest/usr/share/man/man8/smcroute.8" ] || fail "man page smcroute.8 not installed"
[ -f "$dest/usr/share/man/man5/smcroute.conf.5" ] || fail "man page smcroute.conf.5 not installed"
[ -f "$dest/usr/share/doc/smcroute/smcroute.conf.example" ] || fail "example config not installed"
"$sbin/smcrouted" -h 2>&1 | grep -q -- "-F" || fail "smcrouted -h does not show the daemon options"
"$sbin/smcroutectl" -h 2>&1 | grep -q "show" || fail "smcroutectl -h does not list its verbs"
echo "install layout ok"
