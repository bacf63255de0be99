#!/usr/bin/env bash
# tests/warnings_gcc.sh SRCDIR WORKDIR: the program builds warning-free under
# g++ with -Werror and the project's warnings (-Wall -Wextra -Wpedantic
# -Wshadow -Wnon-virtual-dtor -Wmissing-declarations); the test build itself
# uses clang, so this is gcc's look at the same sources. Builds the library
# and the program only (not the tests), in WORKDIR.
# Exit 0 clean, 1 a warning or error (printed) or no g++.
set -euo pipefail
src=${1:?usage: warnings_gcc.sh SRCDIR WORKDIR}
work=${2:?usage: warnings_gcc.sh SRCDIR WORKDIR}
command -v g++ >/dev/null 2>&1 || { echo "FAIL: warnings_gcc: g++ not found (tests/run_all.sh installs it)" >&2; exit 1; }
# The release build's optimisation (its flow-based warnings), without the
# debug information, which warns about nothing and doubles the compile time.
cmake -S "$src" -B "$work" -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DSMCROUTE_WERROR=ON -DSMCROUTE_TESTS=OFF -DSMCROUTE_SANITIZE=OFF -DSMCROUTE_FUZZ=OFF >"$work.cmake.log" 2>&1 \
    || { cat "$work.cmake.log" >&2; echo "FAIL: warnings_gcc: cmake failed" >&2; exit 1; }
if ! cmake --build "$work" -j2 -- -k >"$work.build.log" 2>&1; then
    grep -E 'warning:|error:' "$work.build.log" >&2 || tail -30 "$work.build.log" >&2
    echo "FAIL: warnings_gcc: g++ -Werror build failed" >&2
    exit 1
fi
if grep -E 'warning:' "$work.build.log" >&2; then
    echo "FAIL: warnings_gcc: g++ warned" >&2
    exit 1
fi
echo "PASS: warnings_gcc: $(g++ --version | head -1) builds smcroute with -Werror, no warning"
