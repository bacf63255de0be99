#!/bin/bash
# tests/tools/peer_smcroute.sh: fetches Debian's smcroute package (SMCRoute
# 2.5.6, the behaviour reference of the compatibility tests and the peer of
# the benchmarks) with `apt-get download` into a cache directory, unpacks it
# there, and prints the directory holding usr/sbin/smcrouted. Only the
# package's programs are run; its source is never fetched.
#
#   peer_smcroute.sh [--deb]   print the unpacked root (or the .deb's path)
#
# SMCROUTE_PEER_CACHE: the cache (default /var/cache/smcroute-peer).
# SMCROUTE_PEER_VERSION: the package version (default 2.5.6-1).
set -euo pipefail
CACHE=${SMCROUTE_PEER_CACHE:-/var/cache/smcroute-peer}
VERSION=${SMCROUTE_PEER_VERSION:-2.5.6-1}
mkdir -p "$CACHE"
deb=$CACHE/smcroute_${VERSION}_$(dpkg --print-architecture).deb
if [ ! -s "$deb" ]; then
    tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
    # apt's sandbox user cannot write a root-only directory: download as root.
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "smcroute=$VERSION" >&2); then
        apt-get update -qq >&2
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "smcroute=$VERSION" >&2)
    fi
    mv "$tmp"/smcroute_*.deb "$deb"
    rm -rf "$tmp"
fi
if [ "${1:-}" = --deb ]; then echo "$deb"; exit 0; fi
root=$CACHE/root-$VERSION
if [ ! -x "$root/usr/sbin/smcrouted" ]; then
    rm -rf "$root.new"
    dpkg-deb -x "$deb" "$root.new"
    rm -rf "$root"
    mv "$root.new" "$root"
fi
echo "$root"
