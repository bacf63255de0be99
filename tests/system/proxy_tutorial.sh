#!/usr/bin/env bash
# tests/system/proxy_tutorial.sh: the README's proxy tutorial, exactly as
# written (the blocks between <!-- proxy-tutorial:begin --> and
# <!-- proxy-tutorial:end -->), run by tests/system/readme_tutorial.sh the
# way it runs the first tutorial: in private namespaces, with ./build/smcroute
# the binary under test; the receiver must print its five datagrams and the
# cleanup must leave nothing behind.
TUT_MARKER=proxy-tutorial exec bash "$(dirname "$0")/readme_tutorial.sh" "$@"
