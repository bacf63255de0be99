#!/usr/bin/env bash
# tests/layering.sh SRCDIR CORE_LIB: the tree's layers hold.
#
# 1. Every source file lives in a layer folder (src/{base,model,os,runtime}/,
#    include/smcroute/{base,model,os,runtime}/; only src/main.cpp sits above
#    them), and no file includes a header of a layer above its own:
#    base < model < os < runtime.
# 2. The client personality does not link the daemon: starting from the
#    client's objects (runtime/client*, runtime/ipc_client, runtime/check*)
#    the members the linker would pull from CORE_LIB, following undefined
#    symbols to the members that define them, include no other runtime module
#    (the daemon, its request handler, router, IPC server, event loop...).
# Exit 0 pass, 1 a violation (listed).
set -euo pipefail
src=${1:?usage: layering.sh SRCDIR CORE_LIB}
lib=${2:?usage: layering.sh SRCDIR CORE_LIB}
fail=0
problem() { echo "FAIL: layering: $*" >&2; fail=1; }

rank() {
    case $1 in base) echo 0 ;; model) echo 1 ;; os) echo 2 ;; runtime) echo 3 ;; *) echo 9 ;; esac
}

cd "$src"
checked=0
while IFS= read -r f; do
    case $f in
    src/main.cpp) continue ;;
    src/*/*.cpp | include/smcroute/*/*.hpp)
        layer=${f#src/}
        layer=${layer#include/smcroute/}
        layer=${layer%%/*}
        ;;
    *) problem "$f is not in a layer folder"; continue ;;
    esac
    r=$(rank "$layer")
    [ "$r" = 9 ] && { problem "$f: '$layer' is not a layer (base, model, os, runtime)"; continue; }
    checked=$((checked + 1))
    while IFS= read -r inc; do
        target=${inc#*\"smcroute/}
        target=${target%\"*}
        case $target in
        */*) ;;
        *) problem "$f includes smcroute/$target, which is in no layer"; continue ;;
        esac
        tl=${target%%/*}
        tr=$(rank "$tl")
        if [ "$tr" = 9 ]; then
            problem "$f includes smcroute/$target: '$tl' is not a layer"
        elif [ "$tr" -gt "$r" ]; then
            problem "$f ($layer) includes smcroute/$target ($tl is above $layer)"
        fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"smcroute/' "$f" || true)
done < <(find src include -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) | sort)
[ "$checked" -gt 40 ] || problem "only $checked files found in layer folders under $src"

# The client personality's closure in the static library.
client_re='client.*\.cpp|ipc_client\.cpp|check.*\.cpp'
runtime_files=$(find src/runtime -maxdepth 1 -name '*.cpp' -printf '%f\n' | sort)
client_roots=$(echo "$runtime_files" | grep -xE "$client_re" | sed 's/$/.o/' || true)
daemon_members=$(echo "$runtime_files" | grep -vxE "$client_re|app\.cpp" | sed 's/$/.o/' || true)
[ -n "$client_roots" ] || problem "no client objects under src/runtime"
[ -n "$daemon_members" ] || problem "no daemon modules under src/runtime"
[ -f "$lib" ] || { problem "$lib not found"; exit 1; }

pulled=$(nm -A --defined-only "$lib" 2>/dev/null | awk -v roots="$client_roots" '
    # defined: "lib.a:member.o:ADDR T symbol"
    { split($1, p, ":"); m = p[2]; t = $2; s = $3 }
    t ~ /^[TDBRWVGSi]$/ { def[s] = def[s] " " m }
    END { for (s in def) print "D", s, def[s] }' ; nm -A --undefined-only "$lib" 2>/dev/null | awk '
    { split($1, p, ":"); print "U", $3, p[2] }')
closure=$(echo "$pulled" | awk -v roots="$client_roots" '
    $1 == "D" { for (i = 3; i <= NF; i++) { def[$2] = def[$2] " " $i } next }
    $1 == "U" { und[$3] = und[$3] " " $2 }
    END {
        n = split(roots, r, /[ \n]+/)
        for (i = 1; i <= n; i++) if (r[i] != "") { in_set[r[i]] = 1; queue[++q] = r[i] }
        for (h = 1; h <= q; h++) {
            m = queue[h]
            k = split(und[m], syms, " ")
            for (j = 1; j <= k; j++) {
                d = def[syms[j]]
                if (d == "") continue
                split(d, ms, " ")
                first = ms[1]
                if (!(first in in_set)) { in_set[first] = 1; queue[++q] = first; why[first] = m " needs " syms[j] }
            }
        }
        for (m in in_set) print m "\t" why[m]
    }')
for d in $daemon_members; do
    if line=$(echo "$closure" | grep -P "^\Q$d\E\t"); then
        problem "the client personality links daemon module ${d%.cpp.o}: $(echo "$line" | cut -f2- | c++filt)"
    fi
done
count=$(echo "$closure" | grep -c . || true)
[ "$count" -ge 2 ] || problem "the client closure has only $count members: nm found nothing in $lib?"

[ "$fail" = 0 ] && echo "PASS: layering: $checked files in 4 layers; the client links $count objects, no daemon module"
exit "$fail"
