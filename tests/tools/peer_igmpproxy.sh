#!/bin/bash
# tests/tools/peer_igmpproxy.sh: fetches Debian's igmpproxy package
# (igmpproxy 0.3, the peer of the proxy benchmark tests/bench/proxy_bench.sh)
# with `apt-get download` into a cache directory, unpacks it there, and
# prints the path of its usr/sbin/igmpproxy. Only the package's program is
# run (and its man pages read); its source is never fetched. The guest of
# tests/vm/vm.sh sees the host's file system, so a program fetched here on
# the host runs in the VM as it is.
#
#   peer_igmpproxy.sh [--deb]   print the program's path (or the .deb's)
#
# SMCROUTE_PEER_CACHE: the cache (default /var/cache/smcroute-peer).
# SMCROUTE_IGMPPROXY_VERSION: the package version (default 0.3-1).
set -euo pipefail
CACHE=${SMCROUTE_PEER_CACHE:-/var/cache/smcroute-peer}
VERSION=${SMCROUTE_IGMPPROXY_VERSION:-0.3-1}
mkdir -p "$CACHE"
deb=$CACHE/igmpproxy_${VERSION}_$(dpkg --print-architecture).deb
if [ ! -s "$deb" ]; then
    tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
    # apt's sandbox user cannot write a root-only directory: download as root.
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "igmpproxy=$VERSION" >&2); then
        apt-get update -qq >&2
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "igmpproxy=$VERSION" >&2)
    fi
    mv "$tmp"/igmpproxy_*.deb "$deb"
    rm -rf "$tmp"
fi
if [ "${1:-}" = --deb ]; then echo "$deb"; exit 0; fi
root=$CACHE/igmpproxy-root-$VERSION
if [ ! -x "$root/usr/sbin/igmpproxy" ]; then
    rm -rf "$root.new"
    dpkg-deb -x "$deb" "$root.new"
    rm -rf "$root"
    mv "$root.new" "$root"
fi
echo "$root/usr/sbin/igmpproxy"
