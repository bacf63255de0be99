#!/bin/bash
# tests/run_all.sh: build and run every test. The README's test command, and
# what .ci/run runs. On a fresh Debian 12 machine, as root, it installs what
# the build and the tests need, builds with clang, AddressSanitizer, UBSan
# and the libFuzzer targets in a build directory of its own (build-test/,
# so it never shares a CMake cache with the README's daemon build in
# build/), and runs ctest. The tests that need a kernel that routes multicast
# (label routing-kernel) run natively when this machine's kernel can, and
# otherwise in one QEMU guest booting a Debian kernel (tests/vm/vm.sh); the
# first lines of ctest's output say which.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# dpkg-dev: dpkg-shlibdeps, which computes the .deb's Depends (tests/package_deb.sh).
# clang, libclang-rt-dev: the test build (libFuzzer targets need clang).
# qemu-system-x86, busybox-static, cpio, kmod: the VM runner (tests/vm/).
# strace: delays system calls to open a race window (system.runtime_socket_race).
# lld: lays out the static program by dist/hot-symbols.txt (hot_layout).
# graphviz: dot and gvpr render and read back show graph (system.show_graph).
# prometheus: its promtool checks show metrics and the metrics file (system.show_status).
for pkg in cmake g++ lld clang libclang-rt-dev make googletest libgtest-dev iproute2 util-linux procps \
           python3 valgrind dpkg-dev qemu-system-x86 busybox-static cpio kmod strace graphviz prometheus; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}"
fi

cmake -S . -B build-test -DCMAKE_CXX_COMPILER=clang++ \
    -DSMCROUTE_WERROR=ON -DSMCROUTE_SANITIZE=ON -DSMCROUTE_FUZZ=ON
cmake --build build-test -j2
rc=0
ctest --test-dir build-test --output-on-failure -j2 || rc=$?
# Where the routing-kernel tests ran (native, or which kernel in the VM).
[ -f build-test/routing-kernel/choice ] && cat build-test/routing-kernel/choice
exit "$rc"
